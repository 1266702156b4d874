package dnsoe

import (
	"context"
	"crypto"
	"errors"
	"net/netip"
	"strings"
	"time"
)

// OE lookup errors. Timeouts and server failures come back as the
// resolver's errors (ErrTimeout, ErrServerFailure, ...), so the caller can
// tell "no records" from "could not ask".
var (
	// ErrNoGateway reports that the address publishes no IPSECKEY, no
	// X-IPsec-Server TXT and no IPsec KEY record.
	ErrNoGateway = errors.New("dnsoe: no OE gateway published")
	// ErrNoKey reports that a gateway publishes no usable key.
	ErrNoKey = errors.New("dnsoe: no key published")
)

// Source names the record type a Gateway came from.
type Source uint8

// Record sources, in the order GatewayFor tries them.
const (
	SourceIPSECKEY Source = iota + 1 // RFC 4025
	SourceTXT                        // RFC 4322, Section 5.2
	SourceKEY                        // RFC 4322, Section 5.1; RFC 2535
)

func (s Source) String() string {
	switch s {
	case SourceIPSECKEY:
		return "IPSECKEY"
	case SourceTXT:
		return "TXT"
	case SourceKEY:
		return "KEY"
	}
	return "none"
}

// Gateway answers "who encrypts for this address, with which key, how
// trusted".
type Gateway struct {
	Source     Source
	Precedence int // of the record; lower wins
	// Addr is where to negotiate: the gateway's address, the queried
	// address itself when Self, or the resolved address of FQDN. It is
	// invalid when FQDN did not resolve (a gateway with a dynamic address
	// that only initiates, RFC 4322 Section 5.3).
	Addr netip.Addr
	// FQDN is the gateway's name without the trailing dot when the record
	// named it by name (IPSECKEY gateway type 3, TXT "@FQDN"); the
	// gateway then identifies itself with ID_FQDN.
	FQDN string
	// Self means the record names no other gateway: the address is its own
	// gateway (IPSECKEY gateway type 0, or a KEY record at the address).
	Self bool
	// Key is the gateway's public key: *rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey or *dsa.PublicKey; nil when none is published,
	// which only AUTH_NULL OE can use (RFC 7619).
	Key crypto.PublicKey
	// Algorithms are the gateway's algorithm preferences when published
	// in the IP AutoSEC form; nil otherwise.
	Algorithms *AutoSEC
	// Authenticated is true only if every answer this result rests on
	// carried AD and came from a trusted server.
	Authenticated bool
	// TTL and Expires give how long the result may be used: the least of
	// the TTLs of every answer it rests on.
	TTL     time.Duration
	Expires time.Time
}

// lookupState accumulates trust and lifetime across the lookups behind one
// answer.
type lookupState struct {
	auth    bool
	ttl     time.Duration
	started bool
}

func (s *lookupState) add(res Result) {
	if !s.started {
		s.auth, s.ttl, s.started = res.Authenticated, res.TTL, true
		return
	}
	s.auth = s.auth && res.Authenticated
	s.ttl = min(s.ttl, res.TTL)
}

func (r *Resolver) finish(g *Gateway, st lookupState) {
	g.Authenticated = st.auth
	g.TTL = st.ttl
	g.Expires = r.cfg.Now().Add(st.ttl)
}

// GatewayFor finds the gateway for addr: the IPSECKEY records at its
// reverse name, lowest precedence first with ties broken at random; else
// the TXT X-IPsec-Server records there; else an IPsec KEY record there,
// which makes addr its own gateway. An FQDN gateway is resolved with
// A/AAAA. With ErrNoGateway the returned Gateway carries only
// Authenticated (an authenticated denial), TTL and Expires.
func (r *Resolver) GatewayFor(ctx context.Context, addr netip.Addr) (Gateway, error) {
	gws, neg, err := r.gateways(ctx, addr)
	if err != nil {
		return neg, err
	}
	// Prefer the best candidate that can be reached.
	for _, g := range gws {
		if g.Addr.IsValid() {
			return g, nil
		}
	}
	return gws[0], nil
}

// GatewaysFor returns every gateway published for addr from the first
// record type GatewayFor finds, ordered as GatewayFor would try them. The
// responder uses it to check that an initiator's gateway is authorized for
// an inner address (RFC 4322, Section 4.6.2: the source's reverse records
// must name the gateway).
func (r *Resolver) GatewaysFor(ctx context.Context, addr netip.Addr) ([]Gateway, error) {
	gws, _, err := r.gateways(ctx, addr)
	return gws, err
}

// GatewayForAsync runs GatewayFor on another goroutine and calls done there.
func (r *Resolver) GatewayForAsync(ctx context.Context, addr netip.Addr, done func(Gateway, error)) {
	go func() { done(r.GatewayFor(ctx, addr)) }()
}

func (r *Resolver) gateways(ctx context.Context, addr netip.Addr) ([]Gateway, Gateway, error) {
	rn, err := ReverseName(addr)
	if err != nil {
		return nil, Gateway{}, err
	}
	addr = addr.Unmap()
	var st lookupState

	res, err := r.Lookup(ctx, rn, TypeIPSECKEY)
	if err != nil {
		return nil, Gateway{}, err
	}
	st.add(res)
	if len(res.Records) > 0 {
		gws, err := r.fromIPSECKEY(ctx, addr, res, st)
		return gws, Gateway{}, err
	}

	res, err = r.Lookup(ctx, rn, TypeTXT)
	if err != nil {
		return nil, Gateway{}, err
	}
	st.add(res)
	var servers []IPsecServer
	for _, rec := range res.Records {
		ss, err := parseCharacterStrings(rec.Data)
		if err != nil {
			continue
		}
		// RFC 4322, Section 5.2.1: reassemble the character-strings.
		s, err := ParseIPsecServer(strings.Join(ss, ""))
		if err != nil {
			continue // other TXT records may share the name
		}
		servers = append(servers, s)
	}
	if len(servers) > 0 {
		gws, err := r.fromTXT(ctx, addr, servers, st)
		return gws, Gateway{}, err
	}

	res, err = r.Lookup(ctx, rn, TypeKEY)
	if err != nil {
		return nil, Gateway{}, err
	}
	st.add(res)
	var gws []Gateway
	for _, k := range keysFromKEY(res) {
		g := Gateway{Source: SourceKEY, Addr: addr, Self: true, Key: k.key, Algorithms: k.lists}
		r.finish(&g, st)
		gws = append(gws, g)
	}
	if len(gws) > 0 {
		return gws, Gateway{}, nil
	}
	var neg Gateway
	r.finish(&neg, st)
	return nil, neg, ErrNoGateway
}

func (r *Resolver) fromIPSECKEY(ctx context.Context, addr netip.Addr, res Result, st lookupState) ([]Gateway, error) {
	var recs []IPSECKEY
	var firstErr error
	for _, rec := range res.Records {
		k, err := ParseIPSECKEY(rec.Data)
		if err == nil {
			_, err = k.Key()
		}
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		recs = append(recs, k)
	}
	if len(recs) == 0 {
		return nil, firstErr
	}
	SortIPSECKEYs(recs, r.intn)
	gws := make([]Gateway, 0, len(recs))
	for _, k := range recs {
		key, _ := k.Key()
		g := Gateway{Source: SourceIPSECKEY, Precedence: int(k.Precedence), Key: key}
		gst := st
		switch k.GatewayType {
		case GatewayNone:
			g.Addr, g.Self = addr, true
		case GatewayIPv4, GatewayIPv6:
			g.Addr = k.Gateway
			g.Self = k.Gateway == addr
		case GatewayName:
			g.FQDN = strings.TrimSuffix(k.GatewayName.String(), ".")
			g.Addr = r.resolveAddr(ctx, k.GatewayName, addr, &gst)
		}
		r.finish(&g, gst)
		gws = append(gws, g)
	}
	return gws, nil
}

func cmpErr(old, err error) error {
	if old == nil {
		return err
	}
	return old
}

func (r *Resolver) fromTXT(ctx context.Context, addr netip.Addr, servers []IPsecServer, st lookupState) ([]Gateway, error) {
	SortIPsecServers(servers, r.intn)
	var gws []Gateway
	var firstErr error
	for _, s := range servers {
		g := Gateway{Source: SourceTXT, Precedence: int(s.Precedence), Addr: s.Gateway, Algorithms: s.AutoSEC,
			Self: !s.HasFQDN && s.Gateway == addr}
		gst := st
		if s.HasFQDN {
			g.FQDN = strings.TrimSuffix(s.FQDN.String(), ".")
			g.Addr = r.resolveAddr(ctx, s.FQDN, netip.Addr{}, &gst)
		}
		if len(s.Key) > 0 {
			k, err := s.PublicKey()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			g.Key = k
		} else {
			// RFC 4322, Section 5.2: without a key in the record, look up
			// a KEY record in the reverse map of the gateway (or, for
			// @FQDN, at the name, Section 5.3).
			var kn Name
			var err error
			if s.HasFQDN {
				kn = s.FQDN
			} else {
				kn, err = ReverseName(s.Gateway)
			}
			if err == nil {
				res, err := r.Lookup(ctx, kn, TypeKEY)
				if err != nil {
					firstErr = cmpErr(firstErr, err)
					continue
				}
				gst.add(res)
				if ks := keysFromKEY(res); len(ks) > 0 {
					g.Key = ks[0].key
					if g.Algorithms == nil {
						g.Algorithms = ks[0].lists
					}
				}
			}
		}
		r.finish(&g, gst)
		gws = append(gws, g)
	}
	if len(gws) == 0 {
		return nil, firstErr
	}
	return gws, nil
}

// resolveAddr resolves a gateway name, preferring the family of like (the
// address being reached); it returns an invalid Addr on failure.
func (r *Resolver) resolveAddr(ctx context.Context, n Name, like netip.Addr, st *lookupState) netip.Addr {
	order := [2]Type{TypeA, TypeAAAA}
	if like.Is6() {
		order = [2]Type{TypeAAAA, TypeA}
	}
	for _, t := range order {
		res, err := r.Lookup(ctx, n, t)
		if err != nil {
			continue
		}
		for _, rec := range res.Records {
			if a, ok := netip.AddrFromSlice(rec.Data); ok {
				st.add(res)
				return a
			}
		}
	}
	return netip.Addr{}
}

type keyInfo struct {
	key   crypto.PublicKey
	lists *AutoSEC
}

// keysFromKEY returns the usable IPsec keys of a KEY answer, in order.
func keysFromKEY(res Result) []keyInfo {
	var out []keyInfo
	for _, rec := range res.Records {
		k, err := ParseKEY(rec.Data)
		if err != nil || k.NoKey() || !k.ForIPsecAuth() {
			continue
		}
		pk, err := k.Key()
		if err != nil || pk == nil {
			continue
		}
		ki := keyInfo{key: pk}
		if a, err := k.AutoSEC(); err == nil {
			ki.lists = &a
		}
		out = append(out, ki)
	}
	return out
}

// KeyFor returns the keys that gateway publishes for itself: the IPSECKEY
// records in its own reverse zone that name no gateway or the gateway
// itself, else its IPsec KEY records (RFC 4322, Section 5.1). Several keys
// allow key roll-over; each is a candidate for checking the peer's AUTH.
// Every returned Gateway has Self set and a non-nil Key.
func (r *Resolver) KeyFor(ctx context.Context, gateway netip.Addr) ([]Gateway, error) {
	rn, err := ReverseName(gateway)
	if err != nil {
		return nil, err
	}
	return r.keysAt(ctx, rn, gateway.Unmap(), "")
}

// KeyForName is KeyFor for a gateway that identifies itself by name
// (ID_FQDN): the IPSECKEY and then KEY records at the name itself (RFC 4322,
// Section 5.3).
func (r *Resolver) KeyForName(ctx context.Context, fqdn Name) ([]Gateway, error) {
	return r.keysAt(ctx, fqdn, netip.Addr{}, strings.TrimSuffix(fqdn.String(), "."))
}

// KeyForAsync runs KeyFor on another goroutine and calls done there.
func (r *Resolver) KeyForAsync(ctx context.Context, gateway netip.Addr, done func([]Gateway, error)) {
	go func() { done(r.KeyFor(ctx, gateway)) }()
}

func (r *Resolver) keysAt(ctx context.Context, n Name, self netip.Addr, fqdn string) ([]Gateway, error) {
	var st lookupState
	res, err := r.Lookup(ctx, n, TypeIPSECKEY)
	if err != nil {
		return nil, err
	}
	st.add(res)
	var gws []Gateway
	for _, rec := range res.Records {
		k, err := ParseIPSECKEY(rec.Data)
		if err != nil || k.Algorithm == IPSECKEYAlgNone {
			continue
		}
		own := k.GatewayType == GatewayNone ||
			(k.GatewayType == GatewayIPv4 || k.GatewayType == GatewayIPv6) && self.IsValid() && k.Gateway == self ||
			k.GatewayType == GatewayName && fqdn != "" && k.GatewayName.Equal(n)
		if !own {
			continue
		}
		pk, err := k.Key()
		if err != nil {
			continue
		}
		g := Gateway{Source: SourceIPSECKEY, Precedence: int(k.Precedence), Addr: self, FQDN: fqdn, Self: true, Key: pk}
		gws = append(gws, g)
	}
	if len(gws) == 0 {
		res, err = r.Lookup(ctx, n, TypeKEY)
		if err != nil {
			return nil, err
		}
		st.add(res)
		for _, k := range keysFromKEY(res) {
			gws = append(gws, Gateway{Source: SourceKEY, Addr: self, FQDN: fqdn, Self: true, Key: k.key, Algorithms: k.lists})
		}
	}
	if len(gws) == 0 {
		return nil, ErrNoKey
	}
	for i := range gws {
		r.finish(&gws[i], st)
	}
	return gws, nil
}
