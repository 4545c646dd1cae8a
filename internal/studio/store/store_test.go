package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/studio/studiotest"
	"github.com/vigilhq/vigil/internal/wire"
)

// pepper is the tests' key pepper.
var pepper = []byte("0123456789abcdef0123456789abcdef")

// engine opens fresh, empty databases of one engine.
type engine struct {
	name string
	// dsn returns the DSN of a new empty database, removed when the test ends.
	dsn func(t testing.TB) string
}

// engines returns SQLite and, when it is reachable, PostgreSQL. When PostgreSQL is
// not reachable the test fails under CI and skips the PostgreSQL half otherwise.
func engines(t testing.TB) []engine {
	es := []engine{{name: "sqlite", dsn: sqliteDSN}}
	if base, err := postgresBase(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Logf("PostgreSQL half skipped: %v (set VIGIL_TEST_POSTGRES)", err)
	} else {
		es = append(es, engine{name: "postgres", dsn: func(t testing.TB) string { return postgresDSN(t, base) }})
	}
	return es
}

func sqliteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "studio.db")
}

func postgresBase() (string, error) { return studiotest.Postgres() }

// postgresDSN makes a schema of its own for the test and returns base with its
// search_path set to it, so parallel tests and packages never meet.
func postgresDSN(t testing.TB, base string) string {
	return studiotest.Schema(t, base, "vigil_store_test_")
}

func open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{Pepper: pepper})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachEngine runs f as a subtest per engine, each with a fresh database.
func eachEngine(t *testing.T, f func(t *testing.T, e engine)) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

// fixture is a fresh store with two projects.
type fixture struct {
	s    *store.Store
	a, b store.Project
}

func newFixture(t *testing.T, e engine) fixture {
	s := open(t, e.dsn(t))
	ctx := context.Background()
	a, err := s.CreateProject(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateProject(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	return fixture{s: s, a: a, b: b}
}

// t0 is the tests' base event time, with nanoseconds that PostgreSQL's timestamptz
// would lose.
var t0 = time.Date(2026, 11, 5, 12, 0, 0, 123456789, time.UTC)

// ev returns a request event at t0+sec seconds from ip, with action.
func ev(sec int, ip, action string) store.Event {
	raw, _ := json.Marshal(map[string]any{"n": sec, "ip": ip, "future_field": []int{1, 2}})
	return store.Event{
		Time: t0.Add(time.Duration(sec) * time.Second), Source: store.SourceVigil, Kind: "request",
		Action: action, WouldBe: action, ClientIP: ip, DNAID: "d1-" + ip, Path: "/p/" + strconv.Itoa(sec),
		Method: "GET", Host: "h", Score: 5, Status: 200, Raw: raw,
	}
}

func ingest(t *testing.T, s *store.Store, project int64, batch string, evs ...store.Event) {
	t.Helper()
	n, dup, err := s.IngestEvents(context.Background(), project, batch, evs)
	if err != nil || dup || n != len(evs) {
		t.Fatalf("IngestEvents(%q) = %d, %v, %v; want %d, false, nil", batch, n, dup, err, len(evs))
	}
}

// paths returns the paths of evs, which name the test events.
func paths(evs []store.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Path)
	}
	return out
}

func TestOpenRejectsShortPepper(t *testing.T) {
	_, err := store.Open(context.Background(), sqliteDSN(t), store.Options{Pepper: []byte("short")})
	if err == nil {
		t.Fatal("Open with a 5-byte pepper succeeded")
	}
}

func TestMigrate(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		ctx := context.Background()
		dsn := e.dsn(t)
		// Two processes starting at once: both must come up, with the schema once.
		var wg sync.WaitGroup
		stores := make([]*store.Store, 4)
		errs := make([]error, len(stores))
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = store.Open(ctx, dsn, store.Options{Pepper: pepper}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Open %d: %v", i, err)
			}
			stores[i].Close()
		}
		s := open(t, dsn) // and once more, after
		v, err := s.SchemaVersion(ctx)
		if want := migrationVersions(t, e)[len(migrationVersions(t, e))-1]; err != nil || v != want {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, want)
		}
		if _, err := s.CreateProject(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		if s.Engine() != store.Engine(e.name) {
			t.Errorf("Engine() = %q, want %q", s.Engine(), e.name)
		}
	})
}

func TestMigrationsRecordedOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		open(t, dsn).Close()
		open(t, dsn).Close()
		db := rawDB(t, e, dsn)
		rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []int64
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if diff := cmp.Diff(migrationVersions(t, e), got); diff != "" {
			t.Errorf("schema_migrations (-want +got):\n%s", diff)
		}
	})
}

// migrationVersions returns the versions of the engine's migration files, in order:
// the numbers their names start with.
func migrationVersions(t *testing.T, e engine) []int64 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("migrations", e.name))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, ent := range ents {
		num, _, _ := strings.Cut(ent.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", ent.Name(), err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		t.Fatal("no migrations")
	}
	return out // os.ReadDir sorts by name, and the names are zero-padded
}

// rawDB opens dsn without the store, to look under it.
func rawDB(t *testing.T, e engine, dsn string) *sql.DB {
	driver := "sqlite"
	if e.name == "postgres" {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestProjects(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		if _, err := f.s.CreateProject(ctx, "alpha"); !errors.Is(err, store.ErrExists) {
			t.Errorf("CreateProject(existing) = %v, want ErrExists", err)
		}
		p, err := f.s.ProjectByName(ctx, "beta")
		if err != nil || p.ID != f.b.ID || p.Name != "beta" {
			t.Errorf("ProjectByName(beta) = %+v, %v; want ID %d", p, err, f.b.ID)
		}
		if _, err := f.s.ProjectByName(ctx, "gamma"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ProjectByName(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestKeys(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingestKey, k1, err := f.s.CreateKey(ctx, f.a.ID, store.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		adminKey, k2, err := f.s.CreateKey(ctx, f.b.ID, store.ScopeAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ingestKey, "vk_ingest_") || len(ingestKey) != len("vk_ingest_")+43 {
			t.Errorf("ingest key %q: want vk_ingest_ and 43 characters", ingestKey)
		}
		if !strings.HasPrefix(adminKey, k2.Prefix) || !strings.HasPrefix(adminKey, "vk_admin_") {
			t.Errorf("admin key %q does not start with its prefix %q", adminKey, k2.Prefix)
		}
		for _, c := range []struct {
			name    string
			key     string
			project int64
			scope   store.Scope
		}{
			{"ingest", ingestKey, f.a.ID, store.ScopeIngest},
			{"admin", adminKey, f.b.ID, store.ScopeAdmin},
		} {
			k, err := f.s.LookupKey(ctx, c.key)
			if err != nil || k.ProjectID != c.project || k.Scope != c.scope {
				t.Errorf("%s: LookupKey = %+v, %v; want project %d scope %s", c.name, k, err, c.project, c.scope)
			}
		}
		wrong := []string{
			"", "vk_ingest_", ingestKey[:len(ingestKey)-1], ingestKey + "0",
			ingestKey[:len(ingestKey)-1] + string(ingestKey[len(ingestKey)-1]^1),
			strings.ToUpper(ingestKey), "Bearer " + ingestKey,
		}
		for _, w := range wrong {
			if k, err := f.s.LookupKey(ctx, w); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey(%q) = %+v, %v; want ErrNotFound", w, k, err)
			}
		}
		// Revoke: only the owning project may, and then the key is dead.
		if err := f.s.RevokeKey(ctx, f.b.ID, k1.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeKey by another project = %v, want ErrNotFound", err)
		}
		if _, err := f.s.LookupKey(ctx, ingestKey); err != nil {
			t.Errorf("key dead after another project's RevokeKey: %v", err)
		}
		if err := f.s.RevokeKey(ctx, f.a.ID, k1.ID); err != nil {
			t.Fatal(err)
		}
		if k, err := f.s.LookupKey(ctx, ingestKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupKey(revoked) = %+v, %v; want ErrNotFound", k, err)
		}
		if _, err := f.s.LookupKey(ctx, adminKey); err != nil {
			t.Errorf("revoking one key killed another: %v", err)
		}
		keys, err := f.s.Keys(ctx, f.a.ID)
		if err != nil || len(keys) != 1 || keys[0].Revoked.IsZero() || keys[0].ID != k1.ID {
			t.Errorf("Keys(a) = %+v, %v; want one revoked key %d", keys, err, k1.ID)
		}
		if _, _, err := f.s.CreateKey(ctx, f.a.ID, "root"); err == nil {
			t.Error("CreateKey with scope root succeeded")
		}
	})
}

func TestKeyPepper(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		ctx := context.Background()
		dsn := e.dsn(t)
		s := open(t, dsn)
		p, err := s.CreateProject(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := s.CreateKey(ctx, p.ID, store.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		other := []byte(strings.Repeat("x", store.MinPepperLen))
		s2, err := store.Open(ctx, dsn, store.Options{Pepper: other})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if _, err := s2.LookupKey(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupKey under another pepper = %v, want ErrNotFound", err)
		}
		// The stored hash is not the key.
		var n int
		db := rawDB(t, e, dsn)
		if err := db.QueryRow(`SELECT count(*) FROM api_keys WHERE prefix = $1 OR hash = $2`, key, []byte(key)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the plaintext key is stored")
		}
	})
}

func TestIngestRoundTrip(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		we := wire.Event{
			Time: t0, Kind: "request", RequestID: "req-1", Action: "block", WouldBe: "block", Score: 85,
			Signals:    []wire.Signal{{Detector: "attack", Code: "sqli", Score: 60}, {Detector: "bot", Code: "headless", Score: 25}},
			ClientIP:   netip.MustParseAddr("2001:db8::1"),
			DNA:        wire.DNA{ID: "d1-x", Family: "chrome", JA4: "t13d"},
			Enrichment: wire.Enrichment{Country: "DE", ASN: 4294967295, ClientKind: "browser"},
			Method:     "POST", Host: "shop", Path: "/login", UserAgent: "UA", Status: 403,
			Headers: []wire.Header{{Name: "accept", Value: "*/*"}},
		}
		n, dup, err := f.s.IngestBatch(ctx, f.a.ID, &wire.EventBatch{Version: 1, BatchID: "a-1", Events: []wire.Event{we}})
		if err != nil || dup || n != 1 {
			t.Fatalf("IngestBatch = %d, %v, %v", n, dup, err)
		}
		got, _, err := f.s.Events(ctx, f.a.ID, store.Filter{}, store.Cursor{})
		if err != nil || len(got) != 1 {
			t.Fatalf("Events = %d events, %v; want 1", len(got), err)
		}
		want := store.Event{
			Time: t0, Source: "vigil", Kind: "request", RequestID: "req-1", Action: "block", WouldBe: "block",
			Score: 85, ClientIP: "2001:db8::1", DNAID: "d1-x", Family: "chrome", ClientKind: "browser", Country: "DE",
			ASN: 4294967295, Method: "POST", Host: "shop", Path: "/login", UserAgent: "UA", Status: 403,
			Reasons: []string{"sqli", "headless"},
		}
		if diff := cmp.Diff(want, got[0], cmpopts.IgnoreFields(store.Event{}, "ID", "Received", "Raw")); diff != "" {
			t.Errorf("stored event (-want +got):\n%s", diff)
		}
		var back wire.Event
		if err := json.Unmarshal(got[0].Raw, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(we, back, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("raw does not decode to the wire event (-want +got):\n%s", diff)
		}
		if got[0].ID == 0 || time.Since(got[0].Received) > time.Minute {
			t.Errorf("ID %d, Received %v: want set", got[0].ID, got[0].Received)
		}
		// A guard-agent event keeps its unknown fields in Raw.
		raw := json.RawMessage(`{"timestamp":"2026-11-05T12:00:00Z","event_type":"ip_banned","ip_address":"198.51.100.7","unknown_field":{"x":[1,2,3]}}`)
		g := store.Event{Time: t0.Add(time.Second), Source: store.SourceGuardAgent, Kind: "ip_banned", ClientIP: "198.51.100.7", Raw: raw}
		ingest(t, f.s, f.a.ID, "", g)
		got, _, err = f.s.Events(ctx, f.a.ID, store.Filter{Kind: "ip_banned"}, store.Cursor{})
		if err != nil || len(got) != 1 {
			t.Fatalf("Events(kind ip_banned) = %d, %v", len(got), err)
		}
		var m1, m2 any
		json.Unmarshal(raw, &m1)
		json.Unmarshal(got[0].Raw, &m2)
		if got[0].Source != store.SourceGuardAgent || !cmp.Equal(m1, m2) {
			t.Errorf("guard-agent event: source %q raw %s", got[0].Source, got[0].Raw)
		}
		// Invalid events are refused, and nothing of their batch is stored.
		bad := ev(1, "192.0.2.1", "allow")
		bad.Raw = json.RawMessage(`{`)
		if _, _, err := f.s.IngestEvents(ctx, f.a.ID, "bad", []store.Event{ev(0, "192.0.2.1", "allow"), bad}); err == nil {
			t.Error("IngestEvents with invalid raw JSON succeeded")
		}
		if _, _, err := f.s.IngestEvents(ctx, f.a.ID, "bad", []store.Event{{Source: "vigil", Kind: "request", Raw: raw}}); err == nil {
			t.Error("IngestEvents of an event without time succeeded")
		}
		if st, _ := f.s.Stats(ctx, f.a.ID); st.EventsTotal != 2 {
			t.Errorf("after refused batches EventsTotal = %d, want 2", st.EventsTotal)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingest(t, f.s, f.a.ID, "batch-1", ev(0, "192.0.2.1", "block"), ev(1, "192.0.2.1", "allow"))
		// The same batch ID in B is another batch.
		ingest(t, f.s, f.b.ID, "batch-1", ev(2, "192.0.2.1", "block"))
		for _, c := range []struct {
			name    string
			project int64
			want    []string
		}{
			{"a", f.a.ID, []string{"/p/1", "/p/0"}},
			{"b", f.b.ID, []string{"/p/2"}},
			{"none", f.b.ID + 1000, []string{}},
		} {
			got, _, err := f.s.Events(ctx, c.project, store.Filter{}, store.Cursor{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, paths(got)); diff != "" {
				t.Errorf("%s: Events (-want +got):\n%s", c.name, diff)
			}
			got, _, _ = f.s.Events(ctx, c.project, store.Filter{IP: "192.0.2.1"}, store.Cursor{})
			if diff := cmp.Diff(c.want, paths(got)); diff != "" {
				t.Errorf("%s: Events by IP (-want +got):\n%s", c.name, diff)
			}
			got, _ = f.s.Timeline(ctx, c.project, store.Who{DNA: "d1-192.0.2.1"}, 10)
			if diff := cmp.Diff(c.want, paths(got)); diff != "" {
				t.Errorf("%s: Timeline by DNA (-want +got):\n%s", c.name, diff)
			}
			st, err := f.s.Stats(ctx, c.project)
			if err != nil || st.EventsTotal != int64(len(c.want)) {
				t.Errorf("%s: Stats = %+v, %v; want %d events", c.name, st, err, len(c.want))
			}
			top, _ := f.s.TopAttackers(ctx, c.project, t0.Add(-time.Hour), 10)
			wantTop := 0
			if len(c.want) > 0 {
				wantTop = 1
			}
			if len(top) != wantTop || (wantTop == 1 && top[0].Events != 1) {
				t.Errorf("%s: TopAttackers = %+v, want %d attacker with 1 event", c.name, top, wantTop)
			}
			b, _ := f.s.Buckets(ctx, c.project, t0.Add(-time.Hour), t0.Add(time.Hour), time.Hour)
			var sum int64
			for _, x := range b {
				sum += x.Count
			}
			if sum != int64(len(c.want)) {
				t.Errorf("%s: Buckets count %d events, want %d", c.name, sum, len(c.want))
			}
		}
	})
}

func TestDedupe(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		batch := []store.Event{ev(0, "192.0.2.1", "block"), ev(1, "192.0.2.2", "allow"), ev(2, "192.0.2.3", "allow")}
		ingest(t, f.s, f.a.ID, "agent-1", batch...)
		n, dup, err := f.s.IngestEvents(ctx, f.a.ID, "agent-1", batch[:1])
		if err != nil || !dup || n != 3 {
			t.Errorf("second IngestEvents = %d, %v, %v; want 3 (first count), true, nil", n, dup, err)
		}
		st, _ := f.s.Stats(ctx, f.a.ID)
		if st.EventsTotal != 3 || st.Batches != 1 {
			t.Errorf("Stats = %+v; want 3 events in 1 batch", st)
		}
		// No batch ID: no dedupe.
		ingest(t, f.s, f.a.ID, "", batch[0])
		ingest(t, f.s, f.a.ID, "", batch[0])
		if st, _ := f.s.Stats(ctx, f.a.ID); st.EventsTotal != 5 {
			t.Errorf("EventsTotal = %d after two unkeyed batches, want 5", st.EventsTotal)
		}
		if _, _, err := f.s.IngestEvents(ctx, f.a.ID, strings.Repeat("x", wire.MaxBatchIDLen+1), batch); err == nil {
			t.Error("IngestEvents with a too-long batch ID succeeded")
		}
	})
}

func TestDedupeRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		batch := make([]store.Event, 200)
		for i := range batch {
			batch[i] = ev(i, "192.0.2.9", "block")
		}
		const racers = 8
		for round := range 5 {
			id := "race-" + strconv.Itoa(round)
			var wg sync.WaitGroup
			dups := make([]bool, racers)
			errs := make([]error, racers)
			for i := range racers {
				wg.Go(func() {
					var n int
					n, dups[i], errs[i] = f.s.IngestEvents(ctx, f.a.ID, id, batch)
					if errs[i] == nil && n != len(batch) {
						errs[i] = fmt.Errorf("accepted %d", n)
					}
				})
			}
			wg.Wait()
			firsts := 0
			for i := range racers {
				if errs[i] != nil {
					t.Fatalf("racer %d: %v", i, errs[i])
				}
				if !dups[i] {
					firsts++
				}
			}
			if firsts != 1 {
				t.Errorf("round %d: %d racers stored the batch, want 1", round, firsts)
			}
		}
		if st, _ := f.s.Stats(ctx, f.a.ID); st.EventsTotal != 5*int64(len(batch)) {
			t.Errorf("EventsTotal = %d, want %d", st.EventsTotal, 5*len(batch))
		}
	})
}

func TestDedupeRaceTwoStores(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s1, s2 := open(t, dsn), open(t, dsn)
		ctx := context.Background()
		p, err := s1.CreateProject(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		batch := []store.Event{ev(0, "192.0.2.1", "block"), ev(1, "192.0.2.1", "block")}
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for i := range 6 {
			s := []*store.Store{s1, s2}[i%2]
			wg.Go(func() {
				_, dup, err := s.IngestEvents(ctx, p.ID, "b", batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if !dup {
					stored++
				}
			})
		}
		wg.Wait()
		st, _ := s2.Stats(ctx, p.ID)
		if stored != 1 || st.EventsTotal != 2 {
			t.Errorf("%d stores reported storing, %d events stored; want 1 and 2", stored, st.EventsTotal)
		}
	})
}

func TestPaging(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		// 57 events over 5 distinct times, so most pages cut through equal times,
		// ingested in two batches out of time order; the 27 of the first batch
		// share one time, so their IDs are consecutive.
		var evs []store.Event
		for i := range 57 {
			sec := i % 5
			if i >= 30 {
				sec = 2
			}
			x := ev(sec, "192.0.2.1", "allow")
			x.Path = "/e/" + strconv.Itoa(i)
			evs = append(evs, x)
		}
		ingest(t, f.s, f.a.ID, "1", evs[30:]...)
		ingest(t, f.s, f.a.ID, "2", evs[:30]...)
		ingest(t, f.s, f.b.ID, "1", evs[:10]...) // noise in another project
		for _, size := range []int{1, 4, 5, 7, 56, 57, 58} {
			var all []store.Event
			var cur store.Cursor
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("size %d: paging does not end", size)
				}
				// Through the cursor's text form, as a client would.
				c, err := store.ParseCursor(cur.String())
				if err != nil {
					t.Fatal(err)
				}
				page, next, err := f.s.Events(ctx, f.a.ID, store.Filter{Limit: size}, c)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size {
					t.Fatalf("size %d: page of %d", size, len(page))
				}
				all = append(all, page...)
				if next.IsZero() {
					break
				}
				cur = next
			}
			seen := map[string]bool{}
			for i, x := range all {
				if seen[x.Path] {
					t.Errorf("size %d: %s twice", size, x.Path)
				}
				seen[x.Path] = true
				if i > 0 && (x.Time.After(all[i-1].Time) || x.Time.Equal(all[i-1].Time) && x.ID >= all[i-1].ID) {
					t.Errorf("size %d: %s (%v, %d) after %s (%v, %d): not newest first", size, x.Path, x.Time, x.ID, all[i-1].Path, all[i-1].Time, all[i-1].ID)
				}
			}
			if len(all) != 57 {
				t.Errorf("size %d: %d events over all pages, want 57", size, len(all))
			}
		}
		for _, bad := range []string{"x", "1.", ".1", "1.0", "zz.zz.zz"} {
			if _, err := store.ParseCursor(bad); err == nil {
				t.Errorf("ParseCursor(%q) succeeded", bad)
			}
		}
	})
}

func TestFilters(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		a := ev(0, "192.0.2.1", "allow")
		a.Path = "/api/users"
		b := ev(10, "192.0.2.2", "block")
		b.Path = "/API/admin"
		c := ev(20, "192.0.2.1", "challenge")
		c.Path = "/api"
		c.DNAID = "d1-other"
		d := ev(30, "192.0.2.3", "")
		d.Kind, d.Path = "ban", "/apiv2/ünï"
		ingest(t, f.s, f.a.ID, "x", a, b, c, d)
		for _, tc := range []struct {
			name string
			f    store.Filter
			want []string
		}{
			{"all", store.Filter{}, []string{"/apiv2/ünï", "/api", "/API/admin", "/api/users"}},
			{"since", store.Filter{Since: t0.Add(10 * time.Second)}, []string{"/apiv2/ünï", "/api", "/API/admin"}},
			{"until", store.Filter{Until: t0.Add(10 * time.Second)}, []string{"/api/users"}},
			{"window", store.Filter{Since: t0.Add(5 * time.Second), Until: t0.Add(21 * time.Second)}, []string{"/api", "/API/admin"}},
			{"ip", store.Filter{IP: "192.0.2.1"}, []string{"/api", "/api/users"}},
			{"dna", store.Filter{DNA: "d1-192.0.2.1"}, []string{"/api/users"}},
			{"action", store.Filter{Action: "block"}, []string{"/API/admin"}},
			{"kind", store.Filter{Kind: "ban"}, []string{"/apiv2/ünï"}},
			{"path_prefix_case_sensitive", store.Filter{PathPrefix: "/api"}, []string{"/apiv2/ünï", "/api", "/api/users"}},
			{"path_prefix_slash", store.Filter{PathPrefix: "/api/"}, []string{"/api/users"}},
			{"path_prefix_unicode", store.Filter{PathPrefix: "/apiv2/ün"}, []string{"/apiv2/ünï"}},
			{"path_prefix_like_chars", store.Filter{PathPrefix: "/a%"}, []string{}},
			{"combined", store.Filter{IP: "192.0.2.1", Action: "challenge", PathPrefix: "/a"}, []string{"/api"}},
			{"limit", store.Filter{Limit: 2}, []string{"/apiv2/ünï", "/api"}},
			{"no_match", store.Filter{IP: "192.0.2.99"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, _, err := f.s.Events(ctx, f.a.ID, tc.f, store.Cursor{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, paths(got)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		st, err := f.s.Stats(ctx, f.a.ID)
		if err != nil || st != (store.Stats{}) {
			t.Errorf("empty Stats = %+v, %v; want zero", st, err)
		}
		mon := ev(7, "192.0.2.4", "allow")
		mon.WouldBe = "block" // monitor mode
		ingest(t, f.s, f.a.ID, "1", ev(3, "192.0.2.1", "block"), ev(5, "192.0.2.2", "allow"))
		ingest(t, f.s, f.a.ID, "2", mon, ev(1, "192.0.2.1", ""))
		want := store.Stats{EventsTotal: 4, Batches: 2, First: t0.Add(time.Second), Last: t0.Add(7 * time.Second)}
		st, err = f.s.Stats(ctx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

func TestTimeline(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		var evs []store.Event
		for i := range 30 {
			evs = append(evs, ev(i, "192.0.2."+strconv.Itoa(i%3), "allow"))
		}
		ingest(t, f.s, f.a.ID, "1", evs...)
		got, err := f.s.Timeline(ctx, f.a.ID, store.Who{IP: "192.0.2.1"}, 4)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"/p/28", "/p/25", "/p/22", "/p/19"}, paths(got)); diff != "" {
			t.Errorf("Timeline(ip) (-want +got):\n%s", diff)
		}
		got, err = f.s.Timeline(ctx, f.a.ID, store.Who{DNA: "d1-192.0.2.2"}, 0)
		if err != nil || len(got) != 10 || got[0].Path != "/p/29" || got[9].Path != "/p/2" {
			t.Errorf("Timeline(dna) = %v, %v; want the 10 events /p/29 … /p/2", paths(got), err)
		}
		if _, err := f.s.Timeline(ctx, f.a.ID, store.Who{}, 1); err == nil {
			t.Error("Timeline with neither IP nor DNA succeeded")
		}
		if _, err := f.s.Timeline(ctx, f.a.ID, store.Who{IP: "192.0.2.1", DNA: "x"}, 1); err == nil {
			t.Error("Timeline with both IP and DNA succeeded")
		}
	})
}

func TestTopAttackers(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		var evs []store.Event
		add := func(ip, action string, n, sec int) {
			for range n {
				evs = append(evs, ev(sec, ip, action))
			}
		}
		add("192.0.2.1", "block", 3, 10)
		add("192.0.2.1", "allow", 20, 10) // allowed events do not count
		add("192.0.2.2", "challenge", 2, 20)
		add("192.0.2.2", "ratelimit", 2, 21)
		add("192.0.2.3", "block", 5, -100) // before since
		add("192.0.2.3", "block", 1, 30)
		add("192.0.2.4", "allow", 50, 10)
		add("192.0.2.5", "", 9, 10) // ban and error events have no action
		add("192.0.2.6", "block", 1, 40)
		add("", "block", 9, 10) // no client address
		mon := ev(50, "192.0.2.7", "allow")
		mon.WouldBe = "block"
		evs = append(evs, mon, mon, mon)
		ingest(t, f.s, f.a.ID, "1", evs...)
		got, err := f.s.TopAttackers(ctx, f.a.ID, t0, 4)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Attacker{
			{ClientIP: "192.0.2.2", Events: 4, Last: t0.Add(21 * time.Second)},
			{ClientIP: "192.0.2.1", Events: 3, Last: t0.Add(10 * time.Second)},
			{ClientIP: "192.0.2.7", Events: 3, Last: t0.Add(50 * time.Second)},
			{ClientIP: "192.0.2.3", Events: 1, Last: t0.Add(30 * time.Second)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TopAttackers (-want +got):\n%s", diff)
		}
	})
}

func TestBuckets(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingest(t, f.s, f.a.ID, "1",
			ev(-1, "192.0.2.1", "block"), // before since
			ev(0, "192.0.2.1", "block"), ev(0, "192.0.2.1", "allow"), ev(59, "192.0.2.1", "allow"),
			ev(60, "192.0.2.1", "allow"),
			ev(185, "192.0.2.1", "challenge"), ev(186, "192.0.2.1", "challenge"),
			ev(240, "192.0.2.1", "block"), // at until: out
		)
		got, err := f.s.Buckets(ctx, f.a.ID, t0, t0.Add(4*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Bucket{
			{Start: t0, Action: "allow", Count: 2},
			{Start: t0, Action: "block", Count: 1},
			{Start: t0.Add(time.Minute), Action: "allow", Count: 1},
			{Start: t0.Add(3 * time.Minute), Action: "challenge", Count: 2},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Buckets (-want +got):\n%s", diff)
		}
		if _, err := f.s.Buckets(ctx, f.a.ID, t0, t0.Add(time.Hour), time.Millisecond); err == nil {
			t.Error("Buckets over 3.6M steps succeeded")
		}
		if _, err := f.s.Buckets(ctx, f.a.ID, t0, t0, time.Minute); err == nil {
			t.Error("Buckets over an empty span succeeded")
		}
	})
}

func TestOpenSQLiteDSN(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		dsn  string
		ok   bool
	}{
		{"path", filepath.Join(dir, "a.db"), true},
		{"file_uri", "file:" + filepath.Join(dir, "b.db"), true},
		{"file_uri_with_query", "file:" + filepath.Join(dir, "c.db") + "?cache=private", true},
		{"path_with_question_mark", filepath.Join(dir, "d?.db"), false},
		{"empty", "", false},
		{"missing_dir", filepath.Join(dir, "no", "such", "e.db"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(ctx, c.dsn, store.Options{Pepper: pepper})
			if (err == nil) != c.ok {
				t.Fatalf("Open(%q) error = %v, want ok %v", c.dsn, err, c.ok)
			}
			if err != nil {
				return
			}
			defer s.Close()
			if _, err := s.CreateProject(ctx, "p"); err != nil {
				t.Fatal(err)
			}
			var mode string
			db, err := sql.Open("sqlite", c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
		})
	}
}
