// Package crseval measures the attack Scanner against the shared reference data: the
// OWASP CRS regression requests (requests.jsonl) and the attack payload lists
// (payloads.jsonl). It is the logic behind the bench/detection command and the
// TestCRSRegression floor.
//
// Each CRS row is replayed the way go-ftw sends it: the raw HTTP/1.1 bytes (request
// line, headers in the given order, body; with autocomplete_headers, a Content-Length
// for bodies and Connection: close) are parsed by http.ReadRequest. A request that
// net/http refuses, or that net/http's server answers with a 4xx/5xx before any
// handler runs (missing or repeated Host, unsupported version, unknown Expect), counts
// as blocked. Otherwise the row counts as blocked when Scan reports a finding with a
// score of at least BlockScore.
//
// Detection is measured on label=attack rows; false positives only on label=benign
// rows with desc_says_fp=true, the benign ground truth (other benign rows are attacks
// aimed at a sibling rule).
package crseval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/attack"
)

// BlockScore is the guard's default block threshold: a finding at or above it blocks
// on its own.
const BlockScore = 80

// Row is one requests.jsonl row (the fields the evaluation uses).
type Row struct {
	ID                  string      `json:"id"`
	Method              string      `json:"method"`
	Path                string      `json:"path"`
	Query               string      `json:"query"`
	Headers             [][2]string `json:"headers"`
	Body                string      `json:"body"`
	HTTPVersion         string      `json:"http_version"`
	Label               string      `json:"label"`
	Category            string      `json:"category"`
	Desc                string      `json:"desc"`
	ParanoiaLevel       *int        `json:"paranoia_level"`
	DescSaysFP          bool        `json:"desc_says_fp"`
	AutocompleteHeaders bool        `json:"autocomplete_headers"`
	Expect              struct {
		Status int `json:"status"`
	} `json:"expect"`
}

// Family is the row's CRS family without the "crs-" prefix and "-negative" suffix.
func (r *Row) Family() string {
	return strings.TrimSuffix(strings.TrimPrefix(r.Category, "crs-"), "-negative")
}

// PL is the paranoia level as text, "none" when the row names none.
func (r *Row) PL() string {
	if r.ParanoiaLevel == nil {
		return "none"
	}
	return "PL" + strconv.Itoa(*r.ParanoiaLevel)
}

// IsAttack reports whether the row is an attack.
func (r *Row) IsAttack() bool { return r.Label == "attack" }

// IsBenignTruth reports whether the row is benign ground truth.
func (r *Row) IsBenignTruth() bool { return r.Label == "benign" && r.DescSaysFP }

// LoadRows reads requests.jsonl.
func LoadRows(rd io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// Raw returns the bytes go-ftw would send for the row.
func (r *Row) Raw() []byte {
	var b bytes.Buffer
	uri := r.Path
	if r.Query != "" {
		uri += "?" + r.Query
	}
	b.WriteString(r.Method + " " + uri + " " + r.HTTPVersion + "\r\n")
	hasCL, hasConn := false, false
	for _, h := range r.Headers {
		switch strings.ToLower(h[0]) {
		case "content-length":
			hasCL = true
		case "connection":
			hasConn = true
		}
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	if r.AutocompleteHeaders {
		if r.Body != "" && !hasCL {
			b.WriteString("Content-Length: " + strconv.Itoa(len(r.Body)) + "\r\n")
		}
		if !hasConn {
			b.WriteString("Connection: close\r\n")
		}
	}
	b.WriteString("\r\n")
	b.WriteString(r.Body)
	return b.Bytes()
}

// Outcome is what happened to one row.
type Outcome struct {
	Row     *Row
	Refused string // why net/http refused the request, if it did
	Top     detect.Finding
	Blocked bool
}

// Replay parses the row's raw bytes and scans the request.
func Replay(s *attack.Scanner, r *Row) Outcome {
	out := Outcome{Row: r}
	req, why := ParseRaw(r.Raw())
	if why != "" {
		out.Refused = why
		out.Blocked = true
		return out
	}
	// A body shorter than its Content-Length makes Scan return the read error with
	// the findings on the prefix; the guard then fails open, so only findings count.
	fs, _ := s.ScanRequest(nil, req)
	for _, f := range fs {
		if f.Score > out.Top.Score {
			out.Top = f
		}
	}
	out.Blocked = out.Top.Score >= BlockScore
	return out
}

// ParseRaw parses raw HTTP/1 request bytes as net/http's server would. When the server
// would answer before any handler ran (the bytes do not parse, or serverRefuses), req
// is nil and refused says why ("400 missing required Host header", a parse error).
func ParseRaw(raw []byte) (req *http.Request, refused string) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, err.Error()
	}
	if why := serverRefuses(req); why != "" {
		return nil, why
	}
	return req, ""
}

// serverRefuses mirrors the checks net/http's server makes after ReadRequest and
// before calling any handler (server.go readRequest and serve).
func serverRefuses(req *http.Request) string {
	if req.ProtoMajor != 1 {
		return "505 unsupported protocol version " + req.Proto
	}
	hosts, haveHost := req.Header["Host"]
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && req.Method != "CONNECT" && req.Host == "" {
		return "400 missing required Host header"
	}
	if len(hosts) > 1 {
		return "400 too many Host headers"
	}
	if e := req.Header.Get("Expect"); e != "" && !strings.EqualFold(e, "100-continue") {
		return "417 unsupported Expect"
	}
	return ""
}

// Counts is a detected/total pair.
type Counts struct{ Hit, Total int }

// Rate is Hit/Total in percent.
func (c Counts) Rate() float64 {
	if c.Total == 0 {
		return 0
	}
	return 100 * float64(c.Hit) / float64(c.Total)
}

func (c Counts) String() string {
	if c.Total == 0 {
		return "      -"
	}
	return fmt.Sprintf("%6.2f%% (%d/%d)", c.Rate(), c.Hit, c.Total)
}

// Report is the result of replaying every row.
type Report struct {
	Attack   Counts            // attack rows blocked
	ByPL     map[string]Counts // attack rows by paranoia level
	ByFamily map[string]Counts // attack rows by CRS family
	// ByFamilyPL12 counts the PL1 and PL2 attack rows by family: what a
	// low-false-positive detector aims at.
	ByFamilyPL12 map[string]Counts
	Benign       Counts    // benign ground-truth rows blocked (false positives)
	Refused      int       // rows net/http refused (of either label)
	Misses       []Outcome // attack rows not blocked
	FalsePos     []Outcome // benign ground-truth rows blocked
}

// Evaluate replays rows through s.
func Evaluate(s *attack.Scanner, rows []Row) Report {
	rep := Report{ByPL: map[string]Counts{}, ByFamily: map[string]Counts{}, ByFamilyPL12: map[string]Counts{}}
	for i := range rows {
		r := &rows[i]
		if !r.IsAttack() && !r.IsBenignTruth() {
			continue
		}
		o := Replay(s, r)
		if o.Refused != "" {
			rep.Refused++
		}
		hit := 0
		if o.Blocked {
			hit = 1
		}
		if r.IsAttack() {
			rep.Attack.Hit += hit
			rep.Attack.Total++
			pl, fam := rep.ByPL[r.PL()], rep.ByFamily[r.Family()]
			pl.Hit, pl.Total = pl.Hit+hit, pl.Total+1
			fam.Hit, fam.Total = fam.Hit+hit, fam.Total+1
			rep.ByPL[r.PL()], rep.ByFamily[r.Family()] = pl, fam
			if p := r.PL(); p == "PL1" || p == "PL2" {
				f12 := rep.ByFamilyPL12[r.Family()]
				f12.Hit, f12.Total = f12.Hit+hit, f12.Total+1
				rep.ByFamilyPL12[r.Family()] = f12
			}
			if !o.Blocked {
				rep.Misses = append(rep.Misses, o)
			}
			continue
		}
		rep.Benign.Hit += hit
		rep.Benign.Total++
		if o.Blocked {
			rep.FalsePos = append(rep.FalsePos, o)
		}
	}
	return rep
}

// Print writes the report; verbose adds every miss and false positive.
func (rep *Report) Print(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "CRS regression rows (block = finding score ≥ %d or refused by net/http)\n", BlockScore)
	fmt.Fprintf(w, "  detection, all attack rows      %s\n", rep.Attack)
	for _, k := range sortedKeys(rep.ByPL) {
		fmt.Fprintf(w, "    %-30s %s\n", k, rep.ByPL[k])
	}
	fmt.Fprintf(w, "  detection by family              %-24s %s\n", "all levels", "PL1 and PL2")
	for _, k := range sortedKeys(rep.ByFamily) {
		fmt.Fprintf(w, "    %-30s %-24s %s\n", k, rep.ByFamily[k], rep.ByFamilyPL12[k])
	}
	fmt.Fprintf(w, "  false positives, benign truth   %s\n", rep.Benign)
	fmt.Fprintf(w, "  refused by net/http (counted as blocked): %d rows\n", rep.Refused)
	if !verbose {
		return
	}
	fmt.Fprintf(w, "\nMisses (%d):\n", len(rep.Misses))
	for _, o := range rep.Misses {
		fmt.Fprintf(w, "  %-22s %-5s %s top=%s\n", o.Row.ID, o.Row.PL(), describe(o.Row), topString(o.Top))
	}
	fmt.Fprintf(w, "\nFalse positives (%d):\n", len(rep.FalsePos))
	for _, o := range rep.FalsePos {
		why := topString(o.Top)
		if o.Refused != "" {
			why = "refused: " + o.Refused
		}
		fmt.Fprintf(w, "  %-22s %-5s %s → %s\n", o.Row.ID, o.Row.PL(), describe(o.Row), why)
	}
}

func topString(f detect.Finding) string {
	if f.Code == "" {
		return "-"
	}
	return strconv.Itoa(f.Score) + " " + f.Detail
}

// describe summarises where a row puts its payload, for the verbose listing.
func describe(r *Row) string {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.Path)
	if r.Query != "" {
		b.WriteString("?" + r.Query)
	}
	for _, h := range r.Headers {
		switch strings.ToLower(h[0]) {
		case "host", "accept", "accept-encoding", "accept-language", "connection", "keep-alive", "proxy-connection":
			continue
		case "user-agent":
			if strings.HasPrefix(h[1], "OWASP CRS") || strings.HasPrefix(h[1], "ModSecurity CRS") {
				continue
			}
		}
		b.WriteString(" [" + h[0] + ": " + h[1] + "]")
	}
	if r.Body != "" {
		b.WriteString(" body=" + strconv.Quote(r.Body))
	}
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Payload is one payloads.jsonl row.
type Payload struct {
	Payload  string `json:"payload"`
	Category string `json:"category"`
	Form     string `json:"form"`
}

// LoadPayloads reads payloads.jsonl.
func LoadPayloads(rd io.Reader) ([]Payload, error) {
	var ps []Payload
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var p Payload
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ps = append(ps, p)
	}
	return ps, sc.Err()
}

// DistinctPayloads returns the payloads a detector is measured on: each category's
// distinct payload strings once, in the order they first appear, without the
// whole-document payloads (Form "document"), and with the {FILE} placeholder of path
// templates filled in as etc/passwd.
func DistinctPayloads(ps []Payload) []Payload {
	var out []Payload
	seen := map[[2]string]bool{}
	for _, p := range ps {
		key := [2]string{p.Category, p.Payload}
		if p.Form == "document" || seen[key] {
			continue
		}
		seen[key] = true
		p.Payload = strings.ReplaceAll(p.Payload, "{FILE}", "etc/passwd")
		out = append(out, p)
	}
	return out
}

// PayloadReport is the detection rate per category over distinct payload strings,
// in two placements.
type PayloadReport struct {
	Query  map[string]Counts // payload as the value of a query parameter
	JSON   map[string]Counts // payload as a JSON string value in a POST body
	Misses map[string][]string
}

// EvaluatePayloads injects each of DistinctPayloads into a query parameter and into a
// JSON body, and counts how many a finding of at least BlockScore catches.
func EvaluatePayloads(s *attack.Scanner, ps []Payload) PayloadReport {
	rep := PayloadReport{Query: map[string]Counts{}, JSON: map[string]Counts{}, Misses: map[string][]string{}}
	for _, p := range DistinctPayloads(ps) {
		payload := p.Payload

		q := rep.Query[p.Category]
		q.Total++
		req, _ := http.NewRequest("GET", "http://example.com/search?q="+url.QueryEscape(payload), nil)
		if blocked(s, req) {
			q.Hit++
		} else {
			rep.Misses[p.Category] = append(rep.Misses[p.Category], payload)
		}
		rep.Query[p.Category] = q

		j := rep.JSON[p.Category]
		j.Total++
		body, _ := json.Marshal(map[string]string{"comment": payload})
		req, _ = http.NewRequest("POST", "http://example.com/api/comments", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if blocked(s, req) {
			j.Hit++
		}
		rep.JSON[p.Category] = j
	}
	return rep
}

func blocked(s *attack.Scanner, req *http.Request) bool {
	fs, _ := s.ScanRequest(nil, req)
	for _, f := range fs {
		if f.Score >= BlockScore {
			return true
		}
	}
	return false
}

// Print writes the payload report; verbose lists up to 40 misses per category.
func (rep *PayloadReport) Print(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "\nPayloads (distinct strings per category; block = finding score ≥ %d)\n", BlockScore)
	fmt.Fprintf(w, "  %-16s %-24s %s\n", "category", "query parameter", "JSON body value")
	var all, allJ Counts
	for _, k := range sortedKeys(rep.Query) {
		q, j := rep.Query[k], rep.JSON[k]
		all.Hit, all.Total = all.Hit+q.Hit, all.Total+q.Total
		allJ.Hit, allJ.Total = allJ.Hit+j.Hit, allJ.Total+j.Total
		fmt.Fprintf(w, "  %-16s %-24s %s\n", k, q, j)
	}
	fmt.Fprintf(w, "  %-16s %-24s %s\n", "all", all, allJ)
	if !verbose {
		return
	}
	for _, k := range sortedKeys(rep.Misses) {
		fmt.Fprintf(w, "\nMissed %s payloads (first 40 of %d):\n", k, len(rep.Misses[k]))
		for i, m := range rep.Misses[k] {
			if i == 40 {
				break
			}
			fmt.Fprintf(w, "  %q\n", m)
		}
	}
}
