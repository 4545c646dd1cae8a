package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/studio/studiotest"
	"github.com/vigilhq/vigil/internal/studio/webhook"
)

// The tests run against the real store: SQLite in a temporary directory and, when
// it is reachable, PostgreSQL (VIGIL_TEST_POSTGRES, as the store's tests; under CI
// it must be).

var pepper = []byte("0123456789abcdef0123456789abcdef")

// eachEngine runs f per engine with the DSN of a new empty database.
func eachEngine(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, filepath.Join(t.TempDir(), "studio.db"))
	})
	base, err := studiotest.Postgres()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Logf("PostgreSQL half skipped: %v (set VIGIL_TEST_POSTGRES)", err)
		return
	}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, postgresDSN(t, base))
	})
}

// postgresDSN makes a schema for the test and returns base with search_path set to it.
func postgresDSN(t *testing.T, base string) string {
	return studiotest.Schema(t, base, "vigil_webhook_test_")
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{Pepper: pepper})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture is a store with a project and a webhook to url.
type fixture struct {
	s       *store.Store
	project int64
	hook    store.Webhook
}

func newFixture(t *testing.T, dsn, url string) fixture {
	t.Helper()
	s := openStore(t, dsn)
	ctx := context.Background()
	p, err := s.CreateProject(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.CreateWebhook(ctx, p.ID, url, []string{store.WebhookBan, store.WebhookHighThreat})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{s: s, project: p.ID, hook: h}
}

func (f fixture) enqueue(t *testing.T, payload string) int64 {
	t.Helper()
	id, err := f.s.EnqueueDelivery(context.Background(), f.hook.ID, store.WebhookBan, []byte(payload), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// start runs a Sender until the test ends, and checks then that Run returns, and
// returns nil, within a few seconds.
func start(t *testing.T, cfg webhook.Config) *webhook.Sender {
	t.Helper()
	s, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ret:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return s
}

// finished waits until the delivery is finished and returns it.
func (f fixture) finished(t *testing.T, id int64) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, err := f.s.Deliveries(context.Background(), f.project, f.hook.ID, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.ID == id && d.NextTry.IsZero() {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d not finished: %+v", id, ds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fast is a Config for tests: short backoff and poll.
func fast(s webhook.Store) webhook.Config {
	return webhook.Config{Store: s, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Poll: 10 * time.Millisecond}
}

func TestSenderSigns(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		type got struct {
			header http.Header
			body   []byte
			err    error
		}
		reqs := make(chan got, 10)
		var secret atomic.Pointer[string]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			err := webhook.Verify([]byte(*secret.Load()), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0)
			reqs <- got{r.Header.Clone(), body, err}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		f := newFixture(t, dsn, srv.URL+"/hook?x=1")
		secret.Store(&f.hook.Secret)
		payload := `{"type":"ban","ip":"192.0.2.1"}`
		id := f.enqueue(t, payload)
		start(t, fast(f.s))
		d := f.finished(t, id)
		if d.Attempt != 1 || d.Status != 204 || d.Error != "" || d.Duration <= 0 {
			t.Errorf("delivery = %+v; want 1 attempt, 204, no error, a duration", d)
		}
		r := <-reqs
		if r.err != nil {
			t.Errorf("the receiver's Verify = %v", r.err)
		}
		// PostgreSQL's jsonb may re-space the payload; what is signed is what is sent.
		if !bytes.Contains(r.body, []byte(`"192.0.2.1"`)) {
			t.Errorf("body %s", r.body)
		}
		for k, want := range map[string]string{
			"Content-Type": "application/json", "User-Agent": "vigil-studio",
			webhook.HeaderEvent: "ban", webhook.HeaderDelivery: strconv.FormatInt(id, 10),
		} {
			if v := r.header.Get(k); v != want {
				t.Errorf("header %s = %q, want %q", k, v, want)
			}
		}
		// Signed with another secret, the same request does not verify.
		if err := webhook.Verify([]byte(strings.Repeat("0", 64)), r.header.Get(webhook.HeaderSignature), r.body, time.Now(), 0); err == nil {
			t.Error("the signature verifies under another secret")
		}
	})
}

func TestSenderRetries(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				http.Error(w, "down for a moment", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		f := newFixture(t, dsn, srv.URL)
		id := f.enqueue(t, `{"n":1}`)
		start(t, fast(f.s))
		d := f.finished(t, id)
		if d.Attempt != 2 || d.Status != 200 || d.Error != "" {
			t.Errorf("delivery = %+v; want 2 attempts, 200", d)
		}
		if n := hits.Load(); n != 2 {
			t.Errorf("receiver got %d requests, want 2", n)
		}
	})
}

// lockedBuffer is a log destination for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSenderGivesUp(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "maintenance\x00\n"+strings.Repeat("x", 10000))
		}))
		defer srv.Close()
		f := newFixture(t, dsn, srv.URL)
		id := f.enqueue(t, `{"n":1}`)
		var logs lockedBuffer
		cfg := fast(f.s)
		cfg.MaxAttempts = 3
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		start(t, cfg)
		d := f.finished(t, id)
		if d.Attempt != 3 || d.Status != 503 || !strings.HasPrefix(d.Error, "status 503: maintenance xxx") || len(d.Error) > 300 {
			t.Errorf("delivery = %+v; want 3 attempts, 503, the start of the answer", d)
		}
		time.Sleep(100 * time.Millisecond) // ten polls: no fourth attempt
		if n := hits.Load(); n != 3 {
			t.Errorf("receiver got %d requests, want 3", n)
		}
		if l := logs.String(); !strings.Contains(l, "delivery given up") || !strings.Contains(l, "delivery="+strconv.FormatInt(id, 10)) {
			t.Errorf("log does not record the give-up:\n%s", l)
		}
	})
}

func TestSenderFailures(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leave
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	defer close(hang) // before srv.Close, which waits for the handlers
	// Port 1 on loopback (tcpmux) has no listener: the connection is refused. A
	// closed httptest server's port could be reused by another test's server.
	const refusing = "http://127.0.0.1:1"
	for _, c := range []struct {
		name   string
		url    string
		status int
		err    string
	}{
		{"redirect_is_a_failure", srv.URL + "/redirect", 302, "status 302"},
		{"timeout", srv.URL + "/hang", 0, "deadline exceeded"},
		{"refused", refusing, 0, "refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, filepath.Join(t.TempDir(), "studio.db"), c.url)
			id := f.enqueue(t, `{}`)
			cfg := fast(f.s)
			cfg.MaxAttempts, cfg.Timeout = 1, 100*time.Millisecond
			start(t, cfg)
			d := f.finished(t, id)
			if d.Attempt != 1 || d.Status != c.status || !strings.Contains(d.Error, c.err) || strings.Contains(d.Error, c.url) {
				t.Errorf("delivery = %+v; want 1 attempt, status %d, an error with %q and without the URL", d, c.status, c.err)
			}
		})
	}
}

func TestKick(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	f := newFixture(t, filepath.Join(t.TempDir(), "studio.db"), srv.URL)
	first := f.enqueue(t, `{"n":1}`)
	cfg := fast(f.s)
	cfg.Poll = time.Hour
	s := start(t, cfg)
	f.finished(t, first) // the claim at start took it; the next poll is an hour away
	second := f.enqueue(t, `{"n":2}`)
	s.Kick()
	f.finished(t, second)
	if n := hits.Load(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
}

// TestTwoSenders runs two Senders, each over its own Store on one database (two
// Studio processes), against a receiver that counts every delivery ID and fails the
// test if one arrives while another copy of it is in flight.
func TestTwoSenders(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		var (
			mu       sync.Mutex
			inflight = map[string]int{}
			seen     = map[string]int{}
			overlap  atomic.Int32
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(webhook.HeaderDelivery)
			mu.Lock()
			if inflight[id] > 0 {
				overlap.Add(1)
			}
			inflight[id]++
			seen[id]++
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			inflight[id]--
			mu.Unlock()
		}))
		defer srv.Close()
		f := newFixture(t, dsn, srv.URL)
		const n = 60
		var ids []int64
		for i := range n {
			ids = append(ids, f.enqueue(t, `{"i":`+strconv.Itoa(i)+`}`))
		}
		second := openStore(t, dsn)
		for _, st := range []*store.Store{f.s, second} {
			cfg := fast(st)
			cfg.Poll = time.Millisecond
			start(t, cfg)
		}
		for _, id := range ids {
			if d := f.finished(t, id); d.Attempt != 1 || d.Status != 200 {
				t.Errorf("delivery %d: %+v; want one attempt, 200", id, d)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != n {
			t.Errorf("receiver saw %d delivery IDs, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("delivery %s arrived %d times", id, k)
			}
		}
		if k := overlap.Load(); k != 0 {
			t.Errorf("%d deliveries arrived while a copy was in flight", k)
		}
	})
}

func TestNew(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "studio.db"))
	for _, c := range []struct {
		name string
		cfg  webhook.Config
		ok   bool
	}{
		{"defaults", webhook.Config{Store: s}, true},
		{"no_store", webhook.Config{}, false},
		{"lease_not_longer_than_timeout", webhook.Config{Store: s, Timeout: time.Minute}, false},
		{"negative", webhook.Config{Store: s, MaxAttempts: -1}, false},
	} {
		if _, err := webhook.New(c.cfg); (err == nil) != c.ok {
			t.Errorf("%s: New = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestRunStopsMidSend ends Run while a send hangs: Run returns at once, and the
// attempt, cut short, is not recorded (the lease will make the delivery due again).
func TestRunStopsMidSend(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := newFixture(t, filepath.Join(t.TempDir(), "studio.db"), srv.URL)
	id := f.enqueue(t, `{}`)
	cfg := fast(f.s)
	cfg.Timeout = 30 * time.Second
	s, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- s.Run(ctx) }()
	<-arrived
	cancel()
	select {
	case err := <-ret:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while a send hung")
	}
	ds, err := f.s.Deliveries(context.Background(), f.project, f.hook.ID, 0)
	if err != nil || len(ds) != 1 || ds[0].ID != id || ds[0].Attempt != 0 || ds[0].NextTry.IsZero() {
		t.Errorf("Deliveries = %+v, %v; want %d pending, no attempt recorded", ds, err, id)
	}
}
