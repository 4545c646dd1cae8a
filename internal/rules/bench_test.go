package rules_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// benchPolicy is a realistic policy: 20 rules of every kind, exclusions, routes and the
// default honeypot paths.
const benchPolicy = `
exclude_paths: [/healthz, /readyz, /static/, /assets/**/*.js, /favicon.ico]
allow: [10.0.0.0/8]
deny: [198.51.100.0/24, 203.0.113.7]
rules:
  - {name: wp-admin, match: {paths: [/wp-admin/**, /wp-content/**]}, score: 60, action: block}
  - {name: office-admin, match: {paths: [/admin/**], ips: [192.0.2.0/24]}, action: allow}
  - {name: admin-elsewhere, match: {paths: [/admin/**], not: {ips: [192.0.2.0/24]}}, score: 40, action: challenge}
  - {name: api-key, match: {paths: [/api/**], not: {headers: {X-Api-Key: ""}}}, score: 30}
  - {name: debug-param, match: {paths: [/api/**], query: {debug: "^(1|true)$"}}, score: 20}
  - {name: login-limit, match: {methods: [POST], paths: [/login, /signin]}, action: ratelimit, rate_limit: 5/1m, key: "cookie:session"}
  - {name: signup-limit, match: {methods: [POST], paths: [/signup]}, action: ratelimit, rate_limit: 3/1m}
  - {name: geo-kp, match: {countries: [KP, IR]}, score: 50}
  - {name: bad-asn, match: {asns: [64500, 64501, 64502]}, score: 40}
  - {name: curl-post, match: {methods: [POST, PUT], dna_families: [curl, wget]}, score: 25}
  - {name: scanners, match: {dna_kinds: [scanner]}, score: 80, action: block}
  - {name: ai-bots, match: {bot_categories: [ai]}, action: ratelimit, rate_limit: 10/1m, key: dna}
  - {name: internal-host, match: {headers: {Host: "^internal\\."}}, action: block}
  - {name: old-api, match: {paths: [/api/v0/**]}, score: 30}
  - {name: export, match: {methods: [GET], paths: [/export/*.csv]}, action: ratelimit, rate_limit: 2/1m}
  - {name: graphql-introspection, match: {methods: [POST], paths: [/graphql], headers: {Content-Type: json}}, score: 5}
  - {name: trace-method, match: {methods: [TRACE, TRACK]}, score: 70, action: block}
  - {name: bad-referer, match: {paths: [/checkout/**], headers: {Referer: "evil\\.example"}}, score: 60}
  - {name: admin-cookie, match: {paths: [/account/**], cookies: {role: "^admin$"}}, score: 35}
  - {name: monitors, match: {bot_categories: [monitor], paths: [/status]}, action: allow}
routes:
  - {name: api, paths: [/api/**], block_threshold: 90}
  - {name: login, methods: [POST], paths: [/login], block_threshold: 60}
  - {name: webhooks, paths: [/webhooks/], disable: [bot]}
  - {name: search, paths: [/search], rate_limit: 60/1m}
`

func benchInput(b testing.TB, target string) rules.Input {
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("User-Agent", "Mozilla/5.0")
	r.Header.Set("Accept", "text/html")
	r.Header.Set("Cookie", "session=abc; theme=dark; role=user")
	return rules.Input{
		Method: "GET", Path: rules.ParsePath(r.URL.EscapedPath()), Request: r,
		IP: netip.MustParseAddr("203.0.113.99"), Country: "DE", ASN: 3320,
		DNAFamily: "chrome", DNAKind: "browser",
	}
}

func TestEvalAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes pooled paths allocate; make unit runs the ceilings without it")
	}
	s := parse(t, benchPolicy)
	var buf [8]detect.Finding
	// Among them, requests that get as far as a rule's query and cookie conditions.
	for _, target := range []string{"/products/42?color=red", "/", "/api/v1/users", "/api/v1/users?page=2&q=a%20b&debug=0", "/account/x"} {
		in := benchInput(t, target)
		in.Request.Header.Set("X-Api-Key", "k") // so that no rule matches /api
		if fs, action, _ := s.Eval(&in, buf[:0]); len(fs) != 0 || action != "" {
			t.Fatalf("%s: a rule matched: %v %q", target, fs, action)
		}
		if n := vigiltest.AllocsPerRun(200, func() { s.Eval(&in, buf[:0]) }); n != 0 {
			t.Errorf("Eval(%s) with no match allocates %v times, want 0", target, n)
		}
	}
	// A matching rule appends into dst without allocating.
	in := benchInput(t, "/wp-admin/x")
	if n := vigiltest.AllocsPerRun(200, func() { s.Eval(&in, buf[:0]) }); n != 0 {
		t.Errorf("Eval with a match allocates %v times, want 0", n)
	}
}

func TestPathGatesAllocs(t *testing.T) {
	s := parse(t, benchPolicy)
	for _, escaped := range []string{"/products/42", "/Products/ABC/Details", "/.ENV", "/api/v1/users", "/healthz"} {
		n := vigiltest.AllocsPerRun(200, func() {
			p := rules.ParsePath(escaped)
			s.Excluded(p)
			s.Honeypot(p)
			s.Route("GET", p)
			s.Allowed(netip.IPv6Loopback())
			s.Denied(netip.IPv6Loopback())
		})
		if n != 0 {
			t.Errorf("gates for %s allocate %v times, want 0", escaped, n)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	s := parse(b, benchPolicy)
	cases := []struct {
		name   string
		target string
		apiKey bool
	}{
		{"no_match", "/products/42?color=red", false},
		{"no_match_api", "/api/v1/users", true},
		{"match_score", "/api/v1/users?debug=1", false},
		{"match_block", "/wp-admin/setup.php", false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			in := benchInput(b, tc.target)
			if tc.apiKey {
				in.Request.Header.Set("X-Api-Key", "k")
			}
			var buf [8]detect.Finding
			b.ReportAllocs()
			for b.Loop() {
				// A fresh Input per request, as the guard makes, so the query is
				// parsed each time a rule needs it.
				in2 := in
				s.Eval(&in2, buf[:0])
			}
		})
	}
}

// gateCases feeds BenchmarkPathGates and BenchmarkGate.
var gateCases = []struct {
	name    string
	escaped string
}{
	{"plain", "/products/42"},
	{"mixed_case", "/Products/ABC/Details"},
	{"api", "/api/v1/users"},
	{"encoded_env", "/%2e%65nv"},
}

// BenchmarkPathGates measures what every request pays before the rules and detectors:
// parsing the path, the exclusion, both IP lists, the honeypot and the route look-up.
func BenchmarkPathGates(b *testing.B) {
	s := parse(b, benchPolicy)
	ip := netip.MustParseAddr("203.0.113.99")
	for _, tc := range gateCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := rules.ParsePath(tc.escaped)
				if !s.Excluded(p) && !s.Allowed(ip) && !s.Denied(ip) && !s.Honeypot(p) {
					s.Route("GET", p)
				}
			}
		})
	}
}

// BenchmarkGate measures each gate alone on a plain path.
func BenchmarkGate(b *testing.B) {
	s := parse(b, benchPolicy)
	ip := netip.MustParseAddr("203.0.113.99")
	const escaped = "/products/42"
	p := rules.ParsePath(escaped)
	gates := []struct {
		name string
		f    func()
	}{
		{"parse_path", func() { rules.ParsePath(escaped) }},
		{"excluded", func() { s.Excluded(p) }},
		{"honeypot", func() { s.Honeypot(p) }},
		{"route", func() { s.Route("GET", p) }},
		{"allowed", func() { s.Allowed(ip) }},
	}
	for _, g := range gates {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.f()
			}
		})
	}
}

func BenchmarkParsePath(b *testing.B) {
	for _, tc := range pathCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rules.ParsePath(tc.escaped)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	p := parse(b, benchPolicy).Policy()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}
