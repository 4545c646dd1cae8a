// Package fingerprint describes who is calling: the request DNA that Vigil computes for
// every request and keeps while a client rotates IP addresses.
//
// What can be known depends on how much of the connection Vigil owns. In pure middleware
// mode (a plain http.Handler) the header order, TLS and HTTP/2 fingerprints are lost by
// net/http before Vigil runs, so the DNA a guard computes there carries only what the
// request itself shows: which well-known headers are present and the shape of a few of
// their values. Fields that cannot be known are left empty and reported as unknown; they
// are never guessed.
//
// Vigil's header fingerprint is its own format. It is not JA4H and does not reuse JA4H's
// construction.
package fingerprint

import "github.com/vigilhq/vigil/internal/headers"

// DNA is the identity of a client as far as one request and its connection show it. The
// zero value is an unknown client. A DNA is a plain value, safe to copy and to share
// between goroutines; its slices and pointers refer to immutable data and must not be
// modified.
//
// Fields that could not be observed are empty (nil for HeaderOrder, TLS and H2). They
// are reported as unknown, never guessed: see the table in docs/dna.md for what each
// deployment mode can observe.
type DNA struct {
	// ID identifies the client software: equal IDs mean the same protocol, header
	// order and case, presence vector, value shapes, TLS stack (JA4 without the parts
	// that change on resumption) and HTTP/2 fingerprint, as far as each is known. It is
	// computed the same way by every instance of the same DNA format version
	// ("d1-…"), so IDs can be shared through a common store. It is empty when nothing
	// was computed.
	ID string `json:"id,omitempty"`
	// Family is the short client family name when known, for example "chrome", "curl"
	// or "googlebot". Empty means unknown.
	Family string `json:"family,omitempty"`
	// Kind is the client kind when known: "browser", "crawler", "library",
	// "automation" or "scanner". Empty means unknown.
	Kind string `json:"kind,omitempty"`
	// Source says where the DNA came from: "request" when from the request alone
	// (middleware mode: no order, TLS or HTTP/2 fingerprint), "connection" when Vigil
	// observed the connection, "upstream" when a trusted proxy forwarded fingerprints.
	Source string `json:"source,omitempty"`
	// Protocol is "h1" or "h2" when the header order was observed; empty otherwise.
	Protocol string `json:"protocol,omitempty"`
	// HeaderOrder is the header names as they arrived, in wire order and, for HTTP/1,
	// raw case, duplicates kept; HTTP/2 pseudo-headers are not in it (see H2). It is nil
	// when the order is unknown, which is always the case in middleware mode.
	HeaderOrder []string `json:"header_order"`
	// HDNA is Vigil's header fingerprint in its readable form (docs/dna.md), or empty
	// when the header order is unknown.
	HDNA string `json:"hdna,omitempty"`
	// HDNAID is the short stable ID of HDNA ("ho1-…"), empty when the order is
	// unknown.
	HDNAID string `json:"hdna_id,omitempty"`
	// Presence is a bit set over the header vocabulary listed by Vocabulary: bit i is
	// set when header Vocabulary()[i] is present.
	Presence uint64 `json:"presence"`
	// Extra counts headers outside the vocabulary.
	Extra int `json:"extra"`
	// TLS is the ClientHello's fingerprint, nil when Vigil did not see the handshake.
	TLS *TLS `json:"tls,omitempty"`
	// H2 is the HTTP/2 connection's fingerprint, nil for HTTP/1 or when not observed.
	H2 *H2 `json:"h2,omitempty"`
}

// TLS is the fingerprint of a client's TLS ClientHello. Values are lowercase.
type TLS struct {
	// JA4 is the FoxIO JA4 fingerprint, for example
	// "t13d1516h2_8daaf6152771_02713d6af862".
	JA4 string `json:"ja4"`
	// JA4R is JA4_r, the raw (unhashed, sorted) form of JA4.
	JA4R string `json:"ja4_r,omitempty"`
	// JA3 is the MD5 of the JA3 string. Chrome permutes its extensions on every
	// connection, so its JA3 changes; JA3N does not.
	JA3 string `json:"ja3,omitempty"`
	// JA3N is the MD5 of the JA3 string with the extensions sorted.
	JA3N string `json:"ja3n,omitempty"`
	// Exact reports that the fingerprints come from the raw ClientHello bytes. When
	// false they come from crypto/tls's ClientHelloInfo, which hides the legacy
	// version when supported_versions is present: JA3 then assumes 771 (TLS 1.2), as
	// RFC 8446 requires of clients.
	Exact bool `json:"exact"`
}

// H2 is the fingerprint of an HTTP/2 connection's opening frames.
type H2 struct {
	// Akamai is the Akamai HTTP/2 fingerprint in the common convention
	// (SETTINGS|WINDOW_UPDATE|PRIORITY|pseudo-header order), for example
	// "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p".
	Akamai string `json:"akamai"`
	// Hash is the MD5 of Akamai in lowercase hex.
	Hash string `json:"hash"`
}

// Vocabulary returns the header names of the presence vector in bit order. Indices are
// stable: new names are only ever appended. The caller must not modify the slice.
func Vocabulary() []string { return headers.Vocabulary() }
