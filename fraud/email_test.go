package fraud_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/fraud"
)

// canonicalCase is one address and what the domain alone says about it. The table
// feeds TestCanonicalEmail, TestAnalyzeEmailOffline, the fuzz seeds and the benchmark.
//
// The cases marked "validator.js" are transcribed by hand from validatorjs/validator.js
// test/sanitizers/normalizeEmail.test.js (MIT), with Vigil's deviations applied
// (shared/reference/fraud-rules.md §1, §9): Yahoo "-keywords" stay, doubled dots are
// refused instead of collapsed, and the quoted local part is kept.
type canonicalCase struct {
	name      string
	in        string
	canonical string         // "" when invalid
	provider  fraud.Provider // by domain
	invalid   string         // the syntax code when invalid
}

var canonicalCases = []canonicalCase{
	// The acceptance lines of the issue.
	{name: "gmail_dots_tag_googlemail", in: "J.o.h.n+x@googlemail.com", canonical: "john@gmail.com", provider: fraud.ProviderGoogle},
	{name: "outlook_tag_cut_dots_kept", in: "a.b+c@outlook.com", canonical: "a.b@outlook.com", provider: fraud.ProviderMicrosoft},

	// validator.js
	{name: "vjs_icloud_me", in: "test@me.com", canonical: "test@me.com", provider: fraud.ProviderApple},
	{name: "vjs_gmail_dots", in: "some.name@gmail.com", canonical: "somename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_googlemail_mixed_case_domain", in: "some.name@googleMail.com", canonical: "somename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_gmail_tag", in: "some.name+extension@gmail.com", canonical: "somename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_googlemail_upper_tag", in: "some.Name+extension@GoogleMail.com", canonical: "somename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_gmail_many_dots", in: "some.name.middleName+extension@gmail.com", canonical: "somenamemiddlename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_gmail_dot_before_tag", in: "some.name.midd.leNa.me.+extension@GoogleMail.com", canonical: "somenamemiddlename@gmail.com", provider: fraud.ProviderGoogle},
	{name: "vjs_unknown_keeps_tag", in: "some.name+extension@unknown.com", canonical: "some.name+extension@unknown.com", provider: fraud.ProviderOther},
	{name: "vjs_gmail_double_dots_refused", in: "some.name.midd..leNa...me...+extension@GoogleMail.com", invalid: "email_local_dot"},
	{name: "vjs_gmail_double_dot_refused", in: "matthew..example@gmail.com", invalid: "email_local_dot"},
	{name: "vjs_quoted_at_sign", in: `"foo@bar"@baz.com`, canonical: `"foo@bar"@baz.com`, provider: fraud.ProviderOther},
	{name: "vjs_yandex_ya_ru", in: "test@ya.ru", canonical: "test@yandex.ru", provider: fraud.ProviderYandex},
	{name: "vjs_yandex_kz", in: "test@yandex.kz", canonical: "test@yandex.ru", provider: fraud.ProviderYandex},
	{name: "vjs_yandex_com", in: "test@yandex.com", canonical: "test@yandex.ru", provider: fraud.ProviderYandex},
	{name: "vjs_empty_local", in: "@gmail.com", invalid: "email_local_empty"},
	{name: "vjs_upper_domain", in: "test@FOO.COM", canonical: "test@foo.com", provider: fraud.ProviderOther},
	{name: "vjs_yahoo_dots_kept", in: "SOME.name@yahoo.ca", canonical: "some.name@yahoo.ca", provider: fraud.ProviderYahoo},
	{name: "vjs_outlook_ie", in: "SOME.name@outlook.ie", canonical: "some.name@outlook.ie", provider: fraud.ProviderMicrosoft},
	{name: "vjs_live_fr_tag", in: "foo+bar@live.fr", canonical: "foo@live.fr", provider: fraud.ProviderMicrosoft},
	{name: "vjs_hotmail_uk_tag", in: "foo+bar@hotmail.co.uk", canonical: "foo@hotmail.co.uk", provider: fraud.ProviderMicrosoft},
	{name: "vjs_icloud_tag", in: "foo+bar@icloud.com", canonical: "foo@icloud.com", provider: fraud.ProviderApple},
	{name: "vjs_yahoo_hyphen_kept", in: "foo-bar@yahoo.com", canonical: "foo-bar@yahoo.com", provider: fraud.ProviderYahoo},
	{name: "vjs_yahoo_plus_kept", in: "foo+bar@yahoo.com", canonical: "foo+bar@yahoo.com", provider: fraud.ProviderYahoo},
	{name: "vjs_live_ca_unknown", in: "JOHN@live.CA", canonical: "john@live.ca", provider: fraud.ProviderOther},

	// Providers of the reference table.
	{name: "apple_mac_tag", in: "Jane.Doe+shop@mac.com", canonical: "jane.doe@mac.com", provider: fraud.ProviderApple},
	{name: "proton_pm_me_folds", in: "a.b+x@pm.me", canonical: "a.b@proton.me", provider: fraud.ProviderProton},
	{name: "proton_protonmail_ch_folds", in: "Alice@protonmail.ch", canonical: "alice@proton.me", provider: fraud.ProviderProton},
	{name: "yandex_narod_tag", in: "ivan.petrov+a@narod.ru", canonical: "ivan.petrov@yandex.ru", provider: fraud.ProviderYandex},
	{name: "fastmail_tag", in: "bob+news@fastmail.fm", canonical: "bob@fastmail.fm", provider: fraud.ProviderFastmail},
	{name: "fastmail_subdomain", in: "Shop@Bob.fastmail.com", canonical: "bob@fastmail.com", provider: fraud.ProviderFastmail},
	{name: "msn_tag", in: "x+y@msn.com", canonical: "x@msn.com", provider: fraud.ProviderMicrosoft},
	{name: "outlook_dot_before_tag_keeps_tag", in: "a.+x@outlook.com", canonical: "a.+x@outlook.com", provider: fraud.ProviderMicrosoft},
	{name: "gmail_leading_plus_kept", in: "+tag@gmail.com", canonical: "+tag@gmail.com", provider: fraud.ProviderGoogle},
	{name: "other_dots_and_tag_kept", in: "J.Smith+1@Example.org", canonical: "j.smith+1@example.org", provider: fraud.ProviderOther},

	// Syntax that is accepted.
	{name: "trim_and_trailing_dot", in: "  user@Example.COM. \n", canonical: "user@example.com", provider: fraud.ProviderOther},
	{name: "quoted_dot_atom_unquoted", in: `"John.Doe"@Example.com`, canonical: "john.doe@example.com", provider: fraud.ProviderOther},
	{name: "quoted_gmail_rules_apply", in: `"j.o.h.n"@gmail.com`, canonical: "john@gmail.com", provider: fraud.ProviderGoogle},
	{name: "quoted_space_kept", in: `"John Doe"@example.com`, canonical: `"john doe"@example.com`, provider: fraud.ProviderOther},
	{name: "quoted_escaped_quote", in: `"a\"b"@example.com`, canonical: `"a\"b"@example.com`, provider: fraud.ProviderOther},
	{name: "quoted_needless_escape", in: `"a\b"@example.com`, canonical: "ab@example.com", provider: fraud.ProviderOther},
	{name: "atext_specials", in: "o'brien!#$%&*/=?^_`{|}~-@example.com", canonical: "o'brien!#$%&*/=?^_`{|}~-@example.com", provider: fraud.ProviderOther},
	{name: "utf8_local", in: "Ünïcödé@example.com", canonical: "ünïcödé@example.com", provider: fraud.ProviderOther},
	{name: "idn_domain", in: "hans@Bücher.de", canonical: "hans@xn--bcher-kva.de", provider: fraud.ProviderOther},
	{name: "idn_punycode_upper", in: "hans@XN--MNCHEN-3YA.de", canonical: "hans@xn--mnchen-3ya.de", provider: fraud.ProviderOther},
	{name: "idn_fullwidth_maps_to_gmail", in: "j.doe@ｇｍａｉｌ.com", canonical: "jdoe@gmail.com", provider: fraud.ProviderGoogle},
	{name: "local_64_octets", in: strings.Repeat("a", 64) + "@example.com", canonical: strings.Repeat("a", 64) + "@example.com", provider: fraud.ProviderOther},

	// Syntax that is refused.
	{name: "empty", in: "  ", invalid: "email_empty"},
	{name: "invalid_utf8", in: "\xff@example.com", invalid: "email_invalid_utf8"},
	{name: "no_at", in: "plainaddress", invalid: "email_no_at"},
	{name: "multiple_at", in: "a@b@example.com", invalid: "email_multiple_at"},
	{name: "leading_dot", in: ".a@example.com", invalid: "email_local_dot"},
	{name: "trailing_dot", in: "a.@example.com", invalid: "email_local_dot"},
	{name: "space_in_local", in: "a b@example.com", invalid: "email_local_char"},
	{name: "display_name", in: "John <john@example.com>", invalid: "email_local_char"},
	{name: "comment", in: "john(comment)@example.com", invalid: "email_local_char"},
	{name: "control_in_utf8_local", in: "a\u0085b@example.com", invalid: "email_local_char"},
	{name: "quote_unterminated", in: `"abc@example.com`, invalid: "email_local_quote"},
	{name: "quote_then_text", in: `"a"b@example.com`, invalid: "email_local_quote"},
	{name: "quote_control", in: "\"a\tb\"@example.com", invalid: "email_local_quote"},
	{name: "quoted_empty", in: `""@example.com`, invalid: "email_local_empty"},
	{name: "local_65_octets", in: strings.Repeat("a", 65) + "@example.com", invalid: "email_local_too_long"},
	{name: "domain_empty", in: "a@", invalid: "email_domain_empty"},
	{name: "ip_literal_v4", in: "a@[192.0.2.1]", invalid: "email_ip_literal"},
	{name: "ip_literal_v6", in: "a@[IPv6:2001:db8::1]", invalid: "email_ip_literal"},
	{name: "single_label", in: "root@localhost", invalid: "email_domain_single_label"},
	{name: "bare_ipv4", in: "a@192.0.2.1", invalid: "email_domain_numeric_tld"},
	{name: "label_leading_hyphen", in: "a@-x.com", invalid: "email_domain_label"},
	{name: "label_trailing_hyphen", in: "a@x-.com", invalid: "email_domain_label"},
	{name: "empty_label", in: "a@x..com", invalid: "email_domain_label"},
	{name: "underscore_label", in: "a@x_y.com", invalid: "email_domain_label"},
	{name: "label_64_octets", in: "a@" + strings.Repeat("b", 64) + ".com", invalid: "email_domain_label"},
	{name: "bad_punycode", in: "a@xn--zz.com", invalid: "email_domain_idna"},
	{name: "empty_punycode", in: "a@xn--.com", invalid: "email_domain_label"},
	{name: "domain_254_octets", in: "a@" + longDomain(254), invalid: "email_domain_too_long"},
	{name: "address_255_octets", in: strings.Repeat("a", 64) + "@" + longDomain(190), invalid: "email_too_long"},
}

// longDomain returns a valid host name of n octets (n ≥ 5) made of 50-octet labels.
func longDomain(n int) string {
	var b strings.Builder
	for b.Len() < n-4 {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat("x", min(50, n-4-b.Len())))
	}
	s := b.String() + ".com"
	if len(s) != n || strings.Contains(s, "..") || strings.HasSuffix(s, "..com") {
		panic("longDomain: cannot build " + s)
	}
	return s
}

func TestCanonicalEmail(t *testing.T) {
	for _, tc := range canonicalCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fraud.CanonicalEmail(tc.in)
			if ok != (tc.invalid == "") || got != tc.canonical {
				t.Errorf("CanonicalEmail(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.canonical, tc.invalid == "")
			}
		})
	}
}

func TestAnalyzeEmailOffline(t *testing.T) {
	a := offlineAnalyzer(t)
	for _, tc := range canonicalCases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.AnalyzeEmail(context.Background(), tc.in)
			got := canonicalCase{name: tc.name, in: tc.in, canonical: r.Canonical, provider: r.Provider, invalid: r.Invalid}
			if diff := cmp.Diff(tc, got, cmp.AllowUnexported(canonicalCase{})); diff != "" {
				t.Errorf("AnalyzeEmail(%q) (-want +got):\n%s", tc.in, diff)
			}
			if r.Valid != (tc.invalid == "") {
				t.Errorf("Valid = %v, want %v", r.Valid, tc.invalid == "")
			}
			if r.MX.Status != fraud.LookupSkipped {
				t.Errorf("MX.Status = %q offline, want skipped", r.MX.Status)
			}
			if !r.Valid {
				want := []string{tc.invalid}
				if r.RiskScore != 100 || !cmp.Equal(codes(r.Reasons), want) {
					t.Errorf("invalid: score %d, reasons %v; want 100, %v", r.RiskScore, codes(r.Reasons), want)
				}
				if r.Local != "" || r.Domain != "" || r.Provider != "" {
					t.Errorf("invalid report has fields set: %+v", r)
				}
			}
		})
	}
}

func offlineAnalyzer(tb testing.TB) *fraud.EmailAnalyzer {
	tb.Helper()
	a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: true})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func codes(s []fraud.Signal) []string {
	var c []string
	for _, x := range s {
		c = append(c, x.Code)
	}
	return c
}

// TestAnalyzeEmailReport checks whole reports: flags, signals and scores.
func TestAnalyzeEmailReport(t *testing.T) {
	a := offlineAnalyzer(t)
	tests := []struct {
		name  string
		in    string
		want  fraud.EmailReport
		codes []string
	}{
		{
			name: "free_with_tag",
			in:   "J.Doe+news@GMail.com",
			want: fraud.EmailReport{Input: "J.Doe+news@GMail.com", Valid: true, Local: "J.Doe+news", Domain: "gmail.com",
				Canonical: "jdoe@gmail.com", Provider: fraud.ProviderGoogle, Free: true, MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_subaddress", "email_free"},
		},
		{
			name: "disposable",
			in:   "bot@mailinator.com",
			want: fraud.EmailReport{Input: "bot@mailinator.com", Valid: true, Local: "bot", Domain: "mailinator.com",
				Canonical: "bot@mailinator.com", Provider: fraud.ProviderOther, Disposable: true, RiskScore: 80,
				MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_disposable"},
		},
		{
			name: "role_with_tag",
			in:   "Support+billing@example.com",
			want: fraud.EmailReport{Input: "Support+billing@example.com", Valid: true, Local: "Support+billing", Domain: "example.com",
				Canonical: "support+billing@example.com", Provider: fraud.ProviderOther, Role: true, RiskScore: 20,
				MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_role", "email_subaddress"},
		},
		{
			name: "quoted_utf8_role_disposable_capped",
			in:   `"no reply ü"@mailinator.com`,
			want: fraud.EmailReport{Input: `"no reply ü"@mailinator.com`, Valid: true, Local: `"no reply ü"`, Domain: "mailinator.com",
				Canonical: `"no reply ü"@mailinator.com`, Provider: fraud.ProviderOther, Disposable: true, RiskScore: 100,
				MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_quoted_local", "email_utf8_local", "email_disposable"},
		},
		{
			name: "allowlisted_free",
			in:   "li.lei@163.com",
			want: fraud.EmailReport{Input: "li.lei@163.com", Valid: true, Local: "li.lei", Domain: "163.com",
				Canonical: "li.lei@163.com", Provider: fraud.ProviderOther, Free: true, MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_free"},
		},
		{
			name:  "invalid",
			in:    "a@b@c.com",
			want:  fraud.EmailReport{Input: "a@b@c.com", Invalid: "email_multiple_at", RiskScore: 100, MX: fraud.MXResult{Status: fraud.LookupSkipped}},
			codes: []string{"email_multiple_at"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := a.AnalyzeEmail(context.Background(), tc.in)
			if diff := cmp.Diff(tc.codes, codes(got.Reasons)); diff != "" {
				t.Errorf("reason codes (-want +got):\n%s", diff)
			}
			sum := 0
			for _, r := range got.Reasons {
				sum += r.Score
				if r.Detail == "" {
					t.Errorf("reason %s has no detail", r.Code)
				}
			}
			if got.RiskScore != min(sum, 100) {
				t.Errorf("RiskScore %d is not the capped sum %d of the reasons", got.RiskScore, sum)
			}
			got.Reasons = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmailReportJSON pins the JSON field names, which callers store and ship.
func TestEmailReportJSON(t *testing.T) {
	r := offlineAnalyzer(t).AnalyzeEmail(context.Background(), "a+b@gmail.com")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"canonical", "disposable", "domain", "free", "input", "local", "mx", "provider", "reasons", "risk_score", "role", "valid"}
	slices.Sort(keys)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("JSON keys (-want +got):\n%s\n%s", diff, b)
	}
	reason := m["reasons"].([]any)[0].(map[string]any)
	if _, ok := reason["code"]; !ok || len(reason) != 3 {
		t.Errorf("a reason is %v, want code, score and detail", reason)
	}
}

// TestZeroAnalyzer checks that the zero EmailAnalyzer works like a configured one.
func TestZeroAnalyzer(t *testing.T) {
	var a fraud.EmailAnalyzer
	if err := a.AddDisposable("burner.example"); err != nil {
		t.Fatal(err)
	}
	// An invalid address needs no DNS, so the test does not touch the network.
	if r := a.AnalyzeEmail(context.Background(), "nope"); r.Valid || r.Invalid != "email_no_at" {
		t.Errorf("zero analyzer: %+v", r)
	}
}

func TestNewEmailAnalyzerErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  fraud.EmailConfig
	}{
		{"negative_timeout", fraud.EmailConfig{LookupTimeout: -1}},
		{"negative_ttl", fraud.EmailConfig{NegativeTTL: -1}},
		{"negative_cache_size", fraud.EmailConfig{CacheSize: -1}},
		{"invalid_disposable_domain", fraud.EmailConfig{Disposable: []string{"not a domain"}}},
		{"invalid_allowed_domain", fraud.EmailConfig{Allow: []string{"-bad-.com"}}},
		{"single_label_domain", fraud.EmailConfig{Allow: []string{"localhost"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := fraud.NewEmailAnalyzer(tc.cfg); err == nil {
				t.Error("NewEmailAnalyzer succeeded, want an error")
			}
		})
	}
}

// TestAnalyzeEmailConcurrent runs analyses while the lists change, for the race
// detector, and checks that every analysis sees a consistent list.
func TestAnalyzeEmailConcurrent(t *testing.T) {
	a := offlineAnalyzer(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				r := a.AnalyzeEmail(context.Background(), "x@mailinator.com")
				if !r.Valid {
					t.Errorf("goroutine %d, %d: invalid", i, j)
					return
				}
			}
		})
	}
	for j := range 50 {
		if err := a.AddDisposable("d" + string(rune('a'+j%26)) + ".example"); err != nil {
			t.Error(err)
		}
	}
	if err := a.AllowDomains("mailinator.com"); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if r := a.AnalyzeEmail(context.Background(), "x@mailinator.com"); r.Disposable {
		t.Error("mailinator.com allowed at run time is still disposable")
	}
	if r := a.AnalyzeEmail(context.Background(), "x@dz.example"); !r.Disposable {
		t.Error("dz.example added at run time is not disposable")
	}
}
