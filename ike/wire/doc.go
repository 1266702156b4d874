// Package wire is swanling's IKEv2 message codec: the fixed header and every
// payload of RFC 7296 Section 3, the Encrypted Fragment payload of RFC 7383,
// the IKE_INTERMEDIATE exchange of RFC 9242, the additional key exchanges of
// RFC 9370 (ADDKE transform types, IKE_FOLLOWUP_KE, ADDITIONAL_KEY_EXCHANGE),
// signature hash algorithms (RFC 7427), ID_NULL and AUTH_NULL (RFC 7619), the
// MOBIKE notifications (RFC 4555) and the NAT_DETECTION hashes (RFC 7296
// Section 2.23). RFC 8229 (IKE over TCP) adds no payloads; its framing lives
// in encap.
//
// The codec is hand-written in the style of golang.org/x/net/dns/dnsmessage:
// offset-in/offset-out primitives, append-style builders that back-patch
// lengths and next-payload fields, sentinel errors, no fmt, no reflection.
// Parsed payloads alias the input buffer: byte slices in them point into the
// datagram that was parsed, so copy what must outlive it.
//
// # Receiving
//
// Parse reads the header and the outer payload chain. The walk validates every
// generic payload header before the body (RFC 7296 Section 3.2): the length is
// at least 4 and within the message, an unknown payload with the critical bit
// set is an error carrying its type (*PayloadError wrapping
// ErrUnsupportedCritical: the engine answers UNSUPPORTED_CRITICAL_PAYLOAD), an
// unknown payload without it is kept as *Unknown and may be skipped. The
// Encrypted payload (SK) and the Encrypted Fragment payload (SKF) end the
// outer chain (RFC 7296 Section 3.14): their Next Payload field names the
// first payload inside. To decrypt, SplitEncrypted returns the AAD, IV,
// ciphertext and ICV of a received message given the cipher's IV and ICV
// lengths; after decryption StripPadding removes the padding and
// ParsePayloads(sk.NextPayload, plaintext) parses the inner chain. Validate
// checks the payload types against the per-exchange table.
//
// # Sending
//
// Unencrypted messages (IKE_SA_INIT): build a Message and call Append.
// Encrypted messages:
//
//  1. first, inner, err := AppendPayloads(nil, payloads) builds the inner chain.
//  2. The crypto layer pads inner (padding then Pad Length octet, RFC 7296
//     Section 3.14) to plaintext.
//  3. msg, ivOff, ctOff, icvOff, err := AppendEncrypted(dst, hdr, first,
//     ivLen, len(plaintext), icvLen) appends the IKE header and the SK
//     generic header with both lengths already final, and reserves room for
//     IV, ciphertext and ICV.
//  4. The crypto layer writes the IV at msg[ivOff:ctOff], encrypts the
//     plaintext into msg[ctOff:icvOff] and writes the ICV at msg[icvOff:].
//     For AEAD ciphers the AAD is msg[:ivOff] (IKE header and SK payload
//     header, RFC 5282 Section 5.1); for AES-CBC with HMAC the ICV covers
//     msg[:icvOff] (RFC 7296 Section 3.14).
//
// AppendFragment does the same for one SKF fragment (RFC 7383 Section 2.5),
// whose AAD also covers the Fragment Number and Total Fragments fields. On
// receipt, a Reassembler joins the decrypted fragments of one message
// following the rules of RFC 7383 Section 2.6.
package wire
