package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/bench/load/loadtarget"
)

// browserRequest is the request of browser.lua.
func browserRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	for k, v := range map[string]string{
		"Sec-Ch-Ua":                 `"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"`,
		"Sec-Ch-Ua-Mobile":          "?0",
		"Sec-Ch-Ua-Platform":        `"Windows"`,
		"Upgrade-Insecure-Requests": "1",
		"User-Agent":                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
		"Sec-Fetch-Site":            "same-origin",
		"Sec-Fetch-Mode":            "navigate",
		"Sec-Fetch-User":            "?1",
		"Sec-Fetch-Dest":            "document",
		"Accept-Encoding":           "gzip, deflate, br, zstd",
		"Accept-Language":           "en-GB,en;q=0.9,de;q=0.8",
		"Cookie":                    "session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark",
	} {
		r.Header.Set(k, v)
	}
	return r
}

// TestHandler checks what the harness relies on: the guarded handler allows the
// benchmark request again and again from one address (the raised per-IP limit), and is a
// real guard (it blocks a bait path and an injection); the bare handler answers
// everything; with -exclude the guard still answers with its headers but checks
// nothing on the excluded path.
func TestHandler(t *testing.T) {
	const attack = "/products?id=1%27%20OR%201=1--"
	for _, tc := range []struct {
		name         string
		guard        bool
		exclude      string
		disable      []string
		spin         time.Duration
		baitStatus   int
		attackStatus int
	}{
		{"bare", false, "", nil, 0, http.StatusOK, http.StatusOK},
		{"bare-spin", false, "", nil, time.Microsecond, http.StatusOK, http.StatusOK},
		{"guard", true, "", nil, 0, http.StatusForbidden, http.StatusForbidden},
		{"guard-exclude", true, "/products", nil, 0, http.StatusForbidden, http.StatusOK},
		// Without the attack detector the injection passes; the honeypot is a gate,
		// not a detector, so the bait path still bans.
		{"guard-disable", true, "", []string{"bot", "behaviour", "fingerprint", "attack"}, 0, http.StatusForbidden, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := handler(options{guard: tc.guard, exclude: tc.exclude, disable: tc.disable, spin: tc.spin})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2000 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, browserRequest("/products?page=2&sort=price"))
				if w.Code != http.StatusOK || w.Body.String() != loadtarget.Body {
					t.Fatalf("request %d: %d %q", i, w.Code, w.Body.String())
				}
				if got := w.Header().Get("X-Request-Id") != ""; got != tc.guard {
					t.Fatalf("request %d: X-Request-Id present %v, want %v", i, got, tc.guard)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, browserRequest(attack))
			if w.Code != tc.attackStatus {
				t.Errorf("GET %s: %d, want %d", attack, w.Code, tc.attackStatus)
			}
			w = httptest.NewRecorder()
			h.ServeHTTP(w, browserRequest("/.env"))
			if w.Code != tc.baitStatus {
				t.Errorf("GET /.env: %d, want %d", w.Code, tc.baitStatus)
			}
		})
	}
}

// TestRun starts the server on a free port, sends one request and stops it through the
// context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-guard"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr, _, ok := strings.Cut(strings.TrimPrefix(line, "listening on "), ",")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Vigil-Action") != "allow" {
		t.Errorf("GET /: %d, X-Vigil-Action %q", resp.StatusCode, resp.Header.Get("X-Vigil-Action"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlag(t *testing.T) {
	for _, args := range [][]string{
		{"-nope"},
		{"-disable", "bot"}, // needs -guard
	} {
		// A run that wrongly starts serving ends with the context instead of hanging.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := run(ctx, append(args, "-addr", "127.0.0.1:0"), io.Discard, io.Discard)
		cancel()
		if err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}

// TestSpinning checks that -spin makes the handler take about its duration: at least
// half of it (the calibration may not be exact), so that a loop the compiler removed
// would fail.
func TestSpinning(t *testing.T) {
	const d = 2 * time.Millisecond
	h := spinning(loadtarget.Handler(), d)
	best := time.Hour
	for range 5 {
		start := time.Now()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		best = min(best, time.Since(start))
	}
	if best < d/2 {
		t.Errorf("a request took %v with -spin %v", best, d)
	}
}
