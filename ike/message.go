package ike

// Exchange types, RFC 7296, Section 3.1.
const (
	ExchIKESAInit     uint8 = 34
	ExchIKEAuth       uint8 = 35
	ExchCreateChildSA uint8 = 36
	ExchInformational uint8 = 37
)

// Notify message types used here, RFC 7296, Section 3.10.1, RFC 7427,
// RFC 7383.
const (
	NUnsupportedCritical uint16 = 1
	NInvalidIKESPI       uint16 = 4
	NInvalidMajorVersion uint16 = 5
	NInvalidSyntax       uint16 = 7
	NInvalidMessageID    uint16 = 9
	NInvalidSPI          uint16 = 11
	NNoProposalChosen    uint16 = 14
	NInvalidKEPayload    uint16 = 17
	NAuthFailed          uint16 = 24
	NSinglePairRequired  uint16 = 34
	NNoAdditionalSAs     uint16 = 35
	NInternalAddrFailure uint16 = 36
	NFailedCPRequired    uint16 = 37
	NTSUnacceptable      uint16 = 38
	NInvalidSelectors    uint16 = 39
	NTemporaryFailure    uint16 = 43
	NChildSANotFound     uint16 = 44

	NInitialContact   uint16 = 16384
	NSetWindowSize    uint16 = 16385
	NRekeySA          uint16 = 16393
	NNATDSource       uint16 = 16388
	NNATDDestination  uint16 = 16389
	NCookie           uint16 = 16390
	NUseTransportMode uint16 = 16391
	NESPTFCPadding    uint16 = 16394
	NNonFirstFrags    uint16 = 16395
	NFragSupported    uint16 = 16430
	NSigHashAlgs      uint16 = 16431
)

// notify is a Notify payload (RFC 7296, Section 3.10).
type notify struct {
	Proto uint8
	SPI   []byte
	Type  uint16
	Data  []byte
}

// deletePl is a Delete payload (RFC 7296, Section 3.11).
type deletePl struct {
	Proto uint8
	SPIs  [][]byte
}

// keData is a KE payload body (Section 3.4).
type keData struct {
	Group uint16
	Data  []byte
}

// authData is an AUTH payload body (Section 3.8).
type authData struct {
	Method uint8
	Data   []byte
}

// msg is a decoded IKE message, the engine's view independent of the codec:
// the header fields plus every payload the engine uses, already validated by
// the codec against the per-exchange table.
type msg struct {
	SPIi, SPIr uint64
	Exch       uint8
	Response   bool
	Initiator  bool // I flag: sent by the original initiator
	ID         uint32
	raw        []byte // the whole message as received (for RealMessage1/2)

	SA       []Offer
	hasSA    bool
	KE       *keData
	Nonce    []byte
	IDi, IDr *Identity
	// idiBody and idrBody are RestOfInitIDPayload / RestOfRespIDPayload
	// (RFC 7296, Section 2.15): ID type, 3 reserved octets and data.
	idiBody, idrBody []byte
	Auth             *authData
	TSi, TSr         []Selector
	hasTS            bool
	Notifies         []notify
	Deletes          []deletePl
	// unknownCritical is the type of an unrecognized payload with the
	// critical bit set (RFC 7296, Section 2.5), 0 when none.
	unknownCritical uint8
}

func (m *msg) notify(t uint16) *notify {
	for i := range m.Notifies {
		if m.Notifies[i].Type == t {
			return &m.Notifies[i]
		}
	}
	return nil
}

// errorNotify returns the first error notification (types below 16384,
// RFC 7296, Section 3.10.1), if any.
func (m *msg) errorNotify() *notify {
	for i := range m.Notifies {
		if m.Notifies[i].Type < 16384 {
			return &m.Notifies[i]
		}
	}
	return nil
}

// idBody is the RestOfIDPayload of an identity.
func idBody(id Identity) []byte {
	b := make([]byte, 4, 4+len(id.Data))
	b[0] = id.Type
	return append(b, id.Data...)
}
