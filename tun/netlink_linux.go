package tun

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Netlink is an rtnetlink connection for configuring links, addresses,
// routes and policy rules. The message bodies (ifinfomsg, ifaddrmsg, rtmsg,
// fib_rule_hdr) are built by hand in native byte order, as the kernel
// expects; attributes go through netlink.AttributeEncoder.
type Netlink struct {
	c *netlink.Conn
}

// DialNetlink opens a NETLINK_ROUTE socket in the current network namespace.
func DialNetlink() (*Netlink, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, nil)
	if err != nil {
		return nil, errors.New("tun: netlink: " + err.Error())
	}
	return &Netlink{c: c}, nil
}

// Close closes the connection.
func (n *Netlink) Close() error { return n.c.Close() }

func (n *Netlink) do(typ uint16, flags netlink.HeaderFlags, body []byte, ae *netlink.AttributeEncoder) error {
	attrs, err := ae.Encode()
	if err != nil {
		return errors.New("tun: netlink encode: " + err.Error())
	}
	_, err = n.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.Request | netlink.Acknowledge | flags},
		Data:   append(body, attrs...),
	})
	return err
}

func family(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// SetLink sets the MTU of interface index (if mtu > 0) and brings it up or
// down (RTM_NEWLINK on an existing link).
func (n *Netlink) SetLink(index, mtu int, up bool) error {
	body := make([]byte, unix.SizeofIfInfomsg)
	body[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	if up {
		binary.NativeEndian.PutUint32(body[8:], unix.IFF_UP) // flags
	}
	binary.NativeEndian.PutUint32(body[12:], unix.IFF_UP) // change mask
	ae := netlink.NewAttributeEncoder()
	if mtu > 0 {
		ae.Uint32(unix.IFLA_MTU, uint32(mtu))
	}
	if err := n.do(unix.RTM_NEWLINK, 0, body, ae); err != nil {
		return errors.New("tun: set link: " + err.Error())
	}
	return nil
}

// NoLinkLocal turns off IPv6 address generation on interface index
// (IFLA_INET6_ADDR_GEN_MODE none), before it comes up: a tunnel has no
// neighbours, so a link-local address would only send router solicitations
// and MLD reports into the tunnel, where no policy matches them.
func (n *Netlink) NoLinkLocal(index int) error {
	body := make([]byte, unix.SizeofIfInfomsg)
	body[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.IFLA_AF_SPEC, func(nae *netlink.AttributeEncoder) error {
		nae.Nested(unix.AF_INET6, func(v6 *netlink.AttributeEncoder) error {
			v6.Uint8(unix.IFLA_INET6_ADDR_GEN_MODE, 1) // IN6_ADDR_GEN_MODE_NONE
			return nil
		})
		return nil
	})
	if err := n.do(unix.RTM_NEWLINK, 0, body, ae); err != nil {
		return errors.New("tun: address generation mode: " + err.Error())
	}
	return nil
}

func addrMsg(index int, p netip.Prefix) ([]byte, *netlink.AttributeEncoder) {
	a := p.Addr().Unmap()
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0] = family(a)
	body[1] = uint8(p.Bits())
	if a.Is6() {
		// A tunnel has no neighbours to collide with; duplicate address
		// detection would only keep the address tentative for a second.
		body[2] = unix.IFA_F_NODAD
	}
	body[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.IFA_LOCAL, a.AsSlice())
	ae.Bytes(unix.IFA_ADDRESS, a.AsSlice())
	return body, ae
}

// AddAddr adds address p (with its prefix length) to interface index. An
// address that is already there is not an error.
func (n *Netlink) AddAddr(index int, p netip.Prefix) error {
	body, ae := addrMsg(index, p)
	err := n.do(unix.RTM_NEWADDR, netlink.Create|netlink.Replace, body, ae)
	if err != nil {
		return errors.New("tun: add address " + p.String() + ": " + err.Error())
	}
	return nil
}

// DelAddr removes address p from interface index.
func (n *Netlink) DelAddr(index int, p netip.Prefix) error {
	body, ae := addrMsg(index, p)
	if err := n.do(unix.RTM_DELADDR, 0, body, ae); err != nil {
		return errors.New("tun: delete address " + p.String() + ": " + err.Error())
	}
	return nil
}

// RouteType is the kind of route.
type RouteType uint8

// Route types (rtm_type).
const (
	Unicast     RouteType = unix.RTN_UNICAST     // through the device
	Blackhole   RouteType = unix.RTN_BLACKHOLE   // dropped silently (fail closed)
	Unreachable RouteType = unix.RTN_UNREACHABLE // dropped with ICMP unreachable (fail closed)
	Throw       RouteType = unix.RTN_THROW       // lookup goes on with the next rule (bypass of a table)
)

// Route is one route. Dst is the destination prefix; Index is the output
// interface (unicast only); Table is the routing table (0: main); Src, if
// valid, is the preferred source address; Metric is the priority.
type Route struct {
	Dst    netip.Prefix
	Type   RouteType
	Index  int
	Table  int
	Src    netip.Addr
	Metric uint32
}

func (r Route) msg() ([]byte, *netlink.AttributeEncoder) {
	dst := r.Dst.Masked()
	a := dst.Addr().Unmap()
	typ := r.Type
	if typ == 0 {
		typ = Unicast
	}
	body := make([]byte, unix.SizeofRtMsg)
	body[0] = family(a)
	body[1] = uint8(dst.Bits())
	table := r.Table
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	if table < 256 {
		body[4] = uint8(table)
	} else {
		body[4] = unix.RT_TABLE_UNSPEC
	}
	body[5] = unix.RTPROT_STATIC
	if typ == Unicast {
		body[6] = unix.RT_SCOPE_LINK // a device route, no gateway
	} else {
		body[6] = unix.RT_SCOPE_UNIVERSE
	}
	body[7] = uint8(typ)
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(unix.RTA_TABLE, uint32(table))
	if dst.Bits() > 0 {
		ae.Bytes(unix.RTA_DST, a.AsSlice())
	}
	if typ == Unicast && r.Index > 0 {
		ae.Uint32(unix.RTA_OIF, uint32(r.Index))
	}
	if r.Src.IsValid() {
		ae.Bytes(unix.RTA_PREFSRC, r.Src.Unmap().AsSlice())
	}
	if r.Metric > 0 {
		ae.Uint32(unix.RTA_PRIORITY, r.Metric)
	}
	return body, ae
}

// AddRoute adds or replaces route r.
func (n *Netlink) AddRoute(r Route) error {
	body, ae := r.msg()
	if err := n.do(unix.RTM_NEWROUTE, netlink.Create|netlink.Replace, body, ae); err != nil {
		return errors.New("tun: add route " + r.Dst.String() + ": " + err.Error())
	}
	return nil
}

// DelRoute removes route r.
func (n *Netlink) DelRoute(r Route) error {
	body, ae := r.msg()
	if err := n.do(unix.RTM_DELROUTE, 0, body, ae); err != nil {
		return errors.New("tun: delete route " + r.Dst.String() + ": " + err.Error())
	}
	return nil
}

// Rule is a policy-routing rule "[not] fwmark Mark/Mask lookup Table" at
// Priority, for IPv4 (IPv6 false) or IPv6. swanling installs
// "not fwmark M lookup T" so that everything except its own marked IKE, ESP
// and DNS sockets consults the tunnel table first; marked packets skip it and
// can never loop into the TUN device.
type Rule struct {
	IPv6     bool
	Priority uint32
	Mark     uint32
	Mask     uint32 // 0: 0xffffffff
	Invert   bool
	Table    int
}

func (r Rule) msg() ([]byte, *netlink.AttributeEncoder) {
	body := make([]byte, 12) // struct fib_rule_hdr
	body[0] = unix.AF_INET
	if r.IPv6 {
		body[0] = unix.AF_INET6
	}
	if r.Table < 256 {
		body[4] = uint8(r.Table)
	}
	body[7] = unix.FR_ACT_TO_TBL
	if r.Invert {
		binary.NativeEndian.PutUint32(body[8:], unix.FIB_RULE_INVERT)
	}
	mask := r.Mask
	if mask == 0 {
		mask = 0xffffffff
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(unix.FRA_PRIORITY, r.Priority)
	ae.Uint32(unix.FRA_FWMARK, r.Mark)
	ae.Uint32(unix.FRA_FWMASK, mask)
	ae.Uint32(unix.FRA_TABLE, uint32(r.Table))
	return body, ae
}

// AddRule adds rule r; an identical rule already present is not an error.
func (n *Netlink) AddRule(r Rule) error {
	body, ae := r.msg()
	err := n.do(unix.RTM_NEWRULE, netlink.Create|netlink.Excl, body, ae)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return errors.New("tun: add rule: " + err.Error())
	}
	return nil
}

// DelRule removes rule r.
func (n *Netlink) DelRule(r Rule) error {
	body, ae := r.msg()
	if err := n.do(unix.RTM_DELRULE, 0, body, ae); err != nil {
		return errors.New("tun: delete rule: " + err.Error())
	}
	return nil
}
