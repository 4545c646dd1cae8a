package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/vigilhq/vigil/internal/ipset"
)

// Bounds on the work done for one request; see "Trust model" in the package doc.
const (
	// maxEntries is the most list elements examined per request, empty ones
	// included.
	maxEntries = 32
	// maxHeaderBytes is the most header text examined per request, counted from
	// the right end of the last line.
	maxHeaderBytes = 4 << 10
	// maxEntryBytes is the longest X-Forwarded-For element or single-address
	// header value accepted, white space included. The longest address with a
	// zone and a port is far shorter.
	maxEntryBytes = 128
	// maxElementBytes is the longest Forwarded element accepted: room for for=,
	// by=, proto= and a host= of the longest DNS name.
	maxElementBytes = 512
)

// Canonical header keys, as net/http stores them in http.Header.
const (
	headerXFF       = "X-Forwarded-For"
	headerForwarded = "Forwarded"
)

// Config says which proxies are trusted and which header they write. The zero
// value trusts no proxy: the client is always RemoteAddr.
type Config struct {
	// TrustedProxies are the CIDR prefixes ("10.0.0.0/8", "2001:db8::/32") or single
	// addresses ("192.0.2.7") of the proxies whose forwarding headers are believed,
	// parsed as by ipset.Parse. List only the proxies' own addresses: a prefix that
	// also covers clients (0.0.0.0/0 at the extreme) lets those clients choose the
	// address they are seen as. Empty: no header is ever believed and the client is
	// RemoteAddr.
	TrustedProxies []string

	// Header names the header the trusted proxies write. Empty or "X-Forwarded-For"
	// (any case): X-Forwarded-For. "Forwarded": RFC 7239's Forwarded header. Only the
	// one header is read, never a fallback to the other: whether a header is present
	// is the client's choice, so a fallback would let the client pick the header
	// that is believed. Any other name, such as "X-Real-IP"
	// or "CF-Connecting-IP": a header holding a single address, which every trusted
	// proxy must set, replacing any copy the client sent; a proxy that passes the
	// client's copy through makes the address spoofable. Header requires
	// TrustedProxies, since without them it would never be read.
	Header string
}

// mode is where the forwarding chain comes from.
type mode uint8

const (
	modeXFF mode = iota // the zero value: the default
	modeForwarded
	modeSingle
)

// Resolver finds the client address of requests according to a [Config].
//
// The zero value and a nil *Resolver trust no proxy, like New(Config{}). A Resolver
// is immutable and safe for concurrent use by multiple goroutines.
type Resolver struct {
	trusted *ipset.Set // nil when no proxy is trusted
	mode    mode
	header  string // canonical key of the single-address header, for modeSingle
	peers   peerMemo
}

// New validates cfg and returns a Resolver for it. The error names the offending
// entry or header.
func New(cfg Config) (*Resolver, error) {
	r := new(Resolver)
	if len(cfg.TrustedProxies) > 0 {
		set, err := ipset.Parse(cfg.TrustedProxies)
		if err != nil {
			return nil, fmt.Errorf("clientip: TrustedProxies: %w", err)
		}
		r.trusted = set
	}
	if cfg.Header == "" {
		return r, nil
	}
	if !isToken(cfg.Header) {
		return nil, fmt.Errorf("clientip: Header %q is not a valid header name", cfg.Header)
	}
	if r.trusted == nil {
		return nil, fmt.Errorf("clientip: Header %q is set but TrustedProxies is empty, so the header would never be believed", cfg.Header)
	}
	switch key := textproto.CanonicalMIMEHeaderKey(cfg.Header); key {
	case headerXFF:
		r.mode = modeXFF
	case headerForwarded:
		r.mode = modeForwarded
	default:
		r.mode = modeSingle
		r.header = key
	}
	return r, nil
}

// ClientIP returns the address of the client that sent req, following the trust
// model in the package doc. The result is never IPv4-mapped and never has a zone.
// It is the zero netip.Addr only when req.RemoteAddr is not an IP address (for
// example on a Unix socket).
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	var peer netip.Addr
	if r != nil {
		peer = r.peer(req.RemoteAddr)
	} else {
		peer = parseRemoteAddr(req.RemoteAddr)
	}
	if r == nil || !peer.IsValid() || !r.trusted.Contains(peer) {
		return peer
	}
	switch r.mode {
	case modeForwarded:
		return r.walk(req.Header[headerForwarded], true, peer)
	case modeSingle:
		return single(req.Header[r.header], peer)
	default:
		return r.walk(req.Header[headerXFF], false, peer)
	}
}

// Trusted reports whether ip is one of the configured trusted proxies. An
// IPv4-mapped ip is looked up as IPv4 and a zone is ignored.
func (r *Resolver) Trusted(ip netip.Addr) bool {
	return r != nil && r.trusted.Contains(ip)
}

// TrustedIn reports whether any trusted proxy lies inside pfx or pfx lies inside a
// trusted prefix, so that banning pfx could ban a trusted proxy.
func (r *Resolver) TrustedIn(pfx netip.Prefix) bool {
	return r != nil && r.trusted.Overlaps(pfx)
}

// Prefix returns the network a rate limit or ban should key on for the client ip:
// the /32 of an IPv4 address and the /64 of an IPv6 address, since a single IPv6
// host usually owns a whole /64 and can change address inside it at will. An
// IPv4-mapped ip gives the IPv4 /32 and a zone is dropped. The zero Addr gives the
// zero Prefix.
func Prefix(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 64
	if ip.Is4() {
		bits = 32
	}
	p, err := ip.Prefix(bits)
	if err != nil { // unreachable: bits fits both families
		return netip.Prefix{}
	}
	return p
}

// AppendPrefix appends the text of Prefix(ip) to b, as Prefix(ip).AppendTo(b) would
// ("192.0.2.1/32", "2001:db8:1:2::/64"), the IPv4 form in a third of the time: it keys
// every request's client in the rate limits and the behaviour tracker.
func AppendPrefix(b []byte, ip netip.Addr) []byte {
	ip = ip.Unmap()
	if !ip.Is4() {
		return Prefix(ip).AppendTo(b)
	}
	a := ip.As4()
	for i, o := range a {
		if i > 0 {
			b = append(b, '.')
		}
		switch {
		case o >= 100:
			b = append(b, '0'+o/100, '0'+o/10%10, '0'+o%10)
		case o >= 10:
			b = append(b, '0'+o/10, '0'+o%10)
		default:
			b = append(b, '0'+o)
		}
	}
	return append(b, "/32"...)
}

// walk reads the chain in lines right to left, as the package doc describes, and
// returns the client address. peer is RemoteAddr, already known to be trusted.
func (r *Resolver) walk(lines []string, forwarded bool, peer netip.Addr) netip.Addr {
	last := peer // the last good address: the hop that wrote what is examined next
	budget := maxHeaderBytes
	entries := 0
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		cut := false // the budget cuts this line: its leftmost piece is partial
		if len(line) > budget {
			line, cut = line[len(line)-budget:], true
		}
		budget -= len(line)
		for more := true; more; {
			if entries++; entries > maxEntries {
				return last
			}
			var elem string
			var ok bool
			if forwarded {
				elem, line, more, ok = lastForwardedElement(line)
			} else {
				elem, line, more = lastListElement(line)
				ok = len(elem) <= maxEntryBytes
			}
			if !ok || !more && cut {
				return last
			}
			if elem = trimOWS(elem); elem == "" {
				continue // empty list elements are allowed (RFC 9110, section 5.6.1)
			}
			var ip netip.Addr
			if forwarded {
				ip, ok = forwardedFor(elem)
			} else {
				ip, ok = parseNode(elem, false)
			}
			if !ok {
				return last
			}
			if !r.trusted.Contains(ip) {
				return ip
			}
			last = ip
		}
	}
	return last
}

// single returns the address in a single-address header, or peer when the header
// is missing, repeated, or does not hold exactly one address.
func single(lines []string, peer netip.Addr) netip.Addr {
	if len(lines) != 1 || len(lines[0]) > maxEntryBytes {
		return peer
	}
	if ip, ok := parseNode(trimOWS(lines[0]), false); ok {
		return ip
	}
	return peer
}

// lastListElement splits s at its last comma: elem is the text after it, rest the
// text before it, and more reports whether there was a comma.
func lastListElement(s string) (elem, rest string, more bool) {
	i := strings.LastIndexByte(s, ',')
	if i < 0 {
		return s, "", false
	}
	return s[i+1:], s[:i], true
}

// lastForwardedElement is lastListElement for a Forwarded field value, where a
// comma inside a quoted string does not separate elements. ok is false when the
// element is longer than maxElementBytes, or its quotes do not balance, or it
// holds a backslash: quoted-pair escapes are never needed for the values Vigil
// reads, and without them quotes can be matched from the right.
func lastForwardedElement(s string) (elem, rest string, more, ok bool) {
	// A comma separates elements when an even number of quotes lies to its right.
	// LastIndexByte, Count and IndexByte are vectorised, so this is not a byte loop.
	quotes := 0
	for end := len(s); ; {
		i := strings.LastIndexByte(s[:end], ',')
		quotes += strings.Count(s[i+1:end], `"`)
		if len(s)-(i+1) > maxElementBytes {
			return "", "", false, false
		}
		if i >= 0 && quotes%2 != 0 {
			end = i // the comma is inside a quoted string
			continue
		}
		elem = s[i+1:]
		if quotes%2 != 0 || strings.IndexByte(elem, '\\') >= 0 {
			return "", "", false, false
		}
		if i < 0 {
			return elem, "", false, true
		}
		return elem, s[:i], true, true
	}
}

// forwardedFor returns the address in the for= parameter of one Forwarded
// element (RFC 7239, section 4). ok is false when the element is malformed, has no
// or several for= parameters, or names an unknown or obfuscated node. elem has
// balanced quotes and no backslash (see lastForwardedElement).
func forwardedFor(elem string) (netip.Addr, bool) {
	var node string
	found := false
	for elem != "" {
		var pair string
		pair, elem = cutPair(elem)
		if pair = trimOWS(pair); pair == "" {
			continue // empty pairs are allowed: for=a;;proto=http
		}
		name, value, ok := strings.Cut(pair, "=")
		if !ok || !isToken(name) {
			return netip.Addr{}, false
		}
		if value, ok = paramValue(value); !ok {
			return netip.Addr{}, false
		}
		if !strings.EqualFold(name, "for") {
			continue
		}
		if found {
			return netip.Addr{}, false
		}
		node, found = value, true
	}
	// "unknown" and obfuscated identifiers ("_hidden") hide the node: stop there.
	if !found || node == "" || node[0] == '_' || strings.EqualFold(node, "unknown") {
		return netip.Addr{}, false
	}
	return parseNode(node, true)
}

// cutPair splits a Forwarded element at its first semicolon outside quotes.
func cutPair(s string) (pair, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// paramValue returns the text of a Forwarded parameter value: the inside of a
// quoted string, or a bare value. Bare values may hold ':', '[' and ']', which a
// strict token may not, because some proxies write for=[2001:db8::1] unquoted.
func paramValue(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		return v, !strings.Contains(v, `"`)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != ':' && c != '[' && c != ']' && !isTokenChar(c) {
			return "", false
		}
	}
	return v, v != ""
}

// parseNode parses one hop's address: "192.0.2.1", "2001:db8::1", "fe80::1%eth0",
// "192.0.2.1:8080", "[2001:db8::1]" or "[2001:db8::1]:4711". When obfPort is true
// the port may also be an obfuscated RFC 7239 port ("_abc"). The result is
// normalised.
func parseNode(s string, obfPort bool) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		ip, err := netip.ParseAddr(s[1:end])
		if err != nil || !ip.Is6() {
			return netip.Addr{}, false
		}
		if port := s[end+1:]; port != "" && (port[0] != ':' || !validPort(port[1:], obfPort)) {
			return netip.Addr{}, false
		}
		return normalize(ip), true
	}
	// Checking the colon count first spares a failing ParseAddr, which allocates
	// its error: IPv4 has none, IPv4 with a port one, IPv6 at least two.
	switch strings.Count(s, ":") {
	case 0:
		ip, err := netip.ParseAddr(s)
		return normalize(ip), err == nil
	case 1:
		host, port, _ := strings.Cut(s, ":")
		ip, err := netip.ParseAddr(host)
		if err != nil || !validPort(port, obfPort) {
			return netip.Addr{}, false
		}
		return normalize(ip), true
	default:
		ip, err := netip.ParseAddr(s)
		return normalize(ip), err == nil
	}
}

// validPort reports whether s is a decimal port, or, if obf, an obfuscated port
// (RFC 7239, section 6: "_" followed by letters, digits, '.', '_' or '-').
func validPort(s string, obf bool) bool {
	if obf && len(s) > 1 && s[0] == '_' {
		for i := 1; i < len(s); i++ {
			if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return false
			}
		}
		return true
	}
	if s == "" || len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 0xffff
}

// peer is parseRemoteAddr through the Resolver's memo of recent IPv4 peers.
func (r *Resolver) peer(s string) netip.Addr {
	k, ok := makeMemoKey(s)
	if !ok {
		return parseRemoteAddr(s)
	}
	if ip, ok := r.peers.get(k, len(s)); ok {
		return ip
	}
	ip := parseRemoteAddr(s)
	if ip.Is4() {
		r.peers.put(k, len(s), ip)
	}
	return ip
}

// parseRemoteAddr parses http.Request.RemoteAddr: "ip:port", "[ipv6]:port" or a
// bare address. Anything else, such as a Unix socket's "@", gives the zero Addr.
func parseRemoteAddr(s string) netip.Addr {
	if s == "" || s == "@" || s[0] == '/' {
		return netip.Addr{}
	}
	if ip, ok := parseIPv4Port(s); ok {
		return ip
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr())
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return normalize(ip)
	}
	return netip.Addr{}
}

// parseIPv4Port parses the form almost every RemoteAddr has, "a.b.c.d:port", in a
// quarter of the time netip.ParseAddrPort takes. When ok is false, s may still be
// valid (IPv6, a port with leading zeros): the caller parses it in full. When ok is
// true, the address is the one netip.ParseAddrPort returns.
func parseIPv4Port(s string) (ip netip.Addr, ok bool) {
	var b [4]byte
	i := 0
	for k := range b {
		n, digits := 0, 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if digits == 1 && n == 0 {
				return netip.Addr{}, false // a leading zero: netip rejects it
			}
			n = n*10 + int(s[i]-'0')
			if digits++; n > 255 {
				return netip.Addr{}, false
			}
		}
		if digits == 0 {
			return netip.Addr{}, false
		}
		b[k] = byte(n)
		sep := byte('.')
		if k == len(b)-1 {
			sep = ':'
		}
		if i == len(s) || s[i] != sep {
			return netip.Addr{}, false
		}
		i++
	}
	port, digits := 0, 0
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || digits == 5 {
			return netip.Addr{}, false
		}
		port = port*10 + int(s[i]-'0')
		digits++
	}
	if digits == 0 || port > 65535 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// normalize unmaps IPv4-mapped IPv6 addresses and drops zones.
func normalize(ip netip.Addr) netip.Addr {
	return ip.Unmap().WithZone("")
}

// trimOWS removes the optional white space of RFC 9110 (spaces and tabs) from
// both ends of s.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return isAlnum(c)
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
