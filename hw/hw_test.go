package hw

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

var (
	gcmFirst    = []string{AES128GCM16, AES256GCM16, ChaCha20Poly1305}
	chachaFirst = []string{ChaCha20Poly1305, AES128GCM16, AES256GCM16}
)

func TestCipherOrder(t *testing.T) {
	tests := []struct {
		name string
		f    Features
		want []string
	}{
		{"amd64 AES-NI+PCLMULQDQ+SSE4.1+SSSE3", Features{GOARCH: "amd64", AES: true, CLMUL: true, SSE41: true, SSSE3: true}, gcmFirst},
		{"amd64 with AVX2 too", Features{GOARCH: "amd64", AES: true, CLMUL: true, SSE41: true, SSSE3: true, AVX2: true}, gcmFirst},
		{"amd64 AES-NI without PCLMULQDQ", Features{GOARCH: "amd64", AES: true, SSE41: true, SSSE3: true}, chachaFirst},
		{"amd64 PCLMULQDQ without AES-NI", Features{GOARCH: "amd64", CLMUL: true, SSE41: true, SSSE3: true}, chachaFirst},
		{"amd64 without SSE4.1", Features{GOARCH: "amd64", AES: true, CLMUL: true, SSSE3: true}, chachaFirst},
		{"amd64 nothing (old Atom, qemu default)", Features{GOARCH: "amd64"}, chachaFirst},
		{"arm64 crypto extensions", Features{GOARCH: "arm64", AES: true, CLMUL: true, SIMD: true}, gcmFirst},
		{"arm64 without crypto (Raspberry Pi 4)", Features{GOARCH: "arm64", SIMD: true}, chachaFirst},
		{"arm64 AES without PMULL", Features{GOARCH: "arm64", AES: true, SIMD: true}, chachaFirst},
		{"arm v7 NEON", Features{GOARCH: "arm", SIMD: true}, chachaFirst},
		{"arm 32-bit on ARMv8 with AES+PMULL: Go has no arm asm", Features{GOARCH: "arm", AES: true, CLMUL: true, SIMD: true}, chachaFirst},
		{"arm v5", Features{GOARCH: "arm"}, chachaFirst},
		{"mips", Features{GOARCH: "mips"}, chachaFirst},
		{"mipsle", Features{GOARCH: "mipsle"}, chachaFirst},
		{"mips64 MSA", Features{GOARCH: "mips64", SIMD: true}, chachaFirst},
		{"riscv64", Features{GOARCH: "riscv64"}, chachaFirst},
		{"386 with AES-NI: no GCM asm on 386", Features{GOARCH: "386", AES: true, CLMUL: true, SSE41: true, SSSE3: true}, chachaFirst},
		{"s390x CPACF", Features{GOARCH: "s390x", AES: true, CLMUL: true, SIMD: true}, gcmFirst},
		{"s390x without GHASH", Features{GOARCH: "s390x", AES: true}, chachaFirst},
		{"ppc64le POWER8", Features{GOARCH: "ppc64le", AES: true, CLMUL: true, SIMD: true}, gcmFirst},
		{"unknown arch claiming AES", Features{GOARCH: "loong64", AES: true, CLMUL: true}, chachaFirst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.CipherOrder()
			if !slices.Equal(got, tt.want) {
				t.Errorf("CipherOrder() = %v, want %v", got, tt.want)
			}
		})
	}
}

// Every order offers all three AEADs exactly once, so peers always agree.
func TestCipherOrderComplete(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "arm", "mips", "s390x", "ppc64le", "riscv64"} {
		for mask := 0; mask < 1<<6; mask++ {
			f := Features{GOARCH: arch, AES: mask&1 != 0, CLMUL: mask&2 != 0, SSE41: mask&4 != 0,
				SSSE3: mask&8 != 0, AVX2: mask&16 != 0, SIMD: mask&32 != 0}
			got := slices.Clone(f.CipherOrder())
			slices.Sort(got)
			want := []string{AES128GCM16, AES256GCM16, ChaCha20Poly1305}
			if !slices.Equal(got, want) {
				t.Fatalf("%+v: order %v is not a permutation of %v", f, f.CipherOrder(), want)
			}
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		f    Features
		want string
	}{
		{Features{GOARCH: "amd64", Variant: "GOAMD64=v1", CPUs: 2, AES: true, CLMUL: true, SSE41: true, SSSE3: true, AVX2: true},
			"amd64 (GOAMD64=v1): aes-ni pclmulqdq ssse3 sse4.1 avx2; hardware AES-GCM; 2 CPUs"},
		{Features{GOARCH: "mipsle", Variant: "GOMIPS=softfloat", CPUs: 1},
			"mipsle (GOMIPS=softfloat): no crypto acceleration; software AES; 1 CPU"},
		{Features{GOARCH: "arm", CPUs: 4, SIMD: true},
			"arm: neon; software AES; 4 CPUs"},
		{Features{GOARCH: "arm64", CPUs: 4, AES: true, CLMUL: true, SIMD: true},
			"arm64: aes pmull asimd; hardware AES-GCM; 4 CPUs"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestDetect(t *testing.T) {
	f := Detect()
	if f.GOARCH != runtime.GOARCH {
		t.Errorf("GOARCH = %q, want %q", f.GOARCH, runtime.GOARCH)
	}
	if f.CPUs < 1 {
		t.Errorf("CPUs = %d", f.CPUs)
	}
	switch runtime.GOARCH {
	case "mips", "mipsle", "riscv64":
		if f.AES || f.CLMUL || f.HardwareGCM() {
			t.Errorf("%s reports AES help: %+v", runtime.GOARCH, f)
		}
	}
	if !strings.HasPrefix(f.String(), runtime.GOARCH) {
		t.Errorf("String() = %q", f.String())
	}
	if w := Workers(); w < 1 || w > runtime.NumCPU() {
		t.Errorf("Workers() = %d, NumCPU %d", w, runtime.NumCPU())
	}
}
