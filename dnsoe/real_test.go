package dnsoe

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNetns runs f on a thread that has joined the named network namespace,
// so sockets f opens live there.
func inNetns(name string, f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime retires it with the goroutine.
		return err
	}
	runtime.UnlockOSThread()
	return ferr
}

// TestRealServers runs knot and unbound from scripts/dns in a namespace and
// checks GatewayFor and KeyFor against them.
func TestRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	os.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin:/sbin")
	for _, tool := range []string{"ip", "knotd", "keymgr", "unbound", "kdig", "ldns-keygen", "ldns-signzone", "ldns-key2ds"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	script, err := filepath.Abs("../scripts/dns/dns.sh")
	if err != nil {
		t.Fatal(err)
	}
	var sfx [4]byte
	rand.Read(sfx[:])
	ns := "swl-dns-" + hex.EncodeToString(sfx[:])
	dir := t.TempDir()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "down", "-d", filepath.Join(dir, "run")).CombinedOutput(); err != nil {
			t.Errorf("dns.sh down: %v %s", err, out)
		}
		exec.Command("ip", "netns", "del", ns).Run()
	})

	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	rsaPub := &rsaPriv.PublicKey
	rsaB64 := base64.StdEncoding.EncodeToString(AppendRSAKey(nil, rsaPub))
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	edB64 := base64.StdEncoding.EncodeToString(edPub)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ecRaw, err := ecPriv.PublicKey.Bytes()
	must(t, err)
	ecB64 := base64.StdEncoding.EncodeToString(ecRaw[1:])
	quoted := func(s string) string { return `"` + strings.Join(chunks(s, 255), `" "`) + `"` }
	autosec := "ENCR_AES_GCM_16-256,ENCR_AES_CBC-128;AUTH_HMAC_SHA2_256_128;ECP256,MODP2048;" + rsaB64

	files := map[string]string{
		"zones": `example. signed example
2.0.192.in-addr.arpa. signed rev4
8.b.d.0.1.0.0.2.ip6.arpa. signed rev6
113.0.203.in-addr.arpa. broken broken
100.51.198.in-addr.arpa. insecure insecure
`,
		"example": "gw A 192.0.2.1\n",
		"rev4": fmt.Sprintf(`23 IPSECKEY 20 1 2 192.0.2.2 %[1]s
23 IPSECKEY 10 1 4 192.0.2.1 %[2]s
24 IPSECKEY 10 1 0 192.0.2.24
25 TXT %[3]s
26 TXT "X-IPsec-Server(10)=192.0.2.3"
3 KEY 16896 4 8 %[1]s
27 IPSECKEY 10 3 4 gw.example. %[2]s
1 IPSECKEY 10 0 4 . %[2]s
28 KEY 16896 4 8 %[4]s
`, rsaB64, edB64, quoted("X-IPsec-Server(10)=192.0.2.3 "+rsaB64), base64.StdEncoding.EncodeToString([]byte(autosec))),
		"rev6":     fmt.Sprintf("3.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IPSECKEY 10 2 3 2001:db8::1 %s\n", ecB64),
		"broken":   fmt.Sprintf("23 IPSECKEY 10 1 2 203.0.113.1 %s\n", rsaB64),
		"insecure": fmt.Sprintf("23 IPSECKEY 10 1 4 198.51.100.1 %s\n", edB64),
	}
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	cmd := exec.Command(script, "up", "-n", ns, "-d", filepath.Join(dir, "run"), "-z", filepath.Join(dir, "zones"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dns.sh up: %v\n%s", err, out)
	}

	listen := func(ctx context.Context, network, address string) (pc net.PacketConn, err error) {
		err = inNetns(ns, func() error {
			var lc net.ListenConfig
			pc, err = lc.ListenPacket(ctx, network, address)
			return err
		})
		return pc, err
	}
	dial := func(ctx context.Context, network, address string) (c net.Conn, err error) {
		err = inNetns(ns, func() error {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
	unbound := netip.MustParseAddrPort("127.0.0.1:53")
	newR := func(trusted bool, udpSize uint16) *Resolver {
		r, err := New(Config{Servers: []Server{{Addr: unbound, Trusted: trusted}}, Timeout: 3 * time.Second,
			ListenPacket: listen, Dial: dial, UDPSize: udpSize})
		must(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	r := newR(true, 0)
	ctx := context.Background()
	ip := netip.MustParseAddr

	// Signed IPSECKEY, lowest precedence wins, AD through unbound.
	g, err := r.GatewayFor(ctx, ip("192.0.2.23"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != SourceIPSECKEY || g.Addr != ip("192.0.2.1") || g.Precedence != 10 || !g.Authenticated {
		t.Errorf(".23: %+v", g)
	}
	if k, ok := g.Key.(ed25519.PublicKey); !ok || !k.Equal(edPub) {
		t.Errorf(".23 key %T", g.Key)
	}
	all, err := r.GatewaysFor(ctx, ip("192.0.2.23"))
	if err != nil || len(all) != 2 || !all[1].Key.(*rsa.PublicKey).Equal(rsaPub) {
		t.Errorf(".23 all: %+v %v", all, err)
	}

	// Key-less IPSECKEY, signed by knot.
	g, err = r.GatewayFor(ctx, ip("192.0.2.24"))
	if err != nil || g.Key != nil || !g.Self || !g.Authenticated {
		t.Errorf(".24: %+v %v", g, err)
	}

	// TXT with the key split over character-strings.
	g, err = r.GatewayFor(ctx, ip("192.0.2.25"))
	if err != nil || g.Source != SourceTXT || g.Addr != ip("192.0.2.3") || !g.Authenticated || !g.Key.(*rsa.PublicKey).Equal(rsaPub) {
		t.Errorf(".25: %+v %v", g, err)
	}

	// TXT without key: KEY at the gateway's reverse name.
	g, err = r.GatewayFor(ctx, ip("192.0.2.26"))
	if err != nil || g.Source != SourceTXT || g.Key == nil || !g.Key.(*rsa.PublicKey).Equal(rsaPub) || !g.Authenticated {
		t.Errorf(".26: %+v %v", g, err)
	}

	// A gateway named by FQDN, resolved in the signed forward zone.
	g, err = r.GatewayFor(ctx, ip("192.0.2.27"))
	if err != nil || g.FQDN != "gw.example" || g.Addr != ip("192.0.2.1") || !g.Authenticated {
		t.Errorf(".27: %+v %v", g, err)
	}

	// A KEY in the IP AutoSEC form.
	g, err = r.GatewayFor(ctx, ip("192.0.2.28"))
	if err != nil || g.Source != SourceKEY || g.Algorithms == nil || g.Algorithms.Groups[0] != "ECP256" || !g.Key.(*rsa.PublicKey).Equal(rsaPub) {
		t.Errorf(".28: %+v %v", g, err)
	}

	// IPv6 reverse zone, ECDSA P-256 key.
	g, err = r.GatewayFor(ctx, ip("2001:db8::23"))
	if err != nil || g.Addr != ip("2001:db8::1") || !g.Authenticated || !g.Key.(*ecdsa.PublicKey).Equal(&ecPriv.PublicKey) {
		t.Errorf("2001:db8::23: %+v %v", g, err)
	}

	// The gateway's own key.
	ks, err := r.KeyFor(ctx, ip("192.0.2.1"))
	if err != nil || len(ks) != 1 || !ks[0].Key.(ed25519.PublicKey).Equal(edPub) || !ks[0].Authenticated {
		t.Errorf("KeyFor .1: %+v %v", ks, err)
	}

	// Broken signature: unbound answers SERVFAIL, so no key.
	if g, err := r.GatewayFor(ctx, ip("203.0.113.23")); !errors.Is(err, ErrServerFailure) || g.Key != nil {
		t.Errorf("broken zone: %+v %v", g, err)
	}

	// Unsigned zone: the key is there but not authenticated.
	g, err = r.GatewayFor(ctx, ip("198.51.100.23"))
	if err != nil || g.Authenticated || g.Key == nil || g.Addr != ip("198.51.100.1") {
		t.Errorf("insecure zone: %+v %v", g, err)
	}

	// Nothing published: an authenticated denial (NSEC).
	if g, err := r.GatewayFor(ctx, ip("192.0.2.99")); !errors.Is(err, ErrNoGateway) || !g.Authenticated {
		t.Errorf(".99: %+v %v", g, err)
	}

	// The same signed answer from a server not configured as trusted.
	g, err = newR(false, 0).GatewayFor(ctx, ip("192.0.2.23"))
	if err != nil || g.Authenticated {
		t.Errorf("untrusted server: %+v %v", g, err)
	}

	// A 512-octet UDP limit truncates the long TXT answer: TCP follows.
	r512 := newR(true, 512)
	res, err := r512.Lookup(ctx, MustNewName("25.2.0.192.in-addr.arpa."), TypeTXT)
	if err != nil || len(res.Records) != 1 || !res.Authenticated {
		t.Errorf("TXT over TCP: %+v %v", res, err)
	}
	if st := r512.Stats(); st.Exchanges != 2 {
		t.Errorf("exchanges %d, want UDP then TCP", st.Exchanges)
	}
}
