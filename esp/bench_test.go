package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

var benchSizes = []int{64, 512, 1400, 8192}

func benchSuites() []Suite { return []Suite{AES128GCM16, AES256GCM16, ChaCha20Poly1305} }

func benchPacket(n int) []byte {
	p := ping4("198.51.100.1", "203.0.113.1", n-28)
	return p
}

func rawAEAD(s Suite) cipher.AEAD {
	key := make([]byte, s.KeyLen()-saltLen)
	if s == ChaCha20Poly1305 {
		a, _ := chacha20poly1305.New(key)
		return a
	}
	b, _ := aes.NewCipher(key)
	a, _ := cipher.NewGCM(b)
	return a
}

// esp plaintext length for an inner packet of n bytes (RFC 4303, Section 2.4).
func ptLen(n int) int { return n + (4-(n+2)&3)&3 + 2 }

// The loop reads the clock once per batch; the benchmarks do the same
// every benchBatch packets (Seal and Open without "At" add one Clock() read,
// a vDSO call, per packet).
const benchBatch = 64

// BenchmarkSeal seals an inner packet of each size in place.
func BenchmarkSeal(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				out, _ := saPair(b, s, false, net4b, net4a)
				p := benchPacket(n)
				buf := sealBuf(p)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				var now int64
				for i := 0; i < b.N; i++ {
					if i%benchBatch == 0 {
						now = Clock()
					}
					buf[Headroom] = 0x45 // sealing overwrote the version nibble
					if _, err := out.SealAt(buf, n, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRawAEADSeal is the standard AEAD alone on the same plaintext
// length (inner packet + trailer) and an 8-byte AAD, in place.
func BenchmarkRawAEADSeal(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				a := rawAEAD(s)
				m := ptLen(n)
				buf := make([]byte, m+icvLen)
				nonce := make([]byte, 12)
				aad := make([]byte, 8)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					binary.BigEndian.PutUint64(nonce[4:], uint64(i))
					a.Seal(buf[:0], nonce, buf[:m], aad)
				}
			})
		}
	}
}

// BenchmarkOpen opens an ESP packet of each inner size in place. Each
// iteration restores the ciphertext (a copy, also done by the raw
// benchmark) and forgets the sequence number in the replay window.
func BenchmarkOpen(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				out, in := saPair(b, s, false, net4b, net4a)
				p := benchPacket(n)
				buf := sealBuf(p)
				m, err := out.Seal(buf, n)
				if err != nil {
					b.Fatal(err)
				}
				esp := append([]byte(nil), buf[SealOffset:SealOffset+m]...)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				var now int64
				for i := 0; i < b.N; i++ {
					if i%benchBatch == 0 {
						now = Clock()
					}
					copy(buf[SealOffset:], esp)
					in.replay.top = 0
					in.replay.ring[0] = 0
					if _, _, _, err := in.OpenAt(buf, SealOffset, m, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRawAEADOpen is the standard AEAD alone, opening in place the
// same bytes, with the same restoring copy.
func BenchmarkRawAEADOpen(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				a := rawAEAD(s)
				m := ptLen(n)
				nonce := make([]byte, 12)
				aad := make([]byte, 8)
				ct := a.Seal(nil, nonce, make([]byte, m), aad)
				buf := make([]byte, len(ct))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					copy(buf, ct)
					if _, err := a.Open(buf[:0], nonce, buf, aad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLoop pushes 1400-byte packets from one loop to the other through
// the in-memory doubles (which copy each packet twice).
func BenchmarkLoop(b *testing.B) {
	for _, s := range []Suite{AES128GCM16, ChaCha20Poly1305} {
		b.Run(s.String(), func(b *testing.B) {
			ta, tb := newMemLink(addrA, addrB)
			da, db := newMemDevice(1500, 32), newMemDevice(1500, 32)
			la, _ := NewLoop(Config{Device: da, UDP: ta})
			lb, _ := NewLoop(Config{Device: db, UDP: tb})
			m := manualA(s, false)
			la.AddManual(m)
			lb.AddManual(mirror(m, addrA))
			done := make(chan struct{}, 2)
			go func() { la.Run(); done <- struct{}{} }()
			go func() { lb.Run(); done <- struct{}{} }()
			p := benchPacket(1400)
			buf := make([]byte, 65535)
			const window = 64
			b.SetBytes(1400)
			b.ReportAllocs()
			b.ResetTimer()
			sent := 0
			for i := 0; i < b.N; i++ {
				for sent < b.N && sent-i < window {
					if !da.inject(p) {
						break
					}
					sent++
				}
				db.recv(buf)
			}
			b.StopTimer()
			la.Close()
			lb.Close()
			<-done
			<-done
		})
	}
}

// BenchmarkSealLoopPath is the loop's per-packet outbound work: sequence
// numbers reserved for a batch of benchBatch packets under one lock (as
// reserveBatch does), then each packet sealed (as a worker does).
func BenchmarkSealLoopPath(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				out, _ := saPair(b, s, false, net4b, net4a)
				buf := sealBuf(benchPacket(n))
				var seqs [benchBatch]uint64
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % benchBatch
					if k == 0 {
						now := Clock()
						var r runLock
						r.hold(out)
						for j := range seqs {
							seq, ev, err := out.reserveLocked(n, now)
							if err != nil {
								b.Fatal(err)
							}
							seqs[j], r.ev = seq, r.ev|ev
						}
						r.release()
					}
					out.seal(buf, n, protoIPIP, seqs[k])
				}
			})
		}
	}
}

// BenchmarkOpenLoopPath is the loop's per-packet inbound work: replay
// pre-checks for a batch under one lock, each packet decrypted and checked
// (restored by a copy first, as in BenchmarkRawAEADOpen), then the window
// updated and the packets counted for the batch under one lock.
func BenchmarkOpenLoopPath(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				out, in := saPair(b, s, false, net4b, net4a)
				p := benchPacket(n)
				var esps [benchBatch][]byte
				var m int
				for j := range esps {
					buf := sealBuf(p)
					var err error
					if m, err = out.Seal(buf, n); err != nil {
						b.Fatal(err)
					}
					esps[j] = append([]byte(nil), buf[SealOffset:SealOffset+m]...)
				}
				buf := sealBuf(p)
				var seqs [benchBatch]uint64
				var lens [benchBatch]int
				var now int64
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % benchBatch
					if k == 0 {
						now = Clock()
						in.mu.Lock()
						in.replay = Replay{}
						for j := range seqs {
							seq, err := in.precheckLocked(binary.BigEndian.Uint32(esps[j][4:]))
							if err != nil {
								b.Fatal(err)
							}
							seqs[j] = seq
						}
						in.mu.Unlock()
					}
					copy(buf[SealOffset:], esps[k])
					_, l, _, err := in.decrypt(buf, SealOffset, m, seqs[k])
					if err != nil {
						b.Fatal(err)
					}
					lens[k] = l
					if k == benchBatch-1 {
						var r runLock
						r.hold(in)
						for j := range seqs {
							ev, err := in.acceptLocked(seqs[j], lens[j], now)
							if err != nil {
								b.Fatal(err)
							}
							r.ev |= ev
						}
						r.release()
					}
				}
			})
		}
	}
}

// BenchmarkRawAEADOpenLoopPath pairs BenchmarkOpenLoopPath: the standard
// AEAD opening in place benchBatch distinct ciphertexts in turn (distinct
// nonces, as distinct sequence numbers), each restored by a copy first, so
// both read the same amount of memory per packet (64 packets of 1400 bytes
// do not fit in L1, one packet does).
func BenchmarkRawAEADOpenLoopPath(b *testing.B) {
	for _, s := range benchSuites() {
		for _, n := range benchSizes {
			b.Run(s.String()+"/"+itoa(n), func(b *testing.B) {
				a := rawAEAD(s)
				m := ptLen(n)
				aad := make([]byte, 8)
				var cts [benchBatch][]byte
				var nonces [benchBatch][12]byte
				for j := range cts {
					binary.BigEndian.PutUint64(nonces[j][4:], uint64(j+1))
					cts[j] = a.Seal(nil, nonces[j][:], make([]byte, m), aad)
				}
				buf := make([]byte, len(cts[0]))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % benchBatch
					copy(buf, cts[k])
					if _, err := a.Open(buf[:0], nonces[k][:], buf, aad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
