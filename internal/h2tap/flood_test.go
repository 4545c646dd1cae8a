package h2tap

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// allocated returns the bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPriorityFlood sends 100,000 PRIORITY frames before the first request: the Tap
// keeps 16 and allocates next to nothing for the rest.
func TestPriorityFlood(t *testing.T) {
	const frames = 100_000
	w := newWire(t)
	goPreface(w)
	for i := range frames {
		w.priority(uint32(2*i+3), i%2 == 0, uint32(i), uint8(i))
	}
	w.headers(1, hdr{}, goRequest...)
	b := w.bytes()

	w0 := newWire(t)
	goPreface(w0)
	w0.headers(1, hdr{}, goRequest...)
	base := allocated(func() { feedAsServerReads(New(Config{}), w0.bytes()) })

	tap := New(Config{})
	alloc := allocated(func() { feedAsServerReads(tap, b) })
	fp, ok := tap.Fingerprint()
	if !ok {
		t.Fatalf("no fingerprint: %v", tap.Err())
	}
	if len(fp.Priorities) != maxPriorities || cap(tap.p.fp.Priorities) > 2*maxPriorities {
		t.Errorf("kept %d PRIORITY frames (capacity %d), want %d", len(fp.Priorities), cap(tap.p.fp.Priorities), maxPriorities)
	}
	if p := fp.Priorities[15]; p != (Priority{StreamID: 33, Exclusive: false, DependsOn: 15, Weight: 16}) {
		t.Errorf("16th PRIORITY frame = %+v", p)
	}
	// The request alone costs a few KiB (decoder, stream); the flood must add
	// nothing proportional to its 100,000 frames (8 bytes per frame would be 800 KB).
	// The slack absorbs allocations by other goroutines of the test binary.
	if alloc > base+256<<10 {
		t.Errorf("feeding %d PRIORITY frames (%d bytes) allocated %d bytes, the request alone %d", frames, len(b), alloc, base)
	}
	if _, ok := tap.Take("GET", "127.0.0.1:8443", "/api/items?page=2"); !ok {
		t.Error("the request after the flood was not recorded")
	}
}

// continuationFlood returns a connection start with a HEADERS frame without
// END_HEADERS followed by CONTINUATION frames of size bytes, without END_HEADERS,
// totalling about total bytes.
func continuationFlood(t *testing.T, size, total int) []byte {
	w := newWire(t)
	goPreface(w)
	w.check(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(goRequest...)}))
	frag := []byte(strings.Repeat("\x40\x03abc\x03xyz", size/9+1)[:size]) // literal fields, incremental indexing
	for n := 0; n < total; n += size {
		w.check(w.fr.WriteContinuation(1, false, frag))
	}
	return w.bytes()
}

// TestContinuationFlood sends endless CONTINUATION frames: the Tap stops at its header
// block cap, goes unavailable and frees the block, and what it allocates does not grow
// with the length of the flood.
func TestContinuationFlood(t *testing.T) {
	for _, cfg := range []Config{{}, {MaxHeaderBlockBytes: 16 << 10}} {
		t.Run(fmt.Sprint(cfg.MaxHeaderBlockBytes), func(t *testing.T) {
			var allocs []uint64
			for _, total := range []int{4 << 20, 32 << 20} {
				b := continuationFlood(t, 16384, total)
				tap := New(cfg)
				allocs = append(allocs, allocated(func() { feedAsServerReads(tap, b) }))
				if err := tap.Err(); err == nil || !strings.Contains(err.Error(), "header block longer than") {
					t.Fatalf("Err() = %v after a %d-byte CONTINUATION flood", err, total)
				}
				if tap.p.block != nil {
					t.Errorf("block buffer of %d bytes kept after the error", cap(tap.p.block))
				}
			}
			capBytes := uint64(cfg.MaxHeaderBlockBytes)
			if capBytes == 0 {
				capBytes = DefaultMaxHeaderBlockBytes
			}
			limit := 2*capBytes + 64<<10
			for i, a := range allocs {
				if a > limit {
					t.Errorf("flood %d allocated %d bytes, want at most %d", i, a, limit)
				}
			}
			if allocs[1] > allocs[0]+allocs[0]/4+64<<10 {
				t.Errorf("allocation grows with the flood: %d bytes for 4 MiB, %d for 32 MiB", allocs[0], allocs[1])
			}
		})
	}
}

// TestEmptyContinuationFlood sends a million empty CONTINUATION frames: they cost
// nothing, and the block they end is decoded normally.
func TestEmptyContinuationFlood(t *testing.T) {
	w := newWire(t)
	goPreface(w)
	w.check(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(goRequest...)}))
	for range 1_000_000 {
		w.check(w.fr.WriteContinuation(1, false, nil))
	}
	w.check(w.fr.WriteContinuation(1, true, nil))
	b := w.bytes()
	tap := New(Config{})
	if alloc := allocated(func() { tap.Feed(b) }); alloc > 256<<10 { // 1 byte per frame would be 1 MB
		t.Errorf("%d empty CONTINUATION frames allocated %d bytes", 1_000_000, alloc)
	}
	if _, ok := tap.Take("GET", "127.0.0.1:8443", "/api/items?page=2"); !ok {
		t.Errorf("request not recorded: %v", tap.Err())
	}
}

// TestStreamFloods opens many streams that no handler takes, with and without
// RST_STREAM, and with large header names: the pending FIFO stays within its limits.
func TestStreamFloods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		reset   bool
		bigName int
	}{
		{name: "rapid_reset", reset: true},
		{name: "never_taken"},
		{name: "never_taken_small_limit", cfg: Config{MaxPendingStreams: 8}},
		{name: "large_names", bigName: 60 << 10},
		{name: "names_near_budget", cfg: Config{MaxHeaderBlockBytes: 64 << 10}, bigName: 40 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			goPreface(w)
			const streams = 10_000
			for i := range streams {
				id := uint32(2*i + 1)
				kv := []string{":method", "GET", ":scheme", "https", ":authority", "a", ":path", fmt.Sprint("/", i)}
				if tc.bigName > 0 {
					// A new literal name each time, never indexed, so every stream
					// keeps its own copy.
					big := fmt.Sprintf("x-%d-%s", i, strings.Repeat("n", tc.bigName))
					blk := append(w.block(kv...), literalNeverIndexed(big, "v")...)
					w.rawHeaders(id, hdr{}, blk)
				} else {
					w.headers(id, hdr{}, kv...)
				}
				if tc.reset {
					w.rst(id)
				}
				if tc.bigName > 0 && i == 300 {
					break
				}
			}
			tap := New(tc.cfg)
			feedAsServerReads(tap, w.bytes())
			if err := tap.Err(); err != nil {
				t.Fatal(err)
			}
			maxN, budget := tap.maxPending(), tap.maxBlock()
			switch {
			case tc.reset && len(tap.pending) != 0:
				t.Errorf("%d streams pending after RST_STREAM", len(tap.pending))
			case len(tap.pending) > maxN || tap.pendBuf > budget:
				t.Errorf("%d streams (%d bytes) pending, limits %d and %d", len(tap.pending), tap.pendBuf, maxN, budget)
			case tc.name == "never_taken" && len(tap.pending) != maxN:
				t.Errorf("%d streams pending, want the newest %d", len(tap.pending), maxN)
			case tc.name == "names_near_budget" && len(tap.pending) != 1:
				t.Errorf("%d streams pending, want 1: two exceed the budget", len(tap.pending))
			}
			sum := 0
			for _, s := range tap.pending {
				sum += s.size
			}
			if sum != tap.pendBuf {
				t.Errorf("pendBuf = %d, sum of sizes %d", tap.pendBuf, sum)
			}
			if n := len(tap.pending); n > 0 && !tc.reset && tc.bigName == 0 {
				last := tap.pending[n-1]
				if last.ID != 2*streams-1 {
					t.Errorf("newest pending stream is %d, want %d", last.ID, 2*streams-1)
				}
			}
		})
	}
}

// TestStreamOverBudget sends a small block whose fields all refer to one 4000-byte
// name in the dynamic table: the names it would keep exceed the budget, so the stream
// is dropped rather than kept.
func TestStreamOverBudget(t *testing.T) {
	w := newWire(t)
	goPreface(w)
	blk := w.block(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/")
	blk = append(blk, 0x40) // literal with incremental indexing, new name
	blk = appendVarInt(blk, 7, 4000)
	blk = append(blk, strings.Repeat("n", 4000)...)
	blk = append(blk, 1, 'v')
	for range 100 {
		blk = append(blk, 0x80|62) // indexed: the newest dynamic table entry
	}
	w.rawHeaders(1, hdr{}, blk)
	tap := New(Config{MaxHeaderBlockBytes: 64 << 10})
	tap.Feed(w.bytes())
	if err := tap.Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := tap.Fingerprint(); !ok {
		t.Error("no fingerprint")
	}
	if len(tap.pending) != 0 {
		t.Errorf("kept a stream of %d bytes with a budget of %d", tap.pending[0].size, tap.maxBlock())
	}
}

// literalNeverIndexed encodes a header field as a literal with a literal name, never
// indexed and without Huffman coding (RFC 7541, section 6.2.3).
func literalNeverIndexed(name, value string) []byte {
	b := []byte{0x10}
	for _, s := range []string{name, value} {
		b = appendVarInt(b, 7, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// appendVarInt appends an HPACK integer with an n-bit prefix (RFC 7541, section 5.1)
// whose first byte's other bits are zero.
func appendVarInt(b []byte, n uint, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(b, byte(v))
	}
	b = append(b, byte(limit))
	for v -= limit; v >= 128; v >>= 7 {
		b = append(b, byte(v&0x7f|0x80))
	}
	return append(b, byte(v))
}
