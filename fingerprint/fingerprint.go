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

// DNA is the identity of a client as far as one request shows it. The zero value is an
// unknown client. A DNA is a plain value, safe to copy and to share between goroutines.
type DNA struct {
	// ID is a stable identifier of the header profile: equal IDs mean the same presence
	// vector and the same value shapes. It is empty when nothing was computed. IDs are
	// comparable within one build of Vigil; they are not meant to be stored across
	// versions.
	ID string
	// Family is the short client family name when known, for example "chrome", "curl"
	// or "googlebot". Empty means unknown.
	Family string
	// Kind is the client kind when known: "browser", "crawler", "library",
	// "automation" or "scanner". Empty means unknown.
	Kind string
	// Presence is a bit set over the header vocabulary listed by Vocabulary: bit i is
	// set when header Vocabulary()[i] is present.
	Presence uint64
	// Extra counts headers outside the vocabulary.
	Extra int
	// Source says how the DNA was obtained: "request" when from the request alone
	// (middleware mode).
	Source string
}

// Vocabulary returns the header names of the presence vector in bit order. Indices are
// stable: new names are only ever appended. The caller must not modify the slice.
func Vocabulary() []string { return headers.Vocabulary() }
