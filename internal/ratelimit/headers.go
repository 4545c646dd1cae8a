package ratelimit

import (
	"math"
	"math/bits"
	"net/http"
	"strconv"
	"time"
)

// maxHeaderSeconds caps every number of seconds Headers writes, so that a client that
// parses them into 32 bits, or multiplies them into nanoseconds, does not overflow.
// Of the results Step returns, only RetryAfter [Never] reaches it: the other durations
// stay within MaxPeriod (ten years).
const maxHeaderSeconds = math.MaxInt32

// Headers writes r as rate-limit response headers in the structured-field form of
// draft-ietf-httpapi-ratelimit-headers, for the policy called name:
//
//	RateLimit-Policy: "<name>";q=<quota>;w=<window seconds>
//	RateLimit: "<name>";r=<remaining>;t=<seconds until reset, rounded up>
//	Retry-After: <seconds, rounded up, at least 1>      (only when r is denied)
//
// The policy's window is the Period rounded up to whole seconds, and its quota is the
// number of requests the Rate allows in that window, rounded down: 10 per 100ms is
// written q=100;w=1. Numbers of seconds are capped at 2³¹−1, which is what RetryAfter
// [Never] is written as.
//
// RateLimit-Policy and RateLimit are structured-field lists, so Headers appends one
// member to each: a response under several limits reports all of them. Retry-After is a
// single value; Headers keeps an existing numeric Retry-After that is larger than r's, as
// a client has to wait for every limit. When r.Limit is invalid, only Retry-After is
// written.
//
// name is written as a structured-field string: '"' and '\' are escaped, and bytes
// outside printable ASCII are replaced by '_'. Headers allocates at most twice: once
// for the three values together, once for their slice.
func (r Result) Headers(name string, h http.Header) {
	var a [128]byte
	b := a[:0]
	var policyEnd, limitEnd int
	if _, _, ok := r.Limit.params(); ok {
		q, w := r.Limit.window()
		b = appendSFString(b, name)
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, q, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, w, 10)
		policyEnd = len(b)
		b = appendSFString(b, name)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, int64(r.Remaining), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(r.ResetAfter), 10)
		limitEnd = len(b)
	}
	var retry int64
	if !r.Allowed {
		retry = max(1, ceilSeconds(r.RetryAfter))
		if old, ok := parseSeconds(h.Get("Retry-After")); ok && old >= retry {
			retry = 0 // keep the longer wait already written
		}
		if retry > 0 {
			b = strconv.AppendInt(b, retry, 10)
		}
	}
	if len(b) == 0 {
		return
	}
	s := string(b)
	vals := make([]string, 0, 3)
	if limitEnd > 0 {
		vals = append(vals, s[:policyEnd], s[policyEnd:limitEnd])
		h["Ratelimit-Policy"] = appendOwn(h["Ratelimit-Policy"], vals[0:1:1])
		h["Ratelimit"] = appendOwn(h["Ratelimit"], vals[1:2:2])
	}
	if retry > 0 {
		n := len(vals)
		vals = append(vals, s[limitEnd:])
		h["Retry-After"] = vals[n : n+1 : n+1]
	}
}

// appendOwn appends the one value in v to old, using v's storage when old is empty.
func appendOwn(old, v []string) []string {
	if len(old) == 0 {
		return v
	}
	return append(old, v[0])
}

// window returns the policy's quota and window in seconds for a valid limit: the Period
// rounded up to whole seconds, and the requests Rate allows in it, rounded down.
func (l Limit) window() (quota, seconds int64) {
	seconds = ceilSeconds(l.Period)
	// Rate·seconds·1e9/Period in 128 bits: Rate ≤ Period, so the quotient fits and the
	// high word is below Period, as bits.Div64 requires.
	hi, lo := bits.Mul64(uint64(l.Rate), uint64(seconds)*uint64(time.Second))
	q, _ := bits.Div64(hi, lo, uint64(l.Period))
	return int64(min(q, math.MaxInt64)), seconds
}

// ceilSeconds returns d in whole seconds, rounded up, between 0 and maxHeaderSeconds.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return min(s, maxHeaderSeconds)
}

// parseSeconds parses a Retry-After delay in seconds: 1 to 18 digits, nothing else. It
// does not allocate, unlike strconv.ParseInt's errors.
func parseSeconds(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// appendSFString appends s as a structured-field string (RFC 9651 §3.3.3).
func appendSFString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
