package ratelimit_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vigilhq/vigil/internal/ratelimit"
)

func ExampleStep() {
	// Two requests per second, both of which may come at once.
	limit := ratelimit.Limit{Rate: 2, Period: time.Second}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	var tat time.Time // what a store keeps per key; zero for a new key
	for i := range 3 {
		var r ratelimit.Result
		tat, r = ratelimit.Step(tat, now, limit, 1)
		fmt.Printf("request %d: allowed=%v remaining=%d retry-after=%v\n", i+1, r.Allowed, r.Remaining, r.RetryAfter)
	}

	// The denied request was not counted: after RetryAfter, one more is admitted.
	_, r := ratelimit.Step(tat, now.Add(500*time.Millisecond), limit, 1)
	fmt.Printf("after 500ms: allowed=%v\n", r.Allowed)
	// Output:
	// request 1: allowed=true remaining=1 retry-after=0s
	// request 2: allowed=true remaining=0 retry-after=0s
	// request 3: allowed=false remaining=0 retry-after=500ms
	// after 500ms: allowed=true
}

func ExampleResult_Headers() {
	limit := ratelimit.Limit{Rate: 100, Period: time.Minute}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tat := now.Add(time.Minute) // all 100 used
	_, r := ratelimit.Step(tat, now, limit, 1)

	h := http.Header{}
	r.Headers("per-minute", h)
	for _, k := range []string{"RateLimit-Policy", "RateLimit", "Retry-After"} {
		fmt.Printf("%s: %s\n", k, h.Get(k))
	}
	// Output:
	// RateLimit-Policy: "per-minute";q=100;w=60
	// RateLimit: "per-minute";r=0;t=60
	// Retry-After: 1
}
