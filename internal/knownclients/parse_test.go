package knownclients_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// small is a complete table in the data format, used by the parsing and merging
// tests. Its values are fictitious except where they copy the embedded data.
const small = `{
  "version": 1,
  "revision": "test.1",
  "stacks": [
    {"name": "boringssl", "source": "test", "ja4b": [{"value": "8daaf6152771", "source": "test"}]},
    {"name": "openssl", "source": "test", "ja4b": [{"value": "e8f1e7e78f70", "source": "test"}]}
  ],
  "families": [
    {"name": "chrome", "kind": "browser", "source": "test", "stacks": ["boringssl"], "alpn": ["h2"],
     "ja4": [{"value": "t13d1516h2_8daaf6152771_02713d6af862", "source": "test"}],
     "h2": [{"pseudo": "m,a,s,p", "source": "test"}],
     "headers": [{"proto": "h1", "request": "navigation", "case": "title", "binding": true,
                  "names": ["Host", "Connection", "User-Agent"], "source": "test"}]},
    {"name": "edge", "kind": "browser", "source": "test", "like": "chrome"},
    {"name": "curl", "kind": "library", "source": "test", "stacks": ["openssl"],
     "ja4": [{"value": "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6", "source": "test"}]}
  ]
}`

// edit returns small with old replaced by new, failing the test when old is absent.
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	if !strings.Contains(small, old) {
		t.Fatalf("small has no %q", old)
	}
	return []byte(strings.Replace(small, old, new, 1))
}

func TestParseSmall(t *testing.T) {
	tb, err := knownclients.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Revision(); got != "test.1" {
		t.Errorf("Revision = %q", got)
	}
	if diff := cmp.Diff([]string{"chrome", "edge", "curl"}, tb.Families()); diff != "" {
		t.Errorf("Families (-want +got):\n%s", diff)
	}
	got, ok := tb.Family("edge")
	want := knownclients.Family{Name: "edge", Kind: knownclients.KindBrowser, Group: "chrome", Stacks: []string{"boringssl"}, ALPN: []string{"h2"}}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("Family(edge) (-want +got):\n%s", diff)
	}
	if _, ok := tb.Family("firefox"); ok {
		t.Error("Family(firefox) found")
	}
}

// TestParseRejects checks that Parse refuses malformed data and says where the fault is.
func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown_top_level_field", `"revision"`, `"revison": "x", "revision"`, `unknown field "revison"`},
		{"unknown_family_field", `"name": "curl", "kind"`, `"name": "curl", "ja4s": [], "kind"`, `families[2] ("curl"): json: unknown field "ja4s"`},
		{"unknown_evidence_field", `{"pseudo": "m,a,s,p", "source": "test"}`, `{"pseudo": "m,a,s,p", "source": "test", "weight": 1}`, `families[0] ("chrome"): json: unknown field "weight"`},
		{"unknown_stack_field", `{"name": "openssl", "source"`, `{"name": "openssl", "version": "3", "source"`, `stacks[1]: json: unknown field "version"`},
		{"missing_version", `"version": 1,`, ``, `missing "version"`},
		{"future_version", `"version": 1,`, `"version": 2,`, `unsupported version 2 (this build reads version 1)`},
		{"version_zero", `"version": 1,`, `"version": 0,`, `unsupported version 0`},
		{"trailing_data", `"test.1",`, `"test.1",`, ``}, // replaced below
		{"bad_kind", `"kind": "library"`, `"kind": "bot"`, `family "curl": kind "bot"`},
		{"missing_source", `{"name": "edge", "kind": "browser", "source": "test",`, `{"name": "edge", "kind": "browser",`, `family "edge": missing source`},
		{"evidence_without_source", `{"pseudo": "m,a,s,p", "source": "test"}`, `{"pseudo": "m,a,s,p"}`, `family "chrome": h2[0]: missing source`},
		{"undefined_stack", `"stacks": ["openssl"]`, `"stacks": ["libressl"]`, `family "curl": stack "libressl" is not defined`},
		{"undefined_like", `"like": "chrome"`, `"like": "chromium"`, `family "edge": like "chromium": no such other family`},
		{"like_cycle", `"source": "test", "stacks": ["boringssl"], "alpn"`, `"source": "test", "like": "edge", "stacks": ["boringssl"], "alpn"`, `is a cycle`},
		{"duplicate_family", `{"name": "edge",`, `{"name": "curl",`, `family "curl": defined twice`},
		{"bad_name", `{"name": "edge",`, `{"name": "Edge",`, `family "Edge": a name is lowercase`},
		{"bad_ja4", `t13d3112h2_e8f1e7e78f70_b26ce05bbdd6`, `t13d3112h2_e8f1e7e78f70`, `family "curl": ja4 "t13d3112h2_e8f1e7e78f70": want a_b_c`},
		{"ja4_of_another_stack", `t13d3112h2_e8f1e7e78f70_b26ce05bbdd6`, `t13d3112h2_8daaf6152771_b26ce05bbdd6`, `cipher hash 8daaf6152771 is not a ja4b of the family's stacks (openssl)`},
		{"duplicate_ja4b", `{"value": "e8f1e7e78f70"`, `{"value": "8daaf6152771"`, `ja4b "8daaf6152771" is already stack "boringssl"'s`},
		{"bad_ja4b", `{"value": "e8f1e7e78f70"`, `{"value": "E8F1E7E78F70"`, `want 12 lowercase hex digits`},
		{"bad_pseudo", `"pseudo": "m,a,s,p"`, `"pseudo": "m,a,x,p"`, `pseudo "m,a,x,p"`},
		{"repeated_pseudo", `"pseudo": "m,a,s,p"`, `"pseudo": "m,a,m,p"`, `pseudo "m,a,m,p"`},
		{"bad_akamai", `{"pseudo": "m,a,s,p", "source": "test"}`, `{"akamai": "1:65536|0|m,a,s,p", "source": "test"}`, `akamai "1:65536|0|m,a,s,p": want S|WU|P|PS`},
		{"akamai_pseudo_mismatch", `{"pseudo": "m,a,s,p", "source": "test"}`, `{"akamai": "1:65536|15663105|0|m,a,s,p", "pseudo": "m,p,a,s", "source": "test"}`, `differs from the akamai string's`},
		{"bad_alpn", `"alpn": ["h2"]`, `"alpn": ["http/1.1"]`, `alpn "http/1.1"`},
		{"case_mismatch", `"case": "title"`, `"case": "lower"`, `case "lower": the names are "title"`},
		{"optional_not_a_name", `"names": ["Host", "Connection", "User-Agent"]`, `"names": ["Host", "Connection", "User-Agent"], "optional": ["user-agent"]`, `optional "user-agent" is not one of the names`},
		{"all_optional", `"names": ["Host", "Connection", "User-Agent"]`, `"names": ["Host"], "optional": ["Host"]`, `every name is optional`},
		{"h2_uppercase", `"proto": "h1", "request": "navigation", "case": "title"`, `"proto": "h2", "request": "navigation", "case": "title"`, `HTTP/2 names are lowercase`},
		{"bad_request_kind", `"request": "navigation"`, `"request": "xhr"`, `request "xhr"`},
		{"duplicate_header", `"names": ["Host", "Connection", "User-Agent"]`, `"names": ["Host", "Connection", "host"]`, `name "host" listed twice`},
		{"extend_in_parse", `{"name": "edge", "kind": "browser",`, `{"name": "edge", "extend": true, "kind": "browser",`, `extend is only valid in an overlay`},
		{"platform_to_unknown_family", `"alpn": ["h2"],`, `"alpn": ["h2"], "platforms": {"ios": "safari"},`, `platform "ios": family "safari" is not defined`},
		{"not_json", `"version": 1,`, `"version": 1,,`, `invalid character`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := edit(t, tc.old, tc.new)
			want := tc.want
			if tc.name == "trailing_data" {
				data, want = append([]byte(small), " {}"...), "data after the top-level value"
			}
			tb, err := knownclients.Parse(data)
			if err == nil {
				t.Fatalf("Parse succeeded: %v", tb.Families())
			}
			if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "knownclients: ") {
				t.Errorf("error %q, want it to start with knownclients: and contain %q", err, want)
			}
		})
	}
}

// TestMerge checks that an overlay replaces, extends and adds entries, leaves the base
// table as it was, and is validated against the base.
func TestMerge(t *testing.T) {
	base, err := knownclients.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	const newJA4 = "t13d1517h2_8daaf6152771_cb7bf5808d99"
	overlay := `{"version": 1, "revision": "policy.7",
	  "stacks": [{"name": "go", "source": "policy", "ja4b": [{"value": "f57a46bbacb6", "source": "policy"}]},
	             {"name": "openssl", "extend": true, "source": "policy", "ja4b": [{"value": "0123456789ab", "source": "policy"}]}],
	  "families": [
	    {"name": "chrome", "extend": true, "source": "policy", "ja4": [{"value": "` + newJA4 + `", "source": "policy"}]},
	    {"name": "curl", "kind": "automation", "source": "policy", "stacks": ["openssl"]},
	    {"name": "go", "kind": "library", "source": "policy", "stacks": ["go"],
	     "ja4": [{"value": "t13d1312h2_f57a46bbacb6_ab7e3b40a677", "source": "policy"}]}
	  ]}`
	merged, err := base.Merge([]byte(overlay))
	if err != nil {
		t.Fatal(err)
	}
	if got := merged.Revision(); got != "test.1+policy.7" {
		t.Errorf("Revision = %q", got)
	}
	// Extended: the new value is chrome's and, through like, edge's.
	if got, _ := families(merged.ByJA4(newJA4)); !cmp.Equal(got, []string{"chrome", "edge"}) {
		t.Errorf("merged ByJA4(new chrome value) = %v", got)
	}
	if got, _ := families(merged.ByJA4("t13d1516h2_8daaf6152771_02713d6af862")); !cmp.Equal(got, []string{"chrome", "edge"}) {
		t.Errorf("merged ByJA4(old chrome value) = %v, want it kept", got)
	}
	if got := merged.ByJA4B("0123456789ab"); len(got) != 1 || got[0].Family != "curl" {
		t.Errorf("merged ByJA4B(extended openssl) = %v", got)
	}
	// Replaced as a whole: curl's kind changed and its JA4 is gone.
	if f, _ := merged.Family("curl"); f.Kind != knownclients.KindAutomation {
		t.Errorf("merged curl kind = %q", f.Kind)
	}
	if got := merged.ByJA4("t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"); got != nil {
		t.Errorf("merged ByJA4(replaced curl value) = %v, want nil", got)
	}
	// Added.
	if got, _ := families(merged.ByJA4("t13d1312h2_f57a46bbacb6_ab7e3b40a677")); !cmp.Equal(got, []string{"go"}) {
		t.Errorf("merged ByJA4(go) = %v", got)
	}
	// The base is unchanged.
	if got := base.ByJA4(newJA4); got != nil {
		t.Errorf("base ByJA4(new) = %v after Merge", got)
	}
	if f, _ := base.Family("curl"); f.Kind != knownclients.KindLibrary {
		t.Errorf("base curl kind = %q after Merge", f.Kind)
	}
	if _, ok := base.Family("go"); ok {
		t.Error("base has go after Merge")
	}
}

func TestMergeRejects(t *testing.T) {
	base, err := knownclients.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, overlay, want string }{
		{"extend_unknown_family", `{"version": 1, "families": [{"name": "safari", "extend": true, "source": "p"}]}`, `family "safari" extends a family the table does not have`},
		{"extend_changes_kind", `{"version": 1, "families": [{"name": "chrome", "extend": true, "kind": "library", "source": "p"}]}`, `may only add ja4, h2 and headers entries`},
		{"extend_unknown_stack", `{"version": 1, "stacks": [{"name": "nss", "extend": true, "source": "p"}]}`, `stack "nss" extends a stack the table does not have`},
		{"reference_checked_after_merge", `{"version": 1, "families": [{"name": "brave", "kind": "browser", "source": "p", "like": "chromium"}]}`, `merge: family "brave": like "chromium"`},
		{"value_checked_after_merge", `{"version": 1, "families": [{"name": "chrome", "extend": true, "source": "p", "ja4": [{"value": "t13d1516h2_e8f1e7e78f70_02713d6af862", "source": "p"}]}]}`, `cipher hash e8f1e7e78f70 is not a ja4b of the family's stacks (boringssl)`},
		{"duplicate_after_extend", `{"version": 1, "families": [{"name": "chrome", "extend": true, "source": "p", "ja4": [{"value": "t13d1516h2_8daaf6152771_02713d6af862", "source": "p"}]}]}`, `listed twice`},
		{"strict_overlay", `{"version": 1, "familes": []}`, `overlay: json: unknown field "familes"`},
		{"overlay_version", `{"version": 3}`, `overlay: unsupported version 3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := base.Merge([]byte(tc.overlay))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Merge error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMergeOverEmpty checks that a zero Table is empty and takes an overlay like Parse.
func TestMergeOverEmpty(t *testing.T) {
	var zero knownclients.Table
	if zero.ByJA4("t13d1516h2_8daaf6152771_02713d6af862") != nil || len(zero.Families()) != 0 {
		t.Error("zero Table is not empty")
	}
	if a := zero.Compare(knownclients.Claim{Family: "chrome"}, knownclients.Evidence{JA4B: "8daaf6152771"}); a.Verdict != knownclients.VerdictUnknown {
		t.Errorf("zero Table Compare = %v", a.Verdict)
	}
	var nilTable *knownclients.Table
	if nilTable.ByH2("1:1|1|0|m,a,s,p", "") != nil || nilTable.ByHeaderOrder("h1", []string{"Host"}) != nil {
		t.Error("nil Table found something")
	}
	tb, err := nilTable.Merge([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := families(tb.ByJA4("t13d1516h2_8daaf6152771_02713d6af862")); !cmp.Equal(got, []string{"chrome", "edge"}) {
		t.Errorf("ByJA4 after Merge over nil = %v", got)
	}
}

// TestEmbeddedData checks the embedded table: it parses, every family it lists and
// every upstream repository its sources name are in the NOTICE.
func TestEmbeddedData(t *testing.T) {
	tb := knownclients.Default()
	if tb != knownclients.Default() {
		t.Error("Default returns different tables")
	}
	if tb.Revision() == "" {
		t.Error("no revision")
	}
	for _, want := range []string{
		"chrome", "edge", "firefox", "safari", "opera", "brave", "headless-chrome", "curl", "wget",
		"python-requests", "python-urllib", "go", "node-undici", "node-https", "okhttp", "java",
	} {
		if _, ok := tb.Family(want); !ok {
			t.Errorf("no family %q", want)
		}
	}
	notice := knownclients.Notice()
	for _, repo := range []string{"FoxIO-LLC/ja4", "lwthiker/curl-impersonate", "apify/fingerprint-suite", "wi1dcard/fingerproxy"} {
		if !strings.Contains(notice, repo) {
			t.Errorf("NOTICE does not name %s", repo)
		}
	}
	for _, licence := range []string{"Copyright (c) 2023 FoxIO", "Copyright (c) 2022 lwthiker", "Apache License 2.0"} {
		if !strings.Contains(notice, licence) {
			t.Errorf("NOTICE lacks %q", licence)
		}
	}
}
