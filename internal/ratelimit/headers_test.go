package ratelimit

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

var headerCases = []struct {
	name string
	pol  string
	r    Result
	want http.Header
}{
	{
		name: "allowed",
		pol:  "default",
		r:    Result{Allowed: true, Limit: tenPerSecond, Remaining: 9, ResetAfter: 100 * time.Millisecond},
		want: http.Header{
			"Ratelimit-Policy": {`"default";q=10;w=1`},
			"Ratelimit":        {`"default";r=9;t=1`},
		},
	},
	{
		name: "denied_rounds_retry_up",
		pol:  "api",
		r:    Result{Limit: Limit{Rate: 100, Period: time.Hour}, RetryAfter: 1500 * time.Millisecond, ResetAfter: time.Hour},
		want: http.Header{
			"Ratelimit-Policy": {`"api";q=100;w=3600`},
			"Ratelimit":        {`"api";r=0;t=3600`},
			"Retry-After":      {"2"},
		},
	},
	{
		name: "retry_after_at_least_one_second",
		pol:  "api",
		r:    Result{Limit: tenPerSecond, RetryAfter: time.Millisecond, ResetAfter: time.Second},
		want: http.Header{
			"Ratelimit-Policy": {`"api";q=10;w=1`},
			"Ratelimit":        {`"api";r=0;t=1`},
			"Retry-After":      {"1"},
		},
	},
	{
		// 1 per 100ms is 10 in the one-second window the header can express.
		name: "sub_second_period",
		pol:  "fast",
		r:    Result{Allowed: true, Limit: Limit{Rate: 1, Period: 100 * time.Millisecond}, ResetAfter: 100 * time.Millisecond},
		want: http.Header{
			"Ratelimit-Policy": {`"fast";q=10;w=1`},
			"Ratelimit":        {`"fast";r=0;t=1`},
		},
	},
	{
		// 3 per 1.5s: the window rounds up to 2s, in which 4 requests (4.0) fit.
		name: "fractional_period",
		pol:  "odd",
		r:    Result{Allowed: true, Limit: Limit{Rate: 3, Period: 1500 * time.Millisecond}, Remaining: 2, ResetAfter: 500 * time.Millisecond},
		want: http.Header{
			"Ratelimit-Policy": {`"odd";q=4;w=2`},
			"Ratelimit":        {`"odd";r=2;t=1`},
		},
	},
	{
		name: "never_is_capped",
		pol:  "upload",
		r:    Result{Limit: tenPerSecond, Remaining: 10, RetryAfter: Never},
		want: http.Header{
			"Ratelimit-Policy": {`"upload";q=10;w=1`},
			"Ratelimit":        {`"upload";r=10;t=0`},
			"Retry-After":      {"2147483647"},
		},
	},
	{
		name: "name_is_escaped",
		pol:  "a\"b\\c\x01é",
		r:    Result{Allowed: true, Limit: tenPerSecond, Remaining: 10},
		want: http.Header{
			"Ratelimit-Policy": {`"a\"b\\c___";q=10;w=1`},
			"Ratelimit":        {`"a\"b\\c___";r=10;t=0`},
		},
	},
	{
		name: "invalid_limit_only_retry_after",
		pol:  "x",
		r:    Result{RetryAfter: Never},
		want: http.Header{"Retry-After": {"2147483647"}},
	},
	{
		name: "zero_result",
		pol:  "x",
		want: http.Header{"Retry-After": {"1"}},
	},
}

func TestHeaders(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.r.Headers(tc.pol, h)
			if diff := cmp.Diff(tc.want, h); diff != "" {
				t.Errorf("Headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeadersSeveralLimits(t *testing.T) {
	perSecond := Result{Limit: tenPerSecond, RetryAfter: 300 * time.Millisecond, ResetAfter: time.Second}
	perHour := Result{Limit: Limit{Rate: 1000, Period: time.Hour}, RetryAfter: 20 * time.Second, ResetAfter: time.Hour}
	h := http.Header{}
	perHour.Headers("hour", h)
	perSecond.Headers("second", h)
	want := http.Header{
		"Ratelimit-Policy": {`"hour";q=1000;w=3600`, `"second";q=10;w=1`},
		"Ratelimit":        {`"hour";r=0;t=3600`, `"second";r=0;t=1`},
		"Retry-After":      {"20"}, // the longer wait stays
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("Headers (-want +got):\n%s", diff)
	}

	h = http.Header{"Retry-After": {"1"}}
	perHour.Headers("hour", h)
	if got := h.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want the longer wait 20", got)
	}
}

func TestHeadersAllocs(t *testing.T) {
	for _, tc := range headerCases {
		h := http.Header{}
		tc.r.Headers(tc.pol, h) // size the map
		allocs := vigiltest.AllocsPerRun(100, func() {
			clear(h)
			tc.r.Headers(tc.pol, h)
		})
		if allocs > 2 {
			t.Errorf("%s: %v allocations, want at most 2", tc.name, allocs)
		}
	}
}

func BenchmarkHeaders(b *testing.B) {
	for _, tc := range headerCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			h := http.Header{}
			for b.Loop() {
				clear(h)
				tc.r.Headers(tc.pol, h)
			}
		})
	}
}
