package main

// End-to-end data-plane test, as root: two swanling gateways in their own
// network namespaces, joined by a veth pair, keyed manually, with every
// combination of inner and outer IPv4/IPv6, ESP in UDP and raw ESP,
// AES-GCM and ChaCha20-Poly1305. It builds the real binary and feeds it a
// real TOML file.
//
//	ns A: veth 192.0.2.1, 2001:db8:ffff::1   lo 198.51.100.1, 2001:db8:a::1
//	ns B: veth 192.0.2.2, 2001:db8:ffff::2   lo 203.0.113.1,  2001:db8:b::1

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	dpInnerA4, dpInnerB4 = "198.51.100.1", "203.0.113.1"
	dpInnerA6, dpInnerB6 = "2001:db8:a::1", "2001:db8:b::1"
	dpOuterA4, dpOuterB4 = "192.0.2.1", "192.0.2.2"
	dpOuterA6, dpOuterB6 = "2001:db8:ffff::1", "2001:db8:ffff::2"
)

// dpManualSA is one [manual_sa.NAME] table as seen from gateway A; B's is the
// mirror image.
type dpManualSA struct {
	name      string
	peerA     string // B's outer address, as A's peer
	peerB     string
	udpPort   int // 0: raw ESP
	algorithm string
	keyAB     string // A -> B
	keyBA     string
	spiAB     uint32
	spiBA     uint32
	tsA, tsB  string
}

func (m dpManualSA) toml(fromA bool) string {
	peer, spiIn, spiOut, keyIn, keyOut, l, r := m.peerA, m.spiBA, m.spiAB, m.keyBA, m.keyAB, m.tsA, m.tsB
	if !fromA {
		peer, spiIn, spiOut, keyIn, keyOut, l, r = m.peerB, m.spiAB, m.spiBA, m.keyAB, m.keyBA, m.tsB, m.tsA
	}
	s := fmt.Sprintf("\n[manual_sa.%s]\npeer = %q\n", m.name, peer)
	if m.udpPort != 0 {
		s += fmt.Sprintf("udp_port = %d\n", m.udpPort)
	}
	s += fmt.Sprintf("spi_in = %d\nspi_out = %d\nalgorithm = %q\nkey_in = %q\nkey_out = %q\nlocal_ts = [%q]\nremote_ts = [%q]\ninsecure = true\n",
		spiIn, spiOut, m.algorithm, keyIn, keyOut, l, r)
	return s
}

// key makes distinct test keying material of n octets.
func dpKey(seed byte, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%02x", seed+byte(i*7))
	}
	return b.String()
}

type dpGateway struct {
	ns, dir, ctl, cfg string
	cmd               *exec.Cmd
	log               *os.File
}

func dpRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func dpNsRun(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// dpBuild builds the binary once per test run; SWANLING_TEST_RACE=1 builds
// it with the race detector.
func dpBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "swanling")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	args := []string{"build", "-o", bin}
	if os.Getenv("SWANLING_TEST_RACE") != "" {
		args = append(args, "-race")
	}
	cmd := exec.Command(gobin, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// topology creates the two namespaces and the veth pair; t.Cleanup removes
// them.
func dpTopology(t *testing.T) (a, b string) {
	t.Helper()
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	a, b = "swl-dpa-"+suffix, "swl-dpb-"+suffix
	for _, ns := range []string{a, b} {
		dpRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	dpRun(t, "ip", "link", "add", "swl-va", "netns", a, "type", "veth", "peer", "name", "swl-vb", "netns", b)
	for _, c := range []struct{ ns, dev, o4, o6, i4, i6 string }{
		{a, "swl-va", dpOuterA4, dpOuterA6, dpInnerA4, dpInnerA6},
		{b, "swl-vb", dpOuterB4, dpOuterB6, dpInnerB4, dpInnerB6},
	} {
		for _, args := range [][]string{
			{"link", "set", "lo", "up"},
			{"link", "set", c.dev, "up"},
			{"addr", "add", c.o4 + "/24", "dev", c.dev},
			{"addr", "add", c.o6 + "/64", "dev", c.dev, "nodad"},
			{"addr", "add", c.i4 + "/32", "dev", "lo"},
			{"addr", "add", c.i6 + "/128", "dev", "lo"},
		} {
			dpRun(t, append([]string{"ip", "-n", c.ns}, args...)...)
		}
	}
	return a, b
}

func dpStart(t *testing.T, bin, ns, conf string) *dpGateway {
	t.Helper()
	dir := t.TempDir()
	g := &dpGateway{ns: ns, dir: dir, ctl: filepath.Join(dir, "ctl.sock")}
	cfg := filepath.Join(dir, "swanling.toml")
	g.cfg = cfg
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if g.log, err = os.Create(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command("ip", "netns", "exec", ns, bin, "run", "-c", cfg, "-control", g.ctl)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.stop(t)
		if b, _ := os.ReadFile(g.log.Name()); strings.Contains(string(b), "DATA RACE") {
			t.Errorf("race detector report from the gateway in %s", ns)
		}
		if t.Failed() {
			b, _ := os.ReadFile(g.log.Name())
			t.Logf("log of %s:\n%s", ns, b)
		}
	})
	// Ready when the control socket answers with a data plane.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := g.status(bin); err == nil && st.Dataplane != nil {
			return g
		}
		if g.cmd.ProcessState != nil || time.Now().After(deadline) {
			b, _ := os.ReadFile(g.log.Name())
			t.Fatalf("gateway in %s did not come up:\n%s", ns, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *dpGateway) status(bin string) (Status, error) {
	var st Status
	out, err := exec.Command(bin, "status", "-json", "-control", g.ctl).Output()
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(out, &st)
	return st, err
}

// stop sends SIGTERM (by PID) and waits; SIGKILL if it hangs.
func (g *dpGateway) stop(t *testing.T) {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("gateway in %s ignored SIGINT; killing it", g.ns)
		g.cmd.Process.Kill()
		<-done
	}
	g.cmd = nil
	g.log.Close()
}

// ping pings dst from src in ns, a few tries so the first packets may be
// lost while the other side comes up.
func dpPing(t *testing.T, ns, src, dst string) {
	t.Helper()
	var out string
	var err error
	for i := 0; i < 5; i++ {
		out, err = dpNsRun(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", src, dst)
		if err == nil {
			return
		}
	}
	t.Fatalf("ping %s -> %s in %s: %v\n%s", src, dst, ns, err, out)
}

// dpReload writes new configurations, sends SIGHUP to both gateways, waits
// until their status shows the new SAs and pings again both ways.
func dpReload(t *testing.T, bin, listen string, sas []dpManualSA, ga, gb *dpGateway) {
	t.Helper()
	before, err := ga.status(bin)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range []*dpGateway{ga, gb} {
		conf := listen
		for _, sa := range sas {
			conf += sa.toml(i == 0)
		}
		if err := os.WriteFile(g.cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		g.cmd.Process.Signal(syscall.SIGHUP)
	}
	want := map[string]string{}
	for _, sa := range sas {
		want[sa.name] = fmt.Sprintf("%08x", sa.spiAB) // A's outbound SPI
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := ga.status(bin)
		ok := err == nil && len(st.Child) == len(sas)
		for _, c := range st.Child {
			ok = ok && want[c.Tunnel] == c.SPIOut
		}
		if ok {
			// The unchanged SA kept its counters: it was not replaced.
			for _, c := range st.Child {
				for _, b := range before.Child {
					if c.Tunnel == b.Tunnel && c.SPIOut == b.SPIOut && c.PacketsOut < b.PacketsOut {
						t.Errorf("SA %s was reinstalled by a reload that did not change it", c.Tunnel)
					}
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reload not applied: %+v", st.Child)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dpPing(t, ga.ns, dpInnerA4, dpInnerB4)
	dpPing(t, gb.ns, dpInnerB4, dpInnerA4)
	dpPing(t, ga.ns, dpInnerA6, dpInnerB6)
}

// dpDump logs the status of the gateways when a check failed.
func dpDump(t *testing.T, bin string, gs ...*dpGateway) {
	if !t.Failed() {
		return
	}
	for _, g := range gs {
		if out, err := exec.Command(bin, "status", "-json", "-control", g.ctl).CombinedOutput(); err == nil {
			t.Logf("status of %s: %s", g.ns, out)
		}
	}
}

var dpTooBig = regexp.MustCompile(`(?i)frag(mentation)? needed|packet too big`)

// dpOversized sends a ping of size octets of payload with DF set and
// expects the tunnel's ICMP error (Fragmentation Needed or Packet Too Big)
// back. (A packet above the TUN MTU, such as -s 1600, never reaches the
// loop: the kernel refuses it locally.)
func dpOversized(t *testing.T, ns, src, dst string, size int) {
	t.Helper()
	out, _ := dpNsRun(ns, "ping", "-c", "1", "-W", "3", "-s", fmt.Sprint(size), "-M", "do", "-I", src, dst)
	if !dpTooBig.MatchString(out) {
		t.Fatalf("oversized ping %s -> %s: no ICMP error from the tunnel:\n%s", src, dst, out)
	}
	t.Logf("oversized ping %s -> %s: %s", src, dst, strings.TrimSpace(dpTooBig.FindString(out)))
}

func dpIperf(t *testing.T, a, b, bAddr, aAddr string) {
	t.Helper()
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Log("iperf3 not installed: throughput check skipped")
		return
	}
	srv := exec.Command("ip", "netns", "exec", b, "iperf3", "-s", "-1", "-B", bAddr)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	time.Sleep(300 * time.Millisecond)
	out, err := dpNsRun(a, "iperf3", "-c", bAddr, "-B", aAddr, "-t", "3", "-J")
	if err != nil {
		t.Fatalf("iperf3: %v\n%s", err, out)
	}
	var res struct {
		End struct {
			SumReceived struct {
				Bytes         int64   `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("iperf3 output: %v", err)
	}
	if res.End.SumReceived.Bytes == 0 {
		t.Fatalf("iperf3 moved no data:\n%s", out)
	}
	t.Logf("iperf3 %s -> %s: %.2f Gbit/s", aAddr, bAddr, res.End.SumReceived.BitsPerSecond/1e9)
}

func TestDataplaneNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"ip", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	bin := dpBuild(t)

	layouts := []struct {
		name   string
		listen string
		sas    []dpManualSA
		// what to check besides pings
		iperf    [2]string // B's and A's inner address
		oversize bool
		reload   []dpManualSA // SAs to reload with (SIGHUP), checked with pings
	}{
		{
			// Same family inside and out, raw ESP (IP protocol 50):
			// IPv4 with AES-128-GCM, IPv6 with ChaCha20-Poly1305. The
			// TUN MTU is derived from outer_mtu.
			name:   "same-family-raw",
			listen: "[listen]\nouter_mtu = 1500\n",
			sas: []dpManualSA{
				{"v4", dpOuterB4, dpOuterA4, 0, "aes128gcm16", dpKey(1, 20), dpKey(2, 20), 0x1001, 0x2001, dpInnerA4 + "/32", dpInnerB4 + "/32"},
				{"v6", dpOuterB6, dpOuterA6, 0, "chacha20poly1305", dpKey(3, 36), dpKey(4, 36), 0x1002, 0x2002, dpInnerA6 + "/128", dpInnerB6 + "/128"},
			},
			iperf: [2]string{dpInnerB4, dpInnerA4},
			// Reload: v4 changes suite, keys and SPIs; v6 stays as is.
			reload: []dpManualSA{
				{"v4", dpOuterB4, dpOuterA4, 0, "chacha20poly1305", dpKey(9, 36), dpKey(10, 36), 0x1005, 0x2005, dpInnerA4 + "/32", dpInnerB4 + "/32"},
				{"v6", dpOuterB6, dpOuterA6, 0, "chacha20poly1305", dpKey(3, 36), dpKey(4, 36), 0x1002, 0x2002, dpInnerA6 + "/128", dpInnerB6 + "/128"},
			},
		},
		{
			// Crossed, ESP in UDP (RFC 3948): IPv4 inside IPv6 with
			// AES-256-GCM, IPv6 inside IPv4 with ChaCha20-Poly1305. The
			// TUN MTU (1446, the most IPv4 outer headers leave) is above
			// both SAs' own limits, so packets in between reach the
			// loop, which answers them with ICMP itself.
			name:   "crossed-udp",
			listen: "[listen]\nouter_mtu = 1500\nmtu = 1446\n",
			sas: []dpManualSA{
				{"v4in6", dpOuterB6, dpOuterA6, 4500, "aes256gcm16", dpKey(5, 36), dpKey(6, 36), 0x1003, 0x2003, dpInnerA4 + "/32", dpInnerB4 + "/32"},
				{"v6in4", dpOuterB4, dpOuterA4, 4500, "chacha20poly1305", dpKey(7, 36), dpKey(8, 36), 0x1004, 0x2004, dpInnerA6 + "/128", dpInnerB6 + "/128"},
			},
			iperf:    [2]string{dpInnerB6, dpInnerA6},
			oversize: true,
		},
	}
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			a, b := dpTopology(t)
			confA, confB := l.listen, l.listen
			for _, sa := range l.sas {
				confA += sa.toml(true)
				confB += sa.toml(false)
			}
			ga := dpStart(t, bin, a, confA)
			gb := dpStart(t, bin, b, confB)
			t.Cleanup(func() { dpDump(t, bin, ga, gb) })

			dpPing(t, a, dpInnerA4, dpInnerB4)
			dpPing(t, b, dpInnerB4, dpInnerA4)
			dpPing(t, a, dpInnerA6, dpInnerB6)
			dpPing(t, b, dpInnerB6, dpInnerA6)
			if l.oversize {
				// The largest packets the TUN device takes (1446
				// octets), too big for either SA.
				dpOversized(t, a, dpInnerA4, dpInnerB4, 1446-28)
				dpOversized(t, a, dpInnerA6, dpInnerB6, 1446-48)
			}
			dpIperf(t, a, b, l.iperf[0], l.iperf[1])

			// Status reports traffic on every manual SA.
			for _, g := range []*dpGateway{ga, gb} {
				st, err := g.status(bin)
				if err != nil {
					t.Fatal(err)
				}
				if len(st.Child) != len(l.sas) {
					t.Fatalf("%s: %d child SAs in status, want %d", g.ns, len(st.Child), len(l.sas))
				}
				for _, c := range st.Child {
					if c.PacketsIn == 0 || c.PacketsOut == 0 {
						t.Errorf("%s: SA %s carried no traffic: %+v", g.ns, c.Tunnel, c)
					}
				}
				if st.Dataplane.RxPackets == 0 || st.Dataplane.TxPackets == 0 {
					t.Errorf("%s: data plane counters %+v", g.ns, st.Dataplane)
				}
				t.Logf("%s: TUN offload %v, super-packets cut %d, coalesced %d; UDP GSO sends %d; drops %v", g.ns,
					st.Dataplane.TUNOffload, st.Dataplane.TUNSegmented, st.Dataplane.TUNCoalesced, st.Dataplane.UDPGSOSends, st.Dataplane.Drops)
			}

			if l.reload != nil {
				dpReload(t, bin, l.listen, l.reload, ga, gb)
			}

			// Shutdown removes the policy rule and the device.
			ga.stop(t)
			for _, fam := range []string{"-4", "-6"} {
				if out, _ := dpNsRun(a, "ip", fam, "rule", "show"); strings.Contains(out, "5157") {
					t.Errorf("rule left behind after shutdown (%s):\n%s", fam, out)
				}
			}
			if out, err := dpNsRun(a, "ip", "link", "show", "swl0"); err == nil {
				t.Errorf("swl0 left behind after shutdown:\n%s", out)
			}
		})
	}
}
