package knownclients_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/knownclients"
)

func TestByH2(t *testing.T) {
	tb := knownclients.Default()
	tests := []struct {
		name           string
		akamai, pseudo string
		want           []string
		conf           knownclients.Confidence
	}{
		{"chrome_exact", chromeAkamai, "", chromiumFamilies, knownclients.ConfidenceH2},
		{"chrome_grease_setting_ignored", chromeGREASE, "", chromiumFamilies, knownclients.ConfidenceH2},
		{"chrome_grease_setting_first", "2570:0;1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p", "", chromiumFamilies, knownclients.ConfidenceH2},
		{"priority_field_ignored", "1:65536;2:0;4:6291456;6:262144|15663105|1:1:0:256|m,a,s,p", "", chromiumFamilies, knownclients.ConfidenceH2},
		{"firefox_settings_and_pseudo", "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s", "", []string{"firefox"}, knownclients.ConfidenceH2},
		{"settings_only_when_pseudo_differs", goAkamai[:len(goAkamai)-7] + "m,a,s,p", "", []string{"go"}, knownclients.ConfidenceH2Settings},
		{"pseudo_argument_overrides", curlAkamai, "m,p,s,a", []string{"curl"}, knownclients.ConfidenceH2},
		{"pseudo_only", "", "m,p,a,s", []string{"firefox"}, knownclients.ConfidenceH2Pseudo},
		{"safari_newer_pseudo", "", "m,s,a,p", []string{"safari"}, knownclients.ConfidenceH2Pseudo},
		{"unknown_settings_known_pseudo", "1:4096|65535|0|m,a,s,p", "", chromiumFamilies, knownclients.ConfidenceH2Pseudo},
		{"non_grease_unknown_id_kept", "1:65536;2:0;4:6291456;6:262144;9:1|15663105|0|p,s,m,a", "", nil, 0},
		{"malformed", "not|an akamai string", "", nil, 0},
		{"empty", "", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := tb.ByH2(tc.akamai, tc.pseudo)
			got, confs := families(ms)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("families (-want +got):\n%s", diff)
			}
			for _, c := range confs {
				if c != tc.conf {
					t.Errorf("confidence %v, want %v", c, tc.conf)
				}
			}
		})
	}
}

var chromiumFamilies = []string{"chrome", "edge", "opera", "brave", "headless-chrome"}

// TestByHeaderOrderTolerance pins the tolerance rules on Chrome's HTTP/1.1 navigation
// template and the libraries' templates.
func TestByHeaderOrderTolerance(t *testing.T) {
	tb := knownclients.Default()
	tests := []struct {
		name  string
		proto string
		names string
		want  []string
		conf  knownclients.Confidence
	}{
		{"exact", "h1", chromeH1Headers, chromiumFamilies, knownclients.ConfidenceHeaderExact},
		{"optional_absent", "h1", "Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Accept-Encoding,Accept-Language", chromiumFamilies, knownclients.ConfidenceHeaderTolerant},
		{"six_inserted", "h1", "Host,Connection,Pragma,Cache-Control,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language,Cookie,If-None-Match,If-Modified-Since", chromiumFamilies, knownclients.ConfidenceHeaderTolerant},
		{"seven_inserted", "h1", "Host,Connection,Pragma,Cache-Control,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language,Cookie,If-None-Match,If-Modified-Since,X-Extra", nil, 0},
		{"core_name_absent", "h1", "Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding", nil, 0},
		{"two_names_swapped", "h1", "Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,Accept,User-Agent,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language", nil, 0},
		{"title_case_client_hints", "h1", "Host,Connection,Sec-Ch-Ua,Sec-Ch-Ua-Mobile,Sec-Ch-Ua-Platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language", nil, 0},
		{"all_lowercase_over_h1", "h1", "host,connection,upgrade-insecure-requests,user-agent,accept,accept-encoding,accept-language", nil, 0},
		{"repeated_name", "h1", "Host,Connection,Upgrade-Insecure-Requests,User-Agent,Accept,Accept,Accept-Encoding,Accept-Language", nil, 0},
		{"library_exact_wins_over_tolerant", "h1", "Host,User-Agent,Accept,Accept-Encoding,Connection", []string{"wget"}, knownclients.ConfidenceHeaderExact},
		{"cheapest_tolerant_wins", "h1", "Host,User-Agent,Accept-Encoding,Accept,Connection,Authorization", []string{"python-requests"}, knownclients.ConfidenceHeaderTolerant},
		{"undici_lowercase", "h1", "host,connection,accept,accept-language,sec-fetch-mode,user-agent,accept-encoding", []string{"node-undici"}, knownclients.ConfidenceHeaderExact},
		{"h2_pseudo_headers_ignored", "h2", ":method,:authority,:scheme,:path," + chromeH2Headers, chromiumFamilies, knownclients.ConfidenceHeaderExact},
		{"wrong_protocol", "h2", chromeH1Headers, nil, 0},
		{"unknown_protocol", "h3", chromeH1Headers, nil, 0},
		{"nothing_sent", "h1", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			if tc.names != "" {
				names = split(tc.names)
			}
			got, confs := families(tb.ByHeaderOrder(tc.proto, names))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("families (-want +got):\n%s", diff)
			}
			for _, c := range confs {
				if c != tc.conf {
					t.Errorf("confidence %v, want %v", c, tc.conf)
				}
			}
		})
	}
}

func TestByHeaderOrderRequestKind(t *testing.T) {
	tb := knownclients.Default()
	ms := tb.ByHeaderOrder("h1", split(chromeH1Headers))
	if len(ms) == 0 || ms[0].Request != knownclients.RequestNavigation {
		t.Errorf("Chrome h1 match %v, want request kind navigation", ms)
	}
	ms = tb.ByHeaderOrder("h1", []string{"Host", "User-Agent", "Accept"})
	if len(ms) != 1 || ms[0].Request != knownclients.RequestAny || ms[0].Stack != "openssl" {
		t.Errorf("curl h1 match %v, want request kind any on openssl", ms)
	}
}

func TestCaseOf(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  knownclients.CaseStyle
	}{
		{"none", nil, ""},
		{"lower", []string{"host", "user-agent", "sec-ch-ua"}, knownclients.CaseLower},
		{"title", []string{"Host", "User-Agent", "X-Forwarded-For"}, knownclients.CaseTitle},
		{"chrome_mixed", []string{"Host", "Connection", "sec-ch-ua"}, knownclients.CaseMixed},
		{"acronym_is_mixed", []string{"Host", "TE"}, knownclients.CaseMixed},
		{"inner_capital_is_mixed", []string{"WWW-Authenticate"}, knownclients.CaseMixed},
		{"digits_count_as_both", []string{"x-1", "X-1"}, knownclients.CaseMixed},
		{"digits_only", []string{"123"}, knownclients.CaseLower},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := knownclients.CaseOf(tc.names); got != tc.want {
				t.Errorf("CaseOf(%q) = %q, want %q", tc.names, got, tc.want)
			}
		})
	}
}

// TestFamilyLookup checks that forks inherit Chrome's stack and platforms.
func TestFamilyLookup(t *testing.T) {
	tb := knownclients.Default()
	got, ok := tb.Family("brave")
	if !ok {
		t.Fatal("no brave")
	}
	want := knownclients.Family{
		Name: "brave", Kind: knownclients.KindBrowser, Description: "Brave (Chromium)", Group: "chrome",
		Stacks: []string{"boringssl"}, ALPN: []string{"h2"}, Platforms: map[string]string{"ios": "safari"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Family(brave) (-want +got):\n%s", diff)
	}
	if f, _ := tb.Family("headless-chrome"); f.Kind != knownclients.KindAutomation || f.Group != "chrome" {
		t.Errorf("Family(headless-chrome) = %+v", f)
	}
	if f, _ := tb.Family("okhttp"); !cmp.Equal(f.Stacks, []string{"conscrypt", "jsse"}) {
		t.Errorf("Family(okhttp).Stacks = %v", f.Stacks)
	}
}

// TestByHeaderOrderTie checks that templates of different families tying at the lowest
// cost are all returned.
func TestByHeaderOrderTie(t *testing.T) {
	tb, err := knownclients.Parse([]byte(`{"version": 1, "families": [
	  {"name": "a", "kind": "library", "source": "test", "headers": [
	    {"proto": "h1", "request": "any", "case": "title", "binding": true, "names": ["Host", "X-A"], "source": "test"}]},
	  {"name": "b", "kind": "library", "source": "test", "headers": [
	    {"proto": "h1", "request": "any", "case": "title", "binding": true, "names": ["Host", "X-B"], "source": "test"}]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, confs := families(tb.ByHeaderOrder("h1", []string{"Host", "X-A", "X-B"}))
	if !cmp.Equal(got, []string{"a", "b"}) || confs[0] != knownclients.ConfidenceHeaderTolerant {
		t.Errorf("tie: %v %v, want a and b tolerantly", got, confs)
	}
	got, _ = families(tb.ByHeaderOrder("h1", []string{"Host", "X-B"}))
	if !cmp.Equal(got, []string{"b"}) {
		t.Errorf("exact: %v, want b", got)
	}
}

// TestConcurrentUse runs lookups and Compare from several goroutines on the default
// table, for the race detector.
func TestConcurrentUse(t *testing.T) {
	tb := knownclients.Default()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, tc := range compareCases {
				knownclients.Default().Compare(tc.claim, tc.ev)
				tb.ByJA4(tc.ev.JA4)
				tb.ByH2(tc.ev.Akamai, tc.ev.PseudoOrder)
				tb.ByHeaderOrder(tc.ev.Proto, tc.ev.HeaderNames)
			}
		}()
	}
	for range 4 {
		<-done
	}
}
