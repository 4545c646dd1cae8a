package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/wire/wiretest"
	"github.com/vigilhq/vigil/policy"
)

// `vigil proxy --studio URL --studio-key KEY` runs the agent: decisions reach Studio,
// a policy published there is applied within a second, and the health check reports
// the agent.
func TestProxyStudio(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	up := newUpstream(t)
	p := startProxy(t, "--upstream", up.URL, "--studio", srv.URL(), "--studio-key", srv.Key(), "--studio-dir", t.TempDir(),
		"--metrics-listen", "127.0.0.1:0")

	get := func(path string) int {
		res, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if code := get("/products"); code != 200 {
		t.Fatalf("/products: %d", code)
	}
	// A policy from Studio: /products is now blocked by a rule.
	pol := policy.Default()
	pol.Rules = append(pol.Rules, policy.Rule{Name: "no-products", Match: policy.Match{Paths: []string{"/products"}}, Action: policy.ActionBlock})
	published := time.Now()
	srv.Publish(pol)
	for get("/products") != 403 {
		if time.Since(published) > time.Second {
			t.Fatalf("policy not applied within 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("policy applied %v after publication", time.Since(published).Round(time.Millisecond))

	if code := get("/.env"); code != 403 {
		t.Fatalf("/.env: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.WaitFor(ctx, func() bool {
		seen := map[string]bool{}
		for _, e := range srv.Events() {
			seen[e.Kind+" "+e.Path+" "+e.Action] = true
		}
		return seen["request /products allow"] && seen["request /products block"] && seen["request /.env block"] && seen["ban /.env block"]
	})
	if err != nil {
		t.Fatalf("events at Studio: %+v", srv.Events())
	}

	// The health check reports the agent (Sent follows Studio's answers, a moment
	// after Studio has stored the events).
	type studio struct{ Recorded, Sent, PolicyVersion int64 }
	health := func() studio {
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/healthz", nil)
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var h struct{ State struct{ Studio studio } }
		if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h.State.Studio
	}
	deadline := time.Now().Add(5 * time.Second)
	for s := health(); s.Recorded < 4 || s.Sent < s.Recorded || s.PolicyVersion != 1; s = health() {
		if time.Now().After(deadline) {
			t.Fatalf("health state studio: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Prometheus metrics on the second listener.
	var metricsAddr string
	for _, l := range p.stderr.logLines(t) {
		if l["msg"] == "metrics listening" {
			metricsAddr, _ = l["addr"].(string)
		}
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{`vigil_requests_total{action="allow"}`, `vigil_requests_total{action="block"}`,
		"vigil_bans_total", "vigil_agent_events_sent_total", "vigil_agent_policy_version"} {
		var v float64
		for l := range strings.Lines(string(body)) {
			if rest, ok := strings.CutPrefix(l, name+" "); ok {
				v, _ = strconv.ParseFloat(strings.TrimSpace(rest), 64)
			}
		}
		if v < 1 {
			t.Errorf("metric %s = %v, want ≥ 1:\n%s", name, v, body)
		}
	}
}
