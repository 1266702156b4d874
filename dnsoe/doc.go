// Package dnsoe is swanling's DNS client for opportunistic encryption.
//
// It has three layers:
//
//   - A message codec (RFC 1035 section 4, name compression on parse only,
//     EDNS0 and the DO bit from RFC 6891) in the style of
//     golang.org/x/net/dns/dnsmessage: a zero-allocation [Parser] over a
//     received message and an append-style [Builder].
//   - Record parsers for what OE publishes in DNS: IPSECKEY (RFC 4025, with
//     EdDSA keys from RFC 9373), KEY (RFC 2535, RSA keys in the RFC 3110
//     format), TXT "X-IPsec-Server(P)=gateway key" (RFC 4322 section 5.2) and
//     the "IP AutoSEC" algorithm-list form (draft-kechel-ip-autosec), plus
//     reverse names under in-addr.arpa and ip6.arpa (RFC 3596).
//   - A stub [Resolver] with random IDs and source ports (RFC 5452), TCP
//     after truncation (RFC 7766), retries across servers, a TTL cache and a
//     negative cache (RFC 2308), merged concurrent lookups, and the OE
//     question "who encrypts for this address, with which key, how trusted"
//     ([Resolver.GatewayFor], [Resolver.KeyFor]).
//
// An answer counts as authenticated only if it carries the AD bit and came
// from a server configured as trusted (RFC 4033 section 7, RFC 6840 section
// 5.7): a stub cannot check signatures itself, so it can only believe a
// validating resolver on a path it trusts.
//
// The package decides no policy and imports nothing else of swanling's.
package dnsoe
