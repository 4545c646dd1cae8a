package h2tap

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Setting is one (id, value) pair of a SETTINGS frame, as sent, including ids this
// package does not know (Safari sends 8 and 9, Chrome builds have sent GREASE ids).
type Setting struct {
	ID    uint16
	Value uint32
}

// A Priority is a stream dependency, from a PRIORITY frame or from the priority fields
// of a HEADERS frame. The zero value means no priority was sent: a sent priority always
// has a Weight between 1 and 256.
type Priority struct {
	// StreamID is the stream the priority is about. It is 0 for the priority fields
	// of a HEADERS frame, which are about the frame's own stream.
	StreamID  uint32
	Exclusive bool
	DependsOn uint32
	// Weight is the wire value plus one, as RFC 9113 defines it: 1 to 256.
	Weight uint16
}

// Fingerprint is what the start of an HTTP/2 connection shows about the client's
// HTTP/2 stack. It is a plain value; a Fingerprint returned by [Tap.Fingerprint] is
// never modified afterwards and may be shared between goroutines as long as nobody
// writes to its slices.
type Fingerprint struct {
	// Settings are the pairs of the first SETTINGS frame without the ACK flag, in
	// wire order; at most 32 are kept.
	Settings []Setting
	// WindowUpdate is the increment of the first WINDOW_UPDATE frame on stream 0, or
	// 0 if there was none (an increment of 0 is a protocol error).
	WindowUpdate uint32
	// Priorities are the first PRIORITY frames, at most 16, in wire order.
	Priorities []Priority
	// Pseudo are the pseudo-header names of the first request, in wire order, such as
	// [":method", ":authority", ":scheme", ":path"].
	Pseudo []string
	// HeadersPriority is the priority carried by the HEADERS frame of the first
	// request (Chromium sends exclusive, depends on 0, weight 256), or the zero
	// Priority if the frame had none. It is not part of the Akamai string.
	HeadersPriority Priority
}

// Akamai returns the Akamai HTTP/2 fingerprint string S|WU|P|PS in Vigil's convention
// (see the package documentation), for example
// "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p".
func (f Fingerprint) Akamai() string {
	b := make([]byte, 0, 96)
	for i, s := range f.Settings {
		if i > 0 {
			b = append(b, ';')
		}
		b = strconv.AppendUint(b, uint64(s.ID), 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(s.Value), 10)
	}
	b = append(b, '|')
	if f.WindowUpdate == 0 {
		b = append(b, "00"...)
	} else {
		b = strconv.AppendUint(b, uint64(f.WindowUpdate), 10)
	}
	b = append(b, '|')
	if len(f.Priorities) == 0 {
		b = append(b, '0')
	}
	for i, p := range f.Priorities {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(p.StreamID), 10)
		if p.Exclusive {
			b = append(b, ":1:"...)
		} else {
			b = append(b, ":0:"...)
		}
		b = strconv.AppendUint(b, uint64(p.DependsOn), 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(p.Weight), 10)
	}
	b = append(b, '|')
	for i, name := range f.Pseudo {
		if i > 0 {
			b = append(b, ',')
		}
		if len(name) > 1 {
			b = append(b, name[1])
		}
	}
	return string(b)
}

// AkamaiHash returns the MD5 of [Fingerprint.Akamai] in lowercase hex, the form
// tls.peet.ws and Scrapfly print.
func (f Fingerprint) AkamaiHash() string {
	sum := md5.Sum([]byte(f.Akamai()))
	return hex.EncodeToString(sum[:])
}

// pseudoByLetter maps the letters of an Akamai PS field back to pseudo-header names.
// "p" is taken as :path, never :protocol, which prints the same letter.
var pseudoByLetter = [...]string{
	'm': ":method", 'a': ":authority", 's': ":scheme", 'p': ":path",
}

// ParseAkamai parses an Akamai string in Vigil's convention, as written in client
// templates, into the Fingerprint that prints it. It accepts only the canonical form
// Akamai prints: decimal numbers without sign or leading zeros, "00" for no
// WINDOW_UPDATE, "0" for no PRIORITY frames and single lowercase letters in PS, so
// ParseAkamai(s) succeeds only if the result's Akamai() is s. HeadersPriority is
// never set, since the string does not carry it.
func ParseAkamai(s string) (Fingerprint, error) {
	var f Fingerprint
	parts := strings.Split(s, "|")
	if len(parts) != 4 {
		return f, fmt.Errorf("akamai fingerprint %q: want 4 fields separated by |, got %d", s, len(parts))
	}
	if parts[0] != "" {
		for _, kv := range strings.Split(parts[0], ";") {
			id, val, ok := strings.Cut(kv, ":")
			if !ok {
				return f, fmt.Errorf("akamai fingerprint %q: setting %q is not id:value", s, kv)
			}
			i, err1 := parseCanonical(id, 16)
			v, err2 := parseCanonical(val, 32)
			if err := errors.Join(err1, err2); err != nil {
				return f, fmt.Errorf("akamai fingerprint %q: setting %q: %w", s, kv, err)
			}
			f.Settings = append(f.Settings, Setting{ID: uint16(i), Value: uint32(v)})
		}
	}
	if parts[1] != "00" {
		v, err := parseCanonical(parts[1], 32)
		if err == nil && v == 0 {
			err = errors.New(`0 is written "00"`)
		}
		if err != nil {
			return f, fmt.Errorf("akamai fingerprint %q: window update: %w", s, err)
		}
		f.WindowUpdate = uint32(v)
	}
	if parts[2] != "0" {
		for _, p := range strings.Split(parts[2], ",") {
			fields := strings.Split(p, ":")
			if len(fields) != 4 {
				return f, fmt.Errorf("akamai fingerprint %q: priority %q is not stream:exclusive:dependsOn:weight", s, p)
			}
			id, err1 := parseCanonical(fields[0], 31)
			excl, err2 := parseCanonical(fields[1], 1)
			dep, err3 := parseCanonical(fields[2], 31)
			w, err4 := parseCanonical(fields[3], 9)
			if err := errors.Join(err1, err2, err3, err4); err != nil {
				return f, fmt.Errorf("akamai fingerprint %q: priority %q: %w", s, p, err)
			}
			if w < 1 || w > 256 {
				return f, fmt.Errorf("akamai fingerprint %q: priority %q: weight out of 1..256", s, p)
			}
			f.Priorities = append(f.Priorities, Priority{
				StreamID: uint32(id), Exclusive: excl == 1, DependsOn: uint32(dep), Weight: uint16(w),
			})
		}
	}
	if parts[3] != "" {
		for _, l := range strings.Split(parts[3], ",") {
			if len(l) != 1 || l[0] < 'a' || l[0] > 'z' {
				return f, fmt.Errorf("akamai fingerprint %q: pseudo-header letter %q is not one lowercase letter", s, l)
			}
			name := ":" + l
			if c := int(l[0]); c < len(pseudoByLetter) && pseudoByLetter[c] != "" {
				name = pseudoByLetter[c]
			}
			f.Pseudo = append(f.Pseudo, name)
		}
	}
	return f, nil
}

// parseCanonical parses an unsigned decimal of at most bits bits written without sign
// or leading zeros.
func parseCanonical(s string, bits int) (uint64, error) {
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a %d-bit number", s, bits)
	}
	return v, nil
}

// IsGREASE reports whether a settings id has the reserved GREASE shape 0x?a?a
// (31386 = 0x7a9a, for example), which some Chrome builds add with a random value.
func IsGREASE(id uint16) bool { return id&0x0f0f == 0x0a0a }

// SettingsEqual reports whether a and b hold the same (id, value) pairs in the same
// order once settings with GREASE-shaped ids (see [IsGREASE]) are left out of both.
// Use it to compare a client's settings with a template.
func SettingsEqual(a, b []Setting) bool {
	i, j := 0, 0
	for {
		for i < len(a) && IsGREASE(a[i].ID) {
			i++
		}
		for j < len(b) && IsGREASE(b[j].ID) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}
