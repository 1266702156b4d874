// Package hw reports the CPU features that matter for IPsec throughput and
// derives swanling's default ESP/IKE cipher order from them.
//
// The choice is between the two AEADs every IKEv2 peer is expected to offer
// (RFC 8221, Section 5 and RFC 8247, Section 3.1): AES-GCM (RFC 4106) and
// ChaCha20-Poly1305 (RFC 7634). AES-GCM is only fast and constant-time where
// Go's crypto has an assembly path that uses AES and carry-less multiply
// instructions; on every other CPU (MIPS, ARMv5/v7, riscv64, 386) Go falls
// back to table-free software AES, several times slower than ChaCha20, so
// ChaCha20-Poly1305 goes first there.
//
// The package imports nothing of swanling's; the order logic is a pure
// function of a Features value so it can be tested with synthetic CPUs.
package hw

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"
)

// Cipher keywords in strongSwan/swanctl proposal notation.
const (
	AES128GCM16      = "aes128gcm16"
	AES256GCM16      = "aes256gcm16"
	ChaCha20Poly1305 = "chacha20poly1305"
)

// Features is what Detect found. Fields that do not exist on an
// architecture stay false.
type Features struct {
	GOARCH  string // runtime.GOARCH the binary was built for
	Variant string // the build's GOARM, GOMIPS, GOAMD64... setting, e.g. "GOARM=7"; "" if unknown
	CPUs    int    // runtime.NumCPU()

	AES   bool // AES rounds in hardware (AES-NI, ARMv8 AES, s390x KM-AES, POWER8 vcipher)
	CLMUL bool // carry-less multiply for GHASH (PCLMULQDQ, ARMv8 PMULL, s390x KIMD-GHASH, POWER8 vpmsumd)
	SSE41 bool // amd64: Go's AES-GCM assembly also needs SSE4.1 and SSSE3
	SSSE3 bool
	AVX2  bool // amd64: the fast ChaCha20-Poly1305 path
	SIMD  bool // NEON (arm), ASIMD (arm64), VX (s390x), MSA (mips64)
}

// Detect reads the running CPU's features through golang.org/x/sys/cpu.
func Detect() Features {
	f := Features{GOARCH: runtime.GOARCH, Variant: variant(), CPUs: runtime.NumCPU()}
	switch runtime.GOARCH {
	case "amd64", "386":
		f.AES = cpu.X86.HasAES
		f.CLMUL = cpu.X86.HasPCLMULQDQ
		f.SSE41 = cpu.X86.HasSSE41
		f.SSSE3 = cpu.X86.HasSSSE3
		f.AVX2 = cpu.X86.HasAVX2
	case "arm64":
		f.AES = cpu.ARM64.HasAES
		f.CLMUL = cpu.ARM64.HasPMULL
		f.SIMD = cpu.ARM64.HasASIMD
	case "arm":
		// ARMv8 CPUs running 32-bit code report AES/PMULL, but Go has no
		// 32-bit ARM assembly for them; CipherOrder knows that.
		f.AES = cpu.ARM.HasAES
		f.CLMUL = cpu.ARM.HasPMULL
		f.SIMD = cpu.ARM.HasNEON
	case "s390x":
		f.AES = cpu.S390X.HasAES && cpu.S390X.HasAESCTR
		f.CLMUL = cpu.S390X.HasGHASH
		f.SIMD = cpu.S390X.HasVX
	case "ppc64le", "ppc64":
		// POWER8 is the minimum Go supports; it always has vcipher and vpmsumd.
		f.AES = true
		f.CLMUL = true
		f.SIMD = true
	case "mips64", "mips64le":
		f.SIMD = cpu.MIPS64X.HasMSA
	}
	// mips, mipsle, riscv64 and the rest: nothing that helps AES.
	return f
}

// variant returns the architecture-variant build setting recorded in the
// binary (go version -m shows the same), e.g. "GOMIPS=softfloat".
func variant() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOARM", "GOMIPS", "GOMIPS64", "GOAMD64", "GOARM64", "GO386", "GOPPC64", "GORISCV64":
			return s.Key + "=" + s.Value
		}
	}
	return ""
}

// HardwareGCM reports whether Go's crypto/aes + crypto/cipher.NewGCM run
// an assembly AES-GCM on this CPU. It mirrors the conditions in Go's
// crypto/internal/fips140/aes/gcm for each architecture.
func (f Features) HardwareGCM() bool {
	switch f.GOARCH {
	case "amd64":
		return f.AES && f.CLMUL && f.SSE41 && f.SSSE3
	case "arm64", "s390x":
		return f.AES && f.CLMUL
	case "ppc64le", "ppc64":
		return f.AES && f.CLMUL
	}
	return false
}

// CipherOrder is the default AEAD preference, best first, in swanctl
// keywords. Both AEADs are always offered so any peer can agree; only the
// order changes.
func (f Features) CipherOrder() []string {
	if f.HardwareGCM() {
		return []string{AES128GCM16, AES256GCM16, ChaCha20Poly1305}
	}
	return []string{ChaCha20Poly1305, AES128GCM16, AES256GCM16}
}

// String is the one-line report `swanling version -v` prints.
func (f Features) String() string {
	var b strings.Builder
	b.WriteString(f.GOARCH)
	if f.Variant != "" {
		b.WriteString(" (" + f.Variant + ")")
	}
	b.WriteString(":")
	names := featureNames(f)
	if len(names) == 0 {
		b.WriteString(" no crypto acceleration")
	}
	for _, n := range names {
		b.WriteString(" " + n)
	}
	if f.HardwareGCM() {
		b.WriteString("; hardware AES-GCM")
	} else {
		b.WriteString("; software AES")
	}
	b.WriteString("; " + strconv.Itoa(f.CPUs) + " CPU")
	if f.CPUs != 1 {
		b.WriteString("s")
	}
	return b.String()
}

// featureNames uses each architecture's own names so the report matches
// what /proc/cpuinfo shows.
func featureNames(f Features) []string {
	var n []string
	add := func(ok bool, name string) {
		if ok {
			n = append(n, name)
		}
	}
	switch f.GOARCH {
	case "amd64", "386":
		add(f.AES, "aes-ni")
		add(f.CLMUL, "pclmulqdq")
		add(f.SSSE3, "ssse3")
		add(f.SSE41, "sse4.1")
		add(f.AVX2, "avx2")
	case "arm64":
		add(f.AES, "aes")
		add(f.CLMUL, "pmull")
		add(f.SIMD, "asimd")
	case "arm":
		add(f.AES, "aes")
		add(f.CLMUL, "pmull")
		add(f.SIMD, "neon")
	case "s390x":
		add(f.AES, "km-aes")
		add(f.CLMUL, "kimd-ghash")
		add(f.SIMD, "vx")
	case "mips64", "mips64le":
		add(f.SIMD, "msa")
	default:
		add(f.AES, "aes")
		add(f.CLMUL, "clmul")
		add(f.SIMD, "simd")
	}
	return n
}

// Workers is how many packet-processing goroutines the data plane should
// run: one per CPU the Go scheduler may use, at least one. Small routers
// have one or two cores; more workers than GOMAXPROCS only add contention.
func Workers() int {
	n := runtime.GOMAXPROCS(0)
	if c := runtime.NumCPU(); c < n {
		n = c
	}
	if n < 1 {
		n = 1
	}
	return n
}
