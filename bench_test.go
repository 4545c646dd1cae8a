package vigil_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/geo/geotest"
	"github.com/vigilhq/vigil/internal/vigiltest"
	"github.com/vigilhq/vigil/policy"
)

// benchWriter is a ResponseWriter that costs nothing, so benchmarks measure the guard.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) reset()                      { clear(w.h); w.code = 0 }

// browserRequest is Chrome's navigation GET with its twelve headers, the request the
// load harness sends.
func browserRequest(target string) *http.Request { return vigiltest.NavigationRequest(target) }

// benchGuard is the default guard with the per-IP limit raised so a benchmark loop from
// one address measures the allow path, not 429s. The limit is still checked.
func benchGuard(tb testing.TB) *vigil.Guard {
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000_000, Period: policy.Duration(time.Second)}
	g, err := vigil.New(vigil.Config{Policy: p})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// fullGuard is benchGuard with everything issue 5 added switched on, none of it for the
// benchmark request's path: GeoIP (the request's address is in both databases, on a
// hosting ASN), signup and login paths, phone analysis and a challenge secret.
func fullGuard(tb testing.TB) *vigil.Guard {
	dir := tb.TempDir()
	gc := vigil.GeoConfig{CountryDB: filepath.Join(dir, "country.mmdb"), ASNDB: filepath.Join(dir, "asn.mmdb")}
	geotest.WriteCountryDB(tb, gc.CountryDB, map[string]string{"198.51.100.0/24": "US", "203.0.113.0/24": "DE"})
	geotest.WriteASNDB(tb, gc.ASNDB, map[string]geotest.ASNRecord{"198.51.100.0/24": {Number: 64496, Org: "Example Broadband"}})
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000_000, Period: policy.Duration(time.Second)}
	p.Signups.Paths = []string{"/signup"}
	p.Logins.Paths = []string{"/login"}
	p.Geo.DenyCountries = []string{"KP"}
	g, err := vigil.New(vigil.Config{Policy: p, Geo: gc, Phones: fraud.PhoneAnalyzer{}, ChallengeSecret: strings.Repeat("k", 32)})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// BenchmarkGuardAllowFull is BenchmarkGuardAllow with fullGuard: the allow path with
// every detector configured (its budget is the same).
func BenchmarkGuardAllowFull(b *testing.B) {
	h := fullGuard(b).Handler(okHandler)
	r := browserRequest("/products?page=2&sort=price")
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("status %d, want 200", w.code)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

// BenchmarkGuardAllow is the budgeted hot path (DESIGN §8: ≤ 5 µs/op, ≤ 16 allocs/op): a
// browser-like GET with twelve headers through every header-level detector, memory store.
func BenchmarkGuardAllow(b *testing.B) {
	h := benchGuard(b).Handler(okHandler)
	r := browserRequest("/products?page=2&sort=price")
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("status %d, want 200", w.code)
	}
}

// BenchmarkGuardBlock measures a request blocked for SQL injection.
func BenchmarkGuardBlock(b *testing.B) {
	h := benchGuard(b).Handler(okHandler)
	r := browserRequest("/products?id=1%27%20OR%201%3D1--")
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.code != http.StatusForbidden {
		b.Fatalf("status %d, want 403", w.code)
	}
}

// BenchmarkGuardPostJSON measures a clean 1 KB JSON POST, body scanned and restored. Two
// of its allocations are the benchmark's own (the body reader).
func BenchmarkGuardPostJSON(b *testing.B) {
	h := benchGuard(b).Handler(okHandler)
	body := jsonBody(1024)
	r := browserRequest("/api/cart")
	r.Method = http.MethodPost
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Sec-Fetch-Mode", "cors")
	r.Header.Set("Sec-Fetch-Dest", "empty")
	r.Header.Del("Sec-Fetch-User")
	r.Header.Del("Upgrade-Insecure-Requests")
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		w.reset()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		h.ServeHTTP(w, r)
	}
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("status %d, want 200", w.code)
	}
}

// jsonBody returns a plausible cart update of about n bytes.
func jsonBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"cart_id":"c9a8f7e6-5d4c-3b2a-1f0e-9d8c7b6a5f4e","currency":"EUR","items":[`)
	for i := 0; sb.Len() < n-40; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"sku":"SKU-10`)
		sb.WriteByte(byte('0' + i%10))
		sb.WriteString(`","qty":2,"note":"gift wrap, please"}`)
	}
	sb.WriteString(`],"coupon":"AUTUMN10"}`)
	return []byte(sb.String())
}

// TestGuardAllowAllocs holds the allocation ceiling of the allow path (DESIGN §8).
func TestGuardAllowAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal run")
	}
	for name, g := range map[string]*vigil.Guard{"default": benchGuard(t), "full": fullGuard(t)} {
		h := g.Handler(okHandler)
		r := browserRequest("/products?page=2&sort=price")
		w := &benchWriter{h: http.Header{}}
		h.ServeHTTP(w, r) // warm caches (User-Agent classification)
		got := vigiltest.AllocsPerRun(200, func() {
			w.reset()
			h.ServeHTTP(w, r)
		})
		const ceiling = 16
		if got > ceiling {
			t.Errorf("%s guard, allow path: %.0f allocs per request, ceiling %d", name, got, ceiling)
		}
		if w.code != 0 && w.code != http.StatusOK {
			t.Errorf("%s guard: status %d, want 200", name, w.code)
		}
	}
}
