package studio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// healthz: GET /healthz → 200 "ok" when the database answers, 503 when not.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *caller) {
	if _, err := s.st.SchemaVersion(r.Context()); err != nil {
		s.log.Warn("studio: health check: database unreachable", "err", err)
		problem(w, http.StatusServiceUnavailable, "database unreachable")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// eventView is an event as the query API returns it.
type eventView struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	Received   time.Time       `json:"received"`
	Source     string          `json:"source"`
	Kind       string          `json:"kind"`
	RequestID  string          `json:"request_id,omitempty"`
	Action     string          `json:"action,omitempty"`
	WouldBe    string          `json:"would_be,omitempty"`
	Score      int             `json:"score"`
	ClientIP   string          `json:"client_ip,omitempty"`
	DNA        string          `json:"dna,omitempty"`
	Family     string          `json:"family,omitempty"`
	ClientKind string          `json:"client_kind,omitempty"`
	Country    string          `json:"country,omitempty"`
	ASN        int64           `json:"asn,omitempty"`
	Method     string          `json:"method,omitempty"`
	Host       string          `json:"host,omitempty"`
	Path       string          `json:"path,omitempty"`
	UserAgent  string          `json:"user_agent,omitempty"`
	Status     int             `json:"status,omitempty"`
	Reasons    []string        `json:"reasons"`
	Raw        json.RawMessage `json:"raw"`
}

func eventViews(evs []store.Event) []eventView {
	out := make([]eventView, len(evs))
	for i, e := range evs {
		out[i] = eventView{ID: e.ID, Time: e.Time, Received: e.Received, Source: e.Source, Kind: e.Kind, RequestID: e.RequestID,
			Action: e.Action, WouldBe: e.WouldBe, Score: e.Score, ClientIP: e.ClientIP, DNA: e.DNAID, Family: e.Family,
			ClientKind: e.ClientKind, Country: e.Country, ASN: e.ASN, Method: e.Method, Host: e.Host, Path: e.Path,
			UserAgent: e.UserAgent, Status: e.Status, Reasons: e.Reasons, Raw: e.Raw}
		if out[i].Reasons == nil {
			out[i].Reasons = []string{}
		}
	}
	return out
}

// params reads query parameters, remembering the first bad one.
type params struct {
	r   *http.Request
	err error
}

func (p *params) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("parameter %s: "+format, append([]any{name}, args...)...)
	}
}

// time reads a time: RFC 3339, or a duration back from now ("24h", "15m").
func (p *params) time(name string, def time.Time) time.Time {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			d = -d
		}
		return time.Now().Add(-d)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.fail(name, "want an RFC 3339 time or a duration such as 24h")
	}
	return t
}

func (p *params) int(name string, def, lo, hi int) int {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "want a whole number from %d to %d", lo, hi)
		return def
	}
	return n
}

func (p *params) str(name string, maxLen int) string {
	v := p.r.URL.Query().Get(name)
	if len(v) > maxLen {
		p.fail(name, "longer than %d bytes", maxLen)
		return ""
	}
	return v
}

// ok answers 400 and returns false when a parameter was bad.
func (p *params) ok(w http.ResponseWriter) bool {
	if p.err != nil {
		problem(w, http.StatusBadRequest, p.err.Error())
		return false
	}
	return true
}

// stats: GET /v1/stats → {"events_total", "batches", "first", "last"}.
func (s *Server) stats(w http.ResponseWriter, r *http.Request, c *caller) {
	st, err := s.st.Stats(r.Context(), c.project)
	if err != nil {
		s.internal(w, "stats", err)
		return
	}
	out := map[string]any{"project": c.project, "events_total": st.EventsTotal, "batches": st.Batches}
	if !st.First.IsZero() {
		out["first"], out["last"] = st.First, st.Last
	}
	writeJSON(w, http.StatusOK, out)
}

// events: GET /v1/events?since&until&ip&dna&action&kind&path&limit&cursor →
// {"events": [...], "next": cursor or null}, newest first.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	f := store.Filter{
		Since: p.time("since", time.Time{}), Until: p.time("until", time.Time{}),
		IP: p.str("ip", 64), DNA: p.str("dna", 128), Action: p.str("action", 32), Kind: p.str("kind", 64),
		PathPrefix: p.str("path", 2048), Limit: p.int("limit", store.DefaultLimit, 1, store.MaxLimit),
	}
	cur, err := store.ParseCursor(p.str("cursor", 64))
	if err != nil {
		p.fail("cursor", "not a cursor this API returned")
	}
	if !p.ok(w) {
		return
	}
	evs, next, err := s.st.Events(r.Context(), c.project, f, cur)
	if err != nil {
		s.internal(w, "events", err)
		return
	}
	var nextJSON any
	if !next.IsZero() {
		nextJSON = next.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": eventViews(evs), "next": nextJSON})
}

// timeline: GET /v1/timeline?ip=…|dna=…&limit → {"events": [...]}, newest first.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	who := store.Who{IP: p.str("ip", 64), DNA: p.str("dna", 128)}
	limit := p.int("limit", 500, 1, store.MaxLimit)
	if (who.IP == "") == (who.DNA == "") {
		p.fail("ip", "name one client: ip or dna")
	}
	if !p.ok(w) {
		return
	}
	evs, err := s.st.Timeline(r.Context(), c.project, who, limit)
	if err != nil {
		s.internal(w, "timeline", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": eventViews(evs)})
}

// topAttackers: GET /v1/top/attackers?since=24h&n=10.
func (s *Server) topAttackers(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	since, n := p.time("since", time.Now().Add(-24*time.Hour)), p.int("n", 10, 1, store.MaxLimit)
	if !p.ok(w) {
		return
	}
	as, err := s.st.TopAttackers(r.Context(), c.project, since, n)
	if err != nil {
		s.internal(w, "top attackers", err)
		return
	}
	type row struct {
		ClientIP string    `json:"client_ip"`
		Events   int64     `json:"events"`
		Last     time.Time `json:"last"`
	}
	out := make([]row, len(as))
	for i, a := range as {
		out[i] = row{a.ClientIP, a.Events, a.Last}
	}
	writeJSON(w, http.StatusOK, map[string]any{"attackers": out})
}

type countRow struct {
	Key     string `json:"key"`
	Events  int64  `json:"events"`
	Blocked int64  `json:"blocked"`
}

func countRows(cs []store.Count) []countRow {
	out := make([]countRow, len(cs))
	for i, c := range cs {
		out[i] = countRow{c.Key, c.Events, c.Blocked}
	}
	return out
}

// topPaths: GET /v1/top/paths?since=24h&n=10 → the paths most attacked.
func (s *Server) topPaths(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	since, n := p.time("since", time.Now().Add(-24*time.Hour)), p.int("n", 10, 1, store.MaxLimit)
	if !p.ok(w) {
		return
	}
	cs, err := s.st.TopPaths(r.Context(), c.project, since, n)
	if err != nil {
		s.internal(w, "top paths", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"paths": countRows(cs)})
}

// topReasons: GET /v1/top/reasons?since=24h&n=10 → the commonest finding codes of
// threats.
func (s *Server) topReasons(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	since, n := p.time("since", time.Now().Add(-24*time.Hour)), p.int("n", 10, 1, store.MaxLimit)
	if !p.ok(w) {
		return
	}
	cs, err := s.st.TopReasons(r.Context(), c.project, since, n)
	if err != nil {
		s.internal(w, "top reasons", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reasons": countRows(cs)})
}

// buckets: GET /v1/buckets?since=1h&until=…&step=1m → events per action per step.
func (s *Server) buckets(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	until := p.time("until", time.Now())
	since := p.time("since", until.Add(-time.Hour))
	step := time.Minute
	if v := p.str("step", 32); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			p.fail("step", "want a duration of at least 1s")
		} else {
			step = d
		}
	}
	if !since.Before(until) {
		p.fail("since", "must be before until")
	} else if until.Sub(since)/step > store.MaxBuckets {
		p.fail("step", "spans more than %d buckets", store.MaxBuckets)
	}
	if !p.ok(w) {
		return
	}
	bs, err := s.st.Buckets(r.Context(), c.project, since, until, step)
	if err != nil {
		s.internal(w, "buckets", err)
		return
	}
	type row struct {
		Start  time.Time `json:"start"`
		Action string    `json:"action"`
		Count  int64     `json:"count"`
	}
	out := make([]row, len(bs))
	for i, b := range bs {
		out[i] = row{b.Start, b.Action, b.Count}
	}
	writeJSON(w, http.StatusOK, map[string]any{"step": step.String(), "buckets": out})
}

// families: GET /v1/families?since=24h&n=20 → DNA families with counts.
func (s *Server) families(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	since, n := p.time("since", time.Now().Add(-24*time.Hour)), p.int("n", 20, 1, store.MaxLimit)
	if !p.ok(w) {
		return
	}
	fs, err := s.st.Families(r.Context(), c.project, since, n)
	if err != nil {
		s.internal(w, "families", err)
		return
	}
	type row struct {
		Family  string `json:"family"`
		Kind    string `json:"kind"`
		DNAs    int64  `json:"dnas"`
		Events  int64  `json:"events"`
		Blocked int64  `json:"blocked"`
		Spoofed int64  `json:"spoofed"`
	}
	out := make([]row, len(fs))
	for i, f := range fs {
		out[i] = row{f.Family, f.Kind, f.DNAs, f.Events, f.Blocked, f.Spoofed}
	}
	writeJSON(w, http.StatusOK, map[string]any{"families": out})
}

// metricsSummary: GET /v1/metrics/summary?since=1h → the agents' metric intervals
// summed: every request counted, including those whose events were dropped.
func (s *Server) metricsSummary(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	until := p.time("until", time.Now())
	since := p.time("since", until.Add(-time.Hour))
	if !p.ok(w) {
		return
	}
	t, err := s.st.MetricSums(r.Context(), c.project, since, until)
	if err != nil {
		s.internal(w, "metrics", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since.UTC(), "until": until.UTC(),
		"requests": nonNil(t.Requests), "would_be": nonNil(t.WouldBe), "status": nonNil(t.Status), "bans": t.Bans, "errors": t.Errors})
}

func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// pathID reads the path value name as a positive ID, answering 404 when it is not one.
func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		problem(w, http.StatusNotFound, "no such "+name)
		return 0, false
	}
	return id, true
}

// notFound answers 404 for store.ErrNotFound and 500 for anything else.
func (s *Server) notFound(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		problem(w, http.StatusNotFound, "no such "+what)
		return
	}
	s.internal(w, what, err)
}
