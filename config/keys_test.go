package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func ed25519PEM(t *testing.T) []byte {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkcs8PEM(t, k)
}

// writeKey writes a key file with an exact mode: git keeps none, and the
// umask must not decide.
func writeKey(t *testing.T, path string, mode os.FileMode, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	good := ed25519PEM(t)
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mode os.FileMode
		data []byte
		want string // "" = loads
	}{
		{"ok.pem", 0o600, good, ""},
		{"readonly.pem", 0o400, good, ""},
		{"p256.pem", 0o600, pkcs8PEM(t, p256), ""},
		{"world.pem", 0o644, good, "mode 0644 gives group or others access to the private key (chmod 600)"},
		{"group.pem", 0o640, good, "mode 0640 gives group or others access to the private key (chmod 600)"},
		{"groupwrite.pem", 0o620, good, "mode 0620 gives group or others access to the private key (chmod 600)"},
		{"missing.pem", 0, nil, "no such file"},
		{"adir", 0, nil, "not a regular file"},
		{"text.pem", 0o600, []byte("hello\n"), `not a PEM "PRIVATE KEY" (PKCS#8) file, as swanling genkey writes`},
		{"sec1.pem", 0o600, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), `not a PEM "PRIVATE KEY" (PKCS#8) file, as swanling genkey writes`},
		{"broken.pem", 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "PKCS#8 key does not parse"},
		{"p521.pem", 0o600, pkcs8PEM(t, p521), "ECDSA curve P-521 is not supported (P-256, P-384)"},
		{"rsa1024.pem", 0o600, pkcs8PEM(t, rsa1024), "RSA key of 1024 bits is too short (at least 2048)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if c.data != nil {
				writeKey(t, path, c.mode, c.data)
			}
			for _, f := range []struct{ name, text string }{
				{"swanling.toml", "[local]\nid = \"@gw.example\"\nkey_file = \"" + path + "\"\n"},
				{"swanling", "config local\n\toption id '@gw.example'\n\toption key_file '" + path + "'\n"},
			} {
				cfg, err := Parse(filepath.Join(dir, f.name), []byte(f.text))
				if c.want == "" {
					if err != nil {
						t.Fatalf("%s: %v", f.name, err)
					}
					if cfg.Local.KeyFile != path {
						t.Errorf("KeyFile %q", cfg.Local.KeyFile)
					}
					continue
				}
				want := f.name + ":3: local: key_file \"" + path + "\": " + c.want
				if err == nil || err.Error() != want {
					t.Errorf("%s:\n got %v\nwant %s", f.name, err, want)
				}
				// SkipFiles checks everything but the file.
				if _, err := ParseWith(filepath.Join(dir, f.name), []byte(f.text), Options{SkipFiles: true}); err != nil {
					t.Errorf("SkipFiles: %v", err)
				}
			}
		})
	}
}

// A relative key path is taken from the config file's directory.
func TestKeyFileRelative(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, filepath.Join(dir, "gw.pem"), 0o600, ed25519PEM(t))
	path := filepath.Join(dir, "swanling.toml")
	if err := os.WriteFile(path, []byte("[local]\nkey_file = \"gw.pem\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Local.KeyFile != filepath.Join(dir, "gw.pem") {
		t.Errorf("KeyFile %q", c.Local.KeyFile)
	}
}

func TestPeerPubkey(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	writeKey(t, key, 0o600, ed25519PEM(t))
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	b64 := base64.StdEncoding.EncodeToString(der)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pemFile := filepath.Join(dir, "peer.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	b64File := filepath.Join(dir, "peer.pub")
	if err := os.WriteFile(b64File, []byte(b64+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ value, want string }{
		{b64, ""},
		{pemFile, ""},
		{"peer.pub", ""}, // relative to the config
		{base64.StdEncoding.EncodeToString(rsaDER), "peer_pubkey: RSA key of 1024 bits is too short (at least 2048)"},
		{"MCowBQYDK2VwAyEA", "peer_pubkey: not a SubjectPublicKeyInfo public key"},
		{"MCow!!", "peer_pubkey: neither base64 nor PEM"},
		{"nokey.pem", `peer_pubkey "nokey.pem": no such file (neither a file nor a base64 public key)`},
		{certFile, `peer_pubkey "` + certFile + `": PEM "CERTIFICATE" is not a "PUBLIC KEY"`},
	} {
		text := "[local]\nkey_file = \"key.pem\"\n[tunnel.b]\npeer = \"198.51.100.1\"\npeer_pubkey = \"" + c.value + "\"\n"
		cfg, err := Parse(filepath.Join(dir, "swanling.toml"), []byte(text))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.value, err)
				continue
			}
			tu := cfg.Tunnels[0]
			if tu.Auth != AuthPubkey || string(tu.PeerKey) != string(der) {
				t.Errorf("%s: %+v", c.value, tu)
			}
			// A relative file is made absolute, so readers need no cwd.
			if !inlineKey(c.value) && tu.PeerPubkey != filepath.Join(dir, filepath.Base(c.value)) {
				t.Errorf("%s: PeerPubkey %q", c.value, tu.PeerPubkey)
			}
			continue
		}
		want := `swanling.toml:5: tunnel "b": ` + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", c.value, err, want)
		}
	}
	// With SkipFiles, a file key is left unread and PeerKey empty.
	cfg, err := ParseWith(filepath.Join(dir, "x.toml"), []byte("[local]\nkey_file = \"/nonexistent\"\n[tunnel.b]\npeer = \"198.51.100.1\"\npeer_pubkey = \"/nonexistent.pub\"\n"), Options{SkipFiles: true})
	if err != nil || cfg.Tunnels[0].PeerKey != nil {
		t.Errorf("SkipFiles: %v %+v", err, cfg)
	}
	if !strings.HasPrefix(b64, "MC") {
		t.Errorf("Ed25519 SPKI base64 %q does not start with MC", b64)
	}
}
