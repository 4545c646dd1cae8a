package studio

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// startReplica runs a second Studio on the database of e.
func (e *env) startReplica(dsn string) *httptest.Server {
	e.t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{Pepper: testPepper})
	if err != nil {
		e.t.Fatal(err)
	}
	srv, err := New(Config{Store: st, LoginLimit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	ts := httptest.NewServer(srv.Handler())
	e.t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		cancel()
		<-done
		st.Close()
	})
	return ts
}

// Two Studios on one database: an event ingested through one appears in the live
// stream of the other within a second (PostgreSQL LISTEN/NOTIFY; on SQLite the two
// share one process), and a ban placed through one reaches the policy streams of
// the other.
func TestLiveAcrossReplicas(t *testing.T) {
	for name, dsnf := range engines(t) {
		t.Run(name, func(t *testing.T) {
			dsn := dsnf(t)
			e := newEnv(t, dsn)
			other := e.startReplica(dsn)

			// The dashboard's live stream, on the other replica.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", other.URL+"/v1/live", nil)
			req.Header.Set("Authorization", "Bearer "+e.a.admin)
			res, err := other.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("live: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(res.Body)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			if l := <-lines; !strings.HasPrefix(l, ":") {
				t.Fatalf("first line %q", l)
			}
			time.Sleep(100 * time.Millisecond) // the subscription is registered before the first line

			// The other replica's agent stream.
			preq, _ := http.NewRequestWithContext(ctx, "GET", other.URL+"/v1/policy/stream", nil)
			preq.Header.Set("Authorization", "Bearer "+e.a.ingest)
			pres, err := other.Client().Do(preq)
			if err != nil {
				t.Fatal(err)
			}
			defer pres.Body.Close()
			policyLines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(pres.Body)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					policyLines <- sc.Text()
				}
				close(policyLines)
			}()

			sent := time.Now()
			e.ingest(e.a.ingest, "replica-1", "/seen-on-the-other-replica")
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatal("live stream ended")
					}
					if strings.HasPrefix(l, "data: ") && strings.Contains(l, "/seen-on-the-other-replica") {
						t.Logf("%s: event on the other replica's stream %v after ingest", name, time.Since(sent).Round(time.Millisecond))
						if time.Since(sent) > time.Second {
							t.Errorf("took %v, want ≤ 1 s", time.Since(sent))
						}
						goto ban
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the event never reached the other replica's live stream")
				}
			}
		ban:
			banned := time.Now()
			if r := e.do("POST", "/v1/bans", bearer(e.a.admin), `{"kind":"ip","value":"203.0.113.50"}`); r.code != 201 {
				t.Fatalf("ban: %d %s", r.code, r.body)
			}
			for {
				select {
				case l, ok := <-policyLines:
					if !ok {
						t.Fatal("policy stream ended")
					}
					if strings.HasPrefix(l, "data: ") && strings.Contains(l, "203.0.113.50") {
						if time.Since(banned) > time.Second {
							t.Errorf("ban reached the other replica's agents after %v, want ≤ 1 s", time.Since(banned))
						}
						return
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the ban never reached the other replica's policy stream")
				}
			}
		})
	}
}
