// Package ike is swanling's IKEv2 engine (RFC 7296): the IKE SA and Child SA
// state machines for initiator and responder, the message-ID window with
// retransmission (Section 2.1-2.3), proposal selection (Section 2.7, 3.3),
// cookies and half-open limits (Section 2.6), traffic selector narrowing
// (Section 2.9), rekeying with its collision rules (Sections 1.3, 2.8, 2.18,
// 2.25), NAT traversal (Section 2.23, RFC 3948), dead peer detection
// (Section 2.4), authentication with PSK, signatures with raw public keys
// (RFC 7427, RFC 8420) and NULL authentication (RFC 7619).
//
// # Shape
//
// One goroutine (Run) owns every SA. Datagrams (HandleDatagram), timer
// expiries, key-source answers, control requests (Initiate, Terminate,
// CreateChild, RekeyChild, DeleteChild, Status) and acquire events arrive as
// events; the engine opens no sockets and talks to the outside only through
// the Output interface: SendIKE, SendKeepalive, InstallChild and RemoveChild,
// which hand Child SAs out as plain data (ChildSA: SPIs, suite keyword, keys
// with salt, ESN, selectors as prefixes, outer addresses, encapsulation,
// lifetimes). The clock and the random source are injected so that tests
// are deterministic; the in-memory tests call the event handlers directly.
// The message codec is ike/wire, the cryptography ike/ikecrypto.
//
// # Files
//
//   - engine.go: configuration (Peer, Timers, Limits), Output, KeySource, the
//     event loop and the exported calls.
//   - sa.go: IKE and Child SA state, the window of 1 with retransmission and
//     give-up, every timer.
//   - receive.go, codec.go: the receive path (marker, header, SA lookup,
//     cached responses, decryption, the payload allowance table) and the
//     translation between wire payloads and the engine's msg.
//   - init.go, auth.go, child.go, info.go, rekey.go: the exchanges.
//   - proposal.go, ts.go, identity.go, cookie.go, crypto.go: proposals in
//     swanctl notation and their selection, traffic selectors, identities,
//     cookies, and the key derivation glue.
//   - oe.go: opportunistic encryption (RFC 4322, RFC 7435, AUTH_NULL from
//     RFC 7619): policy groups, one peer per host pair made from the DNS
//     answer (OELookup), failure shunts and lifespan (OEOutput), and the
//     responder's check that the initiator's gateway is authorized for
//     the inner source address.
package ike
