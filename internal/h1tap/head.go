package h1tap

import (
	"iter"
	"strings"
)

// Status says whether a Head was captured and, if not, why the request's head is
// unknown.
type Status uint8

const (
	// StatusNone is the zero Status: no tap saw the request (no Tap on the
	// connection, or a Head that did not come from Pop).
	StatusNone Status = iota
	// StatusOK means the Head is the request's own, verified against its
	// method and target.
	StatusOK
	// StatusPassthrough means the connection stopped carrying HTTP/1 requests
	// the tap parses: after an Upgrade header, CONNECT, the HTTP/2 preface
	// ("PRI"), or Stop (a hijack).
	StatusPassthrough
	// StatusOverflow means more heads were pipelined than the tap queues (8);
	// the tap gave up on the rest of the connection.
	StatusOverflow
	// StatusInvalid means the tap met bytes net/http rejects, or frames in a way
	// the tap does not mirror exactly, and gave up on the rest of the
	// connection rather than guess.
	StatusInvalid
	// StatusMismatch means a Pop did not find its request at the head of the
	// queue: the tap and net/http disagreed on where requests begin (or Pop
	// was skipped for a request), so the tap gave up on the connection.
	StatusMismatch
)

var statusNames = [...]string{
	StatusNone:        "none",
	StatusOK:          "ok",
	StatusPassthrough: "passthrough",
	StatusOverflow:    "overflow",
	StatusInvalid:     "invalid",
	StatusMismatch:    "mismatch",
}

// String returns the status in lowercase, for logs.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

type headFlags uint8

const (
	flagTruncated headFlags = 1 << iota
	flagFolded
	flagContentLength
	flagCookie
	flagReferer
	flagAcceptLanguage
)

// A Head is what the tap recorded of one request head: the method and target, the
// header names in wire order with their raw case and duplicates, the number of header
// lines, and the few values fingerprinting needs.
//
// The zero Head is unknown (StatusNone): every accessor returns its zero value. A Head
// is an immutable value holding one string; it is safe to copy and to use from any
// goroutine.
//
// Recording is bounded: the first 64 KiB of a head, 128 names, 1 KiB of User-Agent
// and 64 bytes of Transfer-Encoding and Upgrade. Past a bound the tap still parses and
// counts lines, and Truncated reports true.
type Head struct {
	// data is the method, the target, the User-Agent, Transfer-Encoding and
	// Upgrade values and then the names, one after the other. A name is one
	// byte 1..127, an index into commonNames plus one, or a 0 byte, a
	// little-endian uint16 length and the name's bytes.
	data   string
	status Status
	flags  headFlags
	nnames uint8
	mEnd   uint32
	tEnd   uint32
	uaEnd  uint32
	teEnd  uint32
	upEnd  uint32
	tLen   int // length of the whole target, which data may hold only a prefix of
	lines  int
	clen   int64
}

// Status says whether the Head is the request's own (StatusOK) or why it is unknown.
func (h Head) Status() Status { return h.status }

// Method returns the request method.
func (h Head) Method() string { return h.data[:h.mEnd] }

// Target returns the request target as sent, the same string as
// http.Request.RequestURI. For a target longer than the 64 KiB recording bound it
// returns the recorded prefix, and Truncated reports true.
func (h Head) Target() string { return h.data[h.mEnd:h.tEnd] }

// Len returns the number of names recorded.
func (h Head) Len() int { return int(h.nnames) }

// Lines returns the number of header field lines on the wire, obs-fold continuation
// lines not counted, including lines past the recording bounds.
func (h Head) Lines() int { return h.lines }

// Names returns the recorded header names in wire order, with their raw case and
// duplicates. Obs-fold continuation lines are not names.
func (h Head) Names() iter.Seq[string] {
	return func(yield func(string) bool) {
		s := h.data[h.upEnd:]
		for len(s) > 0 {
			var name string
			name, s = nextName(s)
			if !yield(name) {
				return
			}
		}
	}
}

// AppendNames appends the recorded names, as Names yields them, to dst.
func (h Head) AppendNames(dst []string) []string {
	s := h.data[h.upEnd:]
	for len(s) > 0 {
		var name string
		name, s = nextName(s)
		dst = append(dst, name)
	}
	return dst
}

// nextName decodes the first name of the encoded list s.
func nextName(s string) (name, rest string) {
	if s[0] != 0 {
		return commonNames[s[0]-1], s[1:]
	}
	n := int(s[1]) | int(s[2])<<8
	return s[3 : 3+n], s[3+n:]
}

// UserAgent returns the first User-Agent value as net/http reads it (leading and
// trailing whitespace removed, obs-fold lines joined by a space), cut at 1 KiB.
func (h Head) UserAgent() string { return h.data[h.tEnd:h.uaEnd] }

// TransferEncoding returns the first Transfer-Encoding value, cut at 64 bytes.
func (h Head) TransferEncoding() string { return h.data[h.uaEnd:h.teEnd] }

// Upgrade returns the first Upgrade value, cut at 64 bytes.
func (h Head) Upgrade() string { return h.data[h.teEnd:h.upEnd] }

// ContentLength returns the declared Content-Length and whether there was one. When
// a chunked Transfer-Encoding overrides it, it is still reported.
func (h Head) ContentLength() (int64, bool) {
	return h.clen, h.flags&flagContentLength != 0
}

// HasCookie reports whether the head has a Cookie field.
func (h Head) HasCookie() bool { return h.flags&flagCookie != 0 }

// HasReferer reports whether the head has a Referer field.
func (h Head) HasReferer() bool { return h.flags&flagReferer != 0 }

// HasAcceptLanguage reports whether the head has an Accept-Language field.
func (h Head) HasAcceptLanguage() bool { return h.flags&flagAcceptLanguage != 0 }

// Truncated reports whether the head went past a recording bound, so that names or
// the User-Agent or target were not recorded whole.
func (h Head) Truncated() bool { return h.flags&flagTruncated != 0 }

// Folded reports whether the head used obs-fold continuation lines, which no current
// browser sends.
func (h Head) Folded() bool { return h.flags&flagFolded != 0 }

// matchTarget reports whether uri is the target the head recorded: equal, or, for a
// target past the recording bound, of the recorded length with the recorded prefix.
func (h Head) matchTarget(uri string) bool {
	if t := h.Target(); len(t) == h.tLen {
		return uri == t
	}
	return len(uri) == h.tLen && strings.HasPrefix(uri, h.Target())
}
