// Package fingerprint describes who is calling: the request DNA that Vigil computes for
// every request and keeps while a client rotates IP addresses.
//
// What can be known depends on how much of the connection Vigil owns. In pure middleware
// mode (a plain http.Handler) the header order, TLS and HTTP/2 fingerprints are lost by
// net/http before Vigil runs, so a DNA built by FromRequest carries only what the request
// itself shows: which well-known headers are present and the shape of a few of their
// values. Fields that cannot be known are left empty and reported as unknown; they are never
// guessed.
//
// Vigil's header fingerprint is its own format. It is not JA4H and does not reuse JA4H's
// construction.
package fingerprint

import (
	"hash/maphash"
	"net/http"
	"strconv"
)

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
	// Source says how the DNA was obtained: "request" for FromRequest (middleware mode).
	Source string
}

// vocabulary is the fixed, ordered header vocabulary of the presence vector. Indices are
// stable: new names are only ever appended.
var vocabulary = [...]string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection",
	"Cookie", "Dnt", "Origin", "Pragma", "Priority", "Referer",
	"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Te",
	"Upgrade-Insecure-Requests", "User-Agent", "Content-Type", "Content-Length",
	"Authorization", "X-Requested-With", "If-None-Match", "If-Modified-Since", "Range",
}

// Vocabulary returns the header names of the presence vector in bit order.
func Vocabulary() []string { return vocabulary[:] }

// shaped lists the headers whose values, not only their presence, shape the ID.
var shaped = [...]string{"User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Sec-Ch-Ua", "Sec-Fetch-Mode"}

// Hasher computes DNA IDs. Its zero value is not usable; use NewHasher. A Hasher is
// immutable and safe for concurrent use. IDs from different Hashers differ, so one
// process should use one Hasher.
type Hasher struct {
	seed maphash.Seed
}

// NewHasher returns a Hasher with a fresh random seed.
func NewHasher() *Hasher { return &Hasher{seed: maphash.MakeSeed()} }

// FromRequest computes the DNA of r from what the request itself shows: header presence
// and value shapes. family and kind come from the caller's client classification and may be
// empty. It costs one allocation (the ID string).
func (h *Hasher) FromRequest(r *http.Request, family, kind string) DNA {
	d := DNA{Family: family, Kind: kind, Source: "request"}
	for name := range r.Header {
		i := index(name)
		if i < 0 {
			d.Extra++
			continue
		}
		d.Presence |= 1 << uint(i)
	}
	var mh maphash.Hash
	mh.SetSeed(h.seed)
	var buf [8]byte
	mh.Write(strconv.AppendUint(buf[:0], d.Presence, 16))
	mh.WriteByte(byte(min(d.Extra, 255)))
	for _, name := range shaped {
		for _, v := range r.Header[name] {
			mh.WriteString(v)
		}
		mh.WriteByte(0)
	}
	var out [20]byte
	b := append(out[:0], "r1-"...)
	b = strconv.AppendUint(b, mh.Sum64(), 16)
	d.ID = string(b)
	return d
}

func index(canonical string) int {
	for i, v := range vocabulary {
		if v == canonical {
			return i
		}
	}
	return -1
}
