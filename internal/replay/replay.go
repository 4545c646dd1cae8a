// Package replay runs recorded HTTP requests through a Vigil guard offline, the engine
// of `vigil replay`: so that an operator can see what Vigil would have done to last
// week's traffic before deploying it, and so that the detection report rests on the
// same path as production.
//
// Records come from two formats. JSONL is the request format of the shared reference
// data (method, path, query, headers as [name, value] pairs in order, body,
// http_version; optional label, category, id), with two optional fields of Vigil's
// own: client (an IP address) and time (RFC 3339). Combined is a web server's
// combined access log (nginx's and Apache's default): client address, time, request
// line, status, User-Agent and Referer.
//
// Each record is turned into the bytes a client would have sent and parsed by
// net/http's own request parser; a request net/http's server would have refused before
// any handler ran (a malformed request line, a missing Host) is reported as refused,
// never shown to the guard. The others go through the guard's Handler, the same code
// path as production, with the recorded response status (combined logs) or 200
// answering them, so that the behaviour detector sees what the application answered.
//
// Time is the records': the guard's clock (vigil.Config.Clock) is set to each record's
// time before it runs, so rate limits, bans and behaviour play out as they would have.
// A record without a time is a millisecond after the one before. A record without a
// client gets a client of its own (a /64 of 2001:db8::/32, the documentation prefix),
// so records that carry no client do not count against each other's limits.
//
// Replay makes no network calls: crawler verification (reverse and forward DNS) and
// e-mail deliverability checks are not run, so a crawler's claim stays unverified and
// a signup's domain is judged offline. Combined logs carry no other request headers
// than the User-Agent and Referer, so the header-consistency signal
// (ua_inconsistent, "a browser without Accept-Language") would fire on every browser:
// in that format it is reported with weight 0.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
)

// Record is one recorded request.
type Record struct {
	// Line is the record's line in its file, from 1.
	Line int
	// ID is the record's id (JSONL), if it has one.
	ID string
	// Time is when the request arrived; zero when unknown.
	Time time.Time
	// Client is the client's address; the zero Addr when unknown.
	Client netip.Addr
	// Raw is the request as the client sent it: request line, headers, body.
	Raw []byte
	// Status is the response status the application gave, when recorded (combined
	// logs); zero means 200.
	Status int
	// Label ("attack" or "benign") and Category come from labelled data (JSONL).
	Label, Category string
}

// jsonlRow is a JSONL record as read.
type jsonlRow struct {
	crseval.Row
	Client string `json:"client"`
	Time   string `json:"time"`
}

// MaxLine bounds one record's line: 16 MiB.
const MaxLine = 16 << 20

// ReadJSONL reads JSONL records from r and calls fn with each. A line that is not a
// valid record is an error naming its line; blank lines are skipped.
func ReadJSONL(r io.Reader, fn func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var row jsonlRow
		if err := json.Unmarshal(line, &row); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if row.Method == "" || row.Path == "" {
			return fmt.Errorf("line %d: a record needs method and path", n)
		}
		if row.HTTPVersion == "" {
			row.HTTPVersion = "HTTP/1.1"
		}
		rec := Record{Line: n, ID: row.ID, Label: row.Label, Category: row.Category}
		if row.Client != "" {
			a, err := netip.ParseAddr(row.Client)
			if err != nil {
				return fmt.Errorf("line %d: client: %w", n, err)
			}
			rec.Client = a.Unmap()
		}
		if row.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, row.Time)
			if err != nil {
				return fmt.Errorf("line %d: time: %w", n, err)
			}
			rec.Time = t
		}
		if !hasHeader(row.Headers, "Host") {
			row.Headers = append([][2]string{{"Host", "localhost"}}, row.Headers...)
		}
		rec.Raw = row.Raw()
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading records: %w", err)
	}
	return nil
}

func hasHeader(hs [][2]string, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h[0], name) {
			return true
		}
	}
	return false
}

// combinedTime is the time layout of the combined log format.
const combinedTime = "02/Jan/2006:15:04:05 -0700"

// ReadCombined reads a combined access log from r and calls fn with each request:
//
//	203.0.113.7 - - [21/Nov/2026:10:00:00 +0000] "GET /a?b=1 HTTP/1.1" 200 512 "https://ref/" "Mozilla/5.0 …"
//
// A line that does not parse is an error naming its line.
func ReadCombined(r io.Reader, fn func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		rec, err := parseCombined(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		rec.Line = n
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading log: %w", err)
	}
	return nil
}

func parseCombined(line string) (Record, error) {
	var rec Record
	host, rest, ok := strings.Cut(line, " ")
	if !ok {
		return rec, errors.New("no client address")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return rec, fmt.Errorf("client address: %w", err)
	}
	rec.Client = a.Unmap()
	i, j := strings.IndexByte(rest, '['), strings.IndexByte(rest, ']')
	if i < 0 || j < i {
		return rec, errors.New("no [time]")
	}
	if rec.Time, err = time.Parse(combinedTime, rest[i+1:j]); err != nil {
		return rec, fmt.Errorf("time: %w", err)
	}
	fields, err := quotedFields(rest[j+1:])
	if err != nil {
		return rec, err
	}
	// "request" status bytes "referer" "user-agent"
	if len(fields) < 3 {
		return rec, errors.New(`want "request" status bytes ["referer" "user-agent"]`)
	}
	reqLine := fields[0]
	if rec.Status, err = strconv.Atoi(fields[1]); err != nil || rec.Status < 100 || rec.Status > 999 {
		return rec, fmt.Errorf("status %q", fields[1])
	}
	var referer, ua string
	if len(fields) >= 5 {
		referer, ua = fields[3], fields[4]
	}
	method, target, _ := strings.Cut(reqLine, " ")
	target, proto, _ := strings.Cut(target, " ")
	if proto == "" {
		proto = "HTTP/1.0"
	}
	var b bytes.Buffer
	b.WriteString(method + " " + target + " " + proto + "\r\nHost: localhost\r\n")
	if ua != "" && ua != "-" {
		b.WriteString("User-Agent: " + ua + "\r\n")
	}
	if referer != "" && referer != "-" {
		b.WriteString("Referer: " + referer + "\r\n")
	}
	b.WriteString("\r\n")
	rec.Raw = b.Bytes()
	return rec, nil
}

// quotedFields splits s into its fields: "quoted strings" (with \" and \\ escapes, as
// nginx writes them) and bare words.
func quotedFields(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out, nil
		}
		if s[0] != '"' {
			w, rest, _ := strings.Cut(s, " ")
			out, s = append(out, w), rest
			continue
		}
		var f strings.Builder
		k := 1
		for ; k < len(s) && s[k] != '"'; k++ {
			if s[k] == '\\' && k+1 < len(s) {
				k++
			}
			f.WriteByte(s[k])
		}
		if k >= len(s) {
			return nil, errors.New("unterminated quoted field")
		}
		out, s = append(out, f.String()), s[k+1:]
	}
}

// Result is what the guard did with one record.
type Result struct {
	Record *Record
	// Refused says why net/http's server would have answered before the guard ran;
	// then Verdict is zero.
	Refused string
	// Client is the address the record ran as; Method and Path are the request's.
	Client       netip.Addr
	Method, Path string
	// Verdict is the guard's.
	Verdict vigil.Verdict
}

// Runner replays records through one guard, in order. It is not safe for concurrent
// use: records share the guard's state in the order they are run.
type Runner struct {
	guard *vigil.Guard
	h     http.Handler
	now   time.Time
	n     uint32 // clients given so far
	sink  sink
}

// sink keeps the last request event.
type sink struct {
	mu   sync.Mutex
	last vigil.Event
	seen bool
}

func (s *sink) Record(e vigil.Event) {
	if e.Kind != vigil.EventRequest {
		return
	}
	s.mu.Lock()
	s.last, s.seen = e, true
	s.mu.Unlock()
}

// NewRunner returns a Runner over a guard made from cfg, whose Clock and Events it
// sets (Events, when cfg has one, still receives every event). The clock starts at
// start, for records without a time.
func NewRunner(cfg vigil.Config, start time.Time) (*Runner, error) {
	rn := &Runner{now: start}
	next := cfg.Events
	cfg.Events = eventsTee{&rn.sink, next}
	cfg.Clock = func() time.Time { return rn.now }
	g, err := vigil.New(cfg)
	if err != nil {
		return nil, err
	}
	rn.guard = g
	rn.h = g.Handler(http.HandlerFunc(answer))
	return rn, nil
}

type eventsTee struct {
	a    *sink
	next vigil.EventSink
}

func (t eventsTee) Record(e vigil.Event) {
	t.a.Record(e)
	if t.next != nil {
		t.next.Record(e)
	}
}

// statusKey carries a record's recorded status to answer.
type statusKey struct{}

// answer is the application: it answers with the recorded status.
func answer(w http.ResponseWriter, r *http.Request) {
	status, _ := r.Context().Value(statusKey{}).(int)
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
}

// Run replays rec.
func (rn *Runner) Run(rec *Record) Result {
	res := Result{Record: rec, Client: rec.Client}
	if !rec.Time.IsZero() {
		rn.now = rec.Time
	} else {
		rn.now = rn.now.Add(time.Millisecond)
	}
	req, why := crseval.ParseRaw(rec.Raw)
	if why != "" {
		res.Refused = why
		return res
	}
	if !res.Client.IsValid() {
		rn.n++
		res.Client = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rn.n >> 24), byte(rn.n >> 16), byte(rn.n >> 8), byte(rn.n), 15: 1})
	}
	res.Method, res.Path = req.Method, req.URL.Path
	req.RemoteAddr = netip.AddrPortFrom(res.Client, 40000).String()
	req.RequestURI = ""
	if rec.Status != 0 {
		req = req.WithContext(context.WithValue(req.Context(), statusKey{}, rec.Status))
	}
	rn.sink.seen = false
	rn.h.ServeHTTP(discard{h: http.Header{}}, req)
	if rn.sink.seen {
		res.Verdict = rn.sink.last.Verdict
	}
	return res
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// Line is the JSONL form of a Result that `vigil replay` prints.
type Line struct {
	Line     int          `json:"line"`
	ID       string       `json:"id,omitempty"`
	Client   string       `json:"client,omitempty"`
	Method   string       `json:"method,omitempty"`
	Path     string       `json:"path,omitempty"`
	Refused  string       `json:"refused,omitempty"`
	Action   vigil.Action `json:"action,omitempty"`
	WouldBe  vigil.Action `json:"would_be,omitempty"`
	Score    int          `json:"score"`
	Signals  []LineSignal `json:"signals,omitempty"`
	Label    string       `json:"label,omitempty"`
	Category string       `json:"category,omitempty"`
}

// LineSignal is one signal of a Line.
type LineSignal struct {
	Detector string `json:"detector"`
	Code     string `json:"code"`
	Score    int    `json:"score"`
}

// Line returns the JSONL form of res.
func (res *Result) Line() Line {
	l := Line{Line: res.Record.Line, ID: res.Record.ID, Method: res.Method, Path: res.Path, Refused: res.Refused,
		Label: res.Record.Label, Category: res.Record.Category}
	if res.Client.IsValid() {
		l.Client = res.Client.String()
	}
	if res.Refused == "" {
		v := &res.Verdict
		l.Action, l.WouldBe, l.Score = v.Action, v.WouldBe, v.Score
		for _, s := range v.Signals {
			l.Signals = append(l.Signals, LineSignal{s.Detector, s.Code, s.Score})
		}
	}
	return l
}

// Caught reports whether Vigil stopped the request, or would have in monitor mode:
// blocked or challenged it, or net/http's server refused it before the guard ran.
func (res *Result) Caught() bool {
	return res.Refused != "" || res.Verdict.WouldBe == vigil.ActionBlock || res.Verdict.WouldBe == vigil.ActionChallenge
}

// Summary adds up Results.
type Summary struct {
	Records, Refused int
	// WouldBe counts the records the guard ran by what it decided (in monitor mode,
	// what it would have done).
	WouldBe map[vigil.Action]int
	// Signals counts the records each signal code appeared in.
	Signals map[string]int
	// Attacks and Benign count the labelled records, and AttacksCaught and
	// BenignCaught those of them Caught.
	Attacks, AttacksCaught, Benign, BenignCaught int
}

// Add counts res.
func (s *Summary) Add(res *Result) {
	if s.WouldBe == nil {
		s.WouldBe, s.Signals = map[vigil.Action]int{}, map[string]int{}
	}
	s.Records++
	if res.Refused != "" {
		s.Refused++
	} else {
		s.WouldBe[res.Verdict.WouldBe]++
		seen := map[string]bool{}
		for _, sg := range res.Verdict.Signals {
			if !seen[sg.Code] {
				seen[sg.Code] = true
				s.Signals[sg.Code]++
			}
		}
	}
	switch res.Record.Label {
	case "attack":
		s.Attacks++
		if res.Caught() {
			s.AttacksCaught++
		}
	case "benign":
		s.Benign++
		if res.Caught() {
			s.BenignCaught++
		}
	}
}

// Print writes the summary for people.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "replayed %d requests", s.Records)
	if s.Refused > 0 {
		fmt.Fprintf(w, " (%d refused by net/http before the guard)", s.Refused)
	}
	fmt.Fprintln(w)
	for _, a := range []vigil.Action{vigil.ActionAllow, vigil.ActionChallenge, vigil.ActionRateLimit, vigil.ActionBlock} {
		if n := s.WouldBe[a]; n > 0 || a == vigil.ActionAllow || a == vigil.ActionBlock {
			fmt.Fprintf(w, "  %-10s %7d  %5.1f%%\n", a, n, pct(n, s.Records))
		}
	}
	if len(s.Signals) > 0 {
		type kv struct {
			k string
			n int
		}
		var top []kv
		for k, n := range s.Signals {
			top = append(top, kv{k, n})
		}
		sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].k < top[j].k })
		fmt.Fprintln(w, "top signals (requests):")
		for i, t := range top {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "  %-24s %7d\n", t.k, t.n)
		}
	}
	if s.Attacks > 0 {
		fmt.Fprintf(w, "labelled attacks caught: %d of %d (%.1f%%)\n", s.AttacksCaught, s.Attacks, pct(s.AttacksCaught, s.Attacks))
	}
	if s.Benign > 0 {
		fmt.Fprintf(w, "labelled benign caught (false positives): %d of %d (%.1f%%)\n", s.BenignCaught, s.Benign, pct(s.BenignCaught, s.Benign))
	}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
