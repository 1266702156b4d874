package ike

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/netip"
)

// cookieSecret makes and checks stateless cookies, RFC 7296, Section 2.6:
// Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>). The
// previous secret stays valid for one rotation so that a cookie sent just
// before a change still works.
type cookieSecret struct {
	version   byte
	cur, prev [32]byte
}

func (c *cookieSecret) rotate(r io.Reader) error {
	c.prev = c.cur
	c.version++
	_, err := io.ReadFull(r, c.cur[:])
	return err
}

func cookieMAC(secret *[32]byte, version byte, ni []byte, ip netip.Addr, spiI uint64) []byte {
	m := hmac.New(sha256.New, secret[:])
	m.Write(ni)
	a := ip.Unmap().AsSlice()
	m.Write(a)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], spiI)
	m.Write(s[:])
	out := make([]byte, 1, 1+16)
	out[0] = version
	return append(out, m.Sum(nil)[:16]...)
}

func (c *cookieSecret) make(ni []byte, ip netip.Addr, spiI uint64) []byte {
	return cookieMAC(&c.cur, c.version, ni, ip, spiI)
}

func (c *cookieSecret) check(cookie, ni []byte, ip netip.Addr, spiI uint64) bool {
	if len(cookie) != 17 {
		return false
	}
	switch cookie[0] {
	case c.version:
		return hmac.Equal(cookie, cookieMAC(&c.cur, c.version, ni, ip, spiI))
	case c.version - 1:
		return hmac.Equal(cookie, cookieMAC(&c.prev, c.version-1, ni, ip, spiI))
	}
	return false
}
