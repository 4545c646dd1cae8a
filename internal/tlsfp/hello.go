package tlsfp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// MaxHelloBody is the largest ClientHello body, in bytes after the 4-byte handshake
// header, that ParseClientHello and Tee accept. It is crypto/tls's limit (maxHandshake).
const MaxHelloBody = 1 << 16

// maxRecordPayload is the largest TLS record payload (2^14, RFC 8446 section 5.1);
// crypto/tls rejects larger plaintext records.
const maxRecordPayload = 1 << 14

const (
	recordHeaderLen     = 5
	handshakeHeaderLen  = 4
	recordTypeHandshake = 22
	typeClientHello     = 1
)

// Errors returned by ParseClientHello and Tee.Hello wrap one of these.
var (
	// ErrTruncated means the input ends before the ClientHello does.
	ErrTruncated = errors.New("tlsfp: truncated client hello")
	// ErrTooLarge means a record or the hello exceeds its size limit.
	ErrTooLarge = errors.New("tlsfp: client hello too large")
	// ErrMalformed means the input is not a well-formed ClientHello.
	ErrMalformed = errors.New("tlsfp: malformed client hello")
)

// Extension types that the parser decodes.
const (
	extServerName          = 0x0000
	extSupportedGroups     = 0x000a
	extECPointFormats      = 0x000b
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSupportedVersions   = 0x002b
)

// ClientHello is a parsed TLS ClientHello. Lists keep the wire order and GREASE values.
// The field names follow tls.ClientHelloInfo where the two overlap.
//
// Where an extension occurs more than once (which RFC 8446 forbids and crypto/tls
// rejects), Extensions lists every occurrence and the decoded fields come from the first.
// A ClientHello shares no memory with the bytes it was parsed from. The zero value is an
// empty hello. A ClientHello is safe for concurrent reads; do not modify one that a Tee
// returned, since every caller of Tee.Hello gets the same value.
type ClientHello struct {
	// RecordVersion is the version field of the first record header. It is 0 when the
	// hello was parsed from a bare handshake message.
	RecordVersion uint16
	// Records is the number of TLS records the hello spanned, 0 for a bare handshake
	// message. Browsers send one; more is legal but unusual.
	Records int
	// Version is the legacy client_version (0x0303 for TLS 1.2 and 1.3 clients).
	Version uint16
	// CipherSuites lists the offered cipher suites.
	CipherSuites []uint16
	// CompressionMethods lists the offered compression methods ([0] in practice).
	CompressionMethods []uint8
	// Extensions lists the extension types, padding and unknown types included.
	Extensions []uint16
	// ServerName is the first host_name of the server_name extension, "" when there is
	// none. It is the client's unvalidated text.
	ServerName string
	// SupportedProtos is the ALPN protocol list.
	SupportedProtos []string
	// SupportedVersions is the supported_versions list; empty when the extension is
	// absent (unlike tls.ClientHelloInfo, which derives a list from Version then).
	SupportedVersions []uint16
	// SupportedCurves is the supported_groups list.
	SupportedCurves []tls.CurveID
	// SupportedPoints is the ec_point_formats list.
	SupportedPoints []uint8
	// SignatureSchemes is the signature_algorithms list.
	SignatureSchemes []tls.SignatureScheme
}

// ParseClientHello parses the first ClientHello in b. b holds either TLS records as read
// from the wire (record headers included; a hello split over several handshake records
// is reassembled) or a bare handshake message starting with its type byte (1). Bytes
// after the hello are ignored. Errors wrap ErrTruncated, ErrTooLarge or ErrMalformed.
//
// Every record up to the end of the hello must be a non-empty handshake record of at
// most 16 KiB. (crypto/tls also skips warning alerts there; ParseClientHello does not.)
// Within the message it accepts every ClientHello that crypto/tls accepts, and more: it
// checks the framing of the message, of the extension block and of the payloads of the
// extensions it decodes (the fields of ClientHello), but not the other payloads, and it
// allows empty lists, a long session ID and duplicate extensions, all of which a
// fingerprint should still describe.
func ParseClientHello(b []byte) (*ClientHello, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrTruncated)
	}
	switch b[0] {
	case typeClientHello:
		msg, err := handshakeMessage(b)
		if err != nil {
			return nil, err
		}
		return parseMessage(msg, 0, 0)
	case recordTypeHandshake:
		msg, version, records, err := reassemble(b)
		if err != nil {
			return nil, err
		}
		return parseMessage(msg, version, records)
	default:
		return nil, fmt.Errorf("%w: first byte 0x%02x is neither a handshake record (22) nor a client_hello message (1)", ErrMalformed, b[0])
	}
}

// handshakeMessage checks the handshake header at the start of b and returns the whole
// message, header included.
func handshakeMessage(b []byte) ([]byte, error) {
	n, err := helloLen(b)
	if err != nil {
		return nil, err
	}
	if len(b) < n {
		return nil, fmt.Errorf("%w: have %d of %d handshake bytes", ErrTruncated, len(b), n)
	}
	return b[:n], nil
}

// helloLen checks the first four bytes of a handshake message (there must be four) and
// returns the length of the message, header included.
func helloLen(b []byte) (int, error) {
	if len(b) < handshakeHeaderLen {
		return 0, fmt.Errorf("%w: handshake header", ErrTruncated)
	}
	if b[0] != typeClientHello {
		return 0, fmt.Errorf("%w: handshake message type %d, want client_hello (1)", ErrMalformed, b[0])
	}
	n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n > MaxHelloBody {
		return 0, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrTooLarge, n, MaxHelloBody)
	}
	return handshakeHeaderLen + n, nil
}

func errRecordType(typ byte) error {
	return fmt.Errorf("%w: record of content type %d before the hello is complete, want handshake (22)", ErrMalformed, typ)
}

// checkRecordHeader checks a record header of the hello and returns its payload length.
func checkRecordHeader(h []byte) (int, error) {
	n := int(h[3])<<8 | int(h[4])
	switch {
	case h[0] != recordTypeHandshake:
		return 0, errRecordType(h[0])
	case n == 0:
		return 0, fmt.Errorf("%w: empty handshake record", ErrMalformed)
	case n > maxRecordPayload:
		return 0, fmt.Errorf("%w: record payload of %d bytes exceeds %d", ErrTooLarge, n, maxRecordPayload)
	}
	return n, nil
}

// reassemble returns the handshake message carried by the records at the start of b,
// the first record's version and the number of records used. A message within one
// record is returned without copying. Like a Tee, it looks at the bytes of a record as
// far as they go: a hello that ends inside a truncated record is complete, and a bad
// handshake header in a truncated record is reported as such, not as truncation.
func reassemble(b []byte) (msg []byte, version uint16, records int, err error) {
	need := 0 // message length, header included, once known
	for {
		if len(b) > 0 && b[0] != recordTypeHandshake {
			return nil, 0, 0, errRecordType(b[0])
		}
		if len(b) < recordHeaderLen {
			return nil, 0, 0, fmt.Errorf("%w: record header", ErrTruncated)
		}
		n, err := checkRecordHeader(b)
		if err != nil {
			return nil, 0, 0, err
		}
		if records == 0 {
			version = uint16(b[1])<<8 | uint16(b[2])
		}
		records++
		payload := b[recordHeaderLen:min(len(b), recordHeaderLen+n)]
		b = b[recordHeaderLen+len(payload):]
		avail := len(payload)

		if records == 1 && len(payload) >= handshakeHeaderLen {
			if need, err = helloLen(payload); err != nil {
				return nil, 0, 0, err
			}
			if len(payload) >= need {
				return payload[:need], version, 1, nil
			}
			// The rest of the input bounds what can arrive, so a false length
			// in a short input cannot make this allocate 64 KiB.
			msg = make([]byte, 0, min(need, len(payload)+len(b)))
		}
		if need == 0 {
			// The 4-byte handshake header itself is split over records.
			k := min(handshakeHeaderLen-len(msg), len(payload))
			msg = append(msg, payload[:k]...)
			payload = payload[k:]
			if len(msg) == handshakeHeaderLen {
				if need, err = helloLen(msg); err != nil {
					return nil, 0, 0, err
				}
				msg = growTo(msg, min(need, len(msg)+len(payload)+len(b)))
			}
		}
		if need > 0 {
			msg = append(msg, payload[:min(len(payload), need-len(msg))]...)
			if len(msg) == need {
				return msg, version, records, nil
			}
		}
		if avail < n {
			return nil, 0, 0, fmt.Errorf("%w: have %d of %d bytes of record %d", ErrTruncated, avail, n, records)
		}
	}
}

// growTo returns b with a capacity of at least n.
func growTo(b []byte, n int) []byte {
	if cap(b) >= n {
		return b
	}
	c := make([]byte, len(b), n)
	copy(c, b)
	return c
}

// reader reads big-endian fields from a byte slice. After a failed read it stays failed.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) u8() uint8 {
	if !r.ok || len(r.b) < 1 {
		r.ok = false
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if !r.ok || len(r.b) < 2 {
		r.ok = false
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if !r.ok || len(r.b) < n {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// vec8 and vec16 read a vector with a 1- or 2-byte length prefix.
func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }

// u16s returns the number of 16-bit values in a list of n bytes, or false if n is odd.
func u16s(b []byte) (int, bool) { return len(b) / 2, len(b)%2 == 0 }

// decoded holds the payloads of the extensions that ParseClientHello decodes: the list
// inside each extension, with its length prefix removed.
type decoded struct {
	seen       uint8  // bit set of the decoded extensions seen so far
	nExt       int    // extensions in the block, every occurrence counted
	sniName    []byte // first host_name
	hasSNIName bool
	alpn       []byte // protocol_name_list
	nALPN      int    // protocols in alpn
	alpnBytes  int    // their total length
	versions   []byte
	nVersions  int
	groups     []byte
	nGroups    int
	points     []byte
	sigalgs    []byte
	nSigalgs   int
}

// parseMessage parses a complete ClientHello handshake message, header included.
func parseMessage(msg []byte, recordVersion uint16, records int) (*ClientHello, error) {
	r := reader{b: msg[handshakeHeaderLen:], ok: true}
	version := r.u16()
	r.bytes(32) // random
	r.vec8()    // legacy_session_id; crypto/tls does not bound it to 32 bytes either
	ciphers := r.vec16()
	compression := r.vec8()
	if !r.ok {
		return nil, fmt.Errorf("%w: body ends inside the fixed fields", ErrMalformed)
	}
	nCiphers, ok := u16s(ciphers)
	if !ok {
		return nil, fmt.Errorf("%w: cipher suite list of odd length %d", ErrMalformed, len(ciphers))
	}
	var exts []byte
	if len(r.b) > 0 {
		exts = r.vec16()
		if !r.ok || len(r.b) != 0 {
			return nil, fmt.Errorf("%w: extensions block does not end where the message does", ErrMalformed)
		}
	}

	var d decoded
	if err := d.scan(exts); err != nil {
		return nil, err
	}

	// One array backs the three []uint16 lists; empty lists stay nil.
	u := make([]uint16, nCiphers+d.nExt+d.nVersions)
	h := &ClientHello{
		RecordVersion: recordVersion,
		Records:       records,
		Version:       version,
	}
	if nCiphers > 0 {
		h.CipherSuites = fillU16(u[:nCiphers:nCiphers], ciphers)
		u = u[nCiphers:]
	}
	if d.nExt > 0 {
		h.Extensions = u[:d.nExt:d.nExt]
		u = u[d.nExt:]
		for i, x := 0, exts; i < d.nExt; i++ {
			h.Extensions[i] = uint16(x[0])<<8 | uint16(x[1])
			x = x[4+(int(x[2])<<8|int(x[3])):]
		}
	}
	if d.nVersions > 0 {
		h.SupportedVersions = fillU16(u[:d.nVersions:d.nVersions], d.versions)
	}
	if d.nGroups > 0 {
		h.SupportedCurves = make([]tls.CurveID, d.nGroups)
		for i := range h.SupportedCurves {
			h.SupportedCurves[i] = tls.CurveID(be16(d.groups[2*i:]))
		}
	}
	if d.nSigalgs > 0 {
		h.SignatureSchemes = make([]tls.SignatureScheme, d.nSigalgs)
		for i := range h.SignatureSchemes {
			h.SignatureSchemes[i] = tls.SignatureScheme(be16(d.sigalgs[2*i:]))
		}
	}
	if n := len(compression) + len(d.points); n > 0 {
		bs := make([]byte, n)
		copy(bs, compression)
		copy(bs[len(compression):], d.points)
		if len(compression) > 0 {
			h.CompressionMethods = bs[:len(compression):len(compression)]
		}
		if len(d.points) > 0 {
			h.SupportedPoints = bs[len(compression):]
		}
	}
	if len(d.sniName) > 0 || d.alpnBytes > 0 || d.nALPN > 0 {
		// One string backs the server name and the ALPN protocols.
		var sb strings.Builder
		sb.Grow(len(d.sniName) + d.alpnBytes)
		sb.Write(d.sniName)
		for x := d.alpn; len(x) > 0; x = x[1+int(x[0]):] {
			sb.Write(x[1 : 1+int(x[0])])
		}
		s := sb.String()
		h.ServerName = s[:len(d.sniName)]
		s = s[len(d.sniName):]
		if d.nALPN > 0 {
			h.SupportedProtos = make([]string, d.nALPN)
			for i, x := 0, d.alpn; i < d.nALPN; i++ {
				n := int(x[0])
				h.SupportedProtos[i] = s[:n]
				s, x = s[n:], x[1+n:]
			}
		}
	}
	return h, nil
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// fillU16 decodes big-endian values from b into dst, which has room for all of them.
func fillU16(dst []uint16, b []byte) []uint16 {
	for i := range dst {
		dst[i] = be16(b[2*i:])
	}
	return dst
}

// scan walks the extensions block, checks its framing, counts the extensions and checks
// and keeps the payloads of the first occurrence of each decoded extension.
func (d *decoded) scan(exts []byte) error {
	r := reader{b: exts, ok: true}
	for len(r.b) > 0 {
		typ := r.u16()
		data := r.vec16()
		if !r.ok {
			return fmt.Errorf("%w: extension %d overruns the extensions block", ErrMalformed, d.nExt)
		}
		d.nExt++
		var bit uint8
		switch typ {
		case extServerName:
			bit = 1 << 0
		case extALPN:
			bit = 1 << 1
		case extSupportedVersions:
			bit = 1 << 2
		case extSupportedGroups:
			bit = 1 << 3
		case extECPointFormats:
			bit = 1 << 4
		case extSignatureAlgorithms:
			bit = 1 << 5
		default:
			continue
		}
		if d.seen&bit != 0 {
			continue
		}
		d.seen |= bit
		if err := d.decode(typ, data); err != nil {
			return err
		}
	}
	return nil
}

// decode checks the payload of one decoded extension and keeps its list.
func (d *decoded) decode(typ uint16, data []byte) error {
	r := reader{b: data, ok: true}
	var ok bool
	switch typ {
	case extServerName:
		// An empty payload is what servers send; accept it from a client too.
		if len(data) == 0 {
			return nil
		}
		list := r.vec16()
		for l := (reader{b: list, ok: r.ok}); l.ok && len(l.b) > 0; {
			nameType := l.u8()
			name := l.vec16()
			if !l.ok {
				return fmt.Errorf("%w: server_name entry overruns its list", ErrMalformed)
			}
			if nameType == 0 && !d.hasSNIName {
				d.sniName, d.hasSNIName = name, true
			}
		}
		ok = r.ok
	case extALPN:
		d.alpn = r.vec16()
		for l := (reader{b: d.alpn, ok: r.ok}); l.ok && len(l.b) > 0; {
			p := l.vec8()
			if !l.ok {
				return fmt.Errorf("%w: ALPN protocol overruns its list", ErrMalformed)
			}
			d.nALPN++
			d.alpnBytes += len(p)
		}
		ok = r.ok
	case extSupportedVersions:
		d.versions = r.vec8()
		d.nVersions, ok = u16s(d.versions)
	case extSupportedGroups:
		d.groups = r.vec16()
		d.nGroups, ok = u16s(d.groups)
	case extECPointFormats:
		d.points = r.vec8()
		ok = true
	case extSignatureAlgorithms:
		d.sigalgs = r.vec16()
		d.nSigalgs, ok = u16s(d.sigalgs)
	}
	if !ok || !r.ok || len(r.b) != 0 {
		return fmt.Errorf("%w: extension 0x%04x has a malformed payload", ErrMalformed, typ)
	}
	return nil
}
