package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wrkPlain is wrk 4.1.0's output for a clean run, microsecond latencies.
const wrkPlain = `Running 8s test @ http://127.0.0.1:18098/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   568.25us    1.28ms  12.24ms   91.54%
    Req/Sec    16.87k     2.86k   22.24k    54.55%
  Latency Distribution
     50%  183.00us
     75%  254.00us
     90%    1.36ms
     99%    6.94ms
  18448 requests in 1.10s, 2.20MB read
Requests/sec:  16763.59
Transfer/sec:      2.00MB
`

// wrkTrouble has second latencies, socket errors and refused requests.
const wrkTrouble = `Running 8s test @ https://127.0.0.1:18098/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02s   300.00ms   2.00s    70.00%
    Req/Sec    30.00     10.00    50.00     60.00%
  Latency Distribution
     50%  950.12ms
     75%    1.20s
     90%    1.60s
     99%    1.98s
  240 requests in 8.02s, 40.00KB read
  Socket errors: connect 0, read 3, write 1, timeout 12
  Non-2xx or 3xx responses: 17
Requests/sec:     29.93
Transfer/sec:      4.99KB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want wrkResult
	}{
		{
			name: "microseconds_and_milliseconds",
			out:  wrkPlain,
			want: wrkResult{RPS: 16763.59, P50: 183 * time.Microsecond, P99: 6940 * time.Microsecond, Requests: 18448},
		},
		{
			name: "seconds_socket_errors_non_2xx",
			out:  wrkTrouble,
			want: wrkResult{RPS: 29.93, P50: 950120 * time.Microsecond, P99: 1980 * time.Millisecond, Requests: 240,
				Non2xx: 17, SocketErrors: 16},
		},
		{
			name: "minutes",
			out:  strings.Replace(wrkPlain, "6.94ms", "1.50m", 1),
			want: wrkResult{RPS: 16763.59, P50: 183 * time.Microsecond, P99: 90 * time.Second, Requests: 18448},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseWrk (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	tests := []struct {
		name string
		out  string
	}{
		{name: "empty", out: ""},
		{name: "connection_refused", out: "unable to connect to 127.0.0.1:18098 Connection refused\n"},
		{name: "no_latency_distribution", out: strings.Join(strings.Split(wrkPlain, "\n")[:5], "\n") + "\nRequests/sec:  16763.59\n"},
		{name: "bad_unit", out: strings.Replace(wrkPlain, "6.94ms", "6.94xs", 1)},
		{name: "bad_socket_errors", out: strings.Replace(wrkTrouble, "timeout 12", "timeout", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseWrk(tt.out); err == nil {
				t.Errorf("parseWrk = %+v, want an error", got)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{name: "none", xs: nil, want: 0},
		{name: "one", xs: []float64{3}, want: 3},
		{name: "odd_unsorted", xs: []float64{9, 1, 5}, want: 5},
		{name: "even_is_mean_of_middle_two", xs: []float64{4, 1, 10, 2}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.xs...)
			if got := median(tt.xs); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
			}
			if diff := cmp.Diff(in, tt.xs); diff != "" {
				t.Errorf("median changed its input:\n%s", diff)
			}
		})
	}
}

// res is a wrk result with the given req/s and p99, p50 a tenth of it.
func res(rps float64, p99 time.Duration) wrkResult {
	return wrkResult{RPS: rps, P50: p99 / 10, P99: p99, Requests: int64(rps) * 8}
}

func TestSummarise(t *testing.T) {
	cs := mustSelect(t, "guard-memory")
	samples := []sample{
		{Round: 1, Config: "bare", Result: res(1000, 10*time.Millisecond)},
		{Round: 1, Config: "guard-memory", Result: res(800, 20*time.Millisecond)},
		{Round: 2, Config: "guard-memory", Result: res(900, 30*time.Millisecond)}, // round order rotates
		{Round: 2, Config: "bare", Result: res(1000, 12*time.Millisecond)},
		{Round: 3, Config: "bare", Err: "round 3: 5 of 100 responses were not 2xx"},
		{Round: 3, Config: "guard-memory", Result: res(100, 40*time.Millisecond)}, // no baseline: no ratio
	}
	got := summarise(cs, samples)
	want := []row{
		{config: cs[0], Rounds: 2, RPS: 1000, P50: 1100 * time.Microsecond, P99: 11 * time.Millisecond,
			Problems: []string{"round 3: 5 of 100 responses were not 2xx"}},
		{config: cs[1], Rounds: 3, RPS: 800, P50: 3 * time.Millisecond, P99: 30 * time.Millisecond,
			HasRatio: true, Ratio: 0.85, RatioMin: 0.8, RatioMax: 0.9},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(row{}), approx()); diff != "" {
		t.Errorf("summarise (-want +got):\n%s", diff)
	}
}

// approx compares floats to within rounding.
func approx() cmp.Option {
	return cmp.Comparer(func(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 })
}

func mustSelect(t *testing.T, only string) []config {
	t.Helper()
	cs, err := selectConfigs(only)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestSelectConfigs(t *testing.T) {
	tests := []struct {
		name string
		only string
		want []string
	}{
		{name: "all", only: "", want: configNames()},
		{name: "adds_baselines_in_table_order", only: "nginx-tls, httprate", want: []string{"bare", "httprate", "bare-tls", "nginx-tls"}},
		{name: "baseline_alone", only: "bare", want: []string{"bare"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range mustSelect(t, tt.only) {
				got = append(got, c.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selectConfigs(%q) (-want +got):\n%s", tt.only, diff)
			}
		})
	}
	if _, err := selectConfigs("bare,nope"); err == nil {
		t.Error("selectConfigs accepted an unknown configuration")
	}
}

// rowOf builds a summarised row by hand.
func rowOf(t *testing.T, name string, ratio, lo, hi float64, p50, p99 time.Duration) row {
	t.Helper()
	c, ok := configByName(name)
	if !ok {
		t.Fatalf("no configuration %q", name)
	}
	r := row{config: c, Rounds: 3, RPS: 1000 * ratio, P50: p50, P99: p99}
	if c.Baseline != "" {
		r.HasRatio, r.Ratio, r.RatioMin, r.RatioMax = true, ratio, lo, hi
	}
	return r
}

func TestVerdicts(t *testing.T) {
	ms := time.Millisecond
	rows := []row{
		rowOf(t, "bare", 1, 1, 1, 1*ms, 2*ms),
		rowOf(t, "guard-memory", 0.84, 0.83, 0.85, 2*ms, 4*ms),
		// httprate is faster, beyond the noise, and has the lower p50; not the lower p99.
		rowOf(t, "httprate", 0.91, 0.90, 0.92, 1500*time.Microsecond, 5*ms),
		// Coraza loses everywhere.
		rowOf(t, "coraza", 0.01, 0.009, 0.011, 60*ms, 90*ms),
		// nginx is faster but within the rounds' spread.
		rowOf(t, "vigil-proxy", 0.50, 0.40, 0.60, 3*ms, 6*ms),
		rowOf(t, "nginx", 0.55, 0.45, 0.65, 3*ms, 6*ms),
	}
	got := verdicts(rows)
	want := []string{
		"**go-chi/httprate beats Vigil guard, memory store** on throughput (0.910 against 0.840 of the req/s of bare net/http) and p50 latency (1.500 ms against 2.000 ms). Vigil guard, memory store is ahead on p99 latency (4.000 ms against 5.000 ms). (httprate only limits the request rate; the guard also runs every detector.)",
		"Vigil guard, memory store is ahead of Coraza v3 + CRS v4 on throughput (0.840 against 0.010 of the req/s of bare net/http), p50 latency (2.000 ms against 60.00 ms) and p99 latency (4.000 ms against 90.00 ms).",
		"**nginx proxy_pass beats vigil proxy** on throughput (0.550 against 0.500 of the req/s of bare net/http; the rounds overlap, so the difference may be noise). The two are level on p50 latency (3.000 ms) and p99 latency (6.000 ms). (nginx only proxies; vigil proxy also runs the guard.)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
}

func TestReportNamesEveryLoss(t *testing.T) {
	ms := time.Millisecond
	r := report{
		Started:  time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Commit:   "abc1234",
		Settings: settings{Rounds: 3, Duration: 8 * time.Second, Warmup: 2 * time.Second, Connections: 32, Threads: 1, Pinned: true, WrkCPU: 1, Nice: -10},
		Rows: []row{
			rowOf(t, "bare-tls", 1, 1, 1, 1*ms, 2*ms),
			rowOf(t, "vigil-proxy-tls", 0.40, 0.39, 0.41, 6*ms, 30*ms),
			rowOf(t, "nginx-tls", 0.85, 0.80, 0.86, 3*ms, 40*ms),
		},
		Micro: micro{Skipped: true},
	}
	md := r.render()
	for _, want := range []string{
		"Generated by `cd bench/peers && go run ./scoreboard` on 2026-01-02 03:04 UTC (commit abc1234",
		"do not edit",
		"| vigil proxy over TLS | 400 | 6.000 ms | 30.00 ms | 0.400 | 0.390–0.410 | bare net/http over TLS | 3 |",
		"**nginx proxy_pass over TLS beats vigil proxy over TLS** on throughput (0.850 against 0.400 of the req/s of bare net/http over TLS) and p50 latency (3.000 ms against 6.000 ms). vigil proxy over TLS is ahead on p99 latency (30.00 ms against 40.00 ms).",
		"in each of 3 rounds",
		"Not run (`-micro=false`).",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q; report:\n%s", want, md)
		}
	}
}

func TestReportLeftOutRounds(t *testing.T) {
	bad := rowOf(t, "coraza", 0.01, 0.01, 0.01, 60*time.Millisecond, 90*time.Millisecond)
	bad.Rounds = 2
	bad.Problems = []string{"round 2: 3 of 500 responses were not 2xx"}
	r := report{Settings: settings{Rounds: 3}, Rows: []row{bad}, Micro: micro{Err: "`go test` failed"}}
	md := r.render()
	for _, want := range []string{
		"| 2 of 3 |",
		"Coraza v3 + CRS v4: a round was left out: round 2: 3 of 500 responses were not 2xx",
		"Not available: `go test` failed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q; report:\n%s", want, md)
		}
	}
}

func TestNginxConfig(t *testing.T) {
	plain := nginxConfig("/w/nginx", targetAddr, upstreamAddr, "", "")
	tls := nginxConfig("/w/nginx", targetAddr, upstreamAddr, "/w/cert.pem", "/w/key.pem")
	for _, want := range []string{"listen 127.0.0.1:18098;", "server 127.0.0.1:18099; keepalive 64;", "proxy_pass http://target;"} {
		if !strings.Contains(plain, want) {
			t.Errorf("plain configuration lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "ssl") {
		t.Errorf("plain configuration mentions ssl:\n%s", plain)
	}
	for _, want := range []string{"listen 127.0.0.1:18098 ssl;", "ssl_certificate /w/cert.pem;", "ssl_certificate_key /w/key.pem;", "proxy_pass http://target;"} {
		if !strings.Contains(tls, want) {
			t.Errorf("TLS configuration lacks %q:\n%s", want, tls)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"test", "-run", "^$", "-bench", "Guard", "."})
	if want := "test -run '^$' -bench Guard ."; got != want {
		t.Errorf("shellJoin = %q, want %q", got, want)
	}
}
