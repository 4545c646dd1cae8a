package rules_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/internal/vigiltest"
	"github.com/vigilhq/vigil/policy"
)

func compile(t testing.TB, p policy.Policy) *rules.Set {
	t.Helper()
	s, err := rules.Compile(p)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func parse(t testing.TB, doc string) *rules.Set {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return compile(t, p)
}

// pathCases feeds TestParsePath, the FuzzParsePath seeds and BenchmarkParsePath.
var pathCases = []struct {
	name      string
	escaped   string
	clean     string
	canonical bool
}{
	{"plain", "/products/42", "/products/42", true},
	{"root", "/", "/", true},
	{"empty", "", "/", true},
	{"trailing_slash", "/static/", "/static", true},
	{"space_encoded", "/a%20b", "/a b", true},
	{"utf8_encoded", "/caf%C3%A9", "/café", true},
	{"encoded_reserved", "/a%3Ab", "/a:b", true},
	{"encoded_dot", "/%2e%65nv", "/.env", false},
	{"encoded_letter", "/h%65althz", "/healthz", false},
	{"encoded_slash", "/files/a%2Fb", "/files/a/b", false},
	{"encoded_slash_traversal", "/healthz/..%2f..%2fadmin", "/admin", false},
	{"encoded_percent", "/%252e%252e/x", "/%2e%2e/x", false},
	{"encoded_nul", "/a%00b", "/a\x00b", false},
	{"invalid_escape", "/a%zzb", "/a%zzb", false},
	{"truncated_escape", "/a%2", "/a%2", false},
	{"double_slash", "//.env", "/.env", false},
	{"dot_segment", "/./.env", "/.env", false},
	{"dotdot_segment", "/a/../.env", "/.env", false},
	{"dotdot_above_root", "/../../etc/passwd", "/etc/passwd", false},
	{"double_trailing_slash", "/static//", "/static", false},
	{"double_slash_root", "//", "/", false},
	{"backslash", "/a\\..\\admin", "/a\\..\\admin", false},
	{"tomcat_dotdot_semicolon", "/healthz/..;/admin", "/admin", false},
	{"servlet_path_params", "/admin;jsessionid=1/users", "/admin/users", false},
	{"servlet_param_in_last_segment", "/.env;x", "/.env", false},
	{"tomcat_dot_semicolon", "/.;/admin", "/admin", false},
	{"semicolon_elsewhere", "/a;b", "/a", false},
	{"relative", "a/b", "/a/b", false},
	{"dots_in_names", "/a.b/..c/...", "/a.b/..c/...", true},
}

func TestParsePath(t *testing.T) {
	for _, tc := range pathCases {
		t.Run(tc.name, func(t *testing.T) {
			got := rules.ParsePath(tc.escaped)
			want := rules.Path{Clean: tc.clean, Canonical: tc.canonical}
			if got != want {
				t.Errorf("ParsePath(%q) = %+v, want %+v", tc.escaped, got, want)
			}
		})
	}
}

func FuzzParsePath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.escaped)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		p := rules.ParsePath(escaped)
		if !strings.HasPrefix(p.Clean, "/") || path.Clean(p.Clean) != p.Clean {
			t.Fatalf("ParsePath(%q).Clean = %q is not clean", escaped, p.Clean)
		}
		// Differential: where the standard library can decode the path, the result is
		// its decoding with servlet ";params" dropped from each segment, cleaned.
		if dec, err := url.PathUnescape(escaped); err == nil {
			segs := strings.Split(dec, "/")
			for i, seg := range segs {
				segs[i], _, _ = strings.Cut(seg, ";")
			}
			if want := path.Clean("/" + strings.Join(segs, "/")); p.Clean != want {
				t.Fatalf("ParsePath(%q).Clean = %q, want %q", escaped, p.Clean, want)
			}
		} else if p.Canonical {
			t.Fatalf("ParsePath(%q) is canonical but the path does not decode: %v", escaped, err)
		}
		// A canonical path decodes to its clean form, give or take a trailing slash,
		// and parsing its clean form again changes nothing.
		if p.Canonical {
			if again := rules.ParsePath(p.Clean); again.Clean != p.Clean {
				t.Fatalf("ParsePath(%q) = %q, but ParsePath of that = %q", escaped, p.Clean, again.Clean)
			}
			if strings.Contains(escaped, "//") || strings.Contains(escaped, "/./") || strings.Contains(escaped, "/../") {
				t.Fatalf("ParsePath(%q) is canonical", escaped)
			}
		}
	})
}

func TestParsePathAllocs(t *testing.T) {
	for _, p := range []string{"/", "/products/42", "/static/css/site.css", "/static/"} {
		if n := vigiltest.AllocsPerRun(100, func() { rules.ParsePath(p) }); n != 0 {
			t.Errorf("ParsePath(%q) allocates %v times, want 0", p, n)
		}
	}
}

func TestHoneypot(t *testing.T) {
	defaults := compile(t, policy.Policy{})
	tests := []struct {
		name    string
		set     *rules.Set
		escaped string
		want    bool
	}{
		{"env", defaults, "/.env", true},
		{"env_encoded", defaults, "/%2e%65nv", true},
		{"env_double_slash", defaults, "//.env", true},
		{"env_dot_segment", defaults, "/./.env", true},
		{"env_traversal", defaults, "/static/../.env", true},
		{"env_upper", defaults, "/.ENV", true},
		{"env_mixed_encoded", defaults, "/%2E%45nV", true},
		{"env_nested", defaults, "/api/v1/.env", true},
		{"env_variant", defaults, "/.env.production", true},
		{"env_not_prefix", defaults, "/.envoy", false},
		{"git_dir", defaults, "/.git", true},
		{"git_dir_slash", defaults, "/.git/", true},
		{"git_config", defaults, "/.git/config", true},
		{"git_nested", defaults, "/app/.git/HEAD", true},
		{"github_dir", defaults, "/.github/workflows/ci.yml", false},
		{"gitignore", defaults, "/.gitignore", false},
		{"phpmyadmin_case", defaults, "/phpMyAdmin/index.php", true},
		{"phpunit", defaults, "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", true},
		{"wp_login", defaults, "/wp-login.php", true},
		{"hnap_upper_lower", defaults, "/hnap1", true},
		{"passwd_traversal", defaults, "/cgi/../../../../etc/passwd", true},
		{"actuator_env", defaults, "/actuator/env", true},
		{"actuator_health", defaults, "/actuator/health", false},
		{"admin", defaults, "/admin", false},
		{"admin_dir", defaults, "/admin/", false},
		{"login", defaults, "/login", false},
		{"api", defaults, "/api/v1/users", false},
		{"robots", defaults, "/robots.txt", false},
		{"favicon", defaults, "/favicon.ico", false},
		{"sitemap", defaults, "/sitemap.xml", false},
		{"security_txt", defaults, "/.well-known/security.txt", false},
		{"acme", defaults, "/.well-known/acme-challenge/abc", false},
		{"config_json", defaults, "/config.json", false},
		{"cgi_bin", defaults, "/cgi-bin/test.cgi", false},
		{"owa", defaults, "/owa/auth/logon.aspx", false},
		{"server_status", defaults, "/server-status", false},
		{"root", defaults, "/", false},
		{"disabled", compile(t, policy.Policy{Honeypot: policy.Honeypot{Disabled: true, Paths: []string{"/x"}}}), "/.env", false},
		{"except", compile(t, policy.Policy{Honeypot: policy.Honeypot{Except: []string{"/WP-LOGIN.php"}}}), "/wp-login.php", false},
		{"except_keeps_others", compile(t, policy.Policy{Honeypot: policy.Honeypot{Except: []string{"/wp-login.php"}}}), "/xmlrpc.php", true},
		{"skip_defaults", compile(t, policy.Policy{Honeypot: policy.Honeypot{SkipDefaults: true, Paths: []string{"/bait"}}}), "/.env", false},
		{"skip_defaults_custom", compile(t, policy.Policy{Honeypot: policy.Honeypot{SkipDefaults: true, Paths: []string{"/bait"}}}), "/BAIT", true},
		{"custom_glob", compile(t, policy.Policy{Honeypot: policy.Honeypot{Paths: []string{"/old/*.bak"}}}), "/OLD/site.BAK", true},
		{"custom_glob_miss", compile(t, policy.Policy{Honeypot: policy.Honeypot{Paths: []string{"/old/*.bak"}}}), "/old/a/site.bak", false},
		{"long_path", defaults, "/" + strings.Repeat("A", 300) + "/.ENV", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.set.Honeypot(rules.ParsePath(tc.escaped)); got != tc.want {
				t.Errorf("Honeypot(%q) = %v, want %v", tc.escaped, got, tc.want)
			}
		})
	}
}

// TestHoneypotWordlist checks the built-in honeypot paths against 4,535 ordinary names
// from a scanner wordlist (testdata/NOTICE). A request for one of them is not evidence
// of scanning, so the honeypot must not fire, except for the few below: admin tools and
// servlet internals that scanners probe and a Go service does not serve, reviewed one by
// one.
func TestHoneypotWordlist(t *testing.T) {
	f, err := os.Open("testdata/wordlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := compile(t, policy.Policy{})
	var hits []string
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		if p := "/" + sc.Text(); s.Honeypot(rules.ParsePath(p)) {
			hits = append(hits, p)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 4000 {
		t.Fatalf("read %d paths, want the whole list", n)
	}
	want := []string{"/PMA", "/WEB-INF", "/phpMyAdmin", "/pma", "/web-inf"}
	if diff := cmp.Diff(want, hits); diff != "" {
		t.Errorf("honeypot hits on ordinary paths (-want +got):\n%s", diff)
	}
}

func TestExcluded(t *testing.T) {
	s := compile(t, policy.Policy{ExcludePaths: []string{"/healthz", "/static/", "/assets/**/*.js"}})
	tests := []struct {
		escaped string
		want    bool
	}{
		{"/healthz", true},
		{"/healthz/", true},
		{"/HEALTHZ", false},
		{"/healthz2", false},
		{"/static", true},
		{"/static/css/site.css", true},
		{"/assets/js/app.js", true},
		{"/assets/app.css", false},
		// Not canonical: never excluded, whatever the clean form.
		{"//healthz", false},
		{"/h%65althz", false},
		{"/admin/..%2fhealthz", false},
		{"/static/../admin", false},
		{"/static/..;/admin", false},
	}
	for _, tc := range tests {
		t.Run(tc.escaped, func(t *testing.T) {
			if got := s.Excluded(rules.ParsePath(tc.escaped)); got != tc.want {
				t.Errorf("Excluded(%q) = %v, want %v", tc.escaped, got, tc.want)
			}
		})
	}
}

func TestAllowDeny(t *testing.T) {
	s := compile(t, policy.Policy{
		Allow: []string{"10.0.0.0/8", "2001:db8::/32"},
		Deny:  []string{"198.51.100.0/24", "203.0.113.7", "2001:db9::1"},
	})
	tests := []struct {
		ip            string
		allow, denied bool
	}{
		{"10.1.2.3", true, false},
		{"11.0.0.1", false, false},
		{"::ffff:10.1.2.3", true, false},
		{"2001:db8::42", true, false},
		{"fe80::1%eth0", false, false},
		{"198.51.100.200", false, true},
		{"::ffff:198.51.100.1", false, true},
		{"203.0.113.7", false, true},
		{"203.0.113.8", false, false},
		{"2001:db9::1", false, true},
		{"2001:db9::2", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			if got := s.Allowed(ip); got != tc.allow {
				t.Errorf("Allowed = %v, want %v", got, tc.allow)
			}
			if got := s.Denied(ip); got != tc.denied {
				t.Errorf("Denied = %v, want %v", got, tc.denied)
			}
		})
	}
	if s.Allowed(netip.Addr{}) || s.Denied(netip.Addr{}) {
		t.Error("the invalid Addr is on a list")
	}
	empty := compile(t, policy.Policy{})
	if empty.Allowed(netip.MustParseAddr("10.0.0.1")) || empty.Denied(netip.MustParseAddr("10.0.0.1")) {
		t.Error("an empty policy lists an address")
	}
}

func TestRoute(t *testing.T) {
	s := parse(t, `
block_threshold: 80
rate_limit:
  per_ip: 100/1m burst 20
routes:
  - name: api
    paths: [/api/**]
    block_threshold: 90
  - name: api-v1
    paths: [/api/v1/**]
    mode: monitor
  - name: api-v1-users-post
    methods: [POST]
    paths: [/api/v1/*]
  - name: api-v1-users-any
    paths: [/api/v1/*]
    disable: [attack]
  - name: login-exact
    paths: [/login]
    mode: block
    block_threshold: 50
    rate_limit: 5/1m burst 5
  - name: login-glob
    paths: [/log*]
    block_threshold: 95
    rate_limit: 1000/1m
  - name: first-of-two
    paths: [/dup/**]
  - name: second-of-two
    paths: [/dup/**]
  - name: webhooks
    paths: [/webhooks/]
    mode: monitor
    block_threshold: 99
    disable: [bot]
    rate_limit: 1000/1s
`)
	tests := []struct {
		name    string
		method  string
		escaped string
		want    string // route name; "" for none
		strict  bool
	}{
		{"none", "GET", "/other", "", false},
		{"subtree", "GET", "/api/v2/x", "api", false},
		{"subtree_dir", "GET", "/api", "api", false},
		{"longer_literal_wins", "GET", "/api/v1/x/y", "api-v1", false},
		{"methods_win_on_tie", "POST", "/api/v1/users", "api-v1-users-post", false},
		{"methods_win_case_insensitive", "post", "/api/v1/users", "api-v1-users-post", false},
		{"other_method_falls_back", "GET", "/api/v1/users", "api-v1-users-any", false},
		{"exact_beats_glob", "GET", "/login", "login-exact", false},
		{"glob_elsewhere", "GET", "/logout", "login-glob", false},
		{"earlier_wins_tie", "GET", "/dup/x", "first-of-two", false},
		{"non_canonical_strict", "GET", "//webhooks/x", "webhooks", true},
		{"non_canonical_strict_login", "GET", "/x/../login", "login-exact", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Route(tc.method, rules.ParsePath(tc.escaped))
			got := ""
			if r != nil {
				got = r.Name
			}
			if got != tc.want {
				t.Fatalf("Route(%s %s) = %q, want %q", tc.method, tc.escaped, got, tc.want)
			}
			if r != nil && r.Strict != tc.strict {
				t.Errorf("Strict = %v, want %v", r.Strict, tc.strict)
			}
		})
	}

	// The strict form keeps only what tightens the policy.
	canon := s.Route("GET", rules.ParsePath("/webhooks/x"))
	strict := s.Route("GET", rules.ParsePath("//webhooks/x"))
	if canon.Mode != policy.ModeMonitor || canon.BlockThreshold != 99 || !canon.Disabled("bot") || canon.RateLimit.IsZero() {
		t.Errorf("canonical webhooks route = %+v, want its overrides", canon)
	}
	perIP := s.Policy().RateLimit.PerIP
	if strict.Mode != "" || strict.BlockThreshold != 0 || strict.Disabled("bot") || !noLooser(strict.RateLimit, perIP) {
		t.Errorf("strict webhooks route = %+v, want no relaxing override", strict)
	}
	login := s.Route("GET", rules.ParsePath("/x/../login"))
	want := policy.Limit{Rate: 5, Period: policy.Duration(time.Minute), Burst: 5}
	if login.Mode != policy.ModeBlock || login.BlockThreshold != 50 || login.RateLimit != want {
		t.Errorf("strict login route = %+v, want its tightening overrides kept", login)
	}
	if r := s.Route("GET", rules.ParsePath("/x/../logout")); r.BlockThreshold != 0 || !noLooser(r.RateLimit, perIP) {
		t.Errorf("strict login-glob route = %+v, want its laxer threshold dropped and its limit no looser than per-IP", r)
	}
}

// TestStrictRouteMixedLimit is review finding M1: a route limit with a lower rate but a
// larger burst than the per-IP limit must not be dropped for a respelled path (which
// would fall back to the per-IP limit's higher rate); the strict form takes the tighter
// value of each field.
func TestStrictRouteMixedLimit(t *testing.T) {
	p := policy.Policy{Routes: []policy.Route{{Name: "api", Paths: []string{"/api/**"},
		RateLimit: policy.Limit{Rate: 10, Period: policy.Duration(time.Hour), Burst: 150}}}}
	s, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Route("GET", rules.ParsePath("//api/x")).RateLimit
	want := policy.Limit{Rate: 10, Period: policy.Duration(time.Hour), Burst: 100}
	if got != want {
		t.Errorf("strict limit %v, want %v (the route's rate, the per-IP burst)", got, want)
	}
}

// noLooser reports whether l is set and admits no more than ref in rate and burst.
func noLooser(l, ref policy.Limit) bool {
	burst := func(l policy.Limit) int {
		if l.Burst == 0 {
			return l.Rate
		}
		return l.Burst
	}
	return !l.IsZero() && float64(l.Rate)/float64(l.Period) <= float64(ref.Rate)/float64(ref.Period) && burst(l) <= burst(ref)
}

// evalPolicy exercises every kind of condition.
const evalPolicy = `
rules:
  - name: wp
    match: {paths: [/wp-admin/**]}
    score: 60
    action: block
  - name: office
    match:
      paths: [/admin/**]
      ips: [192.0.2.0/24]
    action: allow
  - name: admin-elsewhere
    match:
      paths: [/admin/**]
      not: {ips: [192.0.2.0/24]}
    score: 40
    action: challenge
  - name: no-api-key
    match:
      paths: [/api/**]
      not:
        headers: {X-Api-Key: ""}
    score: 30
  - name: debug
    match:
      query: {debug: ^(1|true)$}
    score: 20
  - name: admin-cookie
    match:
      cookies: {role: ^admin$}
    score: 25
  - name: geo
    match:
      countries: [kp]
      asns: [64500]
    score: 70
  - name: curl
    match:
      methods: [post]
      dna_families: [CURL]
      dna_kinds: [library]
    score: 15
  - name: ai
    match: {bot_categories: [ai]}
    action: ratelimit
    rate_limit: 10/1m
    key: header:X-Api-Key
  - name: public-allow
    match:
      paths: [/public/**]
    action: allow
  - name: internal-host
    match:
      headers: {Host: ^internal\.}
    action: block
  - name: except-public
    match:
      methods: [DELETE]
      not: {paths: [/public/**]}
    score: 10
`

func TestEval(t *testing.T) {
	s := parse(t, evalPolicy)
	req := func(target string, header map[string]string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		for k, v := range header {
			if k == "Host" {
				r.Host = v
				continue
			}
			r.Header.Add(k, v)
		}
		return r
	}
	office := netip.MustParseAddr("192.0.2.10")
	other := netip.MustParseAddr("198.51.100.1")
	tests := []struct {
		name   string
		in     rules.Input
		codes  []string
		action policy.Action
		rule   string
	}{
		{"nothing", rules.Input{Method: "GET", Path: rules.ParsePath("/"), IP: other}, nil, "", ""},
		{"zero_input", rules.Input{}, nil, "", ""},
		{"block_with_score", rules.Input{Method: "GET", Path: rules.ParsePath("/wp-admin/x.php")}, []string{"rule:wp"}, policy.ActionBlock, "wp"},
		{"allow_first_wins", rules.Input{Method: "GET", Path: rules.ParsePath("/admin/x"), IP: office}, nil, policy.ActionAllow, "office"},
		{"not_ip", rules.Input{Method: "GET", Path: rules.ParsePath("/admin/x"), IP: other}, []string{"rule:admin-elsewhere"}, policy.ActionChallenge, "admin-elsewhere"},
		{"not_ip_unknown", rules.Input{Method: "GET", Path: rules.ParsePath("/admin/x")}, []string{"rule:admin-elsewhere"}, policy.ActionChallenge, "admin-elsewhere"},
		{"non_canonical_skips_allow", rules.Input{Method: "GET", Path: rules.ParsePath("//admin/x"), IP: office}, nil, "", ""},
		{"non_canonical_still_blocks", rules.Input{Method: "GET", Path: rules.ParsePath("/x/..%2fwp-admin/y")}, []string{"rule:wp"}, policy.ActionBlock, "wp"},
		{"header_absent", rules.Input{Method: "GET", Path: rules.ParsePath("/api/x"), Request: req("/api/x", nil)}, []string{"rule:no-api-key"}, "", ""},
		{"header_present_empty", rules.Input{Method: "GET", Path: rules.ParsePath("/api/x"), Request: req("/api/x", map[string]string{"x-api-key": ""})}, nil, "", ""},
		{"header_no_request", rules.Input{Method: "GET", Path: rules.ParsePath("/api/x")}, []string{"rule:no-api-key"}, "", ""},
		{"query_match", rules.Input{Request: req("/?debug=true", nil)}, []string{"rule:debug"}, "", ""},
		{"query_any_value", rules.Input{Request: req("/?debug=0&debug=1", nil)}, []string{"rule:debug"}, "", ""},
		{"query_decoded", rules.Input{Request: req("/?debug=%74rue", nil)}, []string{"rule:debug"}, "", ""},
		{"query_anchored", rules.Input{Request: req("/?debug=truex", nil)}, nil, "", ""},
		{"cookie", rules.Input{Request: req("/", map[string]string{"Cookie": "a=b; role=admin"})}, []string{"rule:admin-cookie"}, "", ""},
		{"cookie_repeated", rules.Input{Request: req("/", map[string]string{"Cookie": "role=user; role=admin"})}, []string{"rule:admin-cookie"}, "", ""},
		{"cookie_other", rules.Input{Request: req("/", map[string]string{"Cookie": "role=user"})}, nil, "", ""},
		{"geo_and", rules.Input{Country: "KP", ASN: 64500}, []string{"rule:geo"}, "", ""},
		{"geo_one_missing", rules.Input{Country: "KP"}, nil, "", ""},
		{"dna_case_insensitive", rules.Input{Method: "POST", DNAFamily: "curl", DNAKind: "Library"}, []string{"rule:curl"}, "", ""},
		{"dna_wrong_method", rules.Input{Method: "GET", DNAFamily: "curl", DNAKind: "library"}, nil, "", ""},
		{"ratelimit", rules.Input{BotCategory: "ai"}, nil, policy.ActionRateLimit, "ai"},
		{"host", rules.Input{Request: req("/", map[string]string{"Host": "internal.example"})}, nil, policy.ActionBlock, "internal-host"},
		{"host_other", rules.Input{Request: req("/", map[string]string{"Host": "www.example"})}, nil, "", ""},
		{"later_scores_still_count", rules.Input{Method: "GET", Path: rules.ParsePath("/wp-admin/x"), Country: "KP", ASN: 64500},
			[]string{"rule:wp", "rule:geo"}, policy.ActionBlock, "wp"},
		{"first_action_wins_over_block", rules.Input{Method: "GET", Path: rules.ParsePath("/public/x"), Request: req("/public/x", map[string]string{"Host": "internal.example"})},
			nil, policy.ActionAllow, "public-allow"},
		{"first_action_wins_over_ratelimit", rules.Input{Method: "GET", Path: rules.ParsePath("/admin/"), IP: office, BotCategory: "ai"},
			nil, policy.ActionAllow, "office"},
		{"not_path_canonical", rules.Input{Method: "DELETE", Path: rules.ParsePath("/public/x")}, nil, policy.ActionAllow, "public-allow"},
		{"not_path_non_canonical", rules.Input{Method: "DELETE", Path: rules.ParsePath("/x/..%2fpublic/x")}, []string{"rule:except-public"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			fs, action, r := s.Eval(&in, nil)
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
				if f.Detector != "rule" || f.Score <= 0 || f.Detail == "" {
					t.Errorf("finding %+v", f)
				}
			}
			if diff := cmp.Diff(tc.codes, codes); diff != "" {
				t.Errorf("finding codes (-want +got):\n%s", diff)
			}
			if action != tc.action {
				t.Errorf("action = %q, want %q", action, tc.action)
			}
			name := ""
			if r != nil {
				name = r.Name
			}
			if name != tc.rule || (r != nil && r.Action != action) {
				t.Errorf("rule = %q, want %q", name, tc.rule)
			}
		})
	}
}

func TestEvalFinding(t *testing.T) {
	s := parse(t, evalPolicy)
	in := rules.Input{Method: "GET", Path: rules.ParsePath("/wp-admin/")}
	dst := []detect.Finding{{Detector: "attack", Code: "sqli", Score: 90}}
	fs, _, r := s.Eval(&in, dst)
	want := []detect.Finding{
		{Detector: "attack", Code: "sqli", Score: 90},
		{Detector: "rule", Code: "rule:wp", Score: 60, Detail: "matched rule wp"},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.Finding() != want[1] || r.Index != 0 || r.Score != 60 {
		t.Errorf("rule = %+v", r)
	}
}

func TestKeyValue(t *testing.T) {
	s := parse(t, `
rules:
  - {name: by-ip, match: {paths: [/a]}, action: ratelimit, rate_limit: 1/s}
  - {name: by-dna, match: {paths: [/b]}, action: ratelimit, rate_limit: 1/s, key: dna}
  - {name: by-header, match: {paths: [/c]}, action: ratelimit, rate_limit: 1/s, key: "header:x-api-key"}
  - {name: by-cookie, match: {paths: [/d]}, action: ratelimit, rate_limit: 1/s, key: "cookie:session"}
  - {name: by-query, match: {paths: [/e]}, action: ratelimit, rate_limit: 1/s, key: "query:key"}
  - {name: by-host, match: {paths: [/f]}, action: ratelimit, rate_limit: 1/s, key: "header:Host"}
`)
	r := httptest.NewRequest("GET", "/?key=k1&key=k2", nil)
	r.Header.Set("X-Api-Key", "secret")
	r.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	r.Host = "example.com"
	tests := []struct {
		path  string
		req   *http.Request
		kind  rules.KeyKind
		name  string
		value string
		ok    bool
	}{
		{"/a", r, rules.KeyIP, "", "", false},
		{"/b", r, rules.KeyDNA, "", "", false},
		{"/c", r, rules.KeyHeader, "X-Api-Key", "secret", true},
		{"/d", r, rules.KeyCookie, "session", "s1", true},
		{"/e", r, rules.KeyQuery, "key", "k1", true},
		{"/f", r, rules.KeyHeader, "Host", "example.com", true},
		{"/c", httptest.NewRequest("GET", "/c", nil), rules.KeyHeader, "X-Api-Key", "", false},
		{"/e", nil, rules.KeyQuery, "key", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			in := rules.Input{Path: rules.ParsePath(tc.path), Request: tc.req}
			_, _, rule := s.Eval(&in, nil)
			if rule == nil {
				t.Fatal("no rule matched")
			}
			if rule.Key.Kind != tc.kind || rule.Key.Name != tc.name {
				t.Errorf("Key = %+v, want kind %v name %q", rule.Key, tc.kind, tc.name)
			}
			if v, ok := rule.Key.Value(&in); v != tc.value || ok != tc.ok {
				t.Errorf("Value = %q, %v; want %q, %v", v, ok, tc.value, tc.ok)
			}
		})
	}
}

func TestWeight(t *testing.T) {
	s := compile(t, policy.Policy{Weights: map[string]float64{"xss": 0, "sqli": 1.5}})
	for code, want := range map[string]float64{"xss": 0, "sqli": 1.5, "other": 1} {
		if got := s.Weight(code); got != want {
			t.Errorf("Weight(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestCompileValidates(t *testing.T) {
	_, err := rules.Compile(policy.Policy{Mode: "x", Rules: []policy.Rule{{Name: "r"}}})
	if err == nil || !strings.Contains(err.Error(), `mode: "x"`) || !strings.Contains(err.Error(), "rules[0]") {
		t.Errorf("Compile error = %v, want Validate's errors", err)
	}
}

func TestPolicyHasDefaults(t *testing.T) {
	s := compile(t, policy.Policy{Version: 3})
	if diff := cmp.Diff(policy.Policy{Version: 3}.WithDefaults(), s.Policy()); diff != "" {
		t.Errorf("Policy() (-want +got):\n%s", diff)
	}
}

// TestConcurrentUse runs every method of one Set from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	s := parse(t, evalPolicy+"\nexclude_paths: [/healthz]\nroutes: [{paths: [/api/**], block_threshold: 90}]\n")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				r := httptest.NewRequest("GET", "/api/x?debug=1", nil)
				r.AddCookie(&http.Cookie{Name: "role", Value: "admin"})
				in := rules.Input{Method: "GET", Path: rules.ParsePath(r.URL.EscapedPath()), IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i + j)}), Request: r}
				s.Excluded(in.Path)
				s.Honeypot(in.Path)
				s.Allowed(in.IP)
				s.Denied(in.IP)
				s.Route(in.Method, in.Path)
				if fs, _, _ := s.Eval(&in, nil); len(fs) != 3 {
					t.Errorf("got %d findings, want 3", len(fs))
				}
				s.Weight("x")
			}
		})
	}
	wg.Wait()
}
