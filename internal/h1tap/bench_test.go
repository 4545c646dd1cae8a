package h1tap

import (
	"runtime"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// BenchmarkFeedPop is the per-request cost on the hot path: one head fed as one read
// and popped by its handler. The budget is 1.5 µs and 1 allocation per request for
// Chrome's navigation head.
func BenchmarkFeedPop(b *testing.B) {
	for _, bc := range []struct {
		name, in, method, target string
	}{
		{"chrome_navigation", chromeHead, "GET", "/products/42?ref=home"},
		{"curl", crlf("GET /api/items HTTP/1.1", "Host: shop.example", "User-Agent: curl/8.5.0", "Accept: */*"), "GET", "/api/items"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			var tap Tap
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				tap.Feed(in)
				if _, ok := tap.Pop(bc.method, bc.target); !ok {
					b.Fatal("not popped")
				}
			}
		})
	}
}

// BenchmarkPipeline feeds the reference's four pipelined requests (bodies of both
// kinds, a chunk extension and a trailer) as one read, as a server reads them from
// one write, and pops them; ns/req is the cost per request. (A 4 KiB read holding
// more than 8 small requests would overflow the queue, by design.)
func BenchmarkPipeline(b *testing.B) {
	in := []byte(pipeline)
	var tap Tap
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		tap.Feed(in)
		for _, p := range pipelinePops {
			if _, ok := tap.Pop(p.method, p.target); !ok {
				b.Fatal("not popped")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pipelinePops)), "ns/req")
}

// BenchmarkIdleConn measures on the heap what a connection's Conn and tap keep
// between requests, after serving Chrome's navigation: idle-B/conn.
func BenchmarkIdleConn(b *testing.B) {
	const n = 1000
	in := []byte(chromeHead)
	conns := make([]*Conn, n)
	var perConn float64
	for b.Loop() {
		clear(conns)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			c := NewConn(nil)
			c.Tap().Feed(in)
			c.Tap().Pop("GET", "/products/42?ref=home")
			conns[i] = c
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perConn = float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	runtime.KeepAlive(conns)
	b.ReportMetric(perConn, "idle-B/conn")
}

// TestAllocs holds the allocation ceilings: one allocation per head (its string),
// none for bodies, passthrough or a failed Pop.
func TestAllocs(t *testing.T) {
	chrome := []byte(chromeHead)
	var tap Tap
	if n := vigiltest.AllocsPerRun(100, func() {
		tap.Feed(chrome)
		if _, ok := tap.Pop("GET", "/products/42?ref=home"); !ok {
			t.Fatal("not popped")
		}
	}); n > 1 {
		t.Errorf("Feed+Pop of Chrome's head: %v allocations, want at most 1", n)
	}
	body := []byte(strings.Repeat("b", 4096))
	tap.Feed([]byte(crlf("POST /up HTTP/1.1", "Host: a", "Content-Length: 1000000000")))
	if n := vigiltest.AllocsPerRun(100, func() { tap.Feed(body) }); n != 0 {
		t.Errorf("Feed of body bytes: %v allocations, want 0", n)
	}
	var chunked Tap
	chunked.Feed([]byte(crlf("POST /up HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")))
	chunk := []byte("1000;ext=1\r\n" + strings.Repeat("c", 4096) + "\r\n")
	if n := vigiltest.AllocsPerRun(100, func() { chunked.Feed(chunk) }); n != 0 {
		t.Errorf("Feed of chunks: %v allocations, want 0", n)
	}
	long := []byte(crlf("LONG-METHOD-NAME-THAT-IS-OVER-32-BYTES /x HTTP/1.1", "Host: a"))
	var longTap Tap
	if n := vigiltest.AllocsPerRun(100, func() {
		longTap.Feed(long)
		if _, ok := longTap.Pop("LONG-METHOD-NAME-THAT-IS-OVER-32-BYTES", "/x"); !ok {
			t.Fatal("long method not popped")
		}
	}); n > 1 {
		t.Errorf("Feed+Pop with a 38-byte method: %v allocations, want at most 1", n)
	}
	var stopped Tap
	stopped.Stop()
	if n := vigiltest.AllocsPerRun(100, func() {
		stopped.Feed(chrome)
		stopped.Pop("GET", "/")
	}); n != 0 {
		t.Errorf("Feed+Pop after Stop: %v allocations, want 0", n)
	}
}
