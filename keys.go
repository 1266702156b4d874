package main

// Key generation for `swanling genkey` and the public-key forms that the
// configuration and DNS use:
//
//   - the base64 DER SubjectPublicKeyInfo (RFC 5280, Section 4.1.2.7), which
//     a peer's config names as the tunnel's public key;
//   - the IPSECKEY RDATA (RFC 4025, Section 2.1), whose public key field is
//     the algorithm-specific KEY/DNSKEY form: RSA per RFC 3110, Section 2
//     (algorithm 2), ECDSA per RFC 6605, Section 4 (algorithm 3, RFC 9373
//     Table 2), EdDSA per RFC 8080, Section 3 (algorithm 4, RFC 9373);
//   - the TXT record `X-IPsec-Server(P)=gateway key` of RFC 4322, Section 5.2,
//     carrying the same key bytes as the IPSECKEY record.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Key types genkey accepts.
const (
	keyEd25519   = "ed25519"
	keyECDSAP256 = "ecdsa-p256"
	keyRSA3072   = "rsa-3072"
)

var keyTypes = []string{keyEd25519, keyECDSAP256, keyRSA3072}

// IPSECKEY algorithm type numbers (RFC 4025, Section 2.4; RFC 9373, Table 2).
const (
	ipseckeyAlgNone  = 0
	ipseckeyAlgRSA   = 2
	ipseckeyAlgECDSA = 3
	ipseckeyAlgEdDSA = 4
)

// IPSECKEY gateway types (RFC 4025, Section 2.3).
const (
	gwNone = 0
	gwIPv4 = 1
	gwIPv6 = 2
	gwName = 3
)

// generateKey makes a new private key of one of keyTypes.
func generateKey(typ string, r io.Reader) (crypto.Signer, error) {
	switch typ {
	case keyEd25519:
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	case keyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case keyRSA3072:
		return rsa.GenerateKey(r, 3072)
	}
	return nil, fmt.Errorf("swanling: unknown key type %q (want %s)", typ, strings.Join(keyTypes, ", "))
}

// encodePrivateKey returns the PKCS#8 PEM form (RFC 5208, RFC 7468 "PRIVATE KEY").
func encodePrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("swanling: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writeKeyFile creates path with mode 0600 and writes the key. It never
// overwrites: losing a private key that DNS still publishes breaks every OE
// peer, so the admin must remove the old file on purpose.
func writeKeyFile(path string, key crypto.Signer) error {
	data, err := encodePrivateKey(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("swanling: %s exists; not overwriting a key", path)
		}
		return fmt.Errorf("swanling: %w", err)
	}
	// The umask can only remove bits; make sure nothing else is set either.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("swanling: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("swanling: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("swanling: %w", err)
	}
	return f.Close()
}

// loadPrivateKey reads a PKCS#8 PEM key as genkey writes it.
func loadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("swanling: %w", err)
	}
	return parsePrivateKey(data)
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("swanling: not a PEM \"PRIVATE KEY\" (PKCS#8) file")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("swanling: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("swanling: unsupported private key type %T", k)
	}
	return s, nil
}

// spkiBase64 is the config form of a public key: base64 of the DER
// SubjectPublicKeyInfo, self-describing for every key type.
func spkiBase64(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("swanling: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// ipseckeyPublicKey returns the IPSECKEY algorithm type and the public key
// field (RFC 4025, Section 2.6) for pub.
func ipseckeyPublicKey(pub crypto.PublicKey) (alg uint8, key []byte, err error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		// RFC 8080, Section 3: the 32-octet public key as in RFC 8032.
		if len(k) != ed25519.PublicKeySize {
			return 0, nil, errors.New("swanling: bad Ed25519 public key length")
		}
		return ipseckeyAlgEdDSA, append([]byte(nil), k...), nil
	case *ecdsa.PublicKey:
		// RFC 6605, Section 4: Q as the uncompressed point "x | y" without
		// the 0x04 prefix SEC 1 puts in front; 64 octets for P-256.
		if k.Curve != elliptic.P256() {
			return 0, nil, errors.New("swanling: only ECDSA P-256 keys are supported")
		}
		e, err := k.ECDH()
		if err != nil {
			return 0, nil, fmt.Errorf("swanling: %w", err)
		}
		b := e.Bytes() // 0x04 || x || y
		if len(b) != 65 || b[0] != 4 {
			return 0, nil, errors.New("swanling: bad P-256 point encoding")
		}
		return ipseckeyAlgECDSA, append([]byte(nil), b[1:]...), nil
	case *rsa.PublicKey:
		return ipseckeyAlgRSA, rfc3110Key(k), nil
	}
	return 0, nil, fmt.Errorf("swanling: unsupported public key type %T", pub)
}

// rfc3110Key encodes an RSA public key as RFC 3110, Section 2: exponent
// length (one octet, or zero and two octets if longer than 255), exponent,
// modulus, both without leading zero octets.
func rfc3110Key(k *rsa.PublicKey) []byte {
	e := big.NewInt(int64(k.E)).Bytes()
	n := k.N.Bytes()
	var out []byte
	if len(e) <= 255 {
		out = append(out, byte(len(e)))
	} else {
		out = append(out, 0, byte(len(e)>>8), byte(len(e)))
	}
	out = append(out, e...)
	return append(out, n...)
}

// gateway is an IPSECKEY gateway (RFC 4025, Section 2.5) as the admin
// writes it: an IPv4 or IPv6 address, a domain name ("gw.example.net" or
// "@gw.example.net"), or empty for none.
type gateway struct {
	typ  uint8
	addr netip.Addr
	name string // without trailing dot
}

func parseGateway(s string) (gateway, error) {
	if s == "" || s == "." {
		return gateway{typ: gwNone}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return gateway{}, fmt.Errorf("swanling: gateway %q: zone not allowed", s)
		}
		if a.Is4() || a.Is4In6() {
			return gateway{typ: gwIPv4, addr: a.Unmap()}, nil
		}
		return gateway{typ: gwIPv6, addr: a}, nil
	}
	name := strings.TrimSuffix(strings.TrimPrefix(s, "@"), ".")
	if !validDNSName(name) {
		return gateway{}, fmt.Errorf("swanling: gateway %q is neither an address nor a domain name", s)
	}
	return gateway{typ: gwName, name: name}, nil
}

// validDNSName checks RFC 1035, Section 2.3.4 limits and a hostname alphabet.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ipseckeyRDATA is the presentation form of the RDATA (RFC 4025, Section
// 3.1): "precedence gateway-type algorithm gateway base64-key".
func ipseckeyRDATA(precedence uint8, gw gateway, pub crypto.PublicKey) (string, error) {
	alg, key, err := ipseckeyPublicKey(pub)
	if err != nil {
		return "", err
	}
	var g string
	switch gw.typ {
	case gwNone:
		g = "." // RFC 4025, Section 3.1: no gateway MUST be "."
	case gwIPv4, gwIPv6:
		g = gw.addr.String()
	case gwName:
		g = gw.name + "."
	}
	return fmt.Sprintf("%d %d %d %s %s", precedence, gw.typ, alg, g,
		base64.StdEncoding.EncodeToString(key)), nil
}

// txtRecord is the RFC 4322, Section 5.2 form "X-IPsec-Server(P)=A.B.C.D key"
// (or "=@FQDN key"), with the IPSECKEY key bytes. RFC 4322 only defines RSA
// keys; for ECDSA and EdDSA the key length (64 or 32 octets) tells the type.
// gw must not be gwNone: the record exists to name the gateway.
func txtRecord(precedence uint8, gw gateway, pub crypto.PublicKey) (string, error) {
	_, key, err := ipseckeyPublicKey(pub)
	if err != nil {
		return "", err
	}
	var g string
	switch gw.typ {
	case gwIPv4, gwIPv6:
		g = gw.addr.String()
	case gwName:
		g = "@" + gw.name
	default:
		return "", errors.New("swanling: the TXT form needs a gateway")
	}
	return "X-IPsec-Server(" + strconv.Itoa(int(precedence)) + ")=" + g + " " +
		base64.StdEncoding.EncodeToString(key), nil
}

// zoneTXT quotes a TXT value for a zone file, split into character-strings
// of at most 255 octets (RFC 1035, Section 3.3.14); RFC 4322, Section 5.2.1
// has readers join them again. An RSA-3072 key needs two or three.
func zoneTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, `"`+s[:255]+`"`)
		s = s[255:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, " ")
}

// printPublicKey writes every form of pub that an admin needs. gw may be
// the zero gateway; the TXT form then shows where the gateway goes.
func printPublicKey(w io.Writer, pub crypto.PublicKey, gw gateway) error {
	spki, err := spkiBase64(pub)
	if err != nil {
		return err
	}
	alg, _, err := ipseckeyPublicKey(pub)
	if err != nil {
		return err
	}
	rdata, err := ipseckeyRDATA(10, gw, pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# for a peer's tunnel config (base64 SubjectPublicKeyInfo):\npeer_pubkey = %q\n\n", spki)
	fmt.Fprintf(w, "# IPSECKEY RDATA (RFC 4025, algorithm %d = %s), for the reverse zone:\n", alg, ipseckeyAlgName(alg))
	fmt.Fprintf(w, "IN IPSECKEY ( %s )\n\n", rdata)
	fmt.Fprintf(w, "# TXT (RFC 4322, Section 5.2):\n")
	if gw.typ == gwNone {
		// Show the layout with a placeholder rather than leave it out.
		fake := gateway{typ: gwName, name: "GATEWAY"}
		txt, err := txtRecord(10, fake, pub)
		if err != nil {
			return err
		}
		txt = strings.Replace(txt, "@GATEWAY", "GATEWAY", 1)
		fmt.Fprintf(w, "# (GATEWAY: this gateway's address or @fqdn; genkey -gw fills it in)\n")
		fmt.Fprintf(w, "IN TXT %s\n", zoneTXT(txt))
		return nil
	}
	txt, err := txtRecord(10, gw, pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "IN TXT %s\n", zoneTXT(txt))
	return nil
}

func ipseckeyAlgName(alg uint8) string {
	switch alg {
	case ipseckeyAlgRSA:
		return "RSA, RFC 3110"
	case ipseckeyAlgECDSA:
		return "ECDSA P-256, RFC 6605"
	case ipseckeyAlgEdDSA:
		return "EdDSA, RFC 9373"
	}
	return "none"
}
