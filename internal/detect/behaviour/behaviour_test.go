package behaviour

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// verdict is what a test compares: the score and the features named in Detail.
type verdict struct {
	Score    int
	Features []string
}

func summarise(fs []detect.Finding) *verdict {
	if len(fs) == 0 {
		return nil
	}
	f := fs[0]
	if f.Detector != "behaviour" || f.Code != Code {
		return &verdict{Score: -1, Features: []string{f.Detector, f.Code}}
	}
	v := &verdict{Score: f.Score}
	for part := range strings.SplitSeq(f.Detail, ", ") {
		if name, _, ok := strings.Cut(part, " ("); ok {
			v.Features = append(v.Features, name)
		}
	}
	return v
}

// crawler walks /items/from..to every period ± jitter (a fraction), with no assets.
func crawler(from, to int, period time.Duration, jitter float64) func(*rand.Rand) []Observation {
	return func(r *rand.Rand) []Observation {
		var obs []Observation
		at := t0
		for i := from; i <= to; i++ {
			obs = append(obs, Observation{Time: at, Method: "GET", Path: "/items/" + strconv.Itoa(i), Status: 200})
			j := 0.0
			if jitter > 0 {
				j = jitter * (2*r.Float64() - 1)
			}
			at = at.Add(time.Duration(float64(period) * (1 + j)))
		}
		return obs
	}
}

// browser loads pages (from path(i)), each followed by 5–15 assets within about 100 ms,
// with 2–30 s between pages.
func browser(pages int, path func(r *rand.Rand, i int) string) func(*rand.Rand) []Observation {
	return func(r *rand.Rand) []Observation {
		var obs []Observation
		at := t0
		for i := range pages {
			obs = append(obs, Observation{Time: at, Method: "GET", Path: path(r, i), Status: 200, Navigation: true})
			for j := range 5 + r.IntN(11) {
				at = at.Add(time.Duration(2+r.IntN(18)) * time.Millisecond)
				obs = append(obs, Observation{Time: at, Method: "GET", Path: "/static/a" + strconv.Itoa(j) + ".js", Status: 200, Asset: true})
			}
			if i%7 == 3 { // now and then a form
				at = at.Add(time.Duration(3+r.IntN(10)) * time.Second)
				obs = append(obs, Observation{Time: at, Method: "POST", Path: "/cart", Status: 303})
			}
			at = at.Add(time.Duration(2000+r.IntN(28000)) * time.Millisecond)
		}
		return obs
	}
}

func randomPage(r *rand.Rand, _ int) string {
	return [...]string{"/", "/about", "/products", "/items/" + strconv.Itoa(r.IntN(900)), "/search"}[r.IntN(5)]
}

var sessions = []struct {
	name string
	obs  func(*rand.Rand) []Observation
	want *verdict
}{
	{
		name: "scripted_crawler_walks_items_steadily",
		obs:  crawler(1, 500, 200*time.Millisecond, 0.01),
		want: &verdict{Score: 95, Features: []string{"regular_timing", "sequential_ids", "no_assets"}},
	},
	{
		name: "crawler_with_random_pace_still_walks",
		obs: func(r *rand.Rand) []Observation {
			obs := crawler(1, 100, time.Second, 0.9)(r)
			return obs
		},
		want: &verdict{Score: 60, Features: []string{"sequential_ids", "no_assets"}},
	},
	{
		name: "too_few_requests_are_not_judged",
		obs:  crawler(1, 19, 200*time.Millisecond, 0.01),
		want: nil,
	},
	{
		name: "browser_with_assets_and_human_timing",
		obs:  browser(60, randomPage),
		want: nil,
	},
	{
		// Paging through a list is sequential; with assets and human timing it is
		// reported, but alone and below the block threshold.
		name: "human_paging_through_a_list",
		obs:  browser(30, func(_ *rand.Rand, i int) string { return "/list/page/" + strconv.Itoa(i+1) }),
		want: &verdict{Score: 40, Features: []string{"sequential_ids"}},
	},
	{
		// A warm cache: navigations with no asset requests, human timing. no_assets
		// alone reports nothing.
		name: "browser_with_warm_cache",
		obs: func(r *rand.Rand) []Observation {
			var obs []Observation
			for _, o := range browser(40, randomPage)(r) {
				if !o.Asset {
					obs = append(obs, o)
				}
			}
			return obs
		},
		want: nil,
	},
	{
		name: "scanner_with_80_percent_404s",
		obs: func(r *rand.Rand) []Observation {
			var obs []Observation
			at := t0
			for i := range 200 {
				st := 404
				if i%5 == 0 {
					st = 200
				}
				obs = append(obs, Observation{Time: at, Method: "GET", Path: "/probe/" + strconv.Itoa(i) + ".php", Status: st})
				at = at.Add(time.Duration(20+r.IntN(500)) * time.Millisecond)
			}
			return obs
		},
		want: &verdict{Score: 65, Features: []string{"probing", "no_assets"}},
	},
	{
		name: "scripted_scanner_with_fixed_delay",
		obs: func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 100 {
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * 100 * time.Millisecond), Method: "GET", Path: "/wp-" + strconv.Itoa(i*7919) + "x", Status: 404})
			}
			return obs
		},
		want: &verdict{Score: 100, Features: []string{"regular_timing", "probing", "no_assets"}},
	},
	{
		// A legitimate monitor: regular and without assets, so it is reported as
		// automated, at 55, below the default block threshold (80). Policy allows
		// it by IP or path (ExcludePaths) if the operator wants it silent.
		name: "api_monitor_polls_every_5s",
		obs: func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 100 {
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * 5 * time.Second), Method: "GET", Path: "/healthz", Status: 200})
			}
			return obs
		},
		want: &verdict{Score: 55, Features: []string{"regular_timing", "no_assets"}},
	},
	{
		// Regular timing with a mix of writes: nothing but regular_timing fires, and
		// it never reports alone.
		name: "api_client_posting_every_second",
		obs: func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 100 {
				m := "GET"
				if i%2 == 0 {
					m = "POST"
				}
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * time.Second), Method: m, Path: "/api/events", Status: 200})
			}
			return obs
		},
		want: nil,
	},
	{
		// A form script: POSTs to one endpoint every 2 s, never a page or an asset.
		name: "form_script_posting_on_a_timer",
		obs: func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 60 {
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * 2 * time.Second), Method: "POST", Path: "/contact", Status: 200})
			}
			return obs
		},
		want: &verdict{Score: 55, Features: []string{"regular_timing", "posts_only"}},
	},
	{
		// Someone retrying a login form by hand: POSTs only, no assets (cached), but
		// human timing. posts_only alone reports nothing.
		name: "login_retries_at_human_pace",
		obs: func(r *rand.Rand) []Observation {
			var obs []Observation
			at := t0
			for range 30 {
				obs = append(obs, Observation{Time: at, Method: "POST", Path: "/login", Status: 401, Navigation: true})
				at = at.Add(time.Duration(2000+r.IntN(20000)) * time.Millisecond)
			}
			return obs
		},
		want: nil,
	},
	{
		name: "headless_browser_navigating_without_assets_on_a_timer",
		obs: func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 50 {
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * 3 * time.Second), Method: "GET", Path: "/p/" + strconv.Itoa(i*i), Status: 200, Navigation: true})
			}
			return obs
		},
		want: &verdict{Score: 65, Features: []string{"regular_timing", "no_assets"}},
	},
}

func TestSessions(t *testing.T) {
	for _, tc := range sessions {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(Config{})
			obs := tc.obs(rand.New(rand.NewPCG(1, 2)))
			for _, o := range obs {
				tr.Observe("client", o)
			}
			got := summarise(tr.Check(nil, "client", obs[len(obs)-1].Time))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			if other := tr.Check(nil, "someone-else", obs[len(obs)-1].Time); other != nil {
				t.Errorf("unknown client: %v", other)
			}
		})
	}
}

// TestBrowserSeeds runs the browser session under many seeds: none may be reported.
func TestBrowserSeeds(t *testing.T) {
	for seed := range uint64(200) {
		tr := New(Config{})
		obs := browser(80, randomPage)(rand.New(rand.NewPCG(seed, 7)))
		for i, o := range obs {
			tr.Observe("b", o)
			if fs := tr.Check(nil, "b", o.Time); fs != nil {
				t.Fatalf("seed %d, request %d: %+v", seed, i, fs)
			}
		}
	}
}

func TestCrawlerDetail(t *testing.T) {
	tr := New(Config{})
	for _, o := range crawler(1, 500, 200*time.Millisecond, 0)(nil) {
		tr.Observe("c", o)
	}
	got := tr.Check(nil, "c", t0.Add(100*time.Second))
	want := []detect.Finding{{Detector: "behaviour", Code: Code, Score: 95,
		Detail: "regular_timing (cv 0.000), sequential_ids (499 equal steps), no_assets (500 pages), over 500 requests"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestSessionExpires(t *testing.T) {
	tr := New(Config{Window: time.Minute})
	obs := crawler(1, 100, 200*time.Millisecond, 0.01)(rand.New(rand.NewPCG(1, 1)))
	for _, o := range obs {
		tr.Observe("c", o)
	}
	last := obs[len(obs)-1].Time
	if tr.Check(nil, "c", last) == nil {
		t.Fatal("crawler not reported")
	}
	if fs := tr.Check(nil, "c", last.Add(time.Minute+time.Second)); fs != nil {
		t.Errorf("after the window: %v", fs)
	}
	// Coming back starts a new session: ten more requests are too few to judge.
	for i, o := range crawler(101, 110, 200*time.Millisecond, 0)(nil) {
		o.Time = last.Add(2*time.Minute + time.Duration(i)*200*time.Millisecond)
		tr.Observe("c", o)
	}
	if fs := tr.Check(nil, "c", last.Add(3*time.Minute)); fs != nil {
		t.Errorf("new session judged early: %v", fs)
	}
}

func TestIdleClientsAreEvicted(t *testing.T) {
	tr := New(Config{MaxClients: 16, Window: time.Minute})
	for i := range 10 {
		tr.Observe("old"+strconv.Itoa(i), Observation{Time: t0, Method: "GET", Path: "/"})
	}
	if n := tr.Len(); n != 10 {
		t.Fatalf("Len = %d, want 10", n)
	}
	tr.Observe("new", Observation{Time: t0.Add(time.Minute + time.Second), Method: "GET", Path: "/"})
	if n := tr.Len(); n != 1 {
		t.Errorf("Len after the window = %d, want 1", n)
	}
}

func TestFullTableEvictsLeastRecent(t *testing.T) {
	tr := New(Config{MaxClients: 16})
	for i := range 16 {
		tr.Observe("k"+strconv.Itoa(i), Observation{Time: t0.Add(time.Duration(i) * time.Second), Method: "GET", Path: "/"})
	}
	// k0 is seen again, so k1 is now the least recent.
	tr.Observe("k0", Observation{Time: t0.Add(20 * time.Second), Method: "GET", Path: "/"})
	tr.Observe("k16", Observation{Time: t0.Add(21 * time.Second), Method: "GET", Path: "/"})
	s := &tr.shards[0]
	_, has0 := s.m["k0"]
	_, has1 := s.m["k1"]
	if len(tr.shards) != 1 || !has0 || has1 || tr.Len() != 16 {
		t.Errorf("shards %d, k0 kept %v, k1 kept %v, Len %d", len(tr.shards), has0, has1, tr.Len())
	}
}

func TestMemoryBound(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	tr := New(Config{MaxClients: 1000})
	for i := range n {
		tr.Observe(strconv.Itoa(i), Observation{Time: t0.Add(time.Duration(i) * time.Millisecond), Method: "GET", Path: "/"})
	}
	if got := tr.Len(); got > 1000 || got < 900 {
		t.Errorf("Len = %d, want ≤ 1000 (and near it)", got)
	}
}

func TestBytesPerClient(t *testing.T) {
	if BytesPerClient > 312 {
		t.Errorf("BytesPerClient = %d, want ≤ 312 as documented", BytesPerClient)
	}
}

func TestConcurrent(t *testing.T) {
	tr := New(Config{MaxClients: 64})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var dst []detect.Finding
			for i := range 2000 {
				key := strconv.Itoa((g*31 + i) % 100)
				at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
				tr.Observe(key, Observation{Time: at, Method: "GET", Path: "/items/" + strconv.Itoa(i), Status: 200})
				dst = tr.Check(dst[:0], key, at)
				_ = tr.Len()
			}
		})
	}
	wg.Wait()
	if n := tr.Len(); n > 64 {
		t.Errorf("Len = %d, want ≤ 64", n)
	}
}

func TestTemplate(t *testing.T) {
	type res struct {
		ID uint64
		OK bool
	}
	for _, tc := range []struct {
		path string
		want res
		same string // a path that must have the same template
	}{
		{"/items/42", res{42, true}, "/items/43"},
		{"/items/42/reviews", res{42, true}, "/items/7/reviews"},
		{"/a/1/b/2", res{2, true}, "/a/1/b/9"},
		{"/items/", res{0, false}, ""},
		{"/items/4x2", res{0, false}, ""},
		{"/", res{0, false}, ""},
		{"", res{0, false}, ""},
		{"12", res{12, true}, "13"},
		{"/n/1234567890123456789", res{0, false}, ""}, // 19 digits: not an ID
	} {
		t.Run(strings.ReplaceAll(tc.path, "/", "_"), func(t *testing.T) {
			tmpl, id, ok := template(tc.path)
			if diff := cmp.Diff(tc.want, res{id, ok}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tc.same != "" {
				if other, _, _ := template(tc.same); other != tmpl {
					t.Errorf("%q and %q have different templates", tc.path, tc.same)
				}
				if other, _, _ := template("/other" + tc.same); other == tmpl {
					t.Errorf("%q and /other%q share a template", tc.path, tc.same)
				}
			}
		})
	}
}

func TestIsAsset(t *testing.T) {
	for _, tc := range []struct {
		name, path, dest, accept string
		want                     bool
	}{
		{"dest_image", "/x", "image", "", true},
		{"dest_script", "/bundle", "script", "*/*", true},
		{"dest_document_wins_over_extension", "/logo.png", "document", "", false},
		{"dest_empty_is_fetch", "/app.js", "empty", "", false},
		{"accept_image", "/render", "", "image/avif,image/webp,*/*", true},
		{"accept_css", "/theme", "", "text/css,*/*;q=0.1", true},
		{"accept_html", "/page", "", "text/html,application/xhtml+xml", false},
		{"extension_css", "/static/site.CSS", "", "*/*", true},
		{"extension_woff2", "/f/a.woff2", "", "", true},
		{"extension_php", "/index.php", "", "", false},
		{"no_extension", "/items/42", "", "", false},
		{"dot_in_directory", "/v1.2/items", "", "", false},
		{"empty", "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsAsset(tc.path, tc.dest, tc.accept); got != tc.want {
				t.Errorf("IsAsset(%q, %q, %q) = %v, want %v", tc.path, tc.dest, tc.accept, got, tc.want)
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	tr := New(Config{})
	at := t0
	o := Observation{Method: "GET", Path: "/items/1", Status: 200}
	i := 0
	observe := func() { // a browser-like mix: irregular gaps, some assets
		i++
		at = at.Add(time.Duration(1+i%7) * time.Second)
		o.Time, o.Asset = at, i%3 == 0
		tr.Observe("hot", o)
	}
	for range 100 {
		observe()
	}
	if n := vigiltest.AllocsPerRun(1000, observe); n != 0 {
		t.Errorf("Observe on a hot client: %v allocs, want 0", n)
	}
	var dst []detect.Finding
	if n := vigiltest.AllocsPerRun(1000, func() { dst = tr.Check(dst[:0], "hot", at) }); n != 0 {
		t.Errorf("Check on a clean client: %v allocs, want 0", n)
	}
	if len(dst) != 0 {
		t.Errorf("clean client reported: %v", dst)
	}
}

func BenchmarkObserveHot(b *testing.B) {
	tr := New(Config{})
	at := t0
	o := Observation{Method: "GET", Path: "/items/123/reviews", Status: 200}
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Second)
		o.Time = at
		tr.Observe("203.0.113.7", o)
	}
}

func BenchmarkCheckClean(b *testing.B) {
	tr := New(Config{})
	at := t0
	for i := range 100 {
		at = at.Add(time.Duration(1+i%7) * time.Second)
		tr.Observe("203.0.113.7", Observation{Time: at, Method: "GET", Path: "/x", Status: 200, Asset: i%3 == 0})
	}
	var dst []detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		dst = tr.Check(dst[:0], "203.0.113.7", at)
	}
}

func BenchmarkCheckFlagged(b *testing.B) {
	tr := New(Config{})
	for _, o := range crawler(1, 100, 200*time.Millisecond, 0)(nil) {
		tr.Observe("c", o)
	}
	var dst []detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		dst = tr.Check(dst[:0], "c", t0.Add(20*time.Second))
	}
}

func BenchmarkObserveNewClients(b *testing.B) {
	tr := New(Config{MaxClients: 4096})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	at := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = at.Add(time.Millisecond)
		tr.Observe(keys[i&(len(keys)-1)], Observation{Time: at, Method: "GET", Path: "/"})
		i++
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/items/42", "/a/1/b/2", "/", "", "12", "/x//9/", "/n/1234567890123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		_, id, ok := template(path)
		if !ok {
			return
		}
		if !strings.Contains("/"+path+"/", "/"+strconv.FormatUint(id, 10)+"/") && !strings.Contains(path, strconv.FormatUint(id, 10)) {
			t.Errorf("template(%q) found ID %d, which is not in the path", path, id)
		}
		_ = IsAsset(path, "", "")
	})
}

// TestScores checks the documented points for every combination of features, and that
// the weak features never report alone.
func TestScores(t *testing.T) {
	tr := New(Config{})
	const (
		reg = 1 << iota
		seq
		probe
		noAssets
		navs
		posts
	)
	for _, tc := range []struct {
		name  string
		fired int
		want  int // 0: nothing reported
	}{
		{"nothing", 0, 0},
		{"regular_alone", reg, 0},
		{"no_assets_alone", noAssets, 0},
		{"no_assets_navigations_alone", noAssets | navs, 0},
		{"regular_no_assets", reg | noAssets, 55},
		{"regular_no_assets_navigations", reg | noAssets | navs, 65},
		{"sequential_alone", seq, 40},
		{"probing_alone", probe, 45},
		{"sequential_no_assets", seq | noAssets, 60},
		{"sequential_regular", seq | reg, 75},
		{"probing_regular", probe | reg, 80},
		{"sequential_probing", seq | probe, 85},
		{"sequential_regular_no_assets", seq | reg | noAssets, 95},
		{"everything", seq | reg | probe | noAssets | navs, 100},
		{"posts_only_alone", posts, 0},
		{"regular_posts_only", reg | posts, 55},
		{"sequential_posts_only", seq | posts, 60},
		{"no_assets_wins_over_posts_only", reg | noAssets | posts, 55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := features{requests: 100, cv: 0.5, pages: 100}
			if tc.fired&reg != 0 {
				f.cv = 0.01
			}
			if tc.fired&seq != 0 {
				f.run = 20
			}
			if tc.fired&probe != 0 {
				f.failRatio, f.failPaths = 0.5, 10
			}
			f.noAssets = tc.fired&noAssets != 0
			if tc.fired&navs != 0 {
				f.navs = 20
			}
			if tc.fired&posts != 0 {
				f.postsOnly, f.writes = true, 95
			}
			got := 0
			if fs := tr.judge(nil, f); len(fs) == 1 {
				got = fs[0].Score
			} else if len(fs) > 1 {
				t.Fatalf("%d findings", len(fs))
			}
			if got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

// A flagged client's judgement is reused for a few requests: no new detail string on
// each one.
func TestCheckReusesItsJudgement(t *testing.T) {
	tr := New(Config{})
	now := time.Unix(1_700_000_000, 0)
	for i := 1; i <= 100; i++ {
		now = now.Add(200 * time.Millisecond)
		tr.Observe("c", Observation{Time: now, Method: "GET", Path: "/items/" + strconv.Itoa(i), Status: 200, Navigation: true})
	}
	first := tr.Check(nil, "c", now)
	if len(first) != 1 {
		t.Fatalf("not flagged: %+v", first)
	}
	buf := make([]detect.Finding, 0, 1)
	if n := vigiltest.AllocsPerRun(10, func() { tr.Check(buf[:0], "c", now) }); n != 0 {
		t.Errorf("a repeated Check of a flagged client allocates %v times", n)
	}
}

// ObserveAt with a Handle from CheckAt counts the request on the key's own sketch, also
// when the sketch was evicted, or evicted and reused for another key, in between.
func TestObserveAtStaleHandle(t *testing.T) {
	tr := New(Config{MaxClients: 16}) // one shard of 16
	if len(tr.shards) != 1 {
		t.Fatalf("%d shards, want 1", len(tr.shards))
	}
	now := time.Unix(1_700_000_000, 0)
	obs := func(at time.Time) Observation {
		return Observation{Time: at, Method: "GET", Path: "/", Status: 200}
	}
	total := func(key string) int {
		s := &tr.shards[0]
		s.mu.Lock()
		defer s.mu.Unlock()
		if c, ok := s.m[key]; ok {
			return int(c.total)
		}
		return -1
	}

	tr.Observe("a", obs(now))
	_, h := tr.CheckAt(nil, "a", now)
	if h.c == nil {
		t.Fatal("CheckAt did not find a known client")
	}
	tr.ObserveAt(h, "a", obs(now.Add(time.Second)))
	if n := total("a"); n != 2 {
		t.Fatalf("a counted %d requests, want 2", n)
	}

	// Evict a: sixteen other clients fill the shard, the last reuses a's sketch.
	_, h = tr.CheckAt(nil, "a", now)
	for i := range 16 {
		tr.Observe(fmt.Sprintf("other-%d", i), obs(now.Add(2*time.Second)))
	}
	if n := total("a"); n != -1 {
		t.Fatalf("a still tracked (%d requests) after 16 newer clients", n)
	}
	reused := ""
	for i := range 16 {
		if k := fmt.Sprintf("other-%d", i); h.c.key == k {
			reused = k
		}
	}
	if reused == "" {
		t.Fatalf("a's sketch was not reused (key %q); the test does not test reuse", h.c.key)
	}
	tr.ObserveAt(h, "a", obs(now.Add(3*time.Second)))
	if n := total("a"); n != 1 {
		t.Errorf("a counted %d requests after coming back, want 1 (a new sketch)", n)
	}
	if n := total(reused); n != 1 && n != -1 {
		t.Errorf("%s, which reused a's sketch, counted %d requests, want 1 (or evicted)", reused, n)
	}
	if n := tr.Len(); n != 16 {
		t.Errorf("%d clients tracked, want 16", n)
	}
}
