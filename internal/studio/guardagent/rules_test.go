package guardagent

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/rules_*.json")

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func limit(t testing.TB, s string) policy.Limit {
	t.Helper()
	var l policy.Limit
	if err := l.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return l
}

func testPolicy() policy.Policy {
	var l100, l5, l10 policy.Limit
	_ = l100.UnmarshalText([]byte("100/1m"))
	_ = l5.UnmarshalText([]byte("5/1m"))
	_ = l10.UnmarshalText([]byte("10/s"))
	return policy.Policy{
		Version: 7,
		Allow:   []string{"10.0.0.0/8", "192.0.2.10"},
		Deny:    []string{"198.51.100.0/24", "2001:db8::/32"},
		Geo:     policy.Geo{DenyCountries: []string{"ru", "CN"}},
		RateLimit: policy.RateLimits{
			PerIP: l100,
		},
		Routes: []policy.Route{
			{Name: "login", Paths: []string{"/login", "/admin/**"}, RateLimit: l5},
			{Name: "writes", Methods: []string{"POST"}, Paths: []string{"/api/items"}, RateLimit: l10},
			{Name: "no-limit", Paths: []string{"/health"}},
		},
		Rules: []policy.Rule{
			{Name: "curl", Match: policy.Match{Headers: map[string]string{"User-Agent": "(?i)curl/"}}, Action: policy.ActionBlock},
			{Name: "scanner-ua", Match: policy.Match{Headers: map[string]string{"user-agent": "nikto"}, Paths: []string{"/**"}}, Action: policy.ActionBlock},
			{Name: "score-only", Match: policy.Match{Headers: map[string]string{"User-Agent": "python"}}, Score: 30},
		},
	}
}

func testBans() []Ban {
	return []Ban{
		{Kind: "ip", Value: "203.0.113.7", Until: testNow.Add(30 * time.Minute), Reason: "honeypot"},
		{Kind: "cidr", Value: "203.0.113.128/25", Until: testNow.Add(2*time.Hour + 500*time.Millisecond)},
		{Kind: "ip", Value: "203.0.113.8", Until: testNow.Add(-time.Minute)}, // ended
		{Kind: "ip", Value: "10.1.2.3", Until: testNow.Add(time.Hour)},       // inside Allow
		{Kind: "dna", Value: "t13d1516h2_abc", Until: testNow.Add(time.Hour)},
		{Kind: "ip", Value: "::ffff:203.0.113.9"}, // no end, IPv4-mapped
	}
}

// TestRenderRulesGolden compares the whole document with testdata/rules_full.json,
// which was checked by hand against the mapping in RenderRules' doc and validated with
// guard-agent's own pydantic model (testdata/README.md).
func TestRenderRulesGolden(t *testing.T) {
	r, notes := RenderRules(testPolicy(), testBans(), 42, RulesOptions{RuleID: "vigil-shop", Now: testNow, AutoBanThreshold: 10})
	compareGolden(t, "testdata/rules_full.json", r)
	wantNotes := []string{
		"1 DNA bans cannot be sent: guard-agent clients ban by address only",
		`route "login" path "/admin/**" is a pattern: its rate limit is not sent (guard-agent clients limit exact paths)`,
		`route "writes" limits some methods only: its rate limit is not sent (guard-agent clients limit every method of a path)`,
		"2 rules are not sent: guard-agent clients can only be given rules that block by User-Agent",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestRenderRulesClearedGolden: the document that clears what the full one set, with
// every "blocks nothing" value, also validated with guard-agent's model.
func TestRenderRulesClearedGolden(t *testing.T) {
	full, _ := RenderRules(testPolicy(), testBans(), 42, RulesOptions{RuleID: "vigil-shop", Now: testNow})
	r, _ := RenderRules(policy.Policy{Emergency: policy.Emergency{Enabled: true, Allow: []string{"192.0.2.10"}}}, nil, 43,
		RulesOptions{RuleID: "vigil-shop", Now: testNow.Add(time.Minute), Previous: full, Lifted: []string{"198.51.100.77"}})
	compareGolden(t, "testdata/rules_cleared.json", r)
}

func compareGolden(t *testing.T, file string, r *DynamicRules) {
	t.Helper()
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

func TestRenderRulesNeverNull(t *testing.T) {
	for name, r := range map[string]*DynamicRules{
		"zero_policy": first(RenderRules(policy.Policy{}, nil, 1, RulesOptions{Now: testNow})),
		"zero_value":  {},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 26 {
			t.Errorf("%s: %d fields, want the 26 of §8.7", name, len(m))
		}
		for _, k := range []string{"ip_blacklist", "ip_whitelist", "blocked_countries", "whitelist_countries",
			"endpoint_rate_limits", "blocked_cloud_providers", "blocked_user_agents", "suspicious_patterns", "emergency_whitelist"} {
			if v := string(m[k]); v != "[]" && v != "{}" {
				t.Errorf("%s: %s = %s, want empty", name, k, v)
			}
		}
	}
}

func first[A, B any](a A, _ B) A { return a }

func TestRenderRulesZeroPolicyLeavesClientSettings(t *testing.T) {
	r, notes := RenderRules(policy.Policy{}, nil, 1, RulesOptions{Now: testNow})
	if r.RuleID != DefaultRuleID || r.Version != 1 || r.TTL != RulesTTL || !r.Timestamp.Equal(testNow) {
		t.Errorf("header fields %+v", r)
	}
	if r.GlobalRateLimit != nil || r.AutoBanDuration != nil || r.AutoBanThreshold != nil || r.EnableIPBanning != nil {
		t.Errorf("a policy that sets nothing must leave the client's own settings (nulls): %+v", r)
	}
	if r.IPBanDuration != 3600 || r.EmergencyMode || len(notes) != 0 {
		t.Errorf("ip_ban_duration %d, emergency %v, notes %v", r.IPBanDuration, r.EmergencyMode, notes)
	}
}

func TestRenderRulesBanDuration(t *testing.T) {
	tests := []struct {
		name  string
		deny  []string
		bans  []Ban
		want  int64
		black []string
		white []string
	}{
		{name: "no_bans_uses_ban_ttl", want: 3600},
		{name: "longest_remaining_rounded_up", bans: []Ban{
			{Kind: "ip", Value: "203.0.113.1", Until: testNow.Add(10 * time.Minute)},
			{Kind: "ip", Value: "203.0.113.2", Until: testNow.Add(90*time.Minute + time.Millisecond)},
		}, want: 5401, black: []string{"203.0.113.1", "203.0.113.2"}},
		{name: "ban_without_end_is_permanent", bans: []Ban{
			{Kind: "ip", Value: "203.0.113.1", Until: testNow.Add(10 * time.Minute)},
			{Kind: "cidr", Value: "203.0.113.0/24"},
		}, want: PermanentBanDuration, black: []string{"203.0.113.0/24", "203.0.113.1"}},
		{name: "deny_is_permanent", deny: []string{"192.0.2.1"}, want: PermanentBanDuration, black: []string{"192.0.2.1"}},
		{name: "ended_ban_is_unbanned", bans: []Ban{
			{Kind: "ip", Value: "203.0.113.1", Until: testNow},
		}, want: 3600, white: []string{"203.0.113.1"}},
		{name: "canonical_and_deduplicated", bans: []Ban{
			{Kind: "ip", Value: "2001:DB8::0001", Until: testNow.Add(time.Minute)},
			{Kind: "ip", Value: "2001:db8::1", Until: testNow.Add(time.Minute)},
			{Kind: "cidr", Value: "203.0.113.5/24", Until: testNow.Add(time.Minute)},
			{Kind: "cidr", Value: "203.0.113.9/32", Until: testNow.Add(time.Minute)},
		}, want: 60, black: []string{"2001:db8::1", "203.0.113.0/24", "203.0.113.9"}},
		{name: "unparseable_ban_skipped", bans: []Ban{{Kind: "ip", Value: "not-an-ip"}}, want: 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := RenderRules(policy.Policy{Deny: tt.deny}, tt.bans, 1, RulesOptions{Now: testNow})
			if r.IPBanDuration != tt.want {
				t.Errorf("ip_ban_duration %d, want %d", r.IPBanDuration, tt.want)
			}
			if diff := cmp.Diff(nonNil(tt.black), r.IPBlacklist); diff != "" {
				t.Errorf("ip_blacklist (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(nonNil(tt.white), r.IPWhitelist); diff != "" {
				t.Errorf("ip_whitelist (-want +got):\n%s", diff)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestRenderRulesClearing covers §9.3: an empty list cannot clear a client's list, so
// once Studio sent one, "blocks nothing" values replace empty lists, and stay.
func TestRenderRulesClearing(t *testing.T) {
	p := testPolicy()
	withLists, _ := RenderRules(p, testBans(), 1, RulesOptions{Now: testNow})
	if len(withLists.BlockedCountries) == 0 || len(withLists.BlockedUserAgents) == 0 || len(withLists.EndpointRateLimits) == 0 {
		t.Fatalf("test policy renders no lists: %+v", withLists)
	}
	empty := policy.Policy{}
	cleared, _ := RenderRules(empty, nil, 2, RulesOptions{Now: testNow, Previous: withLists})
	if diff := cmp.Diff([]string{NoCountry}, cleared.BlockedCountries); diff != "" {
		t.Errorf("blocked_countries:\n%s", diff)
	}
	if diff := cmp.Diff([]string{NoUserAgent}, cleared.BlockedUserAgents); diff != "" {
		t.Errorf("blocked_user_agents:\n%s", diff)
	}
	if diff := cmp.Diff(map[string][2]int64{NoEndpointPath: {NoEndpointLimit, 1}}, cleared.EndpointRateLimits); diff != "" {
		t.Errorf("endpoint_rate_limits:\n%s", diff)
	}
	// The global limit Studio set before falls back to the default rather than null,
	// which could not undo it.
	if cleared.GlobalRateLimit == nil || *cleared.GlobalRateLimit != 600 || *cleared.GlobalRateWindow != 60 {
		t.Errorf("global rate limit %v/%v, want the default 600/60", cleared.GlobalRateLimit, cleared.GlobalRateWindow)
	}
	// Addresses that left the ban list are unbanned; prefixes cannot be.
	for _, ip := range []string{"203.0.113.7", "203.0.113.9"} {
		if !slices.Contains(cleared.IPWhitelist, ip) {
			t.Errorf("ip_whitelist %v lacks %s", cleared.IPWhitelist, ip)
		}
	}
	if slices.Contains(cleared.IPWhitelist, "203.0.113.128/25") {
		t.Errorf("ip_whitelist holds a prefix: %v", cleared.IPWhitelist)
	}
	// Sticky: the sentinel stays while the list stays empty, for clients that missed
	// the version that introduced it.
	again, _ := RenderRules(empty, nil, 3, RulesOptions{Now: testNow, Previous: cleared})
	if !slices.Equal(again.BlockedCountries, []string{NoCountry}) || !slices.Equal(again.BlockedUserAgents, []string{NoUserAgent}) || len(again.EndpointRateLimits) != 1 {
		t.Errorf("sentinels dropped: %+v", again)
	}
	// A new non-empty list replaces the sentinel.
	p2 := policy.Policy{Geo: policy.Geo{DenyCountries: []string{"kp"}}}
	back, _ := RenderRules(p2, nil, 4, RulesOptions{Now: testNow, Previous: again})
	if !slices.Equal(back.BlockedCountries, []string{"KP"}) {
		t.Errorf("blocked_countries %v", back.BlockedCountries)
	}
	// Without a previous document, an empty list is sent as empty: the application's
	// own configuration is left alone.
	fresh, _ := RenderRules(empty, nil, 1, RulesOptions{Now: testNow})
	if len(fresh.BlockedCountries) != 0 || len(fresh.BlockedUserAgents) != 0 || len(fresh.EndpointRateLimits) != 0 {
		t.Errorf("sentinels without a previous document: %+v", fresh)
	}
}

func TestRenderRulesEmergency(t *testing.T) {
	p := policy.Policy{
		Allow:     []string{"192.0.2.10", "10.0.0.0/8"},
		Emergency: policy.Emergency{Enabled: true, Allow: []string{"198.51.100.7", "198.51.100.8/32", "2001:db8::/48"}},
	}
	r, notes := RenderRules(p, nil, 1, RulesOptions{Now: testNow})
	if !r.EmergencyMode || !r.EmergencyWhitelistOnly {
		t.Errorf("emergency_mode %v, emergency_whitelist_only %v", r.EmergencyMode, r.EmergencyWhitelistOnly)
	}
	if diff := cmp.Diff([]string{"192.0.2.10", "198.51.100.7", "198.51.100.8"}, r.EmergencyWhitelist); diff != "" {
		t.Errorf("emergency_whitelist (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		"emergency allow-list prefix 10.0.0.0/8 cannot be sent: guard-agent clients compare single addresses only",
		"emergency allow-list prefix 2001:db8::/48 cannot be sent: guard-agent clients compare single addresses only",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	off, _ := RenderRules(policy.Policy{Allow: p.Allow}, nil, 2, RulesOptions{Now: testNow, Previous: r})
	if off.EmergencyMode || off.EmergencyWhitelistOnly || len(off.EmergencyWhitelist) != 0 {
		t.Errorf("emergency off: %+v", off)
	}
}

func TestRenderRulesMonitorModeNoted(t *testing.T) {
	_, notes := RenderRules(policy.Policy{Mode: policy.ModeMonitor}, nil, 1, RulesOptions{Now: testNow})
	if len(notes) != 1 || !strings.Contains(notes[0], "monitor mode") {
		t.Errorf("notes %v", notes)
	}
}

func TestPerWindow(t *testing.T) {
	for _, tt := range []struct {
		in            string
		limit, window int64
	}{
		{"600/1m", 600, 60},
		{"10/s", 10, 1},
		{"5/90s", 5, 90},
		{"100/500ms", 200, 1},
		{"1/1500ms", 1, 2},
		{"3/2h", 3, 7200},
		{"1/3ms", 333, 1},
	} {
		l, w := perWindow(limit(t, tt.in))
		if l != tt.limit || w != tt.window {
			t.Errorf("%s: %d per %d s, want %d per %d s", tt.in, l, w, tt.limit, tt.window)
		}
	}
}

func TestRulesWarnings(t *testing.T) {
	base := &DynamicRules{}
	emergency := &DynamicRules{EmergencyMode: true}
	emergencyStable := &DynamicRules{EmergencyMode: true, AutoBanThreshold: new(int64)}
	allowUS := &DynamicRules{WhitelistCountries: []string{"US"}}
	banned := &DynamicRules{IPBlacklist: []string{"203.0.113.0/24", "203.0.113.7"}}
	unbanned := &DynamicRules{IPWhitelist: []string{"203.0.113.7"}}
	tests := []struct {
		name       string
		prev, next *DynamicRules
		want       []string // substrings, one per warning
	}{
		{name: "first_document", prev: nil, next: emergency},
		{name: "no_change", prev: base, next: base},
		{name: "leaving_emergency", prev: emergency, next: base, want: []string{"emergency mode cannot be lifted"}},
		{name: "emergency_new_version_halves_threshold", prev: emergency, next: emergency, want: []string{"halves"}},
		{name: "emergency_with_threshold_is_stable", prev: emergency, next: emergencyStable},
		{name: "clearing_country_allow_list", prev: allowUS, next: base, want: []string{"allow-list cannot be cleared"}},
		{name: "setting_country_allow_list", prev: base, next: allowUS, want: []string{"geo handler"}},
		{name: "country_sentinel_is_not_a_country_rule", prev: &DynamicRules{BlockedCountries: []string{"RU"}}, next: &DynamicRules{BlockedCountries: []string{NoCountry}}},
		{name: "prefix_left_ban_list", prev: banned, next: unbanned, want: []string{"203.0.113.0/24 left the ban list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RulesWarnings(tt.prev, tt.next)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
		})
	}
}

func TestEquivalent(t *testing.T) {
	p := testPolicy()
	p.Deny = nil
	temporary := testBans()[:2]
	a, _ := RenderRules(p, temporary, 1, RulesOptions{Now: testNow})
	b, _ := RenderRules(p, temporary, 2, RulesOptions{Now: testNow.Add(10 * time.Minute)})
	if a.IPBanDuration == b.IPBanDuration || !a.Equivalent(b) {
		t.Errorf("same policy and bans ten minutes later: Equivalent %v (durations %d, %d)", a.Equivalent(b), a.IPBanDuration, b.IPBanDuration)
	}
	bans := append(slices.Clone(temporary), Ban{Kind: "ip", Value: "192.0.2.99", Until: testNow.Add(time.Hour)})
	c, _ := RenderRules(p, bans, 2, RulesOptions{Now: testNow})
	if a.Equivalent(c) {
		t.Error("a new ban is not a change")
	}
	d := *a
	d.IPBlacklist = nil
	e := *a
	e.IPBlacklist = []string{}
	if !d.Equivalent(&e) {
		t.Error("nil and empty lists differ")
	}
}

// TestRenderRulesDoesNotModifyInputs: the policy and bans are shared with other
// goroutines in Studio.
func TestRenderRulesDoesNotModifyInputs(t *testing.T) {
	p, bans := testPolicy(), testBans()
	before, _ := json.Marshal(struct {
		P policy.Policy
		B []Ban
	}{p, bans})
	RenderRules(p, bans, 1, RulesOptions{Now: testNow})
	after, _ := json.Marshal(struct {
		P policy.Policy
		B []Ban
	}{p, bans})
	if !bytes.Equal(before, after) {
		t.Error("inputs modified")
	}
}
