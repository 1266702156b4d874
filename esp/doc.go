// Package esp is swanling's userspace ESP data plane: tunnel-mode ESP
// (RFC 4303) with AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634),
// both used as AEADs in the sense of RFC 5116; 32-bit and extended 64-bit
// sequence numbers (RFC 4303, Section 2.2.1 and Appendix A); an RFC 6479
// style anti-replay bitmap; soft and hard lifetimes (RFC 4301, Section 4.4.2.1);
// the SPI table and the outbound policy table; ICMP "Fragmentation Needed"
// (RFC 792, RFC 1191) and ICMPv6 "Packet Too Big" (RFC 4443, RFC 8201) for
// oversized inner packets; TCP MSS clamping; and the zero-allocation packet
// loop between a Device (TUN) and Transports (UDP encapsulation, RFC 3948,
// or raw ESP).
//
// Packets are sealed and opened in place. An inner packet sits at
// buf[Headroom:]; the ESP header and IV are written into the 16 bytes in
// front of it (so the ESP packet starts at SealOffset) and the 16 bytes
// before that serve as scratch space for the AEAD nonce and the ESN
// additional data, which keeps the per-packet path free of allocations.
//
// Nothing here logs: every drop is counted, per SA where the SA is known and
// per Loop otherwise, and the owner reads the counters with Status.
package esp
