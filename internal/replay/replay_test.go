package replay

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

func readAll(t *testing.T, read func(r *strings.Reader, fn func(Record) error) error, in string) []Record {
	t.Helper()
	var out []Record
	if err := read(strings.NewReader(in), func(r Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonl(r *strings.Reader, fn func(Record) error) error    { return ReadJSONL(r, fn) }
func combined(r *strings.Reader, fn func(Record) error) error { return ReadCombined(r, fn) }

func TestReadJSONL(t *testing.T) {
	in := `{"method":"GET","path":"/a","query":"x=1","headers":[["User-Agent","t"]],"id":"r1","label":"attack","category":"sqli"}

{"method":"POST","path":"/b","headers":[["Host","shop"],["Content-Type","text/plain"]],"body":"hi","http_version":"HTTP/1.0","client":"::ffff:192.0.2.5","time":"2026-11-21T10:00:00.5Z"}
`
	recs := readAll(t, jsonl, in)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2 (the blank line skipped)", len(recs))
	}
	a, b := recs[0], recs[1]
	if a.Line != 1 || a.ID != "r1" || a.Label != "attack" || a.Category != "sqli" || a.Client.IsValid() || !a.Time.IsZero() {
		t.Errorf("first record %+v", a)
	}
	if want := "GET /a?x=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\n\r\n"; string(a.Raw) != want {
		t.Errorf("first raw %q, want %q (Host added, HTTP/1.1 by default)", a.Raw, want)
	}
	if b.Line != 3 || b.Client != netip.MustParseAddr("192.0.2.5") || !b.Time.Equal(time.Date(2026, 11, 21, 10, 0, 0, 5e8, time.UTC)) {
		t.Errorf("second record: line %d client %v time %v", b.Line, b.Client, b.Time)
	}
	if !strings.HasPrefix(string(b.Raw), "POST /b HTTP/1.0\r\nHost: shop\r\n") || !strings.HasSuffix(string(b.Raw), "\r\n\r\nhi") {
		t.Errorf("second raw %q", b.Raw)
	}

	for _, bad := range []struct{ in, want string }{
		{`{"method":"GET"}`, "line 1: a record needs method and path"},
		{"\n" + `{"method":"GET","path":"/","client":"nope"}`, "line 2: client"},
		{`{"method":"GET","path":"/","time":"yesterday"}`, "line 1: time"},
		{`{"method":`, "line 1:"},
	} {
		err := ReadJSONL(strings.NewReader(bad.in), func(Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ReadJSONL(%q) = %v, want an error containing %q", bad.in, err, bad.want)
		}
	}
}

func TestReadCombined(t *testing.T) {
	in := `203.0.113.7 - - [21/Nov/2026:10:00:00 +0100] "GET /a?b=1 HTTP/1.1" 404 512 "https://ref.example/" "Mozilla/5.0 (X11) \"quoted\""
2001:db8::9 - bob [21/Nov/2026:10:00:01 +0000] "POST /login HTTP/2.0" 401 0 "-" "-"
198.51.100.1 - - [21/Nov/2026:10:00:02 +0000] "GET / HTTP/1.0" 200 10
`
	recs := readAll(t, combined, in)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	a := recs[0]
	if a.Client != netip.MustParseAddr("203.0.113.7") || a.Status != 404 || !a.Time.Equal(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("first: client %v status %d time %v", a.Client, a.Status, a.Time)
	}
	want := "GET /a?b=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0 (X11) \"quoted\"\r\nReferer: https://ref.example/\r\n\r\n"
	if string(a.Raw) != want {
		t.Errorf("first raw\n%q\nwant\n%q", a.Raw, want)
	}
	if b := recs[1]; b.Status != 401 || strings.Contains(string(b.Raw), "User-Agent") || strings.Contains(string(b.Raw), "Referer") {
		t.Errorf("second: status %d raw %q (\"-\" means absent)", b.Status, b.Raw)
	}
	if c := recs[2]; c.Status != 200 || c.Line != 3 {
		t.Errorf("third: %+v (referer and user agent may be missing)", c)
	}
	for _, bad := range []string{
		`nothost - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1`,
		`203.0.113.7 - - 21/Nov/2026 "GET / HTTP/1.1" 200 1`,
		`203.0.113.7 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1`,
		`203.0.113.7 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" ok 1`,
	} {
		if err := ReadCombined(strings.NewReader(bad), func(Record) error { return nil }); err == nil || !strings.HasPrefix(err.Error(), "line 1:") {
			t.Errorf("ReadCombined(%q) = %v, want an error on line 1", bad, err)
		}
	}
}

// logLine is a combined-log line of a browser-less client at t.
func logLine(ip string, t time.Time, path string, status int) string {
	return fmt.Sprintf("%s - - [%s] \"GET %s HTTP/1.1\" %d 0 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0\"\n",
		ip, t.Format(combinedTime), path, status)
}

func runAll(t *testing.T, cfg vigil.Config, read func(r *strings.Reader, fn func(Record) error) error, in string) []Result {
	t.Helper()
	rn, err := NewRunner(cfg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var out []Result
	if err := read(strings.NewReader(in), func(r Record) error {
		out = append(out, rn.Run(&r))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The records' clock drives the guard: a honeypot ban holds for the policy's ban
// length in record time and ends after it, though the replay takes milliseconds.
func TestRunnerBansOnRecordTime(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ttl := policy.Bans{}.Length(1)
	in := logLine("203.0.113.7", t0, "/.env", 404) +
		logLine("203.0.113.7", t0.Add(time.Minute), "/products", 200) +
		logLine("198.51.100.2", t0.Add(time.Minute), "/products", 200) +
		logLine("203.0.113.7", t0.Add(ttl+time.Minute), "/products", 200)
	res := runAll(t, vigil.Config{Offline: true}, combined, in)
	want := []vigil.Action{vigil.ActionBlock, vigil.ActionBlock, vigil.ActionAllow, vigil.ActionAllow}
	for i, r := range res {
		if r.Verdict.WouldBe != want[i] {
			t.Errorf("record %d (%s %s): %s, want %s; signals %+v", i+1, r.Client, r.Path, r.Verdict.WouldBe, want[i], r.Verdict.Signals)
		}
	}
	if !hasCode(res[1].Verdict, "banned") {
		t.Errorf("second record's signals %+v, want banned", res[1].Verdict.Signals)
	}
}

// A client's requests count against its rate limit in record time: 700 in one
// minute exceed the default 600 a minute, the same 700 over two hours do not.
func TestRunnerLimitsOnRecordTime(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cfg := vigil.Config{Offline: true}
	cfg.Policy.Weights = map[string]float64{"automated_behaviour": 0}
	for _, tc := range []struct {
		step    time.Duration
		limited bool
	}{{50 * time.Millisecond, true}, {10 * time.Second, false}} {
		var in strings.Builder
		for i := range 700 {
			in.WriteString(logLine("203.0.113.8", t0.Add(time.Duration(i)*tc.step), fmt.Sprintf("/item/%d", i%7), 200))
		}
		n := 0
		for _, r := range runAll(t, cfg, combined, in.String()) {
			if r.Verdict.WouldBe == vigil.ActionRateLimit {
				n++
			}
		}
		if (n > 0) != tc.limited {
			t.Errorf("700 requests %v apart: %d rate-limited, want limited %v", tc.step, n, tc.limited)
		}
	}
}

// Records without a client each run as a client of their own; records net/http's
// server would refuse never reach the guard.
func TestRunnerClientsAndRefusals(t *testing.T) {
	in := `{"method":"GET","path":"/.env"}
{"method":"GET","path":"/"}
{"method":"GET","path":"/","http_version":"HTTP/2.0"}
{"method":"GET","path":"/","headers":[["Host","a"],["Host","b"]]}
`
	res := runAll(t, vigil.Config{Offline: true}, jsonl, in)
	if res[0].Verdict.WouldBe != vigil.ActionBlock || res[1].Verdict.WouldBe != vigil.ActionAllow {
		t.Errorf("honeypot then another client's request: %s, %s; want block, allow", res[0].Verdict.WouldBe, res[1].Verdict.WouldBe)
	}
	if res[0].Client == res[1].Client || !netip.MustParsePrefix("2001:db8::/32").Contains(res[0].Client) {
		t.Errorf("clients %v and %v, want two of 2001:db8::/32", res[0].Client, res[1].Client)
	}
	for _, i := range []int{2, 3} {
		if res[i].Refused == "" || res[i].Verdict.RequestID != "" {
			t.Errorf("record %d: refused %q, verdict %+v; want refused before the guard", i+1, res[i].Refused, res[i].Verdict)
		}
		if !res[i].Caught() {
			t.Errorf("record %d: a refused request counts as caught", i+1)
		}
	}
}

// Monitor mode decides without enforcing: the summary counts what the guard would
// have done, and labelled records are scored on that.
func TestSummary(t *testing.T) {
	cfg := vigil.Config{Offline: true}
	cfg.Policy.Mode = policy.ModeMonitor
	in := `{"method":"GET","path":"/","query":"id=1%27%20OR%201=1--","label":"attack"}
{"method":"GET","path":"/","query":"q=%3Cscript%3Ealert(1)%3C/script%3E","label":"attack"}
{"method":"GET","path":"/shop","label":"attack"}
{"method":"GET","path":"/about","label":"benign"}
`
	var s Summary
	for _, r := range runAll(t, cfg, jsonl, in) {
		if r.Verdict.Action != vigil.ActionAllow {
			t.Errorf("monitor mode acted: %s", r.Verdict.Action)
		}
		s.Add(&r)
	}
	if s.Records != 4 || s.Attacks != 3 || s.AttacksCaught != 2 || s.Benign != 1 || s.BenignCaught != 0 {
		t.Errorf("summary %+v", s)
	}
	if s.WouldBe[vigil.ActionBlock] != 2 || s.Signals["sqli"] != 1 || s.Signals["xss"] != 1 {
		t.Errorf("would-be %v, signals %v", s.WouldBe, s.Signals)
	}
	var out bytes.Buffer
	s.Print(&out)
	for _, want := range []string{"replayed 4 requests", "labelled attacks caught: 2 of 3 (66.7%)", "false positives): 0 of 1 (0.0%)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary print lacks %q:\n%s", want, out.String())
		}
	}
}

func hasCode(v vigil.Verdict, code string) bool {
	for _, s := range v.Signals {
		if s.Code == code {
			return true
		}
	}
	return false
}
