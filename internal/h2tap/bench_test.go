package h2tap

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// steadyRequest returns a Chromium-like connection start with two requests, and the
// HEADERS frame of a further request on that connection: every field comes from the
// dynamic table except :path, sent as a literal that is never indexed, so the frame can
// be fed again and again with a new stream id (see setStream).
func steadyRequest(tb testing.TB) (start, frame []byte) {
	w := newWire(tb)
	chromeStart(w)
	w.headers(3, hdr{prio: chromePrio, endStream: true}, chromeRequest("/")...)
	start = w.bytes()

	kv := chromeRequest("/products/42?ref=home")
	w.hbuf.Reset()
	for i := 0; i < len(kv); i += 2 {
		w.check(w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1], Sensitive: kv[i] == ":path"}))
	}
	blk := append([]byte(nil), w.hbuf.Bytes()...)
	w.buf.Reset()
	w.rawHeaders(5, hdr{prio: chromePrio, endStream: true}, blk)
	return start, w.bytes()
}

// setStream sets the stream id of the frame starting at f.
func setStream(f []byte, id uint32) { binary.BigEndian.PutUint32(f[5:9], id) }

// BenchmarkConnectionStart feeds a Chromium-like connection start (preface, SETTINGS,
// WINDOW_UPDATE, one HEADERS frame whose fields are all new literals) to a new Tap,
// then takes the stream and the fingerprint.
func BenchmarkConnectionStart(b *testing.B) {
	data := chromeWire(b).bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tap := New(Config{})
		tap.Feed(data)
		if _, ok := tap.Take("GET", "shop.example", "/"); !ok {
			b.Fatal(tap.Err())
		}
		if _, ok := tap.Fingerprint(); !ok {
			b.Fatal("no fingerprint")
		}
	}
}

// BenchmarkRequest feeds one Chromium-sized HEADERS frame on an established
// connection and takes its stream: the per-request cost.
func BenchmarkRequest(b *testing.B) {
	for _, fd := range []struct {
		name  string
		split bool
	}{{"one_read", false}, {"header_then_payload", true}} {
		b.Run(fd.name, func(b *testing.B) {
			start, frame := steadyRequest(b)
			tap := New(Config{})
			tap.Feed(start)
			tap.Take("GET", "shop.example", "/")
			tap.Take("GET", "shop.example", "/")
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			id := uint32(5)
			for b.Loop() {
				setStream(frame, id)
				id += 2
				if fd.split {
					tap.Feed(frame[:frameHeaderLen])
					tap.Feed(frame[frameHeaderLen:])
				} else {
					tap.Feed(frame)
				}
				if _, ok := tap.Take("GET", "shop.example", "/products/42?ref=home"); !ok {
					b.Fatal(tap.Err())
				}
			}
		})
	}
}

// BenchmarkIdleConn reports the heap a Tap holds for an idle connection after a
// Chromium-like start whose request was taken (B/conn), which is mostly the HPACK
// dynamic table.
func BenchmarkIdleConn(b *testing.B) {
	data := chromeWire(b).bytes()
	taps := make([]*Tap, 0, b.N)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for range b.N {
		tap := New(Config{})
		tap.Feed(data)
		tap.Take("GET", "shop.example", "/")
		taps = append(taps, tap)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "B/conn")
	runtime.KeepAlive(taps)
}

// TestAllocsPerRequest is the allocation ceiling of BenchmarkRequest: the :path
// literal decoded by hpack and the one slice of names.
func TestAllocsPerRequest(t *testing.T) {
	start, frame := steadyRequest(t)
	tap := New(Config{})
	tap.Feed(start)
	id := uint32(5)
	allocs := vigiltest.AllocsPerRun(1000, func() {
		setStream(frame, id)
		id += 2
		tap.Feed(frame[:frameHeaderLen])
		tap.Feed(frame[frameHeaderLen:])
		if _, ok := tap.Take("GET", "shop.example", "/products/42?ref=home"); !ok {
			t.Fatal(tap.Err())
		}
	})
	if allocs > 2 {
		t.Errorf("%.1f allocations per request, want at most 2", allocs)
	}
}
