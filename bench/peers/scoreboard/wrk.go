package main

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	RPS      float64       // "Requests/sec:"
	P50, P99 time.Duration // "Latency Distribution" (wrk --latency)
	Requests int64         // "N requests in …"
	// Non2xx is wrk's "Non-2xx or 3xx responses:" count: wrk counts a response with a
	// status of 400 or more. Every server here answers 200 or a 4xx, so it is the count
	// of responses that were not 2xx.
	Non2xx int64
	// SocketErrors sums "Socket errors: connect N, read N, write N, timeout N". A
	// timeout is a request slower than wrk's 2 s.
	SocketErrors int64
}

// parseWrk reads the output of wrk --latency. It fails when the output lacks the
// throughput or the 50th or 99th percentile, which is how a run that did not happen
// (server gone, wrong URL) shows.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS, have50, have99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var err error
		switch {
		case f[0] == "Requests/sec:" && len(f) == 2:
			r.RPS, err = strconv.ParseFloat(f[1], 64)
			haveRPS = err == nil
		case f[0] == "50%" && len(f) == 2:
			r.P50, err = parseWrkDuration(f[1])
			have50 = err == nil
		case f[0] == "99%" && len(f) == 2:
			r.P99, err = parseWrkDuration(f[1])
			have99 = err == nil
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.Requests, err = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(strings.TrimSpace(sc.Text()), "Non-2xx or 3xx responses:"):
			r.Non2xx, err = strconv.ParseInt(f[len(f)-1], 10, 64)
		case f[0] == "Socket" && len(f) > 1 && f[1] == "errors:":
			r.SocketErrors, err = parseSocketErrors(f[2:])
		}
		if err != nil {
			return wrkResult{}, fmt.Errorf("wrk output: %q: %w", strings.TrimSpace(sc.Text()), err)
		}
	}
	if !haveRPS || !have50 || !have99 {
		return wrkResult{}, errors.New("wrk output has no Requests/sec or no 50% and 99% latency (was --latency given?)")
	}
	return r, nil
}

// parseWrkDuration reads a latency as wrk prints it: a decimal number and one of the
// units us, ms, s, m or h ("183.00us", "1.36ms", "2.00s"). Go's duration syntax
// accepts all five with the same meaning.
func parseWrkDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative latency %q", s)
	}
	return d, nil
}

// parseSocketErrors sums the counts of "connect 0, read 1, write 0, timeout 12", given
// as fields.
func parseSocketErrors(f []string) (int64, error) {
	if len(f)%2 != 0 {
		return 0, fmt.Errorf("want name and count pairs, got %q", strings.Join(f, " "))
	}
	var n int64
	for i := 1; i < len(f); i += 2 {
		c, err := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}
