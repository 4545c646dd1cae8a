package agent_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

var (
	sampleLine = regexp.MustCompile(`^([a-z_]+)(\{[a-z]+="[^"]*"\})? (-?[0-9.e+]+|\+Inf)$`)
	metaLine   = regexp.MustCompile(`^# (HELP [a-z_]+ .+|TYPE [a-z_]+ (counter|gauge|histogram))$`)
)

// scrape fetches the exposition and returns its samples by name and labels; it fails
// on any line that is not in the text format.
func scrape(t *testing.T, a *agent.Agent) map[string]float64 {
	t.Helper()
	w := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	body, _ := io.ReadAll(w.Body)
	out := map[string]float64{}
	for l := range strings.Lines(string(body)) {
		l = strings.TrimSuffix(l, "\n")
		if metaLine.MatchString(l) {
			continue
		}
		m := sampleLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not exposition format: %q", l)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out[m[1]+m[2]] = v
	}
	return out
}

func TestPrometheus(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	a, err := agent.New(fast(srv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	running(t, a)
	for i := range 50 {
		get(h, fmt.Sprintf("/p/%d", i))
	}
	get(h, "/.env")
	// Totals do not wait for the metrics interval: read at once.
	m := scrape(t, a)
	for k, want := range map[string]float64{
		`vigil_requests_total{action="allow"}`:             50,
		`vigil_requests_total{action="block"}`:             1,
		`vigil_requests_would_be_total{action="block"}`:    1,
		`vigil_responses_total{class="2xx"}`:               50,
		`vigil_responses_total{class="4xx"}`:               1,
		`vigil_request_duration_seconds_count`:             51,
		`vigil_request_duration_seconds_bucket{le="+Inf"}`: 51,
		`vigil_bans_total`:                                 1,
		`vigil_agent_events_recorded_total`:                52,
		`vigil_agent_queue_capacity`:                       agent.DefaultBufferSize,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	// Buckets are cumulative.
	prev := 0.0
	for _, le := range []string{"0.0001", "0.00025", "0.0005", "0.001", "2.5", "+Inf"} {
		v, ok := m[`vigil_request_duration_seconds_bucket{le="`+le+`"}`]
		if !ok || v < prev {
			t.Errorf("bucket le=%s: %v (present %v), previous %v", le, v, ok, prev)
		}
		prev = v
	}
	// After the metrics interval ends, the totals stay the same; after delivery,
	// sent catches up.
	eventually(t, 5*time.Second, "all sent", func() bool { return scrape(t, a)["vigil_agent_events_sent_total"] == 52 })
	time.Sleep(250 * time.Millisecond) // more than one MetricsInterval
	m = scrape(t, a)
	if m[`vigil_requests_total{action="allow"}`] != 50 || m["vigil_agent_last_success_timestamp_seconds"] < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("after an interval: allow %v, last success %v", m[`vigil_requests_total{action="allow"}`], m["vigil_agent_last_success_timestamp_seconds"])
	}
}
