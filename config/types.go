package config

import (
	"net/netip"
	"time"
)

// Config is the whole typed configuration. Both the TOML and the UCI reader
// fill exactly these structs, and Load and Parse validate them before they
// return. Field names here are the contract other packages (main) rely on:
// add fields, do not rename. docs/config.md describes every key.
type Config struct {
	File   string // path it was read from (for messages)
	Format string // FormatTOML or FormatUCI

	Local   Local
	Listen  Listen
	Tunnels []Tunnel
	Manual  []ManualSA
	OE      OE
	DNS     DNS
	Log     Log
	Limits  Limits
	Timers  Timers
}

// Local is this gateway's identity.
type Local struct {
	ID      string       // "192.0.2.1", "@gw.example", "keyid:0a0b", "user@example"; default: first listen address
	KeyFile string       // private key (PEM PKCS#8); optional when only PSK / AUTH_NULL is used; a relative path is taken from the config file's directory
	Address []netip.Addr // WAN addresses used as the source of IKE and ESP (empty: chosen by routing)
}

// Listen is where the daemon listens.
type Listen struct {
	Addresses []netip.Addr // empty: all (0.0.0.0 and ::)
	IKEPort   uint16       // default 500
	NATTPort  uint16       // default 4500
	TCPPort   uint16       // 0: off (RFC 8229 encapsulation, later)
	Interface string       // TUN device name, default "swl0"
	MTU       int          // TUN MTU; 0: derived from OuterMTU
	OuterMTU  int          // default 1492 (works behind PPPoE)
	FwMark    uint32       // mark on swanling's own sockets, default 0x5157
	Table     int          // routing table for tunnel routes, default 5157
	MSSClamp  bool
}

// Auth methods.
const (
	AuthPSK    = "psk"
	AuthPubkey = "pubkey"
	AuthNull   = "null"
)

// Tunnel is one configured site-to-site tunnel.
type Tunnel struct {
	Name       string
	Line       int    // line where the tunnel starts (for messages)
	Peer       string // address or DNS name of the peer; "%any" for responder-only
	LocalID    string // default: Local.ID
	RemoteID   string // default: the peer address
	Auth       string // AuthPSK, AuthPubkey, AuthNull
	PSK        string // for AuthPSK (at least 16 octets)
	PeerPubkey string // for AuthPubkey: a file path or the base64 SPKI form genkey prints
	LocalTS    []netip.Prefix
	RemoteTS   []netip.Prefix
	IKE        []string // proposals in swanctl notation, e.g. "aes128gcm16-prfsha256-x25519"; empty: hardware default
	ESP        []string // e.g. "aes128gcm16", "chacha20poly1305-esn-noesn"; empty: hardware default
	// IKE and ESP hold the canonical form of what was written: aliases
	// resolved ("aes128gcm" is "aes128gcm16", "curve25519" is "x25519") and
	// an IKE proposal's derived prf written out.
	// IKEProposals and ESPProposals are IKE and ESP parsed, in the same
	// order; empty when the config names none (the engine then uses the
	// hardware-derived default order).
	IKEProposals []Proposal
	ESPProposals []Proposal
	// PeerKey is the peer's public key as DER SubjectPublicKeyInfo, from
	// PeerPubkey (inline, or read from the file unless Options.SkipFiles).
	PeerKey []byte
	Encap   bool   // always UDP-encapsulate ESP (strongSwan kernel-libipsec needs it)
	Start   string // "start" (initiate at start), "trap" (on traffic), "none" (respond only); default "trap"
	DPD     time.Duration
	Rekey   Rekey
}

// Rekey holds the soft triggers and hard limits of a tunnel's SAs. Zero means unset.
type Rekey struct {
	IKETime    time.Duration // IKE SA rekey, default 4h
	ChildTime  time.Duration // Child SA rekey, default 1h
	ChildBytes uint64
	ChildPkts  uint64
	LifeTime   time.Duration // hard limit, default ChildTime*1.1
	LifeBytes  uint64
	LifePkts   uint64
	Jitter     time.Duration // random jitter subtracted from the soft limit
	ReauthTime time.Duration // 0: no reauthentication
}

// ManualSA is a manually keyed ESP SA pair, for testing the data plane only.
// RFC 4106, Section 2 forbids manual keys with GCM in production; Insecure must be true.
type ManualSA struct {
	Name      string
	Line      int
	Peer      netip.AddrPort // outer peer address; port 0 = raw ESP, otherwise ESP in UDP to that port (key udp_port)
	Local     netip.Addr     // outer local address (optional)
	SPIIn     uint32
	SPIOut    uint32
	Algorithm string // "aes128gcm16", "aes192gcm16", "aes256gcm16", "chacha20poly1305"
	KeyIn     []byte // key || 4-octet salt
	KeyOut    []byte
	ESN       bool
	LocalTS   []netip.Prefix
	RemoteTS  []netip.Prefix
	Insecure  bool // must be true: "insecure test keys"
}

// OE policy group names (RFC 4322 / FreeS/WAN).
const (
	GroupBlock          = "block"
	GroupClear          = "clear"
	GroupClearOrPrivate = "clear-or-private"
	GroupPrivateOrClear = "private-or-clear"
	GroupPrivate        = "private"
)

// Failure shunts of an OE group.
const (
	ShuntPass = "pass"
	ShuntDrop = "drop"
)

// Start actions of a tunnel.
const (
	StartStart = "start" // initiate when the daemon starts
	StartTrap  = "trap"  // initiate on the first packet
	StartNone  = "none"  // only respond
)

// Configuration file formats.
const (
	FormatTOML = "toml"
	FormatUCI  = "uci"
)

// OE is the opportunistic-encryption policy.
type OE struct {
	Enabled       bool // default: true when any oe_group is configured
	Groups        []Group
	ShuntDuration time.Duration // how long a failed destination stays shunted, default 15m
	IdleTimeout   time.Duration // tunnel with no traffic in its first minute: default 1m
	RecheckTime   time.Duration // default 20m
	MaxPending    int           // concurrent negotiations, default 256
	MaxHeld       int           // held packets, default 1024
}

// Group is one OE policy group.
type Group struct {
	Name          string // one of the Group* constants
	Line          int
	CIDRs         []netip.Prefix
	RequireDNSSEC bool
	Failure       string // shunt after failure: ShuntPass or ShuntDrop; "drop" for private, "pass" for the others; empty for block and clear
}

// DNS is the resolver configuration used for OE lookups.
type DNS struct {
	Resolvers []Resolver    // empty: the system's (dnsoe reads /etc/resolv.conf), untrusted
	Timeout   time.Duration // per query, default 2s
	Retries   int           // further tries over the resolvers, default 2
}

// Resolver is one recursive resolver.
type Resolver struct {
	Addr    netip.AddrPort
	Trusted bool // its AD bit is believed (e.g. unbound on localhost)
}

// Log is logging.
type Log struct {
	Level  string // "debug", "info", "warn", "error"; default "info"
	Syslog bool
}

// Limits bound resources.
type Limits struct {
	MemoryLimit     int64 // bytes, applied as GOMEMLIMIT; default 48 MiB
	HalfOpenTotal   int   // default 1024
	HalfOpenPerIP   int   // default 16
	CookieThreshold int   // half-open SAs before cookies are demanded; default 64
}

// Timers are IKE protocol timers; tests set them short.
type Timers struct {
	RetransmitBase  time.Duration // default 1s (doubled each time)
	RetransmitTries int           // default 5
	RetransmitMax   time.Duration // default 30s
	Keepalive       time.Duration // NAT keepalive, default 20s
	DPD             time.Duration // default 30s; per tunnel overrides
	HalfOpenTimeout time.Duration // default 30s
}
