package h2tap

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/http2"
)

// wantStream is a stream a case expects the Tap to hold, in arrival order.
type wantStream struct {
	Stream
	take [3]string // method, host, request URI for Take; default Method, Authority, Path
}

func (w wantStream) key() (string, string, string) {
	if w.take != [3]string{} {
		return w.take[0], w.take[1], w.take[2]
	}
	return w.Method, w.Authority, w.Path
}

// tapCase is one connection's byte stream and what the Tap must make of it. The table
// feeds TestTap, the fuzz seeds and the benchmarks.
type tapCase struct {
	name    string
	cfg     Config
	build   func(w *wire)
	akamai  string // "" when no fingerprint is expected
	hash    string // checked when set
	hprio   Priority
	streams []wantStream
	err     string // substring of Err when the Tap must give up
}

// req builds the expected stream of a request written from kv.
func req(id uint32, kv ...string) wantStream {
	s := Stream{ID: id}
	for i := 0; i < len(kv); i += 2 {
		switch kv[i] {
		case ":method":
			s.Method = kv[i+1]
		case ":authority":
			s.Authority = kv[i+1]
		case ":path":
			s.Path = kv[i+1]
		case ":scheme":
			s.Scheme = kv[i+1]
		}
		if strings.HasPrefix(kv[i], ":") {
			s.Pseudo = append(s.Pseudo, kv[i])
		} else {
			s.Names = append(s.Names, kv[i])
		}
	}
	return wantStream{Stream: s}
}

func (w wantStream) withPrio(p Priority) wantStream { w.Priority = p; return w }

var (
	goRequest = []string{
		":authority", "127.0.0.1:8443", ":method", "GET", ":path", "/api/items?page=2", ":scheme", "https",
		"accept-encoding", "gzip", "user-agent", "Go-http-client/2.0",
	}
	curlRequest = []string{
		":method", "GET", ":path", "/", ":scheme", "https", ":authority", "localhost:8443",
		"user-agent", "curl/7.88.1", "accept", "*/*",
	}
	firefoxLikeRequest = []string{
		":method", "GET", ":path", "/", ":authority", "shop.example", ":scheme", "https",
		"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		"accept", "text/html", "te", "trailers",
	}
	safariLikeRequest = []string{
		":method", "GET", ":scheme", "https", ":authority", "shop.example", ":path", "/",
		"accept", "*/*", "user-agent", "Mozilla/5.0 (Macintosh) Safari/605.1.15",
	}
	postWithTrailers = []string{
		":method", "POST", ":scheme", "https", ":authority", "grpc.example", ":path", "/svc/Method",
		"content-type", "application/grpc", "te", "trailers", "x-read-body", "1",
	}
	chromeWant = req(1, chromeRequest("/")...).withPrio(Priority{Exclusive: true, DependsOn: 0, Weight: 256})
)

const (
	goAkamai      = "2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s"
	chromeAkamai  = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"
	firefoxAkamai = "1:65536;4:131072;5:16384|12517377|3:0:0:201,5:0:0:101,7:0:0:1,9:0:7:1,11:0:3:1,13:0:0:241|m,p,a,s"
)

// goPreface writes the Go client's SETTINGS and WINDOW_UPDATE.
func goPreface(w *wire) {
	w.settings(goSettings...)
	w.windowUpdate(0, 1073741824)
}

var tapCases = []tapCase{
	{
		name:    "go_client",
		build:   func(w *wire) { goPreface(w); w.headers(1, hdr{endStream: true}, goRequest...) },
		akamai:  goAkamai,
		streams: []wantStream{req(1, goRequest...)},
	},
	{
		name: "curl",
		build: func(w *wire) {
			w.settings(curlSettings...)
			w.windowUpdate(0, 33488897)
			w.headers(1, hdr{endStream: true}, curlRequest...)
		},
		akamai:  "3:100;4:33554432;2:0|33488897|0|m,p,s,a",
		streams: []wantStream{req(1, curlRequest...)},
	},
	{
		name:    "chromium",
		build:   chromeStart,
		akamai:  chromeAkamai,
		hash:    "52d84b11737d980aef856699f885ca86",
		hprio:   Priority{Exclusive: true, Weight: 256},
		streams: []wantStream{chromeWant},
	},
	{
		name: "priority_frames",
		build: func(w *wire) {
			w.settings(firefoxLikeSettings...)
			w.windowUpdate(0, 12517377)
			w.priority(3, false, 0, 200)
			w.priority(5, false, 0, 100)
			w.priority(7, false, 0, 0)
			w.priority(9, false, 7, 0)
			w.priority(11, false, 3, 0)
			w.priority(13, false, 0, 240)
			w.headers(15, hdr{endStream: true, prio: http2.PriorityParam{StreamDep: 13, Weight: 41}}, firefoxLikeRequest...)
			w.priority(17, true, 15, 9) // after the first request: not in the fingerprint
		},
		akamai:  firefoxAkamai,
		hprio:   Priority{DependsOn: 13, Weight: 42},
		streams: []wantStream{req(15, firefoxLikeRequest...).withPrio(Priority{DependsOn: 13, Weight: 42})},
	},
	{
		name: "safari_vector",
		build: func(w *wire) {
			w.settings(curlSettings[0], http2.Setting{ID: 4, Val: 10485760}, curlSettings[2])
			w.windowUpdate(0, 1048510465)
			w.headers(1, hdr{endStream: true}, safariLikeRequest...)
		},
		akamai:  "3:100;4:10485760;2:0|1048510465|0|m,s,a,p",
		hash:    "64a832f547be33249bf4d33e8a46c5dc",
		streams: []wantStream{req(1, safariLikeRequest...)},
	},
	{
		name: "unknown_and_grease_settings",
		build: func(w *wire) {
			w.settings(http2.Setting{ID: 0x7a9a, Val: 3127563}, http2.Setting{ID: 2, Val: 0},
				http2.Setting{ID: 8, Val: 1}, http2.Setting{ID: 9, Val: 1})
			w.headers(1, hdr{endStream: true}, safariLikeRequest...)
		},
		akamai:  "31386:3127563;2:0;8:1;9:1|00|0|m,s,a,p",
		streams: []wantStream{req(1, safariLikeRequest...)},
	},
	{
		name: "padded_continuation_with_priority",
		build: func(w *wire) {
			goPreface(w)
			w.headers(1, hdr{pad: 200, fragments: 4, prio: chromePrio}, chromeRequest("/a")...)
		},
		akamai:  "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,a,s,p",
		hprio:   Priority{Exclusive: true, Weight: 256},
		streams: []wantStream{req(1, chromeRequest("/a")...).withPrio(Priority{Exclusive: true, Weight: 256})},
	},
	{
		name: "dynamic_table_across_requests",
		build: func(w *wire) {
			chromeStart(w)
			w.headers(3, hdr{prio: chromePrio, endStream: true}, chromeRequest("/style.css")...)
			w.headers(5, hdr{prio: chromePrio, endStream: true, fragments: 2}, chromeRequest("/app.js")...)
		},
		akamai: chromeAkamai,
		hprio:  Priority{Exclusive: true, Weight: 256},
		streams: []wantStream{
			chromeWant,
			req(3, chromeRequest("/style.css")...).withPrio(chromeWant.Priority),
			req(5, chromeRequest("/app.js")...).withPrio(chromeWant.Priority),
		},
	},
	{
		name: "data_ping_and_unknown_frames_skipped",
		build: func(w *wire) {
			goPreface(w)
			w.check(w.fr.WriteSettingsAck())
			w.check(w.fr.WritePing(false, [8]byte{1, 2, 3}))
			w.check(w.fr.WriteRawFrame(0xfa, 0x5, 0, []byte("unknown extension frame")))
			w.headers(1, hdr{}, ":method", "POST", ":authority", "a.example", ":scheme", "https",
				":path", "/upload", "content-length", "3000", "content-type", "application/octet-stream")
			w.data(1, 1000, 0)
			w.data(1, 1000, 255)
			w.data(1, 1000, 0)
			w.windowUpdate(0, 99) // not the first: ignored
			w.headers(3, hdr{endStream: true}, goRequest...)
		},
		akamai: "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,a,s,p",
		streams: []wantStream{
			req(1, ":method", "POST", ":authority", "a.example", ":scheme", "https",
				":path", "/upload", "content-length", "3000", "content-type", "application/octet-stream"),
			req(3, goRequest...),
		},
	},
	{
		name: "trailers_are_not_requests",
		build: func(w *wire) {
			goPreface(w)
			w.headers(1, hdr{}, postWithTrailers...)
			w.data(1, 10, 0)
			w.headers(1, hdr{endStream: true}, "grpc-status", "0", "x-trailer", "1")
			w.headers(3, hdr{endStream: true}, curlRequest...)
		},
		akamai:  "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,s,a,p",
		streams: []wantStream{req(1, postWithTrailers...), req(3, curlRequest...)},
	},
	{
		name: "rapid_reset",
		build: func(w *wire) {
			goPreface(w)
			for id := uint32(1); id < 200; id += 2 {
				w.headers(id, hdr{endStream: true}, goRequest...)
				w.rst(id)
			}
			w.headers(201, hdr{endStream: true}, curlRequest...)
		},
		akamai:  goAkamai,
		streams: []wantStream{req(201, curlRequest...)},
	},
	{
		name: "fifo_eviction",
		cfg:  Config{MaxPendingStreams: 2},
		build: func(w *wire) {
			goPreface(w)
			for i, id := range []uint32{1, 3, 5, 7} {
				w.headers(id, hdr{endStream: true}, ":method", "GET", ":path", fmt.Sprint("/", i), ":scheme", "https", ":authority", "a")
			}
		},
		akamai: "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,p,s,a",
		streams: []wantStream{
			req(5, ":method", "GET", ":path", "/2", ":scheme", "https", ":authority", "a"),
			req(7, ":method", "GET", ":path", "/3", ":scheme", "https", ":authority", "a"),
		},
	},
	{
		name: "host_header_and_connect",
		build: func(w *wire) {
			goPreface(w)
			w.headers(1, hdr{}, ":method", "GET", ":scheme", "http", ":path", "/x", "host", "legacy.example")
			w.headers(3, hdr{}, ":method", "CONNECT", ":authority", "db.internal:5432")
		},
		akamai: "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,s,p",
		streams: []wantStream{
			{Stream: req(1, ":method", "GET", ":scheme", "http", ":path", "/x", "host", "legacy.example").Stream,
				take: [3]string{"GET", "legacy.example", "/x"}},
			{Stream: req(3, ":method", "CONNECT", ":authority", "db.internal:5432").Stream,
				take: [3]string{"CONNECT", "db.internal:5432", "db.internal:5432"}},
		},
	},
	{
		name: "more_than_128_fields",
		build: func(w *wire) {
			goPreface(w)
			kv := []string{":method", "GET", ":path", "/", ":scheme", "https", ":authority", "a"}
			for i := range 200 {
				kv = append(kv, fmt.Sprintf("x-h%d", i), "v")
			}
			w.headers(1, hdr{fragments: 3}, kv...)
			w.headers(3, hdr{}, curlRequest...) // the HPACK state is still in step
		},
		akamai: "2:0;4:4194304;5:16384;6:10485760|1073741824|0|m,p,s,a",
		streams: func() []wantStream {
			kv := []string{":method", "GET", ":path", "/", ":scheme", "https", ":authority", "a"}
			for i := range 124 {
				kv = append(kv, fmt.Sprintf("x-h%d", i), "v")
			}
			s := req(1, kv...)
			s.Truncated = true
			return []wantStream{s, req(3, curlRequest...)}
		}(),
	},
	{
		name: "larger_server_header_table",
		cfg:  Config{HeaderTableSize: 65536},
		build: func(w *wire) {
			goPreface(w)
			w.enc.SetMaxDynamicTableSizeLimit(65536)
			w.enc.SetMaxDynamicTableSize(65536) // emits a table size update
			w.headers(1, hdr{}, goRequest...)
		},
		akamai:  goAkamai,
		streams: []wantStream{req(1, goRequest...)},
	},
	{
		name: "table_size_update_above_server_setting",
		build: func(w *wire) {
			goPreface(w)
			w.enc.SetMaxDynamicTableSizeLimit(65536)
			w.enc.SetMaxDynamicTableSize(65536)
			w.headers(1, hdr{}, goRequest...)
		},
		err: "dynamic table size update too large",
	},
	{
		name:  "no_request_yet",
		build: goPreface,
	},
	{
		name:  "bad_preface",
		build: func(w *wire) { w.buf.Reset(); w.buf.WriteString("GET / HTTP/1.1\r\nHost: a\r\n\r\n") },
		err:   "preface",
	},
	{
		name:  "continuation_without_headers",
		build: func(w *wire) { goPreface(w); w.check(w.fr.WriteContinuation(1, true, w.block(goRequest...))) },
		err:   "CONTINUATION outside",
	},
	{
		name: "frame_inside_header_block",
		build: func(w *wire) {
			goPreface(w)
			w.check(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(goRequest...)}))
			w.check(w.fr.WritePing(false, [8]byte{}))
		},
		err: "inside the header block",
	},
	{
		name:  "headers_on_stream_0",
		build: func(w *wire) { goPreface(w); w.rawHeaders(0, hdr{}, w.block(goRequest...)) },
		err:   "stream 0",
	},
	{
		name:  "bad_hpack_index",
		build: func(w *wire) { goPreface(w); w.rawHeaders(1, hdr{}, []byte{0xff, 0x7f}) },
		err:   "hpack",
	},
	{
		name:  "truncated_hpack_block",
		build: func(w *wire) { goPreface(w); w.rawHeaders(1, hdr{}, w.block(goRequest...)[:10]) },
		err:   "hpack",
	},
	{
		name:  "settings_not_multiple_of_6",
		build: func(w *wire) { w.check(w.fr.WriteRawFrame(http2.FrameSettings, 0, 0, make([]byte, 7))) },
		err:   "SETTINGS",
	},
	{
		name: "padding_longer_than_frame",
		build: func(w *wire) {
			goPreface(w)
			w.check(w.fr.WriteRawFrame(http2.FrameHeaders, 0x4|0x8, 1, []byte{200, 0x82}))
		},
		err: "padding",
	},
	{
		name:  "zero_window_update",
		build: func(w *wire) { w.check(w.fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, make([]byte, 4))) },
		err:   "zero increment",
	},
	{
		name: "header_block_over_cap",
		cfg:  Config{MaxHeaderBlockBytes: 1000},
		build: func(w *wire) {
			goPreface(w)
			w.headers(1, hdr{}, ":method", "GET", "x-big", strings.Repeat("a", 2000))
		},
		err: "header block longer than 1000 bytes",
	},
}

// feeders split a byte stream the ways a connection may deliver it.
var feeders = []struct {
	name string
	feed func(t *Tap, b []byte)
}{
	{"one_read", func(t *Tap, b []byte) { t.Feed(b) }},
	{"byte_by_byte", func(t *Tap, b []byte) {
		for i := range b {
			t.Feed(b[i : i+1])
		}
	}},
	{"frame_by_frame", feedAsServerReads},
}

// feedAsServerReads feeds the preface, then each frame header and each payload
// separately, the way the HTTP/2 server reads a connection.
func feedAsServerReads(t *Tap, b []byte) {
	if len(b) < len(clientPreface) {
		t.Feed(b)
		return
	}
	t.Feed(b[:len(clientPreface)])
	b = b[len(clientPreface):]
	for len(b) >= frameHeaderLen {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		t.Feed(b[:frameHeaderLen])
		b = b[frameHeaderLen:]
		n = min(n, len(b))
		t.Feed(b[:n])
		b = b[n:]
	}
	t.Feed(b)
}

func (tc tapCase) bytes(tb testing.TB) []byte {
	w := newWire(tb)
	tc.build(w)
	return w.bytes()
}

func TestTap(t *testing.T) {
	for _, tc := range tapCases {
		for _, fd := range feeders {
			t.Run(tc.name+"/"+fd.name, func(t *testing.T) {
				tap := New(tc.cfg)
				fd.feed(tap, tc.bytes(t))
				checkTap(t, tc, tap)
			})
		}
	}
}

func checkTap(t *testing.T, tc tapCase, tap *Tap) {
	t.Helper()
	err := tap.Err()
	if tc.err != "" {
		if err == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.err) {
			t.Fatalf("Err() = %v, want ErrUnavailable with %q", err, tc.err)
		}
		if fp, ok := tap.Fingerprint(); ok {
			t.Errorf("Fingerprint() = %+v, true on an unavailable Tap", fp)
		}
		if len(tap.pending) != 0 || tap.p.block != nil || tap.p.dec != nil {
			t.Errorf("unavailable Tap still holds %d streams, a %d-byte block buffer, decoder %v",
				len(tap.pending), cap(tap.p.block), tap.p.dec != nil)
		}
		return
	}
	if err != nil {
		t.Fatalf("Err() = %v", err)
	}
	fp, ok := tap.Fingerprint()
	if ok != (tc.akamai != "") {
		t.Fatalf("Fingerprint() ok = %v, want %v", ok, tc.akamai != "")
	}
	if got := fp.Akamai(); ok && got != tc.akamai {
		t.Errorf("Akamai() = %q\nwant        %q", got, tc.akamai)
	}
	if got := fp.AkamaiHash(); ok && tc.hash != "" && got != tc.hash {
		t.Errorf("AkamaiHash() = %s, want %s", got, tc.hash)
	}
	if fp.HeadersPriority != tc.hprio {
		t.Errorf("HeadersPriority = %+v, want %+v", fp.HeadersPriority, tc.hprio)
	}
	for _, want := range tc.streams {
		m, h, u := want.key()
		got, ok := tap.Take(m, h, u)
		if !ok {
			t.Errorf("Take(%q, %q, %q) found nothing", m, h, u)
			continue
		}
		if diff := cmp.Diff(want.Stream, got, cmpopts.IgnoreUnexported(Stream{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("stream %d (-want +got):\n%s", want.ID, diff)
		}
		if _, again := tap.Take(m, h, u); again {
			t.Errorf("Take(%q, %q, %q) found a second stream", m, h, u)
		}
	}
	if len(tap.pending) != 0 {
		t.Errorf("%d unexpected streams left: %+v", len(tap.pending), tap.pending)
	}
}

// TestTakeFIFO checks that identical requests are matched oldest first and that the
// methods, hosts and paths of other streams do not match.
func TestTakeFIFO(t *testing.T) {
	w := newWire(t)
	goPreface(w)
	for _, id := range []uint32{1, 3, 5} {
		w.headers(id, hdr{}, goRequest...)
	}
	w.headers(7, hdr{}, curlRequest...)
	tap := New(Config{})
	tap.Feed(w.bytes())

	for _, key := range [][3]string{
		{"POST", "127.0.0.1:8443", "/api/items?page=2"},
		{"GET", "127.0.0.1:8444", "/api/items?page=2"},
		{"GET", "127.0.0.1:8443", "/api/items"},
	} {
		if s, ok := tap.Take(key[0], key[1], key[2]); ok {
			t.Errorf("Take(%q) = stream %d, want none", key, s.ID)
		}
	}
	var got []uint32
	for {
		s, ok := tap.Take("GET", "127.0.0.1:8443", "/api/items?page=2")
		if !ok {
			break
		}
		got = append(got, s.ID)
	}
	if want := []uint32{1, 3, 5}; !cmp.Equal(got, want) {
		t.Errorf("identical requests taken in order %v, want %v", got, want)
	}
	if s, ok := tap.Take("GET", "localhost:8443", "/"); !ok || s.ID != 7 {
		t.Errorf("Take(curl request) = %d, %v; want 7, true", s.ID, ok)
	}
}

// TestZeroTap checks that the zero Tap works with the default Config.
func TestZeroTap(t *testing.T) {
	var tap Tap
	tap.Feed(chromeWire(t).bytes())
	fp, ok := tap.Fingerprint()
	if !ok || fp.Akamai() != chromeAkamai {
		t.Fatalf("Fingerprint() = %q, %v; want %q, true (Err: %v)", fp.Akamai(), ok, chromeAkamai, tap.Err())
	}
}

// TestUnavailableStaysUnavailable checks that a Tap ignores all bytes after an error,
// including a valid connection start.
func TestUnavailableStaysUnavailable(t *testing.T) {
	tap := New(Config{})
	tap.Feed([]byte("PRI * HTTP/1.1"))
	err := tap.Err()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Err() = %v, want ErrUnavailable", err)
	}
	tap.Feed(chromeWire(t).bytes()[len(clientPreface):])
	if _, ok := tap.Fingerprint(); ok {
		t.Error("Fingerprint() ok after an error")
	}
	if _, ok := tap.Take("GET", "shop.example", "/"); ok {
		t.Error("Take() ok after an error")
	}
	if got := tap.Err(); got != err {
		t.Errorf("Err() changed from %v to %v", err, got)
	}
}

// TestFingerprintFrozen checks that frames after the first request do not change the
// fingerprint, and that a fingerprint handed out is not modified later.
func TestFingerprintFrozen(t *testing.T) {
	w := newWire(t)
	goPreface(w)
	w.headers(1, hdr{}, goRequest...)
	tap := New(Config{})
	tap.Feed(w.bytes())
	before, ok := tap.Fingerprint()
	if !ok {
		t.Fatalf("no fingerprint: %v", tap.Err())
	}
	w2 := newWire(t)
	w2.settings(http2.Setting{ID: 1, Val: 1})
	w2.windowUpdate(0, 5)
	w2.priority(3, true, 1, 7)
	tap.Feed(w2.bytes()[len(clientPreface):])
	after, _ := tap.Fingerprint()
	if before.Akamai() != goAkamai || after.Akamai() != goAkamai {
		t.Errorf("Akamai() before %q, after %q; want %q both times", before.Akamai(), after.Akamai(), goAkamai)
	}
}
