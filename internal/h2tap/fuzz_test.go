package h2tap

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// framerResult is what the Tap should make of a byte stream, derived from the x/net
// Framer's decode of it.
type framerResult struct {
	good    int // bytes of the frames the Framer read without error
	frozen  bool
	fp      Fingerprint
	streams []Stream // pending: request streams not reset, oldest first
	keys    [][3]string
	big     bool // the streams may exceed the Tap's budget; skip comparing them
}

// framerDecode reads the frames of b (the bytes after the preface) with the x/net
// Framer and an HPACK decoder until the first error of any kind, and applies the
// Tap's documented rules to them: the first SETTINGS, stream-0 WINDOW_UPDATE and 16
// PRIORITY frames before the first request; a new request stream per HEADERS on an odd
// stream id above every earlier one; its first 128 fields; RST_STREAM forgets a
// stream.
func framerDecode(b []byte, budget int) framerResult {
	var r framerResult
	cr := &countingReader{r: bytes.NewReader(b)}
	fr := http2.NewFramer(io.Discard, cr)
	fr.ReadMetaHeaders = hpack.NewDecoder(DefaultHeaderTableSize, nil)
	fr.MaxHeaderListSize = 1<<32 - 1
	var haveSettings, haveWU bool
	var last uint32
	retained := 0
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return r
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && !haveSettings && !r.frozen {
				haveSettings = true
				f.ForeachSetting(func(s http2.Setting) error {
					if len(r.fp.Settings) < maxSettings {
						r.fp.Settings = append(r.fp.Settings, Setting{ID: uint16(s.ID), Value: s.Val})
					}
					return nil
				})
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 && !haveWU && !r.frozen {
				haveWU = true
				r.fp.WindowUpdate = f.Increment
			}
		case *http2.PriorityFrame:
			if !r.frozen && len(r.fp.Priorities) < maxPriorities {
				r.fp.Priorities = append(r.fp.Priorities, Priority{
					StreamID: f.StreamID, Exclusive: f.Exclusive, DependsOn: f.StreamDep, Weight: uint16(f.Weight) + 1,
				})
			}
		case *http2.RSTStreamFrame:
			for i, s := range r.streams {
				if s.ID == f.StreamID {
					r.streams = append(r.streams[:i], r.streams[i+1:]...)
					r.keys = append(r.keys[:i], r.keys[i+1:]...)
					break
				}
			}
		case *http2.MetaHeadersFrame:
			if f.Truncated {
				return r // the Framer stopped collecting fields
			}
			if f.StreamID&1 == 0 || f.StreamID <= last {
				break
			}
			last = f.StreamID
			s := Stream{ID: f.StreamID}
			if f.HasPriority() {
				p := f.Priority
				s.Priority = Priority{Exclusive: p.Exclusive, DependsOn: p.StreamDep, Weight: uint16(p.Weight) + 1}
			}
			var host, protocol string
			for i, hf := range f.Fields {
				if i == maxFields {
					s.Truncated = true
					break
				}
				retained += len(hf.Name) + len(hf.Value) + 16
				if !hf.IsPseudo() {
					s.Names = append(s.Names, hf.Name)
					if hf.Name == "host" && host == "" {
						host = hf.Value
					}
					continue
				}
				s.Pseudo = append(s.Pseudo, hf.Name)
				for _, p := range []struct {
					name string
					v    *string
				}{{":method", &s.Method}, {":authority", &s.Authority}, {":path", &s.Path}, {":scheme", &s.Scheme}, {":protocol", &protocol}} {
					if hf.Name == p.name && *p.v == "" {
						*p.v = hf.Value
					}
				}
			}
			retained += streamOverhead
			key := [3]string{s.Method, s.Authority, s.Path}
			if key[1] == "" {
				key[1] = host
			}
			if s.Method == "CONNECT" && protocol == "" {
				key[2] = s.Authority
			}
			r.streams = append(r.streams, s)
			r.keys = append(r.keys, key)
			if !r.frozen {
				r.frozen = true
				r.fp.Pseudo = s.Pseudo
				r.fp.HeadersPriority = s.Priority
			}
		}
		r.good = cr.n
		r.big = retained > budget
	}
}

// chunks feeds b to t in pieces of 1 to 64 bytes chosen by seed.
func chunks(t *Tap, b []byte, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(64))
		t.Feed(b[:n])
		b = b[n:]
	}
}

// checkBounds checks the limits every Tap keeps, whatever it was fed.
func checkBounds(t *testing.T, tap *Tap) {
	t.Helper()
	s := &tap.p
	if len(tap.pending) > tap.maxPending() || tap.pendBuf > tap.maxBlock() || tap.pendBuf < 0 {
		t.Fatalf("%d streams of %d bytes pending, limits %d and %d", len(tap.pending), tap.pendBuf, tap.maxPending(), tap.maxBlock())
	}
	if len(s.block) > tap.maxBlock() || cap(s.block) > tap.maxBlock() {
		t.Fatalf("block buffer %d/%d bytes, cap %d", len(s.block), cap(s.block), tap.maxBlock())
	}
	if len(s.fp.Settings) > maxSettings || len(s.fp.Priorities) > maxPriorities {
		t.Fatalf("%d settings, %d priorities kept", len(s.fp.Settings), len(s.fp.Priorities))
	}
	for _, st := range tap.pending {
		if len(st.Pseudo)+len(st.Names) > maxFields {
			t.Fatalf("stream %d keeps %d names", st.ID, len(st.Pseudo)+len(st.Names))
		}
	}
	if tap.Err() != nil && (len(tap.pending) != 0 || s.block != nil || s.dec != nil) {
		t.Fatal("an unavailable Tap still holds memory")
	}
}

// FuzzTap decodes the same byte stream (after the client preface) with the x/net
// Framer and with Taps fed in one piece and in random pieces. Up to the first frame the
// Framer rejects, the Taps must not give up and must record exactly the SETTINGS,
// WINDOW_UPDATE, PRIORITY frames and per-stream names the Framer decodes. On the whole
// stream, a Tap with tiny limits and the others must never panic and must stay within
// their bounds.
func FuzzTap(f *testing.F) {
	for _, tc := range tapCases {
		b := tc.bytes(f)
		if bytes.HasPrefix(b, []byte(clientPreface)) {
			f.Add(b[len(clientPreface):], uint64(len(b)))
		}
	}
	cfg := Config{MaxHeaderBlockBytes: 64 << 20, MaxPendingStreams: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		whole := append([]byte(clientPreface), data...)
		ref := framerDecode(data, int(cfg.MaxHeaderBlockBytes))
		good := whole[:len(clientPreface)+ref.good]

		for i, feed := range []func(*Tap, []byte){
			func(t *Tap, b []byte) { t.Feed(b) },
			func(t *Tap, b []byte) { chunks(t, b, seed) },
		} {
			tap := New(cfg)
			feed(tap, good)
			checkBounds(t, tap)
			if err := tap.Err(); err != nil {
				t.Fatalf("feeder %d: the Tap gave up on frames the Framer accepts: %v", i, err)
			}
			if tap.p.frozen != ref.frozen {
				t.Fatalf("feeder %d: frozen = %v, Framer %v", i, tap.p.frozen, ref.frozen)
			}
			if diff := cmp.Diff(ref.fp, tap.p.fp, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("feeder %d: fingerprint (-framer +tap):\n%s", i, diff)
			}
			if fp, ok := tap.Fingerprint(); ok != ref.frozen || (ok && fp.Akamai() != ref.fp.Akamai()) {
				t.Fatalf("feeder %d: Fingerprint() = %q, %v; Framer %q, %v", i, fp.Akamai(), ok, ref.fp.Akamai(), ref.frozen)
			}
			if !ref.big {
				if len(tap.pending) != len(ref.streams) {
					t.Fatalf("feeder %d: %d streams pending, Framer %d", i, len(tap.pending), len(ref.streams))
				}
				for j, want := range ref.streams {
					k := ref.keys[j]
					got, ok := tap.Take(k[0], k[1], k[2])
					if !ok {
						t.Fatalf("feeder %d: Take(%q) found nothing for stream %d", i, k, want.ID)
					}
					if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Stream{}), cmpopts.EquateEmpty()); diff != "" {
						t.Fatalf("feeder %d: stream %d (-framer +tap):\n%s", i, want.ID, diff)
					}
				}
			}
			// The rest, which the Framer rejects or which is incomplete.
			feed(tap, whole[len(good):])
			checkBounds(t, tap)
		}

		small := New(Config{MaxHeaderBlockBytes: 64, MaxPendingStreams: 2})
		chunks(small, whole, seed)
		checkBounds(t, small)
		if err := small.Err(); err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Err() = %v, not ErrUnavailable", err)
		}
		if err := small.Err(); err != nil && strings.Contains(err.Error(), "%!") {
			t.Fatalf("badly formatted error %q", err)
		}
	})
}
