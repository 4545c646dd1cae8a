package policy_test

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilhq/vigil/policy"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// equal compares policies the way the package defines them: nil and empty lists and maps
// are the same.
var equal = cmpopts.EquateEmpty()

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, data []byte) policy.Policy {
	t.Helper()
	p, err := policy.Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// roundTrip checks that p survives YAML and JSON unchanged.
func roundTrip(t *testing.T, p policy.Policy) {
	t.Helper()
	y, err := p.YAML()
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	if got, err := policy.Parse(y); err != nil {
		t.Fatalf("Parse(YAML()): %v\n%s", err, y)
	} else if diff := cmp.Diff(p, got, equal); diff != "" {
		t.Errorf("YAML round trip (-want +got):\n%s\n%s", diff, y)
	}
	j, err := p.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if got, err := policy.Parse(j); err != nil {
		t.Fatalf("Parse(JSON()): %v\n%s", err, j)
	} else if diff := cmp.Diff(p, got, equal); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s\n%s", diff, j)
	}
}

func TestParseFullDocument(t *testing.T) {
	fromYAML := mustParse(t, readFile(t, "testdata/full.yaml"))
	fromJSON := mustParse(t, readFile(t, "testdata/full.json"))
	if diff := cmp.Diff(fromYAML, fromJSON, equal); diff != "" {
		t.Errorf("full.yaml and full.json differ (-yaml +json):\n%s", diff)
	}
	roundTrip(t, fromYAML)

	// Spot-check values whose text form needs parsing, against what full.yaml says.
	checks := []struct {
		name      string
		got, want any
	}{
		{"mode", fromYAML.Mode, policy.ModeMonitor},
		{"per_ip", fromYAML.RateLimit.PerIP, policy.Limit{Rate: 300, Period: policy.Duration(time.Minute), Burst: 50}},
		{"per_dna", fromYAML.RateLimit.PerDNA, policy.Limit{Rate: 1000, Period: policy.Duration(time.Minute)}},
		{"ban_ttl", fromYAML.Honeypot.BanTTL, policy.Duration(6 * time.Hour)},
		{"bans", fromYAML.Bans, policy.Bans{TTL: policy.Duration(30 * time.Minute), MaxTTL: policy.Duration(12 * time.Hour), Window: policy.Duration(48 * time.Hour)}},
		{"weight", fromYAML.Weights["rule:api-key-missing"], 2.0},
		{"present_header", fromYAML.Rules[3].Match.Not.Headers, map[string]string{"X-Api-Key": ""}},
		{"asns", fromYAML.Rules[6].Match.ASNs, []uint32{64500, 64501}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

// allFields returns a valid policy in which every field, at every depth, is set, so that
// the round-trip test covers fields added later: TestAllFieldsSet fails until they are
// set here too.
func allFields() policy.Policy {
	lim := policy.Limit{Rate: 10, Period: policy.Duration(90 * time.Second), Burst: 3}
	m := policy.Match{
		Methods:       []string{"GET"},
		Paths:         []string{"/a/*"},
		Query:         map[string]string{"q": "^x"},
		Headers:       map[string]string{"X-A": ""},
		Cookies:       map[string]string{"c": "y$"},
		IPs:           []string{"192.0.2.1"},
		Countries:     []string{"DE"},
		ASNs:          []uint32{64496},
		DNAFamilies:   []string{"curl"},
		DNAKinds:      []string{"library"},
		BotCategories: []string{"ai"},
	}
	not := m
	m.Not = &not
	return policy.Policy{
		Version:        7,
		Mode:           policy.ModeMonitor,
		BlockThreshold: 90,
		ExcludePaths:   []string{"/healthz"},
		Methods:        []string{"GET", "PROPFIND"},
		Allow:          []string{"10.0.0.0/8"},
		Deny:           []string{"2001:db8::/32"},
		Emergency:      policy.Emergency{Enabled: true, Allow: []string{"198.51.100.0/24"}},
		Honeypot: policy.Honeypot{
			Disabled:     true,
			SkipDefaults: true,
			Paths:        []string{"/bait"},
			Except:       []string{"/.hg/"},
			BanTTL:       policy.Duration(time.Hour),
		},
		Bans: policy.Bans{TTL: policy.Duration(time.Minute), MaxTTL: policy.Duration(time.Hour), Window: policy.Duration(2 * time.Hour)},
		RateLimit: policy.RateLimits{
			PerIP:    lim,
			PerDNA:   lim,
			Adaptive: policy.Adaptive{Disabled: true, Score: 10, Factor: 0.125},
		},
		Bots:    policy.Bots{Block: []string{"scanner"}, Allow: []string{"search"}, SkipVerify: true},
		Weights: map[string]float64{"sqli": 1.5},
		Rules: []policy.Rule{{
			Name: "r", Match: m, Score: 10, Action: policy.ActionRateLimit, RateLimit: lim, Key: "header:X-Api-Key",
		}},
		Routes: []policy.Route{{
			Name: "rt", Methods: []string{"POST"}, Paths: []string{"/x"}, Mode: policy.ModeBlock,
			BlockThreshold: 50, Disable: []string{"bot"}, RateLimit: lim,
		}},
		ChallengeThreshold: 60,
		Signups:            policy.Signups{Paths: []string{"/signup"}, EmailFields: []string{"email"}, PhoneFields: []string{"phone"}, CheckMX: true},
		Geo:                policy.Geo{AllowCountries: []string{"DE", "FR"}, DenyCountries: []string{"KP"}},
		Logins: policy.Logins{Paths: []string{"/login"}, FailureStatuses: []int{401}, UsernameFields: []string{"email"},
			Window: policy.Duration(time.Hour), MaxFailuresPerIP: 5, MaxUsernamesPerIP: 4, MaxUsernamesPerDNA: 3, MaxIPsPerUsername: 2,
			SpikeFailures: 20, SpikeFactor: 3, SpikeDivisor: 4},
		KnownClients: policy.Document(`{"families":[{"extend":true,"ja4":[{"source":"test","value":"t13d1517h2_8daaf6152771_0123456789ab"}],"name":"chrome"}],"version":1}`),
	}
}

func TestAllFieldsSet(t *testing.T) {
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if strings.HasSuffix(path, ".Not.Not") {
			return // a not cannot have a not
		}
		if v.IsZero() {
			t.Errorf("allFields leaves %s zero: set it so the round trip covers it", path)
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			if _, ok := v.Interface().(policy.Limit); ok {
				return
			}
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			walk(path+"[0]", v.Index(0))
		case reflect.Pointer:
			walk(path, v.Elem())
		}
	}
	p := allFields()
	walk("Policy", reflect.ValueOf(p))
	if err := p.Validate(); err != nil {
		t.Fatalf("allFields is not valid: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    policy.Policy
	}{
		{"zero", policy.Policy{}},
		{"default", policy.Default()},
		{"all_fields", allFields()},
		{"odd_strings", policy.Policy{
			ExcludePaths: []string{"/café/*", "/a b/**", "/:colon", "/true", "/null"},
			Weights:      map[string]float64{"a:b": 0, "null": 0.1, "x.y": 1e-9, "yes": 100},
			Rules: []policy.Rule{{
				Name: "n", Score: 1,
				Match: policy.Match{
					Headers: map[string]string{"X-Yes": "null", "On": `^"quoted"\s*#not-a-comment$`},
					Query:   map[string]string{"<<": "&anchor", "é": ".*"},
				},
			}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Fatalf("test policy invalid: %v", err)
			}
			roundTrip(t, tc.p)
		})
	}
}

func TestDefault(t *testing.T) {
	d := policy.Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default is invalid: %v", err)
	}
	want := policy.Policy{
		Mode:           policy.ModeBlock,
		BlockThreshold: 80,
		Bans: policy.Bans{
			TTL:    policy.Duration(time.Hour),
			MaxTTL: policy.Duration(24 * time.Hour),
			Window: policy.Duration(24 * time.Hour),
		},
		RateLimit: policy.RateLimits{
			PerIP:    policy.Limit{Rate: 600, Period: policy.Duration(time.Minute), Burst: 100},
			Adaptive: policy.Adaptive{Score: 40, Factor: 0.25},
		},
	}
	if diff := cmp.Diff(want, d, equal); diff != "" {
		t.Errorf("Default (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(d, d.WithDefaults(), equal); diff != "" {
		t.Errorf("WithDefaults is not idempotent (-once +twice):\n%s", diff)
	}
	// WithDefaults keeps what is set.
	p := allFields()
	if diff := cmp.Diff(p, p.WithDefaults(), equal); diff != "" {
		t.Errorf("WithDefaults changed set fields (-before +after):\n%s", diff)
	}

	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/default.yaml"
	if *update {
		if err := os.WriteFile(golden, y, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, golden); !bytes.Equal(y, want) {
		t.Errorf("Default().YAML() differs from %s (run with -update to accept):\n%s", golden, y)
	}
}

func TestBansLength(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name string
		bans policy.Bans
		n    int
		want time.Duration
	}{
		{"zero_first", policy.Bans{}, 1, h},
		{"zero_second", policy.Bans{}, 2, 2 * h},
		{"zero_fifth", policy.Bans{}, 5, 16 * h},
		{"zero_capped", policy.Bans{}, 6, 24 * h},
		{"zero_far", policy.Bans{}, 1000, 24 * h},
		{"below_one", policy.Bans{}, 0, h},
		{"custom", policy.Bans{TTL: policy.Duration(10 * time.Minute), MaxTTL: policy.Duration(h)}, 3, 40 * time.Minute},
		{"custom_capped", policy.Bans{TTL: policy.Duration(10 * time.Minute), MaxTTL: policy.Duration(h)}, 4, h},
		{"ttl_above_default_max", policy.Bans{TTL: policy.Duration(48 * h)}, 2, 48 * h},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.bans.Length(tc.n); got != tc.want {
				t.Errorf("Length(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestLimitText(t *testing.T) {
	m := policy.Duration(time.Minute)
	tests := []struct {
		name string
		text string
		want policy.Limit
		out  string // String(); "" means text
	}{
		{"rate_period", "100/1m", policy.Limit{Rate: 100, Period: m}, ""},
		{"burst", "600/1m burst 100", policy.Limit{Rate: 600, Period: m, Burst: 100}, ""},
		{"unit_alone", "10/s burst 20", policy.Limit{Rate: 10, Period: policy.Duration(time.Second), Burst: 20}, "10/1s burst 20"},
		{"unit_minute", "5/m", policy.Limit{Rate: 5, Period: m}, "5/1m"},
		{"unit_hour", "5/h", policy.Limit{Rate: 5, Period: policy.Duration(time.Hour)}, "5/1h"},
		{"odd_period", "5/90s", policy.Limit{Rate: 5, Period: policy.Duration(90 * time.Second)}, "5/1m30s"},
		{"spaces", "  5/1m   burst   2 ", policy.Limit{Rate: 5, Period: m, Burst: 2}, "5/1m burst 2"},
		{"empty", "", policy.Limit{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l policy.Limit
			if err := l.UnmarshalText([]byte(tc.text)); err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tc.text, err)
			}
			if l != tc.want {
				t.Errorf("UnmarshalText(%q) = %+v, want %+v", tc.text, l, tc.want)
			}
			out := tc.out
			if out == "" {
				out = tc.text
			}
			if l.String() != out {
				t.Errorf("String() = %q, want %q", l.String(), out)
			}
		})
	}
	bad := []string{"100", "100/", "/1m", "x/1m", "-5/1m", "+5/1m", "5/1 m", "5/1m burst", "5/1m burst x",
		"5/1m rate 2", "5/fortnight", "1000000000/1m", "5/1m burst 2 extra"}
	for _, text := range bad {
		var l policy.Limit
		if err := l.UnmarshalText([]byte(text)); err == nil {
			t.Errorf("UnmarshalText(%q) = %+v, want an error", text, l)
		}
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Hour, "1h"},
		{24 * time.Hour, "24h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1.5s"},
		{time.Millisecond, "1ms"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := policy.Duration(tc.d).String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			var d policy.Duration
			if err := d.UnmarshalText([]byte(tc.want)); err != nil || time.Duration(d) != tc.d {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tc.want, time.Duration(d), err, tc.d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // each must appear in the error
	}{
		{"yaml_unknown_top", "mode: block\nblock_treshold: 70\n", []string{`line 2: unknown field "block_treshold"`}},
		{"yaml_unknown_nested", "rules:\n  - name: a\n    score: 5\n    match:\n      path: [/x]\n", []string{`line 5: unknown field "path"`}},
		{"yaml_unknown_several", "foo: 1\nbans:\n  ttl: 1h\n  bar: 2\nbaz: 3\n",
			[]string{`line 1: unknown field "foo"`, `line 4: unknown field "bar"`, `line 5: unknown field "baz"`}},
		{"yaml_camel_case", "blockThreshold: 70\n", []string{`line 1: unknown field "blockThreshold"`}},
		{"yaml_bad_duration", "bans:\n  ttl: 5 minutes\n", []string{`line 2: invalid duration "5 minutes"`}},
		{"yaml_number_duration", "bans:\n  ttl: 300\n", []string{`line 2: invalid duration "300"`}},
		{"yaml_bad_limit", "rate_limit:\n  per_ip: 100 per minute\n", []string{`line 2: invalid rate limit "100 per minute"`}},
		{"yaml_limit_mapping", "rate_limit:\n  per_ip:\n    rate: 5\n", []string{`line 3: expected a single value`}},
		{"yaml_wrong_type", "block_threshold: high\n", []string{"line 1: cannot unmarshal !!str `high` into a whole number"}},
		{"yaml_list_for_string", "mode: [block]\n", []string{"line 1: cannot unmarshal !!seq into a string"}},
		{"yaml_syntax", "mode: block\n  bad indent: x\n", []string{"line 2"}},
		{"yaml_duplicate_key", "mode: block\nmode: monitor\n", []string{`line 2: mapping key "mode" already defined`}},
		{"yaml_two_documents", "mode: block\n---\nmode: monitor\n", []string{"line 2: a policy is one YAML document"}},
		{"json_unknown", "{\n  \"mode\": \"block\",\n  \"treshold\": 3\n}", []string{`line 3: unknown field "treshold"`}},
		{"json_unknown_nested", "{\"bans\": {\n\"ttl\": \"1h\",\n\"foo\": 1}}", []string{`line 3: unknown field "foo"`}},
		{"json_bad_duration", "{\"bans\": {\"ttl\": \"soon\"}}", []string{`invalid duration "soon"`}},
		{"json_syntax", "{\n\"mode\": \"block\",\n}", []string{"line 3"}},
		{"json_trailing", "{\"mode\": \"block\"}\n{}", []string{"line 2: data after the policy object"}},
		{"json_wrong_type", "{\"block_threshold\": \"80\"}", []string{"line 1: cannot unmarshal !!str `80` into a whole number"}},
		{"json_surrogates_then_unknown", `{"rules": [{"name": "x", "score": 1, "match": {"headers": {"X": "\ud83d\ude00"}}}], "zz": 1}`,
			[]string{`unknown field "zz"`}},
		{"validation_after_decoding", "mode: blocking\n", []string{`mode: "blocking" is not a mode`}},
		{"too_large", strings.Repeat("#", policy.MaxSize+1), []string{"more than the limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "policy.") || strings.Contains(err.Error(), "yaml:") {
				t.Errorf("error %q mentions Go or library internals", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want policy.Policy
	}{
		{"empty", "", policy.Policy{}},
		{"comments_only", "# nothing yet\n", policy.Policy{}},
		{"empty_json", " \n{}", policy.Policy{}},
		{"null_header_is_present", "rules:\n  - name: dbg\n    score: 5\n    match:\n      headers:\n        X-Debug:\n",
			policy.Policy{Rules: []policy.Rule{{Name: "dbg", Score: 5, Match: policy.Match{Headers: map[string]string{"X-Debug": ""}}}}}},
		{"json_with_tabs", "{\n\t\"mode\": \"monitor\"\n}", policy.Policy{Mode: policy.ModeMonitor}},
		{"json_escapes", `{"exclude_paths": ["/caf\u00e9", "\/x"]}`, policy.Policy{ExcludePaths: []string{"/café", "/x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, []byte(tc.doc))
			if diff := cmp.Diff(tc.want, got, equal); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	rule := func(r policy.Rule) policy.Policy { return policy.Policy{Rules: []policy.Rule{r}} }
	scored := func(m policy.Match) policy.Policy { return rule(policy.Rule{Name: "r", Score: 10, Match: m}) }
	tests := []struct {
		name string
		p    policy.Policy
		want []string // empty: valid
	}{
		{"zero", policy.Policy{}, nil},
		{"mode", policy.Policy{Mode: "enforce"}, []string{`mode: "enforce" is not a mode`}},
		{"threshold", policy.Policy{BlockThreshold: 101}, []string{"block_threshold: 101 is outside 1–100"}},
		{"negative_version", policy.Policy{Version: -1}, []string{"version: must not be negative"}},
		{"exclude_pattern", policy.Policy{ExcludePaths: []string{"health"}}, []string{`exclude_paths[0]: invalid path pattern "health"`}},
		{"method_not_token", policy.Policy{Methods: []string{"GET", "GE T", ""}}, []string{`methods[1]: "GE T" is not a method`, `methods[2]: "" is not a method`}},
		{"exclude_query", policy.Policy{ExcludePaths: []string{"/ok", "/search?q=*"}}, []string{"exclude_paths[1]:", "no query"}},
		{"allow_host_bits", policy.Policy{Allow: []string{"10.1.2.3/8"}}, []string{`allow[0]: "10.1.2.3/8" has host bits set: write 10.0.0.0/8`}},
		{"allow_garbage", policy.Policy{Allow: []string{"10.0.0.300"}}, []string{`allow[0]: "10.0.0.300" is not an IP address`}},
		{"allow_zone", policy.Policy{Allow: []string{"fe80::1%eth0"}}, []string{"has a zone"}},
		{"allow_4in6", policy.Policy{Allow: []string{"::ffff:192.0.2.1"}}, []string{"write it as IPv4"}},
		{"deny_inside_allow", policy.Policy{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.1.2.3", "192.0.2.0/24"}},
			[]string{"deny[0]: 10.1.2.3 lies inside allow[0] 10.0.0.0/8"}},
		{"allow_inside_deny_is_fine", policy.Policy{Allow: []string{"10.1.2.3"}, Deny: []string{"10.0.0.0/8"}}, nil},
		{"honeypot_path", policy.Policy{Honeypot: policy.Honeypot{Paths: []string{"/a//b"}}}, []string{"honeypot.paths[0]"}},
		{"honeypot_except_unknown_is_fine", policy.Policy{Honeypot: policy.Honeypot{Except: []string{"/not-a-default"}}}, nil},
		{"negative_duration", policy.Policy{Bans: policy.Bans{TTL: -1}}, []string{"bans.ttl:"}},
		{"ttl_above_max", policy.Policy{Bans: policy.Bans{TTL: policy.Duration(2 * time.Hour), MaxTTL: policy.Duration(time.Hour)}},
			[]string{"bans.max_ttl: 1h is shorter than bans.ttl 2h"}},
		{"limit_rate", policy.Policy{RateLimit: policy.RateLimits{PerIP: policy.Limit{Period: policy.Duration(time.Second)}}},
			[]string{"rate_limit.per_ip: rate 0 is outside"}},
		{"limit_period", policy.Policy{RateLimit: policy.RateLimits{PerDNA: policy.Limit{Rate: 5, Period: policy.Duration(48 * time.Hour)}}},
			[]string{"rate_limit.per_dna: period 48h is outside 1ms–24h"}},
		{"adaptive", policy.Policy{RateLimit: policy.RateLimits{Adaptive: policy.Adaptive{Score: 101, Factor: 1.5}}},
			[]string{"rate_limit.adaptive.score", "rate_limit.adaptive.factor"}},
		{"bots_both", policy.Policy{Bots: policy.Bots{Block: []string{"AI"}, Allow: []string{"ai"}}}, []string{`bots.block[0]: "AI" is also in bots.allow`}},
		{"bots_name", policy.Policy{Bots: policy.Bots{Block: []string{"bad bots"}}}, []string{"bots.block[0]"}},
		{"geo_code", policy.Policy{Geo: policy.Geo{AllowCountries: []string{"DEU"}, DenyCountries: []string{"r1"}}}, []string{
			`geo.allow_countries[0]: "DEU" is not a two-letter ISO 3166-1 country code`,
			`geo.deny_countries[0]: "r1" is not a two-letter ISO 3166-1 country code`}},
		{"geo_both", policy.Policy{Geo: policy.Geo{AllowCountries: []string{"de", "FR"}, DenyCountries: []string{"fr"}}}, []string{`geo.deny_countries[0]: "fr" is also in geo.allow_countries`}},
		{"weight_range", policy.Policy{Weights: map[string]float64{"sqli": -1, "xss": 101}},
			[]string{`weights["sqli"]: weight -1`, `weights["xss"]: weight 101`}},
		{"weight_code", policy.Policy{Weights: map[string]float64{"bad code": 1}}, []string{`weights["bad code"]`}},
		{"rule_no_name", rule(policy.Rule{Score: 1, Match: policy.Match{Methods: []string{"GET"}}}), []string{"rules[0].name: is required"}},
		{"rule_bad_name", rule(policy.Rule{Name: "no spaces", Score: 1, Match: policy.Match{Methods: []string{"GET"}}}), []string{"rules[0].name"}},
		{"rule_duplicate", policy.Policy{Rules: []policy.Rule{
			{Name: "a", Score: 1, Match: policy.Match{Methods: []string{"GET"}}},
			{Name: "a", Score: 1, Match: policy.Match{Methods: []string{"PUT"}}},
		}}, []string{`rules[1].name: "a" is also the name of rules[0]`}},
		{"rule_empty_match", rule(policy.Rule{Name: "r", Action: policy.ActionBlock}), []string{"rules[0].match: is empty", `paths: ["/**"]`}},
		{"rule_does_nothing", rule(policy.Rule{Name: "r", Match: policy.Match{Methods: []string{"GET"}}}), []string{"rules[0]: has neither"}},
		{"rule_score", rule(policy.Rule{Name: "r", Score: 101, Match: policy.Match{Methods: []string{"GET"}}}), []string{"rules[0].score"}},
		{"rule_action", rule(policy.Rule{Name: "r", Action: "deny", Match: policy.Match{Methods: []string{"GET"}}}), []string{`rules[0].action: "deny" is not an action`}},
		{"ratelimit_needs_limit", rule(policy.Rule{Name: "r", Action: policy.ActionRateLimit, Match: policy.Match{Methods: []string{"GET"}}}),
			[]string{"rules[0].rate_limit: is required"}},
		{"ratelimit_key", rule(policy.Rule{Name: "r", Action: policy.ActionRateLimit, Key: "session",
			RateLimit: policy.Limit{Rate: 1, Period: policy.Duration(time.Second)}, Match: policy.Match{Methods: []string{"GET"}}}),
			[]string{`rules[0].key: "session" is not a key`}},
		{"ratelimit_key_header_name", rule(policy.Rule{Name: "r", Action: policy.ActionRateLimit, Key: "header:",
			RateLimit: policy.Limit{Rate: 1, Period: policy.Duration(time.Second)}, Match: policy.Match{Methods: []string{"GET"}}}),
			[]string{"rules[0].key"}},
		{"key_without_ratelimit", rule(policy.Rule{Name: "r", Action: policy.ActionBlock, Key: "dna",
			RateLimit: policy.Limit{Rate: 1, Period: policy.Duration(time.Second)}, Match: policy.Match{Methods: []string{"GET"}}}),
			[]string{"rules[0].key: is only used", "rules[0].rate_limit: is only used"}},
		{"match_method", scored(policy.Match{Methods: []string{"GET POST"}}), []string{`rules[0].match.methods[0]: "GET POST" is not an HTTP method`}},
		{"match_regex", scored(policy.Match{Headers: map[string]string{"X-Foo": "(a"}}),
			[]string{`rules[0].match.headers["X-Foo"]: invalid regex: missing closing )`}},
		{"match_header_name", scored(policy.Match{Headers: map[string]string{"X Foo": ""}}), []string{`rules[0].match.headers["X Foo"]: "X Foo" is not a header name`}},
		{"match_query_regex", scored(policy.Match{Query: map[string]string{"q": `\p{Bogus}`}}), []string{`rules[0].match.query["q"]: invalid regex`}},
		{"match_long_regex", scored(policy.Match{Cookies: map[string]string{"c": strings.Repeat("a", 5000)}}), []string{"longer than 4096"}},
		{"match_country", scored(policy.Match{Countries: []string{"USA"}}), []string{"rules[0].match.countries[0]"}},
		{"match_asn", scored(policy.Match{ASNs: []uint32{0}}), []string{"rules[0].match.asns[0]"}},
		{"match_ips", scored(policy.Match{IPs: []string{"nope"}}), []string{"rules[0].match.ips[0]"}},
		{"match_nested_not", scored(policy.Match{Methods: []string{"GET"}, Not: &policy.Match{Methods: []string{"PUT"}, Not: &policy.Match{Methods: []string{"GET"}}}}),
			[]string{"rules[0].match.not.not: a not cannot have a not"}},
		{"match_empty_not", scored(policy.Match{Methods: []string{"GET"}, Not: &policy.Match{}}), []string{"rules[0].match.not: is empty"}},
		{"route_paths", policy.Policy{Routes: []policy.Route{{Name: "x"}}}, []string{"routes[0].paths: is required"}},
		{"route_fields", policy.Policy{Routes: []policy.Route{{Paths: []string{"/x"}, Mode: "off", BlockThreshold: -1, Disable: []string{""},
			RateLimit: policy.Limit{Rate: 1}}}},
			[]string{"routes[0].mode", "routes[0].block_threshold", "routes[0].disable[0]", "routes[0].rate_limit: period"}},
		{"route_duplicate_names", policy.Policy{Routes: []policy.Route{{Name: "x", Paths: []string{"/a"}}, {Name: "x", Paths: []string{"/b"}}}},
			[]string{`routes[1].name: "x" is also`}},
		{"unnamed_routes_are_fine", policy.Policy{Routes: []policy.Route{{Paths: []string{"/a"}}, {Paths: []string{"/b"}}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded, want errors containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestValidateReportsEverything checks that one call reports every problem, one per line,
// each with its own path.
func TestValidateReportsEverything(t *testing.T) {
	doc := `
mode: enforce
block_threshold: 120
allow: [10.1.2.3/8]
rules:
  - name: ok
    score: 10
    match: {paths: [/ok]}
  - name: bad one
    match:
      headers: {X-Foo: "(a"}
      countries: [USA]
    action: explode
routes:
  - paths: [relative]
`
	_, err := policy.Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	want := []string{
		`mode: "enforce" is not a mode: use "block" or "monitor"`,
		"block_threshold: 120 is outside 1–100 (0 means the default)",
		`allow[0]: "10.1.2.3/8" has host bits set: write 10.0.0.0/8`,
		`rules[1].name: "bad one" must be 1–64 letters, digits, "_", "-" or "."`,
		`rules[1].match.headers["X-Foo"]: invalid regex: missing closing ): ` + "`(a`",
		`rules[1].match.countries[0]: "USA" is not an ISO 3166-1 alpha-2 country code`,
		`rules[1].action: "explode" is not an action: use "allow", "block", "challenge" or "ratelimit", or leave it out to only score`,
		`routes[0].paths[0]: invalid path pattern "relative": pattern must start with "/"`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestDefaultHoneypotPaths(t *testing.T) {
	paths := policy.DefaultHoneypotPaths()
	if len(paths) < 30 {
		t.Errorf("%d default honeypot paths, want at least 30", len(paths))
	}
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[strings.ToLower(p)] {
			t.Errorf("%q listed twice", p)
		}
		seen[strings.ToLower(p)] = true
	}
	// They must be valid honeypot paths, and a caller may not change the built-in list.
	if err := (policy.Policy{Honeypot: policy.Honeypot{Paths: paths}}).Validate(); err != nil {
		t.Errorf("default honeypot paths do not validate: %v", err)
	}
	paths[0] = "/changed"
	if policy.DefaultHoneypotPaths()[0] == "/changed" {
		t.Error("DefaultHoneypotPaths returns a shared slice")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/full.yaml", "testdata/full.json", "testdata/default.yaml"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte("mode: block\nfoo: 1\n"))
	f.Add([]byte(`{"rules": [{"name": "x", "score": 1, "match": {"paths": ["/a/**"], "query": {"q": ""}}}]}`))
	f.Add([]byte("rate_limit:\n  per_ip: 10/s burst 5\nweights: {\"a:b\": 0.5}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse(data)
		if err != nil {
			return
		}
		roundTrip(t, p)
	})
}

func TestKnownClientsOverlay(t *testing.T) {
	doc := `known_clients:
  version: 1
  families:
    - name: chrome
      extend: true
      ja4:
        - {value: t13d1517h2_8daaf6152771_0123456789ab, source: "measured"}
`
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	table, err := p.KnownClientsTable()
	if err != nil {
		t.Fatal(err)
	}
	if m := table.ByJA4("t13d1517h2_8daaf6152771_0123456789ab"); len(m) == 0 || m[0].Family != "chrome" {
		t.Errorf("the overlay's JA4 is not chrome's: %+v", m)
	}
	// The same overlay read from JSON is the same document.
	j, err := policy.Parse([]byte(`{"known_clients": {"version": 1, "families": [{"name": "chrome", "extend": true,
		"ja4": [{"value": "t13d1517h2_8daaf6152771_0123456789ab", "source": "measured"}]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(j.KnownClients) != string(p.KnownClients) {
		t.Errorf("JSON %s, YAML %s", j.KnownClients, p.KnownClients)
	}
	for _, bad := range []string{
		`known_clients: {version: 1, families: [{name: chrome, extend: true, unknown_field: 1}]}`,
		`known_clients: {version: 99}`,
		`known_clients: [1, 2]`,
	} {
		p, err := policy.Parse([]byte(bad))
		if err == nil {
			err = p.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), "known_clients") && !strings.Contains(err.Error(), "line 1: expected a mapping") {
			t.Errorf("%s: error %v, want one about known_clients", bad, err)
		}
	}
}
