package attack

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// browserGET is a clean request as Chrome sends it: a short query, typical
// cookies and the headers a browser sets.
func browserGET() *http.Request {
	r := httptest.NewRequest("GET", "http://shop.example.com/products?page=2&sort=price", nil)
	h := r.Header
	h.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Referer", "https://shop.example.com/")
	h.Set("Cookie", "session=3f2a9c4e8b1d4e7a9f3c2d5b6a7c8e9f; _ga=GA1.2.1234567890.1699999999; theme=dark")
	h.Set("Sec-Ch-Ua", `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`)
	h.Set("Sec-Ch-Ua-Mobile", "?0")
	h.Set("Sec-Ch-Ua-Platform", `"Windows"`)
	h.Set("Sec-Fetch-Site", "same-origin")
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Upgrade-Insecure-Requests", "1")
	return r
}

func BenchmarkScanCleanGET(b *testing.B) {
	s := newScanner(b)
	r := browserGET()
	var buf [8]detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		fs, _ := s.ScanRequest(buf[:0], r)
		if len(fs) != 0 {
			b.Fatalf("clean GET: %+v", fs)
		}
	}
}

// BenchmarkScanCleanGETUncached is BenchmarkScanCleanGET without the clean
// User-Agent cache: the cost of the first request from a browser.
func BenchmarkScanCleanGETUncached(b *testing.B) {
	s := newScanner(b)
	s.clean = nil
	r := browserGET()
	var buf [8]detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		if fs, _ := s.ScanRequest(buf[:0], r); len(fs) != 0 {
			b.Fatalf("clean GET: %+v", fs)
		}
	}
}

func BenchmarkScanAttackGET(b *testing.B) {
	s := newScanner(b)
	r := browserGET()
	r.URL.RawQuery = "page=2&sort=price&q=" + strings.ReplaceAll("1' UNION SELECT password FROM users--", " ", "+")
	var buf [8]detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		fs, _ := s.ScanRequest(buf[:0], r)
		if len(fs) == 0 {
			b.Fatal("attack GET: no finding")
		}
	}
}

// jsonBody1K is a realistic 1 KB JSON document: nested objects, arrays, prose.
func jsonBody1K() []byte {
	var b bytes.Buffer
	b.WriteString(`{"order":{"id":"3f2a9c4e-8b1d-4e7a-9f3c-2d5b6a7c8e9f","customer":{"name":"Ann O'Brien","email":"ann@example.com","address":{"street":"99, rue d'Arlon","city":"Bruxelles","zip":"1040"}},"items":[`)
	for i := 0; i < 6; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"sku":"SKU-12345","qty":2,"price":19.99,"note":"gift wrap, please; thanks (really)"}`)
	}
	b.WriteString(`],"comment":"Deliver after 5pm & ring twice. Call +1 (555) 010-9999 if needed.","tags":["priority","gift"]}}`)
	return b.Bytes()
}

func BenchmarkScanJSONPost(b *testing.B) {
	s := newScanner(b)
	body := jsonBody1K()
	var buf [8]detect.Finding
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "http://api.example.com/orders", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15")
		fs, err := s.ScanRequest(buf[:0], r)
		if err != nil || len(fs) != 0 {
			b.Fatalf("JSON POST: %v %+v", err, fs)
		}
		if got, _ := io.ReadAll(r.Body); !bytes.Equal(got, body) {
			b.Fatal("body not restored")
		}
	}
}

func TestScanCleanGETAllocs(t *testing.T) {
	s := newScanner(t)
	for name, r := range map[string]*http.Request{"browser": browserGET(), "navigation": navigationGET()} {
		var buf [8]detect.Finding
		n := vigiltest.AllocsPerRun(200, func() {
			if fs, _ := s.ScanRequest(buf[:0], r); len(fs) != 0 {
				t.Fatalf("clean GET: %+v", fs)
			}
		})
		if n != 0 {
			t.Errorf("Scan on a clean %s GET allocates %v times, want 0", name, n)
		}
	}
}

// BenchmarkScanValue runs the per-value engine over the shared corpus: all benign
// values, then all attack values, per iteration.
func BenchmarkScanValue(b *testing.B) {
	s := newScanner(b)
	var buf [8]detect.Finding
	b.Run("benign_corpus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, tc := range benignValues {
				s.ScanValue(buf[:0], "query:q", tc.value)
			}
		}
	})
	b.Run("attack_corpus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, tc := range attackValues {
				s.ScanValue(buf[:0], "query:q", tc.value)
			}
		}
	})
}

// BenchmarkScanBudgetWorstCase measures requests built to make the scanner work as
// hard as its byte budget allows: URL-sized queries of short values that each need
// the full engine, and of one long value of SQL and markup punctuation.
func BenchmarkScanBudgetWorstCase(b *testing.B) {
	s := newScanner(b)
	for _, tc := range []struct{ name, query string }{
		{"many_short_values", strings.Repeat("a=%27&", HeaderScanBytes/6)},
		{"one_long_value", "q=" + strings.Repeat("%27%3Cb%3E(1)+or+", HeaderScanBytes/17)},
	} {
		r := httptest.NewRequest("GET", "/?"+tc.query, nil)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.query)))
			b.ReportAllocs()
			for b.Loop() {
				s.ScanRequest(nil, r)
			}
		})
	}
}

// navigationGET is the browser navigation the load harness sends
// (bench/load/browser.lua): twelve headers, two cookies, no Referer.
func navigationGET() *http.Request {
	return vigiltest.NavigationRequest("/products?page=2&sort=price")
}

func BenchmarkScanNavigationGET(b *testing.B) {
	s := newScanner(b)
	r := navigationGET()
	var buf [8]detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		if fs, _ := s.ScanRequest(buf[:0], r); len(fs) != 0 {
			b.Fatalf("clean GET: %+v", fs)
		}
	}
}
