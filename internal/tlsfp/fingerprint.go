package tlsfp

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"slices"
	"strconv"
)

// Fingerprint holds the JA4 and JA3 fingerprints of one ClientHello (see the package
// documentation for their definitions). The zero value means no fingerprint: every
// string is empty. A Fingerprint is a plain value, safe to copy and share.
type Fingerprint struct {
	// JA4 is the fingerprint a_b_c, for example
	// "t13d1516h2_8daaf6152771_e5627efa2ab1".
	JA4 string
	// JA4R is JA4_r: JA4 with the sorted lists in place of their hashes.
	JA4R string
	// JA4O is JA4_o: JA4 over the lists in their original order, SNI and ALPN included.
	JA4O string
	// JA4RO is JA4_ro: JA4_o with the lists in place of their hashes.
	JA4RO string
	// JA3 is the JA3 string, for example "771,4865-4866-...,0-23-...,29-23-24,0".
	JA3 string
	// JA3Hash is the MD5 of JA3, in lowercase hex.
	JA3Hash string
	// JA3N is JA3 with the extension field sorted in ascending order.
	JA3N string
	// JA3NHash is the MD5 of JA3N, in lowercase hex.
	JA3NHash string
	// JA3VersionAssumed reports that the first JA3 field (and so JA3, JA3N and their
	// hashes) rests on an assumed legacy version, because crypto/tls does not expose
	// the one the client sent: FromClientHelloInfo assumes 771 when the
	// supported_versions extension is present (see FromClientHelloInfo for two rarer
	// cases). It is never set for a fingerprint of raw bytes.
	JA3VersionAssumed bool
}

// Fingerprint returns the fingerprints of h. A nil h has the zero Fingerprint.
func (h *ClientHello) Fingerprint() Fingerprint {
	if h == nil {
		return Fingerprint{}
	}
	v := helloView{
		legacy:  h.Version,
		ciphers: h.CipherSuites,
		exts:    h.Extensions,
		curves:  h.SupportedCurves,
		points:  h.SupportedPoints,
		sigalgs: h.SignatureSchemes,
	}
	v.ja4Version = h.Version
	if slices.Contains(h.Extensions, extSupportedVersions) {
		v.ja4Version = highest(h.SupportedVersions)
	}
	if len(h.SupportedProtos) > 0 {
		v.alpn, v.hasALPN = h.SupportedProtos[0], true
	}
	return v.fingerprint()
}

// FromClientHelloInfo returns the fingerprints of the hello that crypto/tls describes in
// chi, as GetConfigForClient or GetCertificate receive it. chi.Extensions must be set,
// as crypto/tls sets it since Go 1.24; a ClientHelloInfo built by hand without it has no
// extensions, so no SNI, ALPN or supported_versions for JA4.
//
// JA4 equals that of the raw hello, except for a hello without supported_versions whose
// legacy version is not TLS 1.0 to 1.3: crypto/tls replaces that version with a list
// derived from it, so SSL 3.0 gets "00" instead of "s3" and a version above TLS 1.3 gets
// "13" instead of "00". JA3's version is assumed (Fingerprint.JA3VersionAssumed): 771
// when supported_versions is present, as RFC 8446 requires TLS 1.3 clients to send; 772
// for a legacy version of TLS 1.3 or above without it; 768 when crypto/tls reports no
// versions (a legacy version below TLS 1.0). A nil chi has the zero Fingerprint.
func FromClientHelloInfo(chi *tls.ClientHelloInfo) Fingerprint {
	if chi == nil {
		return Fingerprint{}
	}
	v := helloView{
		ciphers: chi.CipherSuites,
		exts:    chi.Extensions,
		curves:  chi.SupportedCurves,
		points:  chi.SupportedPoints,
		sigalgs: chi.SignatureSchemes,
	}
	switch {
	case slices.Contains(chi.Extensions, extSupportedVersions):
		// The legacy version is hidden; RFC 8446 section 4.1.2 requires 0x0303.
		v.ja4Version = highest(chi.SupportedVersions)
		v.legacy, v.legacyAssumed = tls.VersionTLS12, true
	case len(chi.SupportedVersions) > 0:
		// crypto/tls lists TLS 1.3 down to 1.0, cut at the legacy version, so the
		// first entry is that version unless the client sent more than 0x0304.
		v.ja4Version = chi.SupportedVersions[0]
		v.legacy = chi.SupportedVersions[0]
		v.legacyAssumed = v.legacy >= tls.VersionTLS13
	default:
		// The legacy version is below TLS 1.0, most likely SSL 3.0.
		v.legacy, v.legacyAssumed = 0x0300, true
	}
	if len(chi.SupportedProtos) > 0 {
		v.alpn, v.hasALPN = chi.SupportedProtos[0], true
	}
	return v.fingerprint()
}

// JA4B returns the b section of a JA4 or JA4_o fingerprint, the hash of the cipher
// list, which identifies the TLS library: "8daaf6152771" for
// "t13d1516h2_8daaf6152771_e5627efa2ab1". It returns false unless ja4 has the form
// a_b_c with a of 10 characters and b and c of 12 lowercase hex digits, so it is safe on
// untrusted input such as a forwarded header.
func JA4B(ja4 string) (string, bool) {
	const aLen, hashLen = 10, 12
	if len(ja4) != aLen+1+hashLen+1+hashLen || ja4[aLen] != '_' || ja4[aLen+1+hashLen] != '_' {
		return "", false
	}
	b := ja4[aLen+1 : aLen+1+hashLen]
	if !isLowerHex(b) || !isLowerHex(ja4[aLen+2+hashLen:]) {
		return "", false
	}
	return b, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isGREASE reports whether v is a GREASE value (RFC 8701): 0x?a?a with equal bytes.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// highest returns the highest non-GREASE value of versions, 0 if there is none.
func highest(versions []uint16) uint16 {
	var m uint16
	for _, v := range versions {
		if !isGREASE(v) && v > m {
			m = v
		}
	}
	return m
}

// helloView is what the fingerprints need from a hello, from either source.
type helloView struct {
	legacy        uint16 // JA3 version
	legacyAssumed bool
	ja4Version    uint16
	ciphers       []uint16
	exts          []uint16
	curves        []tls.CurveID
	points        []uint8
	sigalgs       []tls.SignatureScheme
	alpn          string // first ALPN protocol
	hasALPN       bool
}

// fingerprint computes every fingerprint into one buffer and returns substrings of one
// string, so that it allocates once for a typical hello.
func (v *helloView) fingerprint() Fingerprint {
	var cbuf, ebuf [64]uint16
	ciphers := appendNonGREASE(cbuf[:0], v.ciphers)
	exts := appendNonGREASE(ebuf[:0], v.exts)
	var sbuf [32]tls.SignatureScheme
	sigalgs := appendNonGREASE(sbuf[:0], v.sigalgs)

	var a [10]byte
	a[0] = 't'
	a[1], a[2] = versionCode(v.ja4Version)
	a[3] = 'i'
	if slices.Contains(exts, extServerName) {
		a[3] = 'd'
	}
	a[4], a[5] = count2(len(ciphers))
	a[6], a[7] = count2(len(exts))
	a[8], a[9] = '0', '0'
	if v.hasALPN {
		a[8], a[9] = alpnCode(v.alpn)
	}

	var stack [1536]byte
	b := stack[:0]
	var ja4, ja4r, ja4o, ja4ro, ja3, ja3Hash, ja3n, ja3nHash span

	// JA4_ro, and the original-order lists that JA4_o hashes.
	ja4ro.start = len(b)
	b = append(b, a[:]...)
	b = append(b, '_')
	oc := span{start: len(b)}
	b = appendHex(b, ciphers)
	oc.end = len(b)
	b = append(b, '_')
	oe := span{start: len(b)}
	b = appendHex(b, exts)
	b = appendSigalgs(b, sigalgs)
	oe.end = len(b)
	ja4ro.end = len(b)

	// JA3 in the original extension order, before the lists are sorted in place.
	var ja3Exts span
	ja3, ja3Exts, b = v.appendJA3(b, ciphers, exts)
	ja3Hash, b = appendMD5(b, ja3)

	slices.Sort(ciphers)
	slices.Sort(exts)

	// JA4_r, and the sorted lists that JA4 hashes.
	ja4r.start = len(b)
	b = append(b, a[:]...)
	b = append(b, '_')
	sc := span{start: len(b)}
	b = appendHex(b, ciphers)
	sc.end = len(b)
	b = append(b, '_')
	se := span{start: len(b)}
	n := 0 // extensions left once SNI and ALPN are removed
	for _, e := range exts {
		if e == extServerName || e == extALPN {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, e)
		n++
	}
	b = appendSigalgs(b, sigalgs)
	se.end = len(b)
	ja4r.end = len(b)

	// JA3N is JA3 with the extension field replaced by the sorted one.
	ja3n.start = len(b)
	b = append(b, b[ja3.start:ja3Exts.start]...)
	b = appendDecimal(b, exts)
	b = append(b, b[ja3Exts.end:ja3.end]...)
	ja3n.end = len(b)
	ja3nHash, b = appendMD5(b, ja3n)

	// Both hashed forms use the same empty-list rule: b is zeros when there are no
	// ciphers, c when the sorted list without SNI and ALPN is empty and there are no
	// signature algorithms (FoxIO's reference implementation, python/ja4.py).
	emptyC := n == 0 && len(sigalgs) == 0
	ja4, b = appendJA4(b, a, sc, se, len(ciphers) == 0, emptyC)
	ja4o, b = appendJA4(b, a, oc, oe, len(ciphers) == 0, emptyC)

	s := string(b)
	return Fingerprint{
		JA4:               ja4.of(s),
		JA4R:              ja4r.of(s),
		JA4O:              ja4o.of(s),
		JA4RO:             ja4ro.of(s),
		JA3:               ja3.of(s),
		JA3Hash:           ja3Hash.of(s),
		JA3N:              ja3n.of(s),
		JA3NHash:          ja3nHash.of(s),
		JA3VersionAssumed: v.legacyAssumed,
	}
}

// span is a byte range of the output buffer.
type span struct{ start, end int }

func (p span) of(s string) string { return s[p.start:p.end] }

// appendJA3 appends the JA3 string of v with the given non-GREASE ciphers and
// extensions. It returns the span of the string and that of its extension field.
func (v *helloView) appendJA3(b []byte, ciphers, exts []uint16) (all, extField span, _ []byte) {
	all.start = len(b)
	b = strconv.AppendUint(b, uint64(v.legacy), 10)
	b = append(b, ',')
	b = appendDecimal(b, ciphers)
	b = append(b, ',')
	extField.start = len(b)
	b = appendDecimal(b, exts)
	extField.end = len(b)
	b = append(b, ',')
	b = appendDecimal(b, v.curves)
	b = append(b, ',')
	for i, pf := range v.points {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(pf), 10)
	}
	all.end = len(b)
	return all, extField, b
}

// appendJA4 appends a_hash(b)_hash(c), with zeros for an empty b or c.
func appendJA4(b []byte, a [10]byte, cl, el span, emptyB, emptyC bool) (span, []byte) {
	p := span{start: len(b)}
	hb := sha256.Sum256(b[cl.start:cl.end])
	hc := sha256.Sum256(b[el.start:el.end])
	b = append(b, a[:]...)
	b = append(b, '_')
	if emptyB {
		b = append(b, "000000000000"...)
	} else {
		b = hex.AppendEncode(b, hb[:6])
	}
	b = append(b, '_')
	if emptyC {
		b = append(b, "000000000000"...)
	} else {
		b = hex.AppendEncode(b, hc[:6])
	}
	p.end = len(b)
	return p, b
}

func appendMD5(b []byte, of span) (span, []byte) {
	sum := md5.Sum(b[of.start:of.end])
	p := span{start: len(b)}
	b = hex.AppendEncode(b, sum[:])
	p.end = len(b)
	return p, b
}

// appendNonGREASE appends the non-GREASE values of src to dst.
func appendNonGREASE[T ~uint16](dst, src []T) []T {
	for _, x := range src {
		if !isGREASE(uint16(x)) {
			dst = append(dst, x)
		}
	}
	return dst
}

// appendHex appends values as comma-separated 4-digit lowercase hex.
func appendHex[T ~uint16](b []byte, values []T) []byte {
	for i, x := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, uint16(x))
	}
	return b
}

func appendHex4(b []byte, x uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[x>>12], digits[x>>8&0xf], digits[x>>4&0xf], digits[x&0xf])
}

// appendSigalgs appends "_" and the signature algorithms, or nothing if there are none.
func appendSigalgs(b []byte, sigalgs []tls.SignatureScheme) []byte {
	if len(sigalgs) == 0 {
		return b
	}
	return appendHex(append(b, '_'), sigalgs)
}

// appendDecimal appends the non-GREASE values as dash-separated decimals.
func appendDecimal[T ~uint16](b []byte, values []T) []byte {
	first := true
	for _, x := range values {
		if isGREASE(uint16(x)) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return b
}

// versionCode returns JA4's two-character code of a TLS version.
func versionCode(v uint16) (byte, byte) {
	switch v {
	case 0x0304:
		return '1', '3'
	case 0x0303:
		return '1', '2'
	case 0x0302:
		return '1', '1'
	case 0x0301:
		return '1', '0'
	case 0x0300:
		return 's', '3'
	case 0x0002:
		return 's', '2'
	case 0xfeff:
		return 'd', '1'
	case 0xfefd:
		return 'd', '2'
	case 0xfefc:
		return 'd', '3'
	}
	return '0', '0'
}

// count2 returns n as two decimal digits, capped at 99.
func count2(n int) (byte, byte) {
	n = min(n, 99)
	return byte('0' + n/10), byte('0' + n%10)
}

// alpnCode returns JA4's two ALPN characters for the first protocol p: its first and
// last characters when both are ASCII letters or digits, else the first and last
// characters of its hex encoding; "00" for an empty p.
func alpnCode(p string) (byte, byte) {
	if p == "" {
		return '0', '0'
	}
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return first, last
	}
	const digits = "0123456789abcdef"
	return digits[first>>4], digits[last&0xf]
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
