package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// studioRun is a `vigil studio` running in the test.
type studioRun struct {
	url, ingestKey string
	stdout         *syncBuffer
	stderr         *syncBuffer
}

// startStudio runs `vigil studio` on a loopback port over a fresh --data directory
// and returns once it printed its address and first-start secrets.
func startStudio(t *testing.T, dir string) *studioRun {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("admin password for the test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &studioRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"studio", "--listen", "127.0.0.1:0", "--data", dir, "--admin-password-file", pw}, s.stdout, s.stderr, noEnv)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("vigil studio: %v", err)
		}
	})
	deadline := time.Now().Add(patience)
	for s.url == "" {
		select {
		case err := <-done:
			t.Fatalf("vigil studio returned early: %v\n%s", err, s.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil studio did not print its address:\n%s\n%s", s.stdout, s.stderr)
		}
		for l := range strings.Lines(s.stdout.String()) {
			if u, ok := strings.CutPrefix(strings.TrimSpace(l), "Studio listening on "); ok {
				s.url = u
			}
			if k, ok := strings.CutPrefix(strings.TrimSpace(l), "ingest key: "); ok {
				s.ingestKey, _, _ = strings.Cut(k, " ")
			}
		}
	}
	if !strings.HasPrefix(s.ingestKey, "vk_ingest_") {
		t.Fatalf("no ingest key printed on first start:\n%s", s.stdout)
	}
	return s
}

// Two proxies report to one Studio: events from both appear in its queries, and a
// ban issued through the admin API blocks the client on both within a second.
func TestStudioTwoProxies(t *testing.T) {
	dir := t.TempDir()
	studio := startStudio(t, dir)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"studio", "key", "create", "--data", dir, "--project", "default", "--scope", "admin"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	adminKey := strings.TrimSpace(out.String())
	if !strings.HasPrefix(adminKey, "vk_admin_") {
		t.Fatalf("key create printed %q", adminKey)
	}

	up := newUpstream(t)
	var proxies []*proxyRun
	for range 2 {
		proxies = append(proxies, startProxy(t, "--upstream", up.URL, "--studio", studio.url, "--studio-key", studio.ingestKey,
			"--studio-dir", t.TempDir(), "--trusted-proxies", "127.0.0.1/32"))
	}
	const client = "198.51.100.7"
	get := func(p *proxyRun, path string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
		for k, v := range browserHeaders {
			req.Header.Set(k, v)
		}
		req.Header.Set("X-Forwarded-For", client)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	api := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, studio.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	for i, p := range proxies {
		if code := get(p, "/from-proxy-"+string(rune('a'+i))); code != 200 {
			t.Fatalf("proxy %d: %d", i, code)
		}
	}
	// Both proxies' events reach Studio's queries.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := api("GET", "/v1/events?ip="+client, "")
		if code != 200 {
			t.Fatalf("/v1/events: %d %s", code, body)
		}
		if bytes.Contains(body, []byte("/from-proxy-a")) && bytes.Contains(body, []byte("/from-proxy-b")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events of both proxies not in /v1/events: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := api("GET", "/v1/stats", "")
	var stats struct {
		EventsTotal int64 `json:"events_total"`
	}
	if code != 200 || json.Unmarshal(body, &stats) != nil || stats.EventsTotal < 2 {
		t.Fatalf("/v1/stats: %d %s", code, body)
	}

	// A ban through the admin API blocks the client on both proxies within 1 s.
	banned := time.Now()
	code, body = api("POST", "/v1/bans", `{"kind":"ip","value":"`+client+`","reason":"test ban","ttl":"1h"}`)
	if code != 201 {
		t.Fatalf("ban: %d %s", code, body)
	}
	for i, p := range proxies {
		for get(p, "/after-ban") != 403 {
			if time.Since(banned) > time.Second {
				t.Fatalf("proxy %d does not block the banned client 1 s after the ban", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("both proxies block %v after the ban", time.Since(banned).Round(time.Millisecond))
	var ban struct{ ID int64 }
	_ = json.Unmarshal(body, &ban)

	// Unbanned through the API: allowed again on both.
	if code, body := api("DELETE", "/v1/bans/"+itoa(ban.ID), ""); code != 204 {
		t.Fatalf("unban: %d %s", code, body)
	}
	lifted := time.Now()
	for i, p := range proxies {
		for get(p, "/after-unban") != 200 {
			if time.Since(lifted) > time.Second {
				t.Fatalf("proxy %d still blocks 1 s after the unban", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The audit log has both actions.
	code, body = api("GET", "/v1/audit", "")
	if code != 200 || !bytes.Contains(body, []byte(`"ban.add"`)) || !bytes.Contains(body, []byte(`"ban.remove"`)) {
		t.Errorf("audit log: %d %s", code, body)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
