package vigil_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// behaviourGuard is a guard whose per-IP limit does not get in the way of a long
// session from one address.
func behaviourGuard(t *testing.T) *vigil.Guard {
	t.Helper()
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000, Period: policy.Duration(time.Second)}
	g, err := vigil.New(vigil.Config{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// A script walking /items/1..500 at a steady pace is flagged, and blocked once its
// behaviour is unmistakable.
func TestBehaviourFlagsSteadyCrawler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := behaviourGuard(t)
		var flagged, blocked int
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hasSignal(*vigil.VerdictFrom(r.Context()), "automated_behaviour") {
				flagged++
			}
		}))
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 1; i <= 500; i++ {
			r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/items/%d", i), nil)
			r.RemoteAddr = "203.0.113.40:5000"
			r.Header = vigilNavigationHeaders()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code == http.StatusForbidden {
				blocked++
			}
			time.Sleep(200*time.Millisecond + time.Duration(rng.IntN(4000)-2000)*time.Microsecond)
		}
		if flagged+blocked < 400 || blocked == 0 {
			t.Errorf("of 500 steady sequential requests, %d flagged and %d blocked", flagged, blocked)
		}
	})
}

// A browser session — pages with their assets, human pauses between pages — is not.
func TestBehaviourLeavesBrowsersAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := behaviourGuard(t)
		var flagged, requests int
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests++
			if hasSignal(*vigil.VerdictFrom(r.Context()), "automated_behaviour") {
				flagged++
			}
		}))
		rng := rand.New(rand.NewPCG(3, 4))
		do := func(target, dest, accept string) {
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.RemoteAddr = "203.0.113.41:5000"
			r.Header = vigilNavigationHeaders()
			r.Header.Set("Sec-Fetch-Dest", dest)
			r.Header.Set("Accept", accept)
			if dest != "document" {
				r.Header.Set("Sec-Fetch-Mode", "no-cors")
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		for page := range 60 {
			do(fmt.Sprintf("/products/%d", rng.IntN(5000)), "document", "text/html,*/*;q=0.8")
			for a := range 5 + rng.IntN(10) {
				time.Sleep(time.Duration(5+rng.IntN(30)) * time.Millisecond)
				do(fmt.Sprintf("/static/img/%d-%d.webp", page, a), "image", "image/avif,image/webp,*/*")
			}
			time.Sleep(time.Duration(2000+rng.IntN(28000)) * time.Millisecond)
		}
		if flagged != 0 {
			t.Errorf("%d of %d browser requests flagged as automated", flagged, requests)
		}
	})
}

// vigilNavigationHeaders are Chrome's navigation headers.
func vigilNavigationHeaders() http.Header {
	h := http.Header{}
	for k, v := range map[string]string{
		"User-Agent":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Accept-Language": "en-GB,en;q=0.9",
		"Accept-Encoding": "gzip, deflate, br, zstd",
		"Sec-Fetch-Site":  "same-origin",
		"Sec-Fetch-Mode":  "navigate",
		"Sec-Fetch-Dest":  "document",
	} {
		h.Set(k, v)
	}
	return h
}

// sharedStore hides a MemoryStore's type, as a Redis store would look to the guard:
// guards on it pool their behaviour counts.
type sharedStore struct{ vigil.Store }

// Behind a round-robin balancer over two instances, a steady crawler is blocked about
// as soon as one instance alone would block it when the instances share a store, and
// only later when each judges its half alone.
func TestBehaviourSharedAcrossInstances(t *testing.T) {
	firstBlock := func(t *testing.T, shared bool) int {
		var n int
		synctest.Test(t, func(t *testing.T) {
			p := policy.Default()
			p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000, Period: policy.Duration(time.Second)}
			common := sharedStore{vigil.NewMemoryStore(vigil.MemoryStoreConfig{})}
			var hs [2]http.Handler
			for i := range hs {
				cfg := vigil.Config{Policy: p}
				if shared {
					cfg.Store = common
				}
				g, err := vigil.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				hs[i] = g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for i := 1; i <= 300; i++ {
				r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/items/%d", i), nil)
				r.RemoteAddr = "203.0.113.41:5000"
				r.Header = vigilNavigationHeaders()
				w := httptest.NewRecorder()
				hs[i%2].ServeHTTP(w, r)
				if w.Code == http.StatusForbidden {
					n = i
					return
				}
				time.Sleep(200*time.Millisecond + time.Duration(rng.IntN(4000)-2000)*time.Microsecond)
			}
		})
		return n
	}
	alone, pooled := firstBlock(t, false), firstBlock(t, true)
	t.Logf("first blocked request: %d sharing, %d not sharing", pooled, alone)
	if pooled == 0 || pooled > 50 || alone != 0 && alone <= pooled {
		t.Errorf("first blocked request: %d with a shared store, %d without", pooled, alone)
	}
}
