package attack

import (
	"net/netip"
	"strings"
)

// detectSSRF reports parameters that carry a URL (or a bare host) aimed at cloud
// metadata services, loopback or private addresses, or using a scheme that only
// server-side request forgery uses (gopher, dict, file). IP literals are read in every
// form a resolver accepts: dotted, dotless decimal, hex, octal, mixed, IPv6 and
// IPv4-mapped IPv6.
func (s *Scanner) detectSSRF(v *value, res *result) {
	if v.hits.groups&gSSRF == 0 && !v.has(clsColon) {
		return
	}
	t := v.norm
	best, at := 0, 0
	// Every URL in the value.
	for off := 0; off < len(t); {
		i := strings.Index(t[off:], "://")
		if i < 0 {
			break
		}
		i += off
		off = i + 3
		j := i
		for j > 0 && (isWordByte(t[j-1]) || t[j-1] == '+' || t[j-1] == '-' || t[j-1] == '.') {
			j--
		}
		scheme := strings.ToLower(t[j:i])
		if sc := schemeScore(scheme); sc > best {
			best, at = sc, j
		}
		if sc := hostScore(hostOf(t[i+3:])); sc > best {
			best, at = sc, j
		}
		// Parsers disagree on where the authority ends when it holds spaces, '#'
		// or several '@' ("http://a.com:80 &@b.com# @127.0.0.1/"); judge every
		// host that follows an '@' in the next stretch of text.
		auth := t[i+3:]
		if k := strings.IndexByte(auth, '/'); k >= 0 {
			auth = auth[:k]
		}
		if len(auth) > 128 {
			auth = auth[:128]
		}
		for k := strings.IndexByte(auth, '@'); k >= 0; {
			if sc := hostScore(hostOf(auth[k+1:])); sc > best {
				best, at = sc, j
			}
			n := strings.IndexByte(auth[k+1:], '@')
			if n < 0 {
				break
			}
			k += 1 + n
		}
	}
	// Scheme-relative or scheme-without-slashes forms: "http:2852039166", "//127.0.0.1/".
	if best == 0 {
		if i := strings.Index(t, "//"); i == 0 {
			best = hostScore(hostOf(t[2:]))
		}
	}
	if best == 0 {
		for _, sch := range []string{"http:", "https:", "gopher:", "dict:", "ftp:"} {
			if hasPrefixFold(t, sch) && !strings.HasPrefix(t[len(sch):], "//") {
				if sc := hostScore(hostOf(t[len(sch):])); sc > best {
					best = sc
				}
			}
		}
	}
	// A bare host with a path or port, as a URL parameter's whole value:
	// "169.254.169.254/latest", "localhost:8080/", "metadata.google.internal/".
	if best == 0 && !allDigits(t) {
		if h := hostOf(t); h != t || isMetadataHost(h) {
			if sc := hostScore(h); sc >= 90 {
				best = sc - 5
			}
		}
	}
	if i := indexFold(t, "jar:"); i >= 0 && (i == 0 || !isWordByte(t[i-1])) && strings.Contains(t[i:], "!") {
		// jar:http://host/x.jar!/path fetches and opens an archive.
		best, at = max(best, 85), i
	}
	if best > 0 {
		res.add(CodeSSRF, best, excerptAt(t, at))
	}
}

func allDigits(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return t != ""
}

// schemeScore scores URL schemes that fetch from servers but not browsers.
func schemeScore(scheme string) int {
	switch scheme {
	case "gopher", "dict", "expect", "netdoc":
		return 95
	case "file":
		return 90
	case "tftp", "ldap", "ldaps", "jar", "sftp":
		return 80
	}
	return 0
}

// hostOf extracts the host of an authority at the start of s: userinfo dropped, the
// port dropped, brackets kept off IPv6 literals.
func hostOf(s string) string {
	end := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == '?' || c == '#' || c == ' ' || c == '\'' || c == '"' || c == '<' || c == '>' || c == '&' {
			end = i
			break
		}
	}
	a := s[:end]
	if strings.IndexByte(a, '\\') >= 0 {
		// Backslashes some URL parsers drop: http://\l\o\c\a\l\h\o\s\t/.
		a = strings.ReplaceAll(a, "\\", "")
	}
	for _, dot := range []string{"\u3002", "\uff0e", "\uff61"} {
		// Ideographic and fullwidth full stops are label separators to IDNA.
		a = strings.ReplaceAll(a, dot, ".")
	}
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a = a[i+1:]
	}
	if strings.HasPrefix(a, "[") {
		if i := strings.IndexByte(a, ']'); i > 0 {
			return a[1:i]
		}
		return a[1:]
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 && strings.Count(a, ":") == 1 {
		a = a[:i]
	}
	return strings.TrimSuffix(a, ".")
}

// hostScore scores a host: metadata endpoints 95, loopback and unspecified 90,
// link-local, private and cluster-internal names 70.
func hostScore(h string) int {
	if h == "" {
		return 0
	}
	lh := strings.ToLower(h)
	if isMetadataHost(lh) {
		return 95
	}
	switch {
	case lh == "localhost" || strings.HasSuffix(lh, ".localhost") || lh == "localhost.localdomain" || lh == "ip6-localhost" || lh == "ip6-loopback":
		return 90
	case strings.HasSuffix(lh, ".internal") || strings.HasSuffix(lh, ".local") || strings.HasSuffix(lh, ".svc") ||
		strings.Contains(lh, ".svc.cluster.") || strings.HasPrefix(lh, "kubernetes.default") || lh == "kubernetes":
		return 85
	}
	ip, ok := parseIPAny(lh)
	if !ok {
		return 0
	}
	ip = ip.Unmap()
	switch {
	case isMetadataIP(ip):
		return 95
	case ip.IsLoopback() || ip.IsUnspecified():
		return 90
	case ip.IsLinkLocalUnicast():
		return 85
	case ip.IsPrivate():
		return 70
	}
	return 0
}

func isMetadataHost(h string) bool {
	switch h {
	case "metadata.google.internal", "metadata", "metadata.goog", "instance-data", "instance-data.ec2.internal",
		"metadata.azure.com", "metadata.packet.net", "metadata.platformequinix.com", "metadata.tencentyun.com",
		"100-100-100-200.", "kubernetes.docker.internal":
		return true
	}
	if ip, ok := parseIPAny(h); ok {
		return isMetadataIP(ip.Unmap())
	}
	return false
}

func isMetadataIP(ip netip.Addr) bool {
	switch ip {
	case netip.AddrFrom4([4]byte{169, 254, 169, 254}), netip.AddrFrom4([4]byte{169, 254, 170, 2}),
		netip.AddrFrom4([4]byte{100, 100, 100, 200}), netip.AddrFrom4([4]byte{192, 0, 0, 192}),
		netip.MustParseAddr("fd00:ec2::254"):
		return true
	}
	// IPv4 embedded in the low 32 bits of any IPv6 address ("::169.254.169.254").
	if ip.Is6() {
		b := ip.As16()
		zero := true
		for _, x := range b[:10] {
			if x != 0 {
				zero = false
			}
		}
		if zero {
			v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
			return v4 == netip.AddrFrom4([4]byte{169, 254, 169, 254}) || v4 == netip.AddrFrom4([4]byte{100, 100, 100, 200})
		}
	}
	return false
}

// parseIPAny parses an IP literal in the forms inet_aton and URL parsers accept:
// IPv6 (with embedded IPv4), dotted quads whose parts may be decimal, octal (leading
// 0) or hex (0x), and shortened forms where the last part fills the remaining bytes
// (127.1, 2852039166, 0xa9fea9fe).
func parseIPAny(h string) (netip.Addr, bool) {
	if strings.IndexByte(h, ':') >= 0 {
		if i := strings.IndexByte(h, '%'); i >= 0 {
			h = h[:i]
		}
		a, err := netip.ParseAddr(h)
		return a, err == nil
	}
	if h == "" || len(h) > 64 {
		return netip.Addr{}, false
	}
	var parts [4]uint64
	n := 0
	for rest := h; ; {
		if n == 4 {
			return netip.Addr{}, false
		}
		p, tail, more := strings.Cut(rest, ".")
		x, ok := parseIPPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		parts[n] = x
		n++
		if !more {
			break
		}
		rest = tail
	}
	var v uint64
	switch n {
	case 1:
		// Some resolvers reduce an oversized number modulo 2^32
		// (7147006462 is 169.254.169.254).
		v = parts[0] & 0xffffffff
	case 2:
		if parts[0] > 0xff || parts[1] > 0xffffff {
			return netip.Addr{}, false
		}
		v = parts[0]<<24 | parts[1]
	case 3:
		if parts[0] > 0xff || parts[1] > 0xff || parts[2] > 0xffff {
			return netip.Addr{}, false
		}
		v = parts[0]<<24 | parts[1]<<16 | parts[2]
	case 4:
		for _, p := range parts {
			if p > 0xff {
				return netip.Addr{}, false
			}
		}
		v = parts[0]<<24 | parts[1]<<16 | parts[2]<<8 | parts[3]
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPPart(p string) (uint64, bool) {
	if p == "" || len(p) > 18 {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	// Parsed by hand: strconv allocates an error for every non-number, and most
	// hosts are names.
	var x uint64
	for i := 0; i < len(p); i++ {
		var d uint64
		switch c := p[i]; {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		x = x*base + d
	}
	return x, true
}

// detectScannerUA reports User-Agents of offensive scanners.
func (s *Scanner) detectScannerUA(v *value, res *result) {
	if v.hits.groups&gUATool != 0 {
		res.add(CodeScannerProbe, 90, excerptAt(v.norm, s.kw.firstHit(&v.hits, gUATool)))
	}
}

// detectProtocol reports protocol-level tricks inside a value: CRLF injection of
// headers or a response split, a smuggled request line, NUL bytes, other control
// characters and overlong UTF-8, none of which a browser puts in a form field.
func (s *Scanner) detectProtocol(v *value, res *result) {
	if !v.has(clsNL|clsCtl|clsHigh) && !v.has(clsSlash) {
		return
	}
	t := v.norm
	if v.has(clsNL) {
		if v.kind == kindKey || v.kind == kindPath {
			// Names and paths never hold a line break.
			i := strings.IndexAny(t, "\r\n")
			res.add(CodeProtocol, 85, excerptAt(t, max(i-16, 0)))
			return
		}
		if loc := s.re.crlfHeader.FindStringIndex(t); loc != nil && v.kind != kindText {
			// (A raw text body may well hold "Name: value" lines.)
			res.add(CodeProtocol, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if v.hits.groups&gHTTPVer != 0 && v.has(clsSpace|clsNL) {
		if loc := s.re.requestLine.FindStringIndex(t); loc != nil {
			res.add(CodeProtocol, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if !v.has(clsNL | clsCtl | clsHigh) {
		return
	}
	if i := strings.IndexByte(v.app, 0); i >= 0 {
		res.add(CodeProtocol, 85, excerptAt(v.app, max(i-16, 0)))
		return
	}
	if v.has(clsHigh) {
		for i := 0; i+1 < len(v.app); i++ {
			if c := v.app[i]; (c == 0xC0 || c == 0xC1) && v.app[i+1]&0xC0 == 0x80 || c == 0xE0 && v.app[i+1]&0xE0 == 0x80 || c == 0xF0 && v.app[i+1]&0xF0 == 0x80 {
				res.add(CodeProtocol, 85, excerptAt(v.app, i))
				return
			}
		}
	}
	if v.has(clsCtl) && v.kind != kindText {
		for i := 0; i < len(v.app); i++ {
			if c := v.app[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				res.add(CodeProtocol, 70, excerptAt(v.app, max(i-16, 0)))
				return
			}
		}
	}
}
