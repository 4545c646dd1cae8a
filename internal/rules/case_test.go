package rules_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/internal/vigiltest"
	"github.com/vigilhq/vigil/policy"
)

// casePolicy has a check of every kind on lower-case paths, for case-insensitive routers
// (Express by default, ASP.NET, IIS) to reach with a path in another case.
const casePolicy = `
rate_limit:
  per_ip: 100/1m
exclude_paths: [/healthz]
rules:
  - {name: office-internal, match: {paths: [/internal/**], ips: [192.0.2.0/24]}, action: allow}
  - {name: no-admin, match: {paths: [/admin/**]}, action: block}
  - {name: api-score, match: {paths: [/api/**]}, score: 30}
  - {name: login-limit, match: {paths: [/login]}, action: ratelimit, rate_limit: 5/1m}
  - {name: export, match: {paths: [/Export/*.CSV]}, action: challenge}
  - {name: delete-outside-public, match: {methods: [DELETE], not: {paths: [/public/**]}}, score: 10}
  - {name: office-outside-secret, match: {ips: [192.0.2.0/24], not: {paths: [/secret/**]}}, action: allow}
routes:
  - {name: webhooks, paths: [/webhooks/**], block_threshold: 95, disable: [bot]}
  - {name: login, paths: [/login], block_threshold: 50}
  - {name: everything, paths: ["/**"], mode: monitor}
`

// evalCaseCases feeds TestEvalPathCase and BenchmarkEvalPathCase.
var evalCaseCases = []struct {
	name    string
	method  string
	escaped string
	office  bool // from the office network
	codes   []string
	action  policy.Action
	rule    string
}{
	{"block_exact_case", "GET", "/admin/users", false, nil, policy.ActionBlock, "no-admin"},
	{"block_upper_case", "GET", "/ADMIN/users", false, nil, policy.ActionBlock, "no-admin"},
	{"block_title_case", "GET", "/Admin/users", false, nil, policy.ActionBlock, "no-admin"},
	{"block_not_other_path", "GET", "/ADMINS/users", false, nil, "", ""},
	{"score_upper_case", "GET", "/API/x", false, []string{"rule:api-score"}, "", ""},
	{"ratelimit_exact_case", "GET", "/login", false, nil, policy.ActionRateLimit, "login-limit"},
	{"ratelimit_upper_case_same_rule", "GET", "/LOGIN", false, nil, policy.ActionRateLimit, "login-limit"},
	{"upper_pattern_lower_path", "GET", "/export/a.csv", false, nil, policy.ActionChallenge, "export"},
	{"upper_pattern_mixed_path", "GET", "/eXpOrT/A.csv", false, nil, policy.ActionChallenge, "export"},
	{"allow_exact_case", "GET", "/internal/x", true, nil, policy.ActionAllow, "office-internal"},
	// The allow rule does not fire; the office's other allow rule does not test the
	// path positively, so it still does.
	{"allow_upper_case_not_by_path", "GET", "/INTERNAL/x", true, nil, policy.ActionAllow, "office-outside-secret"},
	{"allow_upper_case_elsewhere", "GET", "/INTERNAL/x", false, nil, "", ""},
	{"not_exact_case_excuses", "DELETE", "/public/x", false, nil, "", ""},
	{"not_upper_case_does_not_excuse", "DELETE", "/PUBLIC/x", false, []string{"rule:delete-outside-public"}, "", ""},
	{"allow_not_exact_case_keeps_out", "GET", "/secret/x", true, nil, "", ""},
	{"allow_not_upper_case_keeps_out", "GET", "/SECRET/x", true, nil, "", ""},
	{"allow_not_other_path", "GET", "/other", true, nil, policy.ActionAllow, "office-outside-secret"},
	{"non_ascii_not_folded", "GET", "/%C3%80DMIN/users", false, nil, "", ""},
}

func caseInput(method, escaped string, office bool) rules.Input {
	ip := netip.MustParseAddr("198.51.100.1")
	if office {
		ip = netip.MustParseAddr("192.0.2.10")
	}
	return rules.Input{Method: method, Path: rules.ParsePath(escaped), IP: ip}
}

func TestEvalPathCase(t *testing.T) {
	s := parse(t, casePolicy)
	for _, tc := range evalCaseCases {
		t.Run(tc.name, func(t *testing.T) {
			in := caseInput(tc.method, tc.escaped, tc.office)
			fs, action, r := s.Eval(&in, nil)
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
			}
			if diff := cmp.Diff(tc.codes, codes); diff != "" {
				t.Errorf("finding codes (-want +got):\n%s", diff)
			}
			name := ""
			if r != nil {
				name = r.Name
			}
			if action != tc.action || name != tc.rule {
				t.Errorf("Eval = %q by %q, want %q by %q", action, name, tc.action, tc.rule)
			}
		})
	}
}

// TestRateLimitRuleSharesBucketAcrossCase checks that "/LOGIN" is counted by the same
// rule as "/login": the guard keys a rule's bucket by the rule it returns.
func TestRateLimitRuleSharesBucketAcrossCase(t *testing.T) {
	s := parse(t, casePolicy)
	lower, upper := caseInput("POST", "/login", false), caseInput("POST", "/LOGIN", false)
	_, _, r1 := s.Eval(&lower, nil)
	_, _, r2 := s.Eval(&upper, nil)
	if r1 == nil || r1 != r2 || r1.Index != 3 {
		t.Errorf("rules %+v and %+v, want the same login-limit rule", r1, r2)
	}
}

func TestExcludedPathCase(t *testing.T) {
	s := parse(t, casePolicy)
	tests := []struct {
		name    string
		escaped string
		want    bool
	}{
		{"exact_case", "/healthz", true},
		{"upper_case", "/HEALTHZ", false},
		{"title_case", "/Healthz", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Excluded(rules.ParsePath(tc.escaped)); got != tc.want {
				t.Errorf("Excluded(%q) = %v, want %v", tc.escaped, got, tc.want)
			}
		})
	}
}

func TestRoutePathCase(t *testing.T) {
	s := parse(t, casePolicy)
	tests := []struct {
		name      string
		escaped   string
		want      string
		strict    bool
		threshold int
		mode      policy.Mode
		disabled  bool // "bot" is disabled
	}{
		{"relaxing_exact_case", "/webhooks/x", "webhooks", false, 95, "", true},
		{"relaxing_upper_case_strict", "/WEBHOOKS/x", "webhooks", true, 0, "", false},
		{"relaxing_title_case_strict", "/Webhooks/x", "webhooks", true, 0, "", false},
		{"tightening_exact_case", "/login", "login", false, 50, "", false},
		// "/LOGIN" matches the catch-all in exact case, but the login route is more
		// specific ignoring case: its tightening half applies, not the catch-all's
		// monitor mode.
		{"tightening_upper_case_kept", "/LOGIN", "login", true, 50, "", false},
		{"catch_all_matches_every_case", "/OTHER", "everything", false, 0, policy.ModeMonitor, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Route("GET", rules.ParsePath(tc.escaped))
			if r == nil {
				t.Fatalf("Route(%q) = nil, want %q", tc.escaped, tc.want)
			}
			if r.Name != tc.want || r.Strict != tc.strict || r.BlockThreshold != tc.threshold || r.Mode != tc.mode || r.Disabled("bot") != tc.disabled {
				t.Errorf("Route(%q) = %q strict %v threshold %d mode %q bot disabled %v, want %q %v %d %q %v", tc.escaped,
					r.Name, r.Strict, r.BlockThreshold, r.Mode, r.Disabled("bot"), tc.want, tc.strict, tc.threshold, tc.mode, tc.disabled)
			}
		})
	}
}

func TestPathCaseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes pooled paths allocate; make unit runs the ceilings without it")
	}
	s := parse(t, casePolicy)
	var buf [8]detect.Finding
	for _, tc := range evalCaseCases {
		in := caseInput(tc.method, tc.escaped, tc.office)
		n := vigiltest.AllocsPerRun(100, func() {
			s.Excluded(in.Path)
			s.Route(in.Method, in.Path)
			s.Eval(&in, buf[:0])
		})
		if n != 0 {
			t.Errorf("%s: gates and Eval allocate %v times, want 0", tc.name, n)
		}
	}
}

func BenchmarkEvalPathCase(b *testing.B) {
	s := parse(b, casePolicy)
	var buf [8]detect.Finding
	for _, tc := range evalCaseCases {
		in := caseInput(tc.method, tc.escaped, tc.office)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Eval(&in, buf[:0])
			}
		})
	}
}
