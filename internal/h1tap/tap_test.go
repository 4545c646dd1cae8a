package h1tap

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// TestTap feeds every case whole, one byte at a time and in random chunks, and checks
// each Pop. The result must not depend on where the reads split the stream.
func TestTap(t *testing.T) {
	for _, tc := range tapCases {
		for _, fd := range feedings {
			t.Run(tc.name+"/"+fd.name, func(t *testing.T) {
				var tap Tap
				for _, c := range fd.split(tc.in) {
					tap.Feed([]byte(c))
				}
				for i, p := range tc.pops {
					h, ok := tap.Pop(p.method, p.target)
					if ok != (p.want.Status == StatusOK) {
						t.Errorf("pop %d (%s %.40s): ok = %v, status %v", i, p.method, p.target, ok, h.Status())
					}
					if diff := cmp.Diff(p.want, viewOf(h)); diff != "" {
						t.Errorf("pop %d (%s %.40s) (-want +got):\n%.2000s", i, p.method, p.target, diff)
					}
				}
			})
		}
	}
}

func TestPop(t *testing.T) {
	two := crlf("GET /a HTTP/1.1", "Host: a") + crlf("GET /b HTTP/1.1", "Host: b")
	tests := []struct {
		name  string
		in    string
		pops  [][2]string
		wants []Status
	}{
		// A Pop that does not match the oldest head gives up on the connection,
		// even if a later head would match: it cannot tell which is whose.
		{"mismatch_gives_up", two, [][2]string{{"GET", "/b"}, {"GET", "/b"}}, []Status{StatusMismatch, StatusMismatch}},
		{"method_must_match", two, [][2]string{{"HEAD", "/a"}, {"GET", "/b"}}, []Status{StatusMismatch, StatusMismatch}},
		// The tap saw no head for the request: it is behind net/http, which
		// must not happen when it sees every byte.
		{"nothing_queued", "", [][2]string{{"GET", "/"}}, []Status{StatusMismatch}},
		{"partial_head", "GET / HTTP/1.1\r\nHost: a\r\n", [][2]string{{"GET", "/"}}, []Status{StatusMismatch}},
		{"in_order", two, [][2]string{{"GET", "/a"}, {"GET", "/b"}, {"GET", "/c"}}, []Status{StatusOK, StatusOK, StatusMismatch}},
		{"options_star_popped_by_handler", crlf("OPTIONS * HTTP/1.1", "Host: a"), [][2]string{{"OPTIONS", "*"}}, []Status{StatusOK}},
		// A server with unencrypted HTTP/2 serves the preface itself; its h2
		// requests then pop from a tap that has passed through.
		{"h2_prior_knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04", [][2]string{{"GET", "/"}, {"GET", "/"}}, []Status{StatusPassthrough, StatusPassthrough}},
		{"upgrade_not_popped", crlf("GET /ws HTTP/1.1", "Host: a", "Upgrade: websocket"), [][2]string{{"GET", "/other"}}, []Status{StatusPassthrough}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tap Tap
			tap.Feed([]byte(tc.in))
			var got []Status
			for _, p := range tc.pops {
				h, _ := tap.Pop(p[0], p[1])
				got = append(got, h.Status())
			}
			if diff := cmp.Diff(tc.wants, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStop(t *testing.T) {
	var tap Tap
	tap.Feed([]byte(crlf("GET /a HTTP/1.1", "Host: a")))
	tap.Stop()
	tap.Feed([]byte(crlf("GET /b HTTP/1.1", "Host: a")))
	h, ok := tap.Pop("GET", "/a")
	if ok || h.Status() != StatusPassthrough {
		t.Errorf("Pop after Stop = %v, %v; want unknown, passthrough", ok, h.Status())
	}
}

func TestNilTap(t *testing.T) {
	var tap *Tap
	tap.Feed([]byte("GET / HTTP/1.1\r\n\r\n"))
	tap.Stop()
	h, ok := tap.Pop("GET", "/")
	if ok || h.Status() != StatusNone {
		t.Errorf("nil Tap Pop = %v, %v; want false, none", ok, h.Status())
	}
}

func TestZeroHead(t *testing.T) {
	var h Head
	if diff := cmp.Diff(view{}, viewOf(h)); diff != "" {
		t.Errorf("zero Head (-want +got):\n%s", diff)
	}
	for range h.Names() {
		t.Error("zero Head yields names")
	}
}

// TestNamesIterator checks that Names stops when asked and agrees with AppendNames.
func TestNamesIterator(t *testing.T) {
	var tap Tap
	tap.Feed([]byte(chromeHead))
	h, _ := tap.Pop("GET", "/products/42?ref=home")
	var got []string
	for n := range h.Names() {
		got = append(got, n)
		if len(got) == 3 {
			break
		}
	}
	if diff := cmp.Diff(h.AppendNames(nil)[:3], got); diff != "" {
		t.Errorf("first three names (-want +got):\n%s", diff)
	}
}

func TestInternTable(t *testing.T) {
	seen := map[string]bool{}
	for i, name := range commonNames {
		if seen[name] {
			t.Errorf("duplicate common name %q", name)
		}
		seen[name] = true
		if got := interned.lookup([]byte(name)); got != i {
			t.Errorf("lookup(%q) = %d, want %d", name, got, i)
		}
		if !isToken(name) {
			t.Errorf("common name %q is not a token", name)
		}
	}
	if len(commonNames) > 127 {
		t.Errorf("%d common names; the encoding holds 127", len(commonNames))
	}
	for _, name := range []string{"", "HOST", "Hosts", "x-unknown", strings.Repeat("a", 40), "sec-ch-ua-modeL"} {
		if got := interned.lookup([]byte(name)); got != -1 {
			t.Errorf("lookup(%q) = %d (%q), want -1", name, got, commonNames[got])
		}
	}
}

func isToken(s string) bool {
	for i := range len(s) {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func TestSpecialOf(t *testing.T) {
	tests := []struct {
		name string
		want special
	}{
		{"host", spHost}, {"HOST", spHost}, {"Host", spHost}, {"Hosx", spNone},
		{"content-LENGTH", spContentLength}, {"Transfer-Encoding", spTransferEncoding},
		{"user-agent", spUserAgent}, {"UPGRADE", spUpgrade}, {"referer", spReferer},
		{"Referrer", spNone}, {"cookie", spCookie}, {"Cookie2", spNone},
		{"accept-language", spAcceptLanguage}, {"Accept-Encoding", spNone},
		// '\r' folds to '-' with 0x20 but is no letter.
		{"content\rlength", spNone},
	}
	for _, tc := range tests {
		if got := specialOf([]byte(tc.name)); got != tc.want {
			t.Errorf("specialOf(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestValidValue(t *testing.T) {
	for c := range 256 {
		want := c >= ' ' && c != 0x7f || c == '\t'
		for _, pos := range []int{0, 5, 8, 15} {
			b := []byte(strings.Repeat("v", 16))
			b[pos] = byte(c)
			if got := validValue(b); got != want {
				t.Errorf("validValue with %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

// held returns the bytes a tap keeps reachable: the struct, its scratch buffers and
// its queue with the heads' strings.
func (t *Tap) held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := int(unsafe.Sizeof(*t)) + cap(t.vals) + cap(t.names) + cap(t.q)*int(unsafe.Sizeof(Head{}))
	for _, h := range t.q {
		n += len(h.data)
	}
	return n
}

// TestHeldBytes checks that a tap holds little between requests and a bounded amount
// whatever a head looks like. It logs the idle figure that BenchmarkIdleConn measures
// on the heap.
func TestHeldBytes(t *testing.T) {
	const idleBound = 1024
	var tap Tap
	tap.Feed([]byte(chromeHead))
	if _, ok := tap.Pop("GET", "/products/42?ref=home"); !ok {
		t.Fatal("chrome head not popped")
	}
	idle := tap.held()
	t.Logf("held by an idle tap after a Chrome navigation: %d bytes (struct %d)", idle, unsafe.Sizeof(tap))
	if idle > idleBound {
		t.Errorf("idle tap holds %d bytes, want at most %d", idle, idleBound)
	}

	// A huge head grows the scratch; it must be released after the head.
	tap.Feed([]byte(crlf("GET /big HTTP/1.1", "Host: a", "X-"+strings.Repeat("n", 40000)+": 1", "User-Agent: "+strings.Repeat("u", 5000))))
	if _, ok := tap.Pop("GET", "/big"); !ok {
		t.Fatal("big head not popped")
	}
	if got := tap.held(); got > idleBound {
		t.Errorf("after a 45 KB head the idle tap holds %d bytes, want at most %d", got, idleBound)
	}
}

// TestHeldWhileTrickled feeds heads one byte at a time, as a Slowloris client sends
// them, and checks the bytes held never pass the recording bounds: the tap keeps
// only recorded parts, never a line or the whole head.
func TestHeldWhileTrickled(t *testing.T) {
	// The most a head in progress can hold: its two scratch buffers at their
	// ceilings (each can hold most of the recorded 64 KiB: the target in one,
	// the names in the other) and the struct.
	bound := valsLimit + namesLimit + int(unsafe.Sizeof(Tap{}))
	tests := []struct {
		name string
		in   string
	}{
		{"one_long_value", "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + strings.Repeat("v", 200_000)},
		{"many_lines", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Name-Of-Some-Length: value\r\n", 5000)},
		{"long_name", "GET / HTTP/1.1\r\nHost: a\r\nX-" + strings.Repeat("n", 200_000)},
		{"long_target", "GET /" + strings.Repeat("t", 200_000)},
		{"long_target_then_names", "GET /" + strings.Repeat("t", 30_000) + " HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-"+strings.Repeat("n", 300)+": v\r\n", 200)},
		{"long_user_agent", "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: " + strings.Repeat("u", 200_000)},
		{"long_folded_user_agent", "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: a" + strings.Repeat("\r\n b", 50_000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tap Tap
			most := 0
			for i := range len(tc.in) {
				tap.Feed([]byte(tc.in[i : i+1]))
				if i%1024 == 0 {
					most = max(most, tap.held())
				}
			}
			most = max(most, tap.held())
			t.Logf("most held: %d bytes", most)
			if most > bound {
				t.Errorf("tap held %d bytes, want at most %d", most, bound)
			}
			if tap.st == stDone {
				t.Errorf("tap gave up (%v) on a head net/http accepts", tap.end)
			}
		})
	}
}
