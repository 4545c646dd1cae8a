package h2tap

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// wire writes a client→server byte stream with the x/net Framer and an HPACK encoder,
// the independent implementation the tests check the Tap against.
type wire struct {
	tb   testing.TB
	buf  bytes.Buffer
	fr   *http2.Framer
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

// newWire starts a stream with the client preface.
func newWire(tb testing.TB) *wire {
	w := &wire{tb: tb}
	w.buf.WriteString(http2.ClientPreface)
	w.fr = http2.NewFramer(&w.buf, nil)
	w.fr.AllowIllegalWrites = true
	w.enc = hpack.NewEncoder(&w.hbuf)
	return w
}

func (w *wire) check(err error) {
	w.tb.Helper()
	if err != nil {
		w.tb.Fatal(err)
	}
}

func (w *wire) bytes() []byte { return bytes.Clone(w.buf.Bytes()) }

func (w *wire) settings(s ...http2.Setting) { w.check(w.fr.WriteSettings(s...)) }

func (w *wire) windowUpdate(stream, inc uint32) { w.check(w.fr.WriteWindowUpdate(stream, inc)) }

func (w *wire) priority(stream uint32, excl bool, dep uint32, wireWeight uint8) {
	w.check(w.fr.WritePriority(stream, http2.PriorityParam{StreamDep: dep, Exclusive: excl, Weight: wireWeight}))
}

func (w *wire) rst(stream uint32) { w.check(w.fr.WriteRSTStream(stream, http2.ErrCodeCancel)) }

func (w *wire) data(stream uint32, n int, pad uint8) {
	w.check(w.fr.WriteDataPadded(stream, false, make([]byte, n), make([]byte, pad)))
}

// block HPACK-encodes name, value pairs with the connection's encoder.
func (w *wire) block(kv ...string) []byte {
	w.hbuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		w.check(w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}))
	}
	return bytes.Clone(w.hbuf.Bytes())
}

// hdr says how a header block is framed.
type hdr struct {
	pad       uint8
	prio      http2.PriorityParam
	fragments int // HEADERS plus CONTINUATION frames; 0 means 1
	endStream bool
}

// headers encodes kv and writes it as a HEADERS frame and CONTINUATION frames.
func (w *wire) headers(stream uint32, h hdr, kv ...string) {
	w.rawHeaders(stream, h, w.block(kv...))
}

func (w *wire) rawHeaders(stream uint32, h hdr, blk []byte) {
	n := max(h.fragments, 1)
	size := (len(blk) + n - 1) / n
	frag := func(i int) []byte {
		lo, hi := min(i*size, len(blk)), min((i+1)*size, len(blk))
		return blk[lo:hi]
	}
	w.check(w.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: stream, BlockFragment: frag(0), EndStream: h.endStream,
		EndHeaders: n == 1, PadLength: h.pad, Priority: h.prio,
	}))
	for i := 1; i < n; i++ {
		w.check(w.fr.WriteContinuation(stream, i == n-1, frag(i)))
	}
}

// Client-like settings, from fingerprinting.md §3.5 (measured on loopback).
var (
	goSettings = []http2.Setting{
		{ID: http2.SettingEnablePush, Val: 0},
		{ID: http2.SettingInitialWindowSize, Val: 4194304},
		{ID: http2.SettingMaxFrameSize, Val: 16384},
		{ID: http2.SettingMaxHeaderListSize, Val: 10485760},
	}
	curlSettings = []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: 100},
		{ID: http2.SettingInitialWindowSize, Val: 33554432},
		{ID: http2.SettingEnablePush, Val: 0},
	}
	chromeSettings = []http2.Setting{
		{ID: http2.SettingHeaderTableSize, Val: 65536},
		{ID: http2.SettingEnablePush, Val: 0},
		{ID: http2.SettingInitialWindowSize, Val: 6291456},
		{ID: http2.SettingMaxHeaderListSize, Val: 262144},
	}
	firefoxLikeSettings = []http2.Setting{
		{ID: http2.SettingHeaderTableSize, Val: 65536},
		{ID: http2.SettingInitialWindowSize, Val: 131072},
		{ID: http2.SettingMaxFrameSize, Val: 16384},
	}
)

// chromeRequest is the header list of a Chromium navigation, in Chromium's order.
func chromeRequest(path string) []string {
	return []string{
		":method", "GET",
		":authority", "shop.example",
		":scheme", "https",
		":path", path,
		"sec-ch-ua", `"Chromium";v="156", "Not)A;Brand";v="24"`,
		"sec-ch-ua-mobile", "?0",
		"sec-ch-ua-platform", `"Linux"`,
		"upgrade-insecure-requests", "1",
		"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
		"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
		"sec-fetch-site", "none",
		"sec-fetch-mode", "navigate",
		"sec-fetch-user", "?1",
		"sec-fetch-dest", "document",
		"accept-encoding", "gzip, deflate, br, zstd",
		"accept-language", "en-US,en;q=0.9",
		"cookie", "session=4f1c2a9e0b7d4e8f9a6b5c3d2e1f0a9b",
		"cookie", "theme=dark",
		"priority", "u=0, i",
	}
}

// chromePrio is the priority Chromium puts on its HEADERS frames (weight 256 on the
// wire as 255).
var chromePrio = http2.PriorityParam{Exclusive: true, StreamDep: 0, Weight: 255}

// chromeStart writes a Chromium-like connection start and first request.
func chromeStart(w *wire) {
	w.settings(chromeSettings...)
	w.windowUpdate(0, 15663105)
	w.headers(1, hdr{prio: chromePrio, endStream: true}, chromeRequest("/")...)
}

// chromeWire returns a wire holding chromeStart.
func chromeWire(tb testing.TB) *wire {
	w := newWire(tb)
	chromeStart(w)
	return w
}
