// Package vigiltest holds helpers that Vigil's tests share.
package vigiltest

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the path of shared/data/name, the third-party reference data that
// sits beside the repository (../shared/data in CI). It walks up from the working
// directory to find it. When it is absent the test is skipped, unless the environment
// variable CI is set: in CI missing data is a failure, not a skip.
func SharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("shared/data/%s not found above the working directory (CI is set)", name)
	}
	tb.Skipf("shared/data/%s not found above the working directory", name)
	return ""
}

// NavigationRequest returns Chrome's top-level navigation to target on
// https://shop.example, from 198.51.100.7: the twelve headers Chrome sends in that order,
// two cookies, no Referer. It is the request of the load harness (bench/load/browser.lua)
// and of the hot-path benchmarks, so their numbers compare.
func NavigationRequest(target string) *http.Request {
	r, err := http.NewRequest(http.MethodGet, "https://shop.example"+target, nil)
	if err != nil {
		panic(err)
	}
	r.RemoteAddr = "198.51.100.7:51234"
	h := r.Header
	h.Set("Sec-Ch-Ua", `"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"`)
	h.Set("Sec-Ch-Ua-Mobile", "?0")
	h.Set("Sec-Ch-Ua-Platform", `"Windows"`)
	h.Set("Upgrade-Insecure-Requests", "1")
	h.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
	h.Set("Sec-Fetch-Site", "same-origin")
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Sec-Fetch-User", "?1")
	h.Set("Sec-Fetch-Dest", "document")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Accept-Language", "en-GB,en;q=0.9,de;q=0.8")
	h.Set("Cookie", "session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark")
	return r
}

// AllocsPerRun is testing.AllocsPerRun(runs, f), the fewest of three measurements.
// testing.AllocsPerRun counts every allocation the process makes while f runs, so a
// burst from elsewhere (the runtime, the race detector's bookkeeping) can push an
// average over a tight ceiling; one did in CI (formscan, 4 against a ceiling of 3, under
// -race). A real regression shows in all three. Allocation ceilings use this.
func AllocsPerRun(runs int, f func()) float64 {
	n := testing.AllocsPerRun(runs, f)
	for range 2 {
		if n == 0 {
			break
		}
		n = min(n, testing.AllocsPerRun(runs, f))
	}
	return n
}
