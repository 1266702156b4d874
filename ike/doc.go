// Package ike is swanling's IKEv2 engine (RFC 7296): the IKE SA and Child SA
// state machines for initiator and responder, the message-ID window with
// retransmission (Section 2.1-2.3), proposal selection (Section 2.7, 3.3),
// cookies (Section 2.6), traffic selector narrowing (Section 2.9), NAT
// traversal (Section 2.23, RFC 3948), dead peer detection (Section 2.4),
// authentication with PSK, signatures with raw public keys (RFC 7427,
// RFC 8420) and NULL authentication (RFC 7619).
//
// One goroutine owns every SA. Datagrams, timer expiries, key-source answers,
// control requests and acquire events arrive as events; the engine opens no
// sockets and talks to the outside only through the Output interface it is
// given. The clock and the random source are injected so that tests are
// deterministic. The message codec lives in ike/wire and the cryptography in
// ike/ikecrypto.
package ike
