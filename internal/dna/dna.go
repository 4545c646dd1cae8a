// Package dna assembles request DNA (see package fingerprint) from what a guard
// observed about a request and its connection, and gives it its stable ID and its
// readable header fingerprint (HDNA). docs/dna.md specifies both formats.
package dna

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/headers"
)

// shaped is the set of vocabulary bits whose header values, not only their presence,
// shape the ID.
const shaped = 1<<headers.UserAgent | 1<<headers.Accept | 1<<headers.AcceptEncoding |
	1<<headers.AcceptLanguage | 1<<headers.SecChUa | 1<<headers.SecFetchMode

// Input is what one request showed besides its headers. Every field may be empty,
// meaning unknown.
type Input struct {
	Family, Kind string // the client classification, from the User-Agent or known clients
	// Source is "request", "connection" or "upstream" (see fingerprint.DNA.Source);
	// empty means "request".
	Source string
	// Protocol is "h1" or "h2" when the header order is known.
	Protocol string
	// Pseudo is the HTTP/2 pseudo-header order as first letters, "m,a,s,p".
	Pseudo string
	TLS    *fingerprint.TLS
	H2     *fingerprint.H2
}

// Hasher builds DNA. Its zero value is not usable; use NewHasher. A Hasher is safe for
// concurrent use. The IDs it gives are the same in every process (see docs/dna.md); it
// keeps the IDs of the last few hundred profiles it saw, keyed by a fast per-process
// hash, so that the profiles a site sees all day cost neither a SHA-256 nor an
// allocation.
type Hasher struct {
	seed    maphash.Seed
	entries [cacheSize]atomic.Pointer[entry] // direct-mapped by the low bits of the key
}

// cacheSize is the number of remembered profiles, a power of two.
const cacheSize = 1024

// entry is one remembered profile. Entries are immutable once published.
type entry struct {
	key    uint64
	id     string
	hdna   string
	hdnaID string
	order  []string // the order the entry was made for; nil when unknown
}

// NewHasher returns a Hasher with a fresh random cache seed.
func NewHasher() *Hasher { return &Hasher{seed: maphash.MakeSeed()} }

// FromRequest is the DNA of r from the request alone (middleware mode).
func (h *Hasher) FromRequest(r *http.Request, family, kind string) fingerprint.DNA {
	var hs headers.Set
	hs.Read(r.Header)
	return h.FromSet(&hs, family, kind)
}

// FromSet is the DNA of a request from its headers alone (middleware mode): presence
// and value shapes; order, TLS and HTTP/2 unknown.
func (h *Hasher) FromSet(hs *headers.Set, family, kind string) fingerprint.DNA {
	return h.DNA(hs, nil, &Input{Family: family, Kind: kind})
}

// DNA assembles the DNA of a request whose headers hs holds, whose header names in
// wire order are order (raw case for HTTP/1, regular headers only for HTTP/2; nil when
// unknown), and whose other observations in holds. It allocates only for a profile that
// is not among the last few hundred it saw, and keeps neither hs nor order. (They are
// arguments of their own so that the caller's stack buffers stay on the stack.)
func (h *Hasher) DNA(hs *headers.Set, order []string, in *Input) fingerprint.DNA {
	d := fingerprint.DNA{Family: in.Family, Kind: in.Kind, Source: in.Source, Presence: hs.Present(),
		Extra: hs.NumOthers(), TLS: in.TLS, H2: in.H2}
	if d.Source == "" {
		d.Source = "request"
	}
	key := h.key(hs, order, in)
	slot := &h.entries[key&(cacheSize-1)]
	e := slot.Load()
	if e == nil || e.key != key || !sameOrder(e.order, order) {
		e = newEntry(key, hs, order, in)
		slot.Store(e)
	}
	d.ID = e.id
	if order != nil {
		d.Protocol, d.HeaderOrder, d.HDNA, d.HDNAID = in.Protocol, e.order, e.hdna, e.hdnaID
	}
	return d
}

// key hashes everything the ID depends on with the per-process seed. Values are
// combined with a sum of independent per-value hashes where the order of visiting
// does not matter, and chained where it does.
func (h *Hasher) key(hs *headers.Set, order []string, in *Input) uint64 {
	var sum uint64
	for sh := hs.Present() & shaped; sh != 0; sh &= sh - 1 {
		n := headers.Name(bits.TrailingZeros64(sh))
		if !hs.Multiple(n) {
			v, _ := hs.Get(n)
			sum += mix(uint64(n)<<8, maphash.String(h.seed, v))
			continue
		}
		for j, v := range hs.Values(n) {
			sum += mix(uint64(n)<<8|uint64(min(j, 255)), maphash.String(h.seed, v))
		}
	}
	k := mix(mix(hs.Present(), uint64(min(hs.NumOthers(), 255))), sum)
	if order != nil {
		k = mix(k, maphash.String(h.seed, in.Protocol)+1)
		for _, name := range order {
			k = mix(k, maphash.String(h.seed, name))
		}
		k = mix(k, maphash.String(h.seed, in.Pseudo))
	}
	if in.TLS != nil {
		k = mix(k, maphash.String(h.seed, StableJA4(in.TLS.JA4))+2)
	}
	if in.H2 != nil {
		k = mix(k, maphash.String(h.seed, in.H2.Akamai)+3)
	}
	return k
}

// newEntry computes the stable ID and the HDNA of in (docs/dna.md).
func newEntry(key uint64, hs *headers.Set, order []string, in *Input) *entry {
	e := &entry{key: key}
	var b strings.Builder
	b.WriteString("vigil-dna1\n")
	if order != nil {
		e.order = append([]string(nil), order...)
		e.hdna = HDNA(in.Protocol, in.Pseudo, order)
		sum := sha256.Sum256([]byte(e.hdna))
		e.hdnaID = "ho1-" + hex.EncodeToString(sum[:6])
		b.WriteString("o=" + e.hdna + "\n")
	}
	b.WriteString("v=" + strconv.FormatUint(hs.Present(), 16) + "+" + strconv.Itoa(hs.NumOthers()) + "\n")
	for sh := hs.Present() & shaped; sh != 0; sh &= sh - 1 {
		n := headers.Name(bits.TrailingZeros64(sh))
		for _, v := range hs.Values(n) {
			b.WriteString("h=" + n.String() + ":" + strconv.Quote(v) + "\n")
		}
	}
	if in.TLS != nil {
		b.WriteString("t=" + StableJA4(in.TLS.JA4) + "\n")
	}
	if in.H2 != nil {
		b.WriteString("2=" + withoutGREASE(in.H2.Akamai) + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	e.id = "d1-" + hex.EncodeToString(sum[:8])
	return e
}

// HDNA returns the readable header fingerprint of a header order:
// "hdna1:<protocol>:<case style>:<pseudo order or ->:<names>" (docs/dna.md).
func HDNA(protocol, pseudo string, order []string) string {
	if pseudo == "" {
		pseudo = "-"
	}
	return "hdna1:" + protocol + ":" + string(CaseStyle(protocol, order)) + ":" + pseudo + ":" + strings.Join(order, ",")
}

// CaseStyle classifies the case of header names: 'l' all lower case (always so for
// HTTP/2), 'T' every name Title-Case, 'c' Title-Case except lower-case "sec-ch-"
// client hints (Chrome over HTTP/1.1), 'm' anything else. Names without letters do not
// count.
func CaseStyle(protocol string, names []string) byte {
	if protocol == "h2" {
		return 'l'
	}
	lower, title, hints := true, true, true
	for _, n := range names {
		l, t := isLower(n), isTitle(n)
		lower = lower && l
		title = title && t
		hints = hints && (t || l && strings.HasPrefix(n, "sec-ch-"))
	}
	switch {
	case lower:
		return 'l'
	case title:
		return 'T'
	case hints:
		return 'c'
	}
	return 'm'
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// isTitle reports whether every hyphen-separated word of s starts with an upper-case
// letter or a digit and continues in lower case.
func isTitle(s string) bool {
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			start = true
			continue
		case start && 'a' <= c && c <= 'z':
			return false
		case !start && 'A' <= c && c <= 'Z':
			return false
		}
		start = false
	}
	return true
}

// StableJA4 is the part of a JA4 that resumption does not change: protocol, version,
// SNI, cipher count and ALPN of JA4_a, and JA4_b. Extensions (pre_shared_key, ticket,
// padding) come and go between fresh and resumed handshakes of one client.
func StableJA4(ja4 string) string {
	if len(ja4) < 24 || ja4[10] != '_' {
		return ja4
	}
	return ja4[:6] + ja4[8:10] + ja4[10:23]
}

// withoutGREASE drops settings of the GREASE shape (0x?a?a) from an Akamai string:
// Chrome has been seen to add one with a random value.
func withoutGREASE(akamai string) string {
	settings, rest, ok := strings.Cut(akamai, "|")
	if !ok {
		return akamai
	}
	var kept []string
	for _, kv := range strings.Split(settings, ";") {
		id, _, _ := strings.Cut(kv, ":")
		if n, err := strconv.ParseUint(id, 10, 16); err == nil && n&0x0f0f == 0x0a0a {
			continue
		}
		kept = append(kept, kv)
	}
	return strings.Join(kept, ";") + "|" + rest
}

func sameOrder(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mix combines two 64-bit values into a well-distributed one (the splitmix64 finaliser
// over their sum with a multiplier on the first).
func mix(a, b uint64) uint64 {
	x := a*0x9e3779b97f4a7c15 + b
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
