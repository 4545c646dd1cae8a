package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/studio/studiotest"
	"github.com/vigilhq/vigil/internal/wire"
)

var testPepper = []byte("studio-test-pepper-0123456789abcdef0123456789")

// engines returns the databases the tests run on: SQLite always, PostgreSQL from
// VIGIL_TEST_POSTGRES (default the machine's), required under CI.
func engines(t testing.TB) map[string]func(testing.TB) string {
	es := map[string]func(testing.TB) string{"sqlite": func(t testing.TB) string { return filepath.Join(t.TempDir(), "studio.db") }}
	base, err := studiotest.Postgres()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Logf("PostgreSQL half skipped: %v", err)
		return es
	}
	es["postgres"] = func(t testing.TB) string { return pgSchema(t, base) }
	return es
}

// pgSchema makes a schema of the test's own and returns base with its search_path.
func pgSchema(t testing.TB, base string) string {
	return studiotest.Schema(t, base, "vigil_studio_test_")
}

// project is a test project with its keys.
type project struct {
	id            int64
	ingest, admin string
	name          string
}

// env is a running Studio over a fresh database, with two projects, an admin user
// and a viewer of project a.
type env struct {
	t      *testing.T
	st     *store.Store
	srv    *Server
	ts     *httptest.Server
	a, b   project
	admin  session // an admin user's session
	viewer session // a viewer of project a only
}

type session struct {
	cookie *http.Cookie
	csrf   string
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.Options{Pepper: testPepper})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := New(Config{Store: st, LoginLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	e := &env{t: t, st: st, srv: srv, ts: ts}
	e.a = e.newProject("alpha")
	e.b = e.newProject("beta")
	if _, err := st.CreateUser(ctx, "root", "correct horse battery", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	v, err := st.CreateUser(ctx, "vera", "viewer password 123", store.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.GrantProject(ctx, v.ID, e.a.id); err != nil {
		t.Fatal(err)
	}
	e.admin = e.login("root", "correct horse battery")
	e.viewer = e.login("vera", "viewer password 123")
	return e
}

func (e *env) newProject(name string) project {
	ctx := context.Background()
	p, err := e.st.CreateProject(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	in, _, err := e.st.CreateKey(ctx, p.ID, store.ScopeIngest)
	if err != nil {
		e.t.Fatal(err)
	}
	ad, _, err := e.st.CreateKey(ctx, p.ID, store.ScopeAdmin)
	if err != nil {
		e.t.Fatal(err)
	}
	return project{id: p.ID, ingest: in, admin: ad, name: name}
}

func (e *env) login(name, password string) session {
	e.t.Helper()
	res := e.do("POST", "/v1/login", nil, fmt.Sprintf(`{"name":%q,"password":%q}`, name, password))
	if res.code != 200 {
		e.t.Fatalf("login %s: %d %s", name, res.code, res.body)
	}
	var out struct{ CSRF string }
	if err := json.Unmarshal(res.body, &out); err != nil || out.CSRF == "" {
		e.t.Fatalf("login answer %s", res.body)
	}
	for _, c := range res.cookies {
		if c.Name == sessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				e.t.Errorf("session cookie %+v: want HttpOnly and SameSite=Strict", c)
			}
			return session{cookie: c, csrf: out.CSRF}
		}
	}
	e.t.Fatalf("login set no session cookie")
	return session{}
}

type answer struct {
	code    int
	body    []byte
	header  http.Header
	cookies []*http.Cookie
}

// cred is a request's credential.
type cred func(*http.Request)

func bearer(k string) cred {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+k) }
}
func apiKey(k string) cred { return func(r *http.Request) { r.Header.Set("X-API-Key", k) } }
func (s session) in(project int64) cred {
	return func(r *http.Request) {
		r.AddCookie(s.cookie)
		r.Header.Set(headerCSRF, s.csrf)
		if project != 0 {
			r.Header.Set(headerProject, fmt.Sprint(project))
		}
	}
}

// do sends a request; SSE answers are read for at most 300 ms.
func (e *env) do(method, path string, c cred, body string) answer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if strings.HasSuffix(strings.Split(path, "?")[0], "/stream") || strings.HasPrefix(path, "/v1/live") {
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		c(req)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // an SSE body ends with the context's deadline
	return answer{code: res.StatusCode, body: b, header: res.Header, cookies: res.Cookies()}
}

// concrete fills a route pattern's wildcards with id.
func concrete(pattern string, id int64) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			out.WriteString(pattern)
			return out.String()
		}
		j := strings.IndexByte(pattern[i:], '}')
		out.WriteString(pattern[:i])
		fmt.Fprint(&out, id)
		pattern = pattern[i+j+1:]
	}
}

// The documented public routes: everything else must refuse a request without
// credentials.
var publicRoutes = map[string]bool{"GET /healthz": true, "POST /v1/login": true,
	// The dashboard's page and assets: no data in them (package ui).
	"GET /{$}": true, "GET /ui/": true}

// Every registered route refuses a request without credentials (401), except the
// documented public ones; and each refuses the wrong kind of credential.
func TestRoutesRequireCredentials(t *testing.T) {
	for name, dsn := range engines(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, dsn(t))
			routes := e.srv.routeTable()
			if len(routes) < 40 {
				t.Fatalf("only %d routes", len(routes))
			}
			seenPublic := map[string]bool{}
			for _, rt := range routes {
				key := rt.method + " " + rt.pattern
				path := concrete(rt.pattern, 1)
				if rt.access == accessPublic {
					seenPublic[key] = true
					if !publicRoutes[key] {
						t.Errorf("%s is public but not documented as public", key)
					}
					continue
				}
				if res := e.do(rt.method, path, nil, "{}"); res.code != http.StatusUnauthorized {
					t.Errorf("%s without credentials: %d, want 401", key, res.code)
				}
				// A cookie that is no session.
				bogus := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "bogus"}) }
				if rt.access != accessIngest && rt.access != accessGuardAgent {
					if res := e.do(rt.method, path, bogus, "{}"); res.code != http.StatusUnauthorized {
						t.Errorf("%s with a forged session: %d, want 401", key, res.code)
					}
				}
				// A key that does not exist, in both places keys go.
				for _, c := range []cred{bearer("vk_admin_" + strings.Repeat("x", 43)), apiKey("vk_ingest_" + strings.Repeat("y", 43))} {
					if res := e.do(rt.method, path, c, "{}"); res.code != http.StatusUnauthorized {
						t.Errorf("%s with an unknown key: %d, want 401", key, res.code)
					}
				}
				// The wrong credential for the route: 403.
				var wrong []cred
				switch rt.access {
				case accessIngest:
					wrong = []cred{bearer(e.a.admin)}
				case accessGuardAgent:
					wrong = []cred{apiKey(e.a.admin)}
				case accessView:
					wrong = []cred{bearer(e.a.ingest)}
				case accessOperate, accessAdmin:
					wrong = []cred{bearer(e.a.ingest), e.viewer.in(e.a.id)}
				case accessUsers:
					wrong = []cred{bearer(e.a.admin), e.viewer.in(0)}
				case accessSession:
					wrong = []cred{bearer(e.a.admin)}
				}
				for i, c := range wrong {
					if res := e.do(rt.method, path, c, "{}"); res.code != http.StatusForbidden {
						t.Errorf("%s with wrong credential %d: %d, want 403 (%s)", key, i, res.code, res.body)
					}
				}
				// A session without its CSRF token cannot change anything.
				if !safeMethod(rt.method) && rt.access != accessIngest && rt.access != accessGuardAgent {
					noCSRF := func(r *http.Request) {
						r.AddCookie(e.admin.cookie)
						r.Header.Set(headerProject, fmt.Sprint(e.a.id))
					}
					if res := e.do(rt.method, path, noCSRF, "{}"); res.code != http.StatusForbidden {
						t.Errorf("%s from a session without CSRF token: %d, want 403", key, res.code)
					}
				}
			}
			for k := range publicRoutes {
				if !seenPublic[k] {
					t.Errorf("documented public route %s is not registered", k)
				}
			}
			// The public ones answer without credentials.
			if res := e.do("GET", "/healthz", nil, ""); res.code != 200 {
				t.Errorf("/healthz: %d", res.code)
			}
			if res := e.do("POST", "/v1/login", nil, `{"name":"root","password":"wrong password!!"}`); res.code != 401 {
				t.Errorf("login with a wrong password: %d %s %v", res.code, res.body, res.header)
			}
			// The dashboard loads without credentials, with its security headers,
			// and names its assets under the version Studio serves.
			page := e.do("GET", "/", nil, "")
			if page.code != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("GET /: %d %v", page.code, page.header)
			}
			if res := e.do("GET", "/ui/"+e.srv.ui.Version()+"/js/app.js", nil, ""); res.code != 200 ||
				!bytes.Contains(page.body, []byte("/ui/"+e.srv.ui.Version()+"/js/app.js")) {
				t.Errorf("the dashboard's script: %d", res.code)
			}
			// An unknown path is 404, not an open door.
			if res := e.do("GET", "/v1/nothing", bearer(e.a.admin), ""); res.code != 404 {
				t.Errorf("/v1/nothing: %d", res.code)
			}
		})
	}
}

// ingest sends events with the given paths through the native ingest endpoint.
func (e *env) ingest(key, batch string, paths ...string) {
	e.t.Helper()
	b := wire.EventBatch{Version: wire.Version, BatchID: batch, Agent: wire.Agent{ID: "agent-" + batch}}
	for i, p := range paths {
		ev := wire.Event{Time: time.Now().UTC().Add(time.Duration(i) * time.Millisecond), Kind: "request", Action: "block", WouldBe: "block",
			Score: 95, Method: "GET", Path: p, Status: 403, Signals: []wire.Signal{{Detector: "gate", Code: "honeypot", Score: 100}}}
		ev.DNA.ID = "dna-" + batch
		b.Events = append(b.Events, ev)
	}
	data, err := wire.EncodeEvents(b)
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.ts.URL+wire.PathEvents, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set(wire.HeaderIdempotencyKey, batch)
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		e.t.Fatalf("ingest: %d %s", res.StatusCode, body)
	}
}

// Project A's credentials can neither read nor change project B's data, through any
// route: every route is called with A's key (or an admin session naming A) and B's
// object IDs, and no answer shows B's marker, and B's objects are untouched.
func TestTenantIsolation(t *testing.T) {
	for name, dsn := range engines(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, dsn(t))
			ctx := context.Background()
			const marker = "bmarker"
			e.ingest(e.b.ingest, "b-1", "/"+marker+"/one", "/"+marker+"/two")
			e.ingest(e.a.ingest, "a-1", "/alpha/one")
			ban, _, err := e.st.AddBan(ctx, e.b.id, store.Ban{Kind: store.BanIP, Value: "203.0.113.66", Reason: marker}, "test")
			if err != nil {
				t.Fatal(err)
			}
			hook, err := e.st.CreateWebhook(ctx, e.b.id, "http://127.0.0.1:9/"+marker, []string{"ban"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.st.PutPolicy(ctx, e.b.id, []byte(`{"rules":[{"name":"`+marker+`","match":{"paths":["/x"]},"action":"block"}]}`), "test"); err != nil {
				t.Fatal(err)
			}
			bKeys, err := e.st.Keys(ctx, e.b.id)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]int64{"/v1/bans/{id}": ban.ID, "/v1/webhooks/{id}": hook.ID, "/v1/webhooks/{id}/deliveries": hook.ID,
				"/v1/keys/{id}": bKeys[0].ID, "/v1/policy/versions/{version}": 1}
			for _, rt := range e.srv.routeTable() {
				if rt.access == accessPublic || rt.access == accessUsers || rt.access == accessSession {
					continue // no project data (users and projects are global, admin-only)
				}
				path := concrete(rt.pattern, ids[rt.pattern])
				if rt.pattern == "/v1/timeline" {
					path += "?dna=dna-b-1"
				}
				creds := []cred{bearer(e.a.admin), e.admin.in(e.a.id)}
				switch rt.access {
				case accessIngest:
					creds = []cred{bearer(e.a.ingest)}
				case accessGuardAgent:
					creds = []cred{apiKey(e.a.ingest)}
				}
				for i, c := range creds {
					res := e.do(rt.method, path, c, "{}")
					if bytes.Contains(res.body, []byte(marker)) || bytes.Contains(res.body, []byte("203.0.113.66")) {
						t.Errorf("%s %s with A's credential %d shows B's data: %s", rt.method, path, i, res.body)
					}
				}
			}
			// A session naming B by header is refused for a viewer of A only.
			if res := e.do("GET", "/v1/events", e.viewer.in(e.b.id), ""); res.code != 403 {
				t.Errorf("viewer of A reading B: %d", res.code)
			}
			// B's objects are all still there.
			bans, err := e.st.Bans(ctx, e.b.id, time.Now())
			if err != nil || len(bans) != 1 {
				t.Errorf("B's bans: %v %v", bans, err)
			}
			hooks, err := e.st.Webhooks(ctx, e.b.id)
			if err != nil || len(hooks) != 1 {
				t.Errorf("B's webhooks: %v %v", hooks, err)
			}
			keys, err := e.st.Keys(ctx, e.b.id)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if !k.Revoked.IsZero() {
					t.Errorf("B's key %s was revoked", k.Prefix)
				}
			}
			if pv, err := e.st.Policy(ctx, e.b.id); err != nil || pv.Version != 1 {
				t.Errorf("B's policy: %+v %v", pv, err)
			}
			st, err := e.st.Stats(ctx, e.b.id)
			if err != nil || st.EventsTotal != 2 {
				t.Errorf("B's events: %+v %v (A's writes must land in A)", st, err)
			}
			// And A's reads see A's own data.
			res := e.do("GET", "/v1/events", bearer(e.a.admin), "")
			if !bytes.Contains(res.body, []byte("/alpha/one")) {
				t.Errorf("A's events: %s", res.body)
			}
		})
	}
}
