// Package esp is swanling's userspace ESP data plane (RFC 4303): SAs, seal and
// open in place, anti-replay, the SPI table and the packet loop.
package esp
