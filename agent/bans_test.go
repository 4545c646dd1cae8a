package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

// getFrom is get from the client address ip.
func getFrom(h http.Handler, ip, path string) int {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = ip + ":40000"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
	r.Header.Set("Accept", "text/html")
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// bansApplied waits until the agent has applied the bans of snapshot version v.
// The deadline is generous: the stream pushes a snapshot at once, so the agent
// applies it within milliseconds, but a loaded machine may hold it up.
func bansApplied(t *testing.T, a *agent.Agent, v int64) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, 15*time.Second, "bans of version applied", func() bool { return a.Stats().BansVersion == v })
	return time.Since(start)
}

// wantCodes checks the status each client address gets for "/".
func wantCodes(t *testing.T, h http.Handler, step string, want map[string]int) {
	t.Helper()
	for ip, code := range want {
		if got := getFrom(h, ip, "/"); got != code {
			t.Errorf("%s: %s got %d, want %d", step, ip, got, code)
		}
	}
}

// A ban published in Studio blocks its client at once; the next snapshot without it
// lifts it; a ban the guard placed itself (a honeypot's) outlives snapshots that do
// not name it.
func TestStudioBans(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{PingInterval: 100 * time.Millisecond})
	a, err := agent.New(fast(srv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	g, h := guardWith(t, a)
	running(t, a)
	p := g.Policy()

	const (
		studioIP = "192.0.2.1"
		netIP    = "198.51.100.7"
		endedIP  = "192.0.2.50"
		honeyIP  = "203.0.113.66"
		otherIP  = "203.0.113.67"
	)
	if code := getFrom(h, honeyIP, "/.env"); code != http.StatusForbidden {
		t.Fatalf("honeypot: %d", code)
	}
	wantCodes(t, h, "before", map[string]int{studioIP: 200, netIP: 200, endedIP: 200, honeyIP: 403, otherIP: 200})

	start := time.Now()
	v1 := srv.PublishSnapshot(p, []wire.Ban{
		{Kind: "ip", Value: studioIP, Reason: "card testing", Until: time.Now().Add(time.Hour)},
		{Kind: "cidr", Value: "198.51.100.0/24"},
		{Kind: "ip", Value: endedIP, Until: time.Now().Add(-time.Minute)}, // ended: skipped
	})
	bansApplied(t, a, v1)
	t.Logf("bans enforced %v after publication", time.Since(start))
	if st := a.Stats(); st.BansActive != 2 || st.BanErrors != 0 {
		t.Errorf("after v%d: %d bans active, %d errors; want 2 and 0", v1, st.BansActive, st.BanErrors)
	}
	wantCodes(t, h, "banned", map[string]int{studioIP: 403, netIP: 403, endedIP: 200, honeyIP: 403, otherIP: 200})
	if m := scrape(t, a); m["vigil_agent_bans_active"] != 2 || m["vigil_agent_bans_version"] != float64(v1) {
		t.Errorf("exposition: bans_active %v, bans_version %v", m["vigil_agent_bans_active"], m["vigil_agent_bans_version"])
	}
	// Each ban placed is reported to Studio as an operator ban.
	eventually(t, 15*time.Second, "ban events from Studio's bans delivered", func() bool {
		n := 0
		for _, e := range srv.Events() {
			if e.Kind == "ban" && e.Ban != nil && strings.HasPrefix(e.Ban.Reason, "studio") && len(e.Signals) == 1 && e.Signals[0].Code == "operator_ban" {
				n++
			}
		}
		return n == 2
	})

	// The address ban is lifted, the network's reason changes (placed again); the
	// honeypot ban, which Studio never named, stays.
	v2 := srv.PublishSnapshot(p, []wire.Ban{{Kind: "cidr", Value: "198.51.100.0/24", Reason: "scraper network"}})
	bansApplied(t, a, v2)
	if st := a.Stats(); st.BansActive != 1 {
		t.Errorf("after v%d: %d bans active, want 1", v2, st.BansActive)
	}
	wantCodes(t, h, "one lifted", map[string]int{studioIP: 200, netIP: 403, honeyIP: 403, otherIP: 200})
	eventually(t, 15*time.Second, "the changed ban placed again", func() bool {
		for _, e := range srv.Events() {
			if e.Kind == "ban" && e.Ban != nil && e.Ban.Reason == "studio: scraper network" {
				return true
			}
		}
		return false
	})

	v3 := srv.Publish(p) // no bans at all
	bansApplied(t, a, v3)
	if st := a.Stats(); st.BansActive != 0 {
		t.Errorf("after v%d: %d bans active, want 0", v3, st.BansActive)
	}
	wantCodes(t, h, "all lifted", map[string]int{studioIP: 200, netIP: 200, honeyIP: 403, otherIP: 200})
}

// The Studio bans survive an agent restart while Studio is down: the new agent places
// them in a fresh guard (memory store), and lifts them when Studio, back, no longer
// names them.
func TestStudioBansKeptAcrossRestart(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{PingInterval: 100 * time.Millisecond})
	dir := t.TempDir()
	var v int64
	{
		a, err := agent.New(fast(srv, dir))
		if err != nil {
			t.Fatal(err)
		}
		g, _ := guardWith(t, a)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = a.Run(ctx) })
		v = srv.PublishSnapshot(g.Policy(), []wire.Ban{{Kind: "ip", Value: "192.0.2.1"}, {Kind: "cidr", Value: "2001:db8:7::/48", Reason: "abuse"}})
		bansApplied(t, a, v)
		cancel()
		wg.Wait()
	}
	if _, err := os.Stat(filepath.Join(dir, "bans.json")); err != nil {
		t.Fatalf("bans not kept: %v", err)
	}
	srv.Down()

	a, err := agent.New(fast(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	g, h := guardWith(t, a) // a new guard, a new memory store: no bans
	running(t, a)
	bansApplied(t, a, v)
	if st := a.Stats(); st.BansActive != 2 {
		t.Errorf("restored: %d bans active, want 2", st.BansActive)
	}
	wantCodes(t, h, "restored", map[string]int{"192.0.2.1": 403, "[2001:db8:7::9]": 403, "192.0.2.2": 200})

	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	v2 := srv.Publish(g.Policy())
	bansApplied(t, a, v2)
	wantCodes(t, h, "lifted after Studio came back", map[string]int{"192.0.2.1": 200, "[2001:db8:7::9]": 200})
}
