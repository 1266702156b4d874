package dnsoe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Resolver errors.
var (
	// ErrNoServers reports a Resolver configured without servers.
	ErrNoServers = errors.New("dnsoe: no servers configured")
	// ErrTimeout reports that no server gave a usable answer in time.
	ErrTimeout = errors.New("dnsoe: no answer from any server")
	// ErrServerFailure reports SERVFAIL from every server that answered;
	// a validating resolver answers so when DNSSEC validation fails
	// (RFC 4035, Section 5.5).
	ErrServerFailure = errors.New("dnsoe: server failure")
	// ErrRefused reports REFUSED, NOTIMP, FORMERR or another unusable
	// response code from every server that answered.
	ErrRefused = errors.New("dnsoe: query refused")
	// ErrClosed reports use of a closed Resolver.
	ErrClosed = errors.New("dnsoe: resolver closed")
)

// Server is one recursive resolver.
type Server struct {
	Addr netip.AddrPort
	// Trusted means its AD bit is believed: it validates DNSSEC and the path
	// to it is safe, as for unbound on localhost (RFC 4033, Section 7).
	Trusted bool
}

// Config configures a Resolver. The zero value of every field but Servers
// has a useful default.
type Config struct {
	Servers []Server
	// Timeout bounds one query to one server (default 2s).
	Timeout time.Duration
	// Attempts is the number of rounds over Servers (default 2).
	Attempts int
	// UDPSize is the EDNS0 payload size offered (default 1232, RFC 6891,
	// Section 6.2.5 and the DNS flag day 2020 advice).
	UDPSize uint16
	// Control, if set, runs on every socket before it is used, for example
	// to set SO_MARK so the daemon's own DNS bypasses the tunnel.
	Control func(network, address string, c syscall.RawConn) error
	// ListenPacket opens the UDP socket of one query; it must bind a fresh
	// random source port (RFC 5452, Section 9.2). Default: a UDP socket
	// with Control and port 0, so the kernel picks a random port.
	ListenPacket func(ctx context.Context, network, address string) (net.PacketConn, error)
	// Dial opens the TCP connection for a truncated answer. Default: a TCP
	// socket with Control, to the literal address (dial.go).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Now is the clock of the cache (default time.Now).
	Now func() time.Time
	// Rand is the source of query IDs and of tie-breaking among records of
	// equal precedence (default crypto/rand).
	Rand io.Reader
	// CacheSize bounds the cached answers (default 10000; negative: no cache).
	CacheSize int
	// MaxTTL caps how long any answer is cached (default 24h).
	MaxTTL time.Duration
}

// Record is one record of an answer, detached from its message: Data is the
// record data with any names decompressed, so the typed parsers
// (ParseIPSECKEY, ParseKEY, ...) apply directly.
type Record struct {
	Name  Name
	Type  Type
	Class Class
	TTL   uint32
	Data  []byte
}

// Result is the outcome of one lookup.
type Result struct {
	Name Name // the name asked for
	Type Type
	// RCode is the response code: RCodeSuccess or RCodeNameError (NXDOMAIN).
	// NXDOMAIN and NODATA (success without Records) are results, not errors.
	RCode RCode
	// Records are the answers of Type at Name, after following CNAMEs.
	// They are shared with other callers and the cache: read only.
	Records []Record
	// AD is the AD bit of the answer.
	AD bool
	// Authenticated is AD from a trusted server.
	Authenticated bool
	// Server answered the query.
	Server netip.AddrPort
	// TTL is how long the answer stays valid from now: the lowest TTL of the
	// records used, or for a negative answer the SOA rule of RFC 2308,
	// Section 5 (0 when there was no SOA: not cached).
	TTL     time.Duration
	Expires time.Time
	Cached  bool // served from the cache
	Err     error
}

// Stats counts the Resolver's work.
type Stats struct {
	Queries   uint64 // lookups sent to the network (after merging)
	Exchanges uint64 // individual UDP or TCP exchanges with a server
	CacheHits uint64
	Merged    uint64 // lookups that joined one already in flight
	Ignored   uint64 // datagrams dropped: wrong source, ID or question
}

// Resolver is a caching stub resolver. It is safe for concurrent use.
type Resolver struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	cache   map[string]cacheEntry
	flights map[string]*flight
	stats   Stats
	randMu  sync.Mutex
}

type cacheEntry struct {
	res     Result
	expires time.Time
}

type flight struct {
	done chan struct{}
	res  Result
}

// New returns a Resolver for cfg.
func New(cfg Config) (*Resolver, error) {
	if len(cfg.Servers) == 0 {
		return nil, ErrNoServers
	}
	cfg.Servers = append([]Server(nil), cfg.Servers...)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 2
	}
	if cfg.UDPSize < 512 {
		cfg.UDPSize = 1232
	}
	if cfg.ListenPacket == nil {
		cfg.ListenPacket = listenUDP(cfg.Control)
	}
	if cfg.Dial == nil {
		cfg.Dial = dialTCP(cfg.Control)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = 24 * time.Hour
	}
	r := &Resolver{cfg: cfg, cache: map[string]cacheEntry{}, flights: map[string]*flight{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close stops lookups in flight; they end with ErrClosed.
func (r *Resolver) Close() error {
	r.cancel()
	return nil
}

// Stats returns a snapshot of the counters.
func (r *Resolver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// FlushCache drops every cached answer.
func (r *Resolver) FlushCache() {
	r.mu.Lock()
	clear(r.cache)
	r.mu.Unlock()
}

// appendKey appends the cache key: the lower-case wire name and the type.
func appendKey(b []byte, n Name, t Type) []byte {
	return binary.BigEndian.AppendUint16(n.appendLower(b), uint16(t))
}

func cacheKey(n Name, t Type) string { return string(appendKey(nil, n, t)) }

// Lookup asks for records of type t at name. It answers from the cache when
// it can and merges concurrent identical lookups into one query. An error
// means no usable answer (ErrTimeout, ErrServerFailure, ErrRefused, a context
// error); NXDOMAIN and NODATA come back as a Result with no Records.
func (r *Resolver) Lookup(ctx context.Context, name Name, t Type) (Result, error) {
	if !name.valid() {
		return Result{Name: name, Type: t, Err: ErrBadName}, ErrBadName
	}
	var kb [257]byte
	kbuf := appendKey(kb[:0], name, t)
	r.mu.Lock()
	now := r.cfg.Now()
	// Indexing with string(kbuf) does not allocate; only a miss makes the
	// key a string.
	if e, ok := r.cache[string(kbuf)]; ok {
		if now.Before(e.expires) {
			r.stats.CacheHits++
			r.mu.Unlock()
			res := e.res
			res.Cached = true
			res.TTL = e.expires.Sub(now)
			res.Expires = e.expires
			return res, nil
		}
		delete(r.cache, string(kbuf))
	}
	f, ok := r.flights[string(kbuf)]
	if ok {
		r.stats.Merged++
	} else {
		key := string(kbuf)
		f = &flight{done: make(chan struct{})}
		r.flights[key] = f
		r.stats.Queries++
		// The query runs on its own goroutine under the Resolver's context,
		// so one caller giving up does not fail the others that joined.
		go r.run(key, f, name, t)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.res, f.res.Err
	case <-ctx.Done():
		return Result{Name: name, Type: t, Err: ctx.Err()}, ctx.Err()
	}
}

// LookupAsync is Lookup that returns at once and calls done with the
// result on another goroutine, never the caller's.
func (r *Resolver) LookupAsync(ctx context.Context, name Name, t Type, done func(Result)) {
	go func() {
		res, _ := r.Lookup(ctx, name, t)
		done(res)
	}()
}

func (r *Resolver) run(key string, f *flight, name Name, t Type) {
	res := r.resolve(name, t)
	r.mu.Lock()
	if res.Err == nil && res.TTL > 0 && r.cfg.CacheSize > 0 {
		r.store(key, res)
	}
	delete(r.flights, key)
	r.mu.Unlock()
	f.res = res
	close(f.done)
}

// store caches res; r.mu is held.
func (r *Resolver) store(key string, res Result) {
	if len(r.cache) >= r.cfg.CacheSize {
		now := r.cfg.Now()
		for k, e := range r.cache {
			if !now.Before(e.expires) {
				delete(r.cache, k)
			}
		}
		// Still full: drop arbitrary entries down to 7/8 so that the next
		// inserts do not scan again.
		for k := range r.cache {
			if len(r.cache) < r.cfg.CacheSize-r.cfg.CacheSize/8 {
				break
			}
			delete(r.cache, k)
		}
	}
	r.cache[key] = cacheEntry{res: res, expires: res.Expires}
}

// resolve tries the servers in order, Attempts rounds (RFC 1035, Section
// 7.2: retransmit and try other servers).
func (r *Resolver) resolve(name Name, t Type) Result {
	q := Question{Name: name, Type: t, Class: ClassINET}
	// Without any answer the lookup timed out; SERVFAIL (a validation
	// failure at a validating resolver) outranks other response codes.
	lastErr := ErrTimeout
	final := make([]bool, len(r.cfg.Servers)) // answered with an rcode; do not ask again
	for round := 0; round < r.cfg.Attempts; round++ {
		for i, s := range r.cfg.Servers {
			if final[i] {
				continue
			}
			if r.ctx.Err() != nil {
				return Result{Name: name, Type: t, Err: ErrClosed}
			}
			msg, err := r.exchange(s, q)
			if err != nil {
				continue // timeout or network error: try the next server
			}
			res, err := r.interpret(msg, q, s)
			if err != nil {
				final[i] = true
				if lastErr != ErrServerFailure {
					lastErr = err
				}
				continue
			}
			return res
		}
	}
	if r.ctx.Err() != nil {
		lastErr = ErrClosed
	}
	return Result{Name: name, Type: t, Err: lastErr}
}

func (r *Resolver) rand16() (uint16, error) {
	var b [2]byte
	r.randMu.Lock()
	_, err := io.ReadFull(r.cfg.Rand, b[:])
	r.randMu.Unlock()
	return binary.BigEndian.Uint16(b[:]), err
}

// intn returns a value in [0, n) from Rand, for tie-breaking.
func (r *Resolver) intn(n int) int {
	var b [4]byte
	r.randMu.Lock()
	_, err := io.ReadFull(r.cfg.Rand, b[:])
	r.randMu.Unlock()
	if err != nil || n <= 1 {
		return 0
	}
	return int(binary.BigEndian.Uint32(b[:]) % uint32(n))
}

func (r *Resolver) buildQuery(id uint16, q Question) ([]byte, error) {
	// RD asks the resolver to recurse; DO asks for DNSSEC records and makes
	// a validating resolver set AD (RFC 3225, RFC 4035 Section 3.2.3).
	b := NewBuilder(make([]byte, 0, 64), Header{ID: id, RecursionDesired: true})
	if err := b.Question(q); err != nil {
		return nil, err
	}
	var opt ResourceHeader
	opt.SetEDNS0(r.cfg.UDPSize, 0, 0, true)
	if err := b.Additional(opt, OPT{}); err != nil {
		return nil, err
	}
	return b.Finish()
}

// matches checks that msg answers our query: the ID, the QR bit and the
// question must match (RFC 5452, Section 9.1).
func matches(msg []byte, id uint16, q Question) bool {
	var p Parser
	h, err := p.Start(msg)
	if err != nil || h.ID != id || !h.Response {
		return false
	}
	got, err := p.Question()
	if err != nil {
		return false
	}
	if _, err := p.Question(); err != ErrSectionDone {
		return false // exactly one question
	}
	return got.Type == q.Type && got.Class == q.Class && got.Name.Equal(q.Name)
}

// exchange sends one query to s over UDP and, if the answer is truncated,
// repeats it over TCP (RFC 7766, Section 5).
func (r *Resolver) exchange(s Server, q Question) ([]byte, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	id, err := r.rand16()
	if err != nil {
		return nil, err
	}
	query, err := r.buildQuery(id, q)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.stats.Exchanges++
	r.mu.Unlock()
	msg, err := r.exchangeUDP(ctx, s, id, q, query)
	if err != nil {
		return nil, err
	}
	var p Parser
	h, _ := p.Start(msg)
	if !h.Truncated {
		return msg, nil
	}
	r.mu.Lock()
	r.stats.Exchanges++
	r.mu.Unlock()
	return r.exchangeTCP(ctx, s, id, q, query)
}

func (r *Resolver) exchangeUDP(ctx context.Context, s Server, id uint16, q Question, query []byte) ([]byte, error) {
	network, laddr := "udp4", "0.0.0.0:0"
	if s.Addr.Addr().Is6() && !s.Addr.Addr().Is4In6() {
		network, laddr = "udp6", "[::]:0"
	}
	// A new socket per query: the kernel picks a random ephemeral port
	// (RFC 5452, Section 9.2).
	pc, err := r.cfg.ListenPacket(ctx, network, laddr)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		pc.SetDeadline(d)
	}
	dst := net.UDPAddrFromAddrPort(s.Addr)
	if _, err := pc.WriteTo(query, dst); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ErrTimeout
			}
			return nil, err
		}
		// RFC 5452, Section 9.1: accept only an answer from the address and
		// port we asked, with our ID and our question; keep listening
		// otherwise, as a spoofed datagram must not end the query.
		ua, ok := from.(*net.UDPAddr)
		if !ok || ua.AddrPort().Addr().Unmap() != s.Addr.Addr().Unmap() || ua.AddrPort().Port() != s.Addr.Port() ||
			!matches(buf[:n], id, q) {
			r.mu.Lock()
			r.stats.Ignored++
			r.mu.Unlock()
			continue
		}
		return append([]byte(nil), buf[:n]...), nil
	}
}

func (r *Resolver) exchangeTCP(ctx context.Context, s Server, id uint16, q Question, query []byte) ([]byte, error) {
	c, err := r.cfg.Dial(ctx, "tcp", s.Addr.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	// RFC 7766, Section 8: a two-octet length prefix, sent in one write.
	out := make([]byte, 2, 2+len(query))
	binary.BigEndian.PutUint16(out, uint16(len(query)))
	out = append(out, query...)
	if _, err := c.Write(out); err != nil {
		return nil, r.netErr(ctx, err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, r.netErr(ctx, err)
	}
	msg := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, msg); err != nil {
		return nil, r.netErr(ctx, err)
	}
	if !matches(msg, id, q) {
		return nil, ErrRefused
	}
	return msg, nil
}

func (r *Resolver) netErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ErrTimeout
	}
	return err
}

// ttl applies RFC 2181, Section 8: a TTL with the top bit set is zero.
func ttl(v uint32) uint32 {
	if v&0x80000000 != 0 {
		return 0
	}
	return v
}

// interpret turns an answer into a Result.
func (r *Resolver) interpret(msg []byte, q Question, s Server) (Result, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return Result{}, ErrRefused
	}
	for _, rr := range m.Additionals {
		// RFC 6891, Section 6.1.3: the OPT record extends the RCODE; any
		// extended code (BADVERS, ...) means no usable answer.
		if rr.Header.Type == TypeOPT {
			if _, ext, _, _ := rr.Header.EDNS0(); ext != 0 {
				return Result{}, ErrRefused
			}
		}
	}
	switch m.Header.RCode {
	case RCodeSuccess, RCodeNameError:
	case RCodeServerFailure:
		return Result{}, ErrServerFailure
	default:
		return Result{}, ErrRefused
	}
	res := Result{
		Name:   q.Name,
		Type:   q.Type,
		RCode:  m.Header.RCode,
		AD:     m.Header.AuthenticData,
		Server: s.Addr,
	}
	// RFC 4035, Section 3.2.3 and RFC 6840, Section 5.7: believe AD only
	// from a resolver we trust.
	res.Authenticated = res.AD && s.Trusted
	minTTL := uint32(1<<31 - 1)
	// Follow CNAMEs within the answer section (RFC 1034, Section 3.6.2),
	// a bounded number of times.
	target := q.Name
	for hop := 0; hop < 16; hop++ {
		var next Name
		cname := false
		for _, rr := range m.Answers {
			if !rr.Header.Name.Equal(target) || rr.Header.Class != q.Class {
				continue
			}
			switch rr.Header.Type {
			case q.Type:
				d, err := rr.RData()
				if err != nil {
					return Result{}, ErrRefused
				}
				data, err := d.AppendRData(nil)
				if err != nil {
					return Result{}, ErrRefused
				}
				res.Records = append(res.Records, Record{Name: rr.Header.Name, Type: rr.Header.Type, Class: rr.Header.Class, TTL: ttl(rr.Header.TTL), Data: data})
				minTTL = min(minTTL, ttl(rr.Header.TTL))
			case TypeCNAME:
				if q.Type == TypeCNAME {
					continue
				}
				n, err := rr.Target()
				if err != nil {
					return Result{}, ErrRefused
				}
				next, cname = n, true
				minTTL = min(minTTL, ttl(rr.Header.TTL))
			}
		}
		if len(res.Records) > 0 || !cname {
			break
		}
		target = next
	}
	if len(res.Records) == 0 {
		// RFC 2308, Section 5: a negative answer is cached for the lesser
		// of the SOA's TTL and its MINIMUM field; without an SOA, not at all.
		minTTL = 0
		for _, rr := range m.Authorities {
			if rr.Header.Type != TypeSOA {
				continue
			}
			soa, err := rr.SOA()
			if err != nil {
				continue
			}
			minTTL = min(ttl(rr.Header.TTL), ttl(soa.Minimum))
			break
		}
	}
	d := time.Duration(minTTL) * time.Second
	if d > r.cfg.MaxTTL {
		d = r.cfg.MaxTTL
	}
	res.TTL = d
	res.Expires = r.cfg.Now().Add(d)
	return res, nil
}
