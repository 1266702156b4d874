package dnsoe

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeRR struct {
	h ResourceHeader
	d RData
}

// fakeServer is an in-process DNS server on 127.0.0.1, UDP and TCP on the
// same port, answering from a map of records.
type fakeServer struct {
	t     *testing.T
	udp   *net.UDPConn
	spoof *net.UDPConn // a second socket, for answers from the wrong port
	tcp   *net.TCPListener
	addr  netip.AddrPort

	mu       sync.Mutex
	zone     map[string][]fakeRR // key: lower-case presentation name + "/" + type
	names    map[string]bool
	soaTTL   uint32
	soaMin   uint32
	noSOA    bool
	ad       bool
	drop     bool
	servfail bool
	truncate bool // UDP answers are empty with TC set
	spoofing bool // send forged answers before the real one
	block    chan struct{}
	udpN     int
	tcpN     int
	ids      []uint16
	ports    []int
	dos      []bool
	sizes    []uint16
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, zone: map[string][]fakeRR{}, names: map[string]bool{}, soaTTL: 300, soaMin: 60}
	for i := 0; ; i++ {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			u.Close()
			if i > 20 {
				t.Fatal(err)
			}
			continue
		}
		s.udp, s.tcp = u, l
		s.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
		break
	}
	sp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s.spoof = sp
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.serveUDP() }()
	go func() { defer wg.Done(); s.serveTCP() }()
	t.Cleanup(func() {
		s.mu.Lock()
		if s.block != nil {
			select {
			case <-s.block:
			default:
				close(s.block)
			}
		}
		s.mu.Unlock()
		s.udp.Close()
		s.tcp.Close()
		s.spoof.Close()
		wg.Wait()
	})
	return s
}

func zoneKey(n Name, t Type) string {
	return strings.ToLower(n.String()) + "/" + itoa(int(t))
}

func (s *fakeServer) add(name string, ttl uint32, d RData) {
	n := MustNewName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := zoneKey(n, d.RRType())
	s.zone[k] = append(s.zone[k], fakeRR{ResourceHeader{Name: n, Class: ClassINET, TTL: ttl}, d})
	s.names[strings.ToLower(n.String())] = true
}

func (s *fakeServer) set(f func(s *fakeServer)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

func (s *fakeServer) counts() (udp, tcp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpN, s.tcpN
}

// answer builds the response to req; ok is false when the server drops it.
func (s *fakeServer) answer(req []byte, tcp bool, from netip.AddrPort) (resp []byte, id uint16, q Question, ok bool) {
	var p Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, 0, q, false
	}
	q, err = p.Question()
	if err != nil {
		return nil, 0, q, false
	}
	do, size := false, uint16(0)
	for {
		r, err := p.Resource()
		if err != nil {
			break
		}
		if r.Header.Type == TypeOPT {
			size, _, _, do = r.Header.EDNS0()
		}
	}
	s.mu.Lock()
	if tcp {
		s.tcpN++
	} else {
		s.udpN++
		s.ports = append(s.ports, int(from.Port()))
	}
	s.ids = append(s.ids, h.ID)
	s.dos = append(s.dos, do)
	s.sizes = append(s.sizes, size)
	block := s.block
	drop, servfail, ad, trunc := s.drop, s.servfail, s.ad, s.truncate && !tcp
	rrs := append([]fakeRR(nil), s.zone[zoneKey(q.Name, q.Type)]...)
	// Follow one CNAME, as a recursive server would put it in the answer.
	if len(rrs) == 0 {
		if c := s.zone[zoneKey(q.Name, TypeCNAME)]; len(c) > 0 {
			rrs = append(rrs, c...)
			rrs = append(rrs, s.zone[zoneKey(c[0].d.(NameData).Target, q.Type)]...)
		}
	}
	exists := s.names[strings.ToLower(q.Name.String())]
	soaTTL, soaMin, noSOA := s.soaTTL, s.soaMin, s.noSOA
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	if drop {
		return nil, h.ID, q, false
	}
	rh := Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, AuthenticData: ad}
	switch {
	case servfail:
		rh.RCode, rh.AuthenticData = RCodeServerFailure, false
	case trunc:
		rh.Truncated = true
	case len(rrs) == 0 && !exists:
		rh.RCode = RCodeNameError
	}
	b := NewBuilder(nil, rh)
	must(s.t, b.Question(q))
	if !servfail && !trunc {
		for _, rr := range rrs {
			must(s.t, b.Answer(rr.h, rr.d))
		}
		if len(rrs) == 0 && !noSOA {
			must(s.t, b.Authority(ResourceHeader{Name: MustNewName("example."), Class: ClassINET, TTL: soaTTL},
				SOA{MName: MustNewName("ns.example."), RName: MustNewName("host.example."), Serial: 1, Minimum: soaMin}))
		}
	}
	var opt ResourceHeader
	opt.SetEDNS0(1232, 0, 0, do)
	must(s.t, b.Additional(opt, OPT{}))
	resp, err = b.Finish()
	must(s.t, err)
	return resp, h.ID, q, true
}

func (s *fakeServer) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := append([]byte(nil), buf[:n]...)
		go func() {
			resp, id, q, ok := s.answer(req, false, from)
			if !ok {
				return
			}
			s.mu.Lock()
			spoofing := s.spoofing
			s.mu.Unlock()
			if spoofing {
				// Wrong ID from the right port.
				bad := append([]byte(nil), resp...)
				binary.BigEndian.PutUint16(bad, id^0x5555)
				s.udp.WriteToUDPAddrPort(bad, from)
				// Right ID and question from the wrong port.
				s.spoof.WriteToUDPAddrPort(forged(s.t, id, q), from)
				// Right ID from the right port, but another question.
				q2 := q
				q2.Type = TypeMX
				s.udp.WriteToUDPAddrPort(forged(s.t, id, q2), from)
				// Not a response (QR clear).
				notResp := append([]byte(nil), resp...)
				notResp[2] &^= 0x80
				s.udp.WriteToUDPAddrPort(notResp, from)
				// Garbage.
				s.udp.WriteToUDPAddrPort([]byte{1, 2, 3}, from)
			}
			s.udp.WriteToUDPAddrPort(resp, from)
		}()
	}
}

// forged is an answer pointing at 203.0.113.66.
func forged(t *testing.T, id uint16, q Question) []byte {
	b := NewBuilder(nil, Header{ID: id, Response: true, RecursionAvailable: true, AuthenticData: true})
	must(t, b.Question(q))
	must(t, b.Answer(ResourceHeader{Name: q.Name, Class: ClassINET, TTL: 3600}, A{netip.MustParseAddr("203.0.113.66")}))
	out, err := b.Finish()
	must(t, err)
	return out
}

func (s *fakeServer) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return
			}
			req := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			resp, _, _, ok := s.answer(req, true, netip.AddrPort{})
			if !ok {
				return
			}
			out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
			c.Write(append(out, resp...))
		}()
	}
}
