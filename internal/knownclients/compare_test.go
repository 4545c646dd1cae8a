package knownclients_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// Evidence values used by the comparison cases. Each is copied from fingerprinting.md
// or the shared data, not from the table.
const (
	chromeJA4       = "t13d1516h2_8daaf6152771_d8a2da3f94cd" // Chrome 136 (§10)
	chromeResumed   = "t13d1517h2_8daaf6152771_0123456789ab" // BoringSSL cipher hash, an unlisted JA4_c
	chromeAkamai    = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"
	chromeGREASE    = "1:65536;2:0;4:6291456;6:262144;31386:1|15663105|0|m,a,s,p" // 31386 = 0x7a9a
	curlJA4         = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
	curlAkamai      = "3:100;4:33554432;2:0|33488897|0|m,p,s,a"
	goAkamai        = "2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s"
	goJA4           = "t13d1312h2_f57a46bbacb6_ab7e3b40a677"
	safariJA4       = "t13d2014h2_a09f3c656075_14788d8d241b"
	firefoxJA4      = "t13d1717h2_5b57614c22b0_3cbfd9057e0d"
	requestsJA4     = "t13d1812h1_85036bcba153_b26ce05bbdd6"
	unknownJA4      = "t13d1516h2_0123456789ab_0123456789ab"
	chromeH1Headers = "Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language"
	chromeH2Headers = "sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,upgrade-insecure-requests,user-agent,accept,sec-fetch-site,sec-fetch-mode,sec-fetch-user,sec-fetch-dest,accept-encoding,accept-language,priority"
)

func split(s string) []string { return strings.Split(s, ",") }

// layer is the part of a LayerResult the cases pin.
type layer struct {
	Status knownclients.Status
	Rule   knownclients.Rule
}

var (
	unknown   = layer{knownclients.StatusUnknown, knownclients.RuleNoEvidence}
	notInData = layer{knownclients.StatusUnknown, knownclients.RuleNotInTable}
)

func agree(r knownclients.Rule) layer    { return layer{knownclients.StatusAgree, r} }
func disagree(r knownclients.Rule) layer { return layer{knownclients.StatusDisagree, r} }

type compareCase struct {
	name     string
	claim    knownclients.Claim
	ev       knownclients.Evidence
	verdict  knownclients.Verdict
	expected string   // Assessment.Expected
	layers   [3]layer // tls, h2, headers
}

var compareCases = []compareCase{
	{
		name:    "chrome_ua_chrome_stack_chrome_pseudo_order",
		claim:   knownclients.Claim{Family: "chrome", OS: "windows"},
		ev:      knownclients.Evidence{JA4B: "8daaf6152771", PseudoOrder: "m,a,s,p"},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4B), agree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:  "chrome_ua_all_layers_chrome",
		claim: knownclients.Claim{Family: "chrome", OS: "windows"},
		ev: knownclients.Evidence{JA4: chromeJA4, Akamai: chromeAkamai, Proto: "h2",
			HeaderNames: split(":method,:authority,:scheme,:path," + chromeH2Headers), RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4), agree(knownclients.RuleH2), agree(knownclients.RuleHeaderExact)},
	},
	{
		name:    "chrome_ua_resumed_handshake_new_ja4_same_stack",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4: chromeResumed},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4B), unknown, unknown},
	},
	{
		name:    "chrome_ua_grease_settings_ignored",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{Akamai: chromeGREASE},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{unknown, agree(knownclients.RuleH2), unknown},
	},
	{
		name:  "curl_with_chrome_ua",
		claim: knownclients.Claim{Family: "chrome", OS: "windows"},
		ev: knownclients.Evidence{JA4: curlJA4, Akamai: curlAkamai, Proto: "h2",
			HeaderNames: []string{":method", ":path", ":scheme", ":authority", "user-agent", "accept"}},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{disagree(knownclients.RuleJA4B), disagree(knownclients.RuleH2Settings), disagree(knownclients.RuleHeaderOther)},
	},
	{
		name:    "chrome_ua_curl_stack_only",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4B: "e8f1e7e78f70"},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{disagree(knownclients.RuleJA4B), unknown, unknown},
	},
	{
		name:    "chrome_tls_with_go_h2",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4: chromeJA4, Akamai: goAkamai},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4), disagree(knownclients.RuleH2Settings), unknown},
	},
	{
		name:    "chrome_ua_go_pseudo_order",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4B: "8daaf6152771", PseudoOrder: "a,m,p,s"},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4B), disagree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:  "chrome_ua_go_client",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{JA4: goJA4, Akamai: goAkamai, Proto: "h2",
			HeaderNames: []string{":authority", ":method", ":path", ":scheme", "accept-encoding", "user-agent"}},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{disagree(knownclients.RuleJA4B), disagree(knownclients.RuleH2Settings), disagree(knownclients.RuleHeaderOther)},
	},
	{
		name:  "crios_ua_safari_stack",
		claim: knownclients.Claim{Family: "chrome", OS: "ios"},
		ev: knownclients.Evidence{JA4: safariJA4, PseudoOrder: "m,s,p,a", Proto: "h2",
			HeaderNames: []string{"user-agent", "accept", "accept-language", "accept-encoding"}},
		verdict: knownclients.VerdictConsistent, expected: "safari",
		layers: [3]layer{agree(knownclients.RuleJA4), agree(knownclients.RuleH2Pseudo), agree(knownclients.RuleHeaderExact)},
	},
	{
		name:    "crios_ua_newer_safari_pseudo_order",
		claim:   knownclients.Claim{Family: "chrome", OS: "ios"},
		ev:      knownclients.Evidence{JA4B: "a09f3c656075", PseudoOrder: "m,s,a,p"},
		verdict: knownclients.VerdictConsistent, expected: "safari",
		layers: [3]layer{agree(knownclients.RuleJA4B), agree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:    "crios_ua_with_boringssl_is_not_ios",
		claim:   knownclients.Claim{Family: "chrome", OS: "ios"},
		ev:      knownclients.Evidence{JA4: chromeJA4, PseudoOrder: "m,a,s,p"},
		verdict: knownclients.VerdictInconsistent, expected: "safari",
		layers: [3]layer{disagree(knownclients.RuleJA4B), disagree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:    "fxios_ua_safari_stack",
		claim:   knownclients.Claim{Family: "firefox", OS: "ios"},
		ev:      knownclients.Evidence{JA4: safariJA4},
		verdict: knownclients.VerdictConsistent, expected: "safari",
		layers: [3]layer{agree(knownclients.RuleJA4), unknown, unknown},
	},
	{
		name:    "edge_ua_chrome_stack",
		claim:   knownclients.Claim{Family: "edge", OS: "windows"},
		ev:      knownclients.Evidence{JA4: chromeJA4, Akamai: chromeAkamai},
		verdict: knownclients.VerdictConsistent, expected: "edge",
		layers: [3]layer{agree(knownclients.RuleJA4), agree(knownclients.RuleH2), unknown},
	},
	{
		name:    "opera_ua_chrome_stack",
		claim:   knownclients.Claim{Family: "opera"},
		ev:      knownclients.Evidence{JA4: chromeResumed, PseudoOrder: "m,a,s,p"},
		verdict: knownclients.VerdictConsistent, expected: "opera",
		layers: [3]layer{agree(knownclients.RuleJA4B), agree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:  "brave_ua_chrome_stack_and_headers",
		claim: knownclients.Claim{Family: "brave"},
		ev: knownclients.Evidence{JA4: chromeJA4, Proto: "h1", HeaderNames: split(chromeH1Headers),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "brave",
		layers: [3]layer{agree(knownclients.RuleJA4), unknown, agree(knownclients.RuleHeaderExact)},
	},
	{
		name:  "headless_chrome_ua_chrome_stack",
		claim: knownclients.Claim{Family: "headless-chrome", OS: "linux"},
		ev: knownclients.Evidence{JA4: "t13d1517h2_8daaf6152771_cb7bf5808d99", Akamai: chromeAkamai, Proto: "h2",
			HeaderNames: split(chromeH2Headers), RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "headless-chrome",
		layers: [3]layer{agree(knownclients.RuleJA4), agree(knownclients.RuleH2), agree(knownclients.RuleHeaderExact)},
	},
	{
		name:    "firefox_ua_boringssl",
		claim:   knownclients.Claim{Family: "firefox", OS: "windows"},
		ev:      knownclients.Evidence{JA4: chromeJA4, PseudoOrder: "m,a,s,p"},
		verdict: knownclients.VerdictInconsistent, expected: "firefox",
		layers: [3]layer{disagree(knownclients.RuleJA4B), disagree(knownclients.RuleH2Pseudo), unknown},
	},
	{
		name:  "firefox_ua_firefox",
		claim: knownclients.Claim{Family: "firefox", OS: "linux"},
		ev: knownclients.Evidence{JA4: firefoxJA4, Akamai: "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s", Proto: "h1",
			HeaderNames: split("Host,User-Agent,Accept,Accept-Language,Accept-Encoding,Connection,Cookie,Upgrade-Insecure-Requests,Sec-Fetch-Dest,Sec-Fetch-Mode,Sec-Fetch-Site,Sec-Fetch-User,Priority"),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "firefox",
		layers: [3]layer{agree(knownclients.RuleJA4), agree(knownclients.RuleH2), agree(knownclients.RuleHeaderTolerant)},
	},
	{
		name:  "unknown_ja4_matching_header_order",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{JA4: unknownJA4, Proto: "h1", HeaderNames: split(chromeH1Headers),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{notInData, unknown, agree(knownclients.RuleHeaderExact)},
	},
	{
		name:    "chrome_ua_alpn_http11_only",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4: "t13d1516h1_8daaf6152771_02713d6af862"},
		verdict: knownclients.VerdictInconsistent, expected: "chrome",
		layers: [3]layer{disagree(knownclients.RuleALPN), unknown, unknown},
	},
	{
		name:  "chrome_ua_title_case_sec_ch_ua",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{Proto: "h1", HeaderNames: split("Host,Connection,Sec-Ch-Ua,Sec-Ch-Ua-Mobile,Sec-Ch-Ua-Platform,Upgrade-Insecure-Requests,User-Agent,Accept,Accept-Encoding,Accept-Language"),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictSuspicious, expected: "chrome",
		layers: [3]layer{unknown, unknown, disagree(knownclients.RuleHeaderCase)},
	},
	{
		name:    "chrome_ua_python_requests_header_order",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{Proto: "h1", HeaderNames: split("Host,User-Agent,Accept-Encoding,Accept,Connection")},
		verdict: knownclients.VerdictSuspicious, expected: "chrome",
		layers: [3]layer{unknown, unknown, disagree(knownclients.RuleHeaderOther)},
	},
	{
		name:  "chrome_navigation_with_cookie_and_referer",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{JA4: chromeJA4, Proto: "h1",
			HeaderNames: split("Host,Connection,Cache-Control,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language,Cookie"),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{agree(knownclients.RuleJA4), unknown, agree(knownclients.RuleHeaderTolerant)},
	},
	{
		name:  "chrome_plain_http_navigation_without_secure_context_headers",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{Proto: "h1", HeaderNames: split("Host,Connection,Upgrade-Insecure-Requests,User-Agent,Accept,Accept-Encoding,Accept-Language"),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictConsistent, expected: "chrome",
		layers: [3]layer{unknown, unknown, agree(knownclients.RuleHeaderTolerant)},
	},
	{
		name:  "chrome_fetch_request_other_order_is_not_judged",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{Proto: "h1", HeaderNames: split("Host,Connection,sec-ch-ua-platform,User-Agent,sec-ch-ua,sec-ch-ua-mobile,Accept,Origin,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language"),
			RequestKind: knownclients.RequestOther},
		verdict: knownclients.VerdictUnknown, expected: "chrome",
		layers: [3]layer{unknown, unknown, notInData},
	},
	{
		name:  "chrome_fetch_order_claimed_as_navigation",
		claim: knownclients.Claim{Family: "chrome"},
		ev: knownclients.Evidence{Proto: "h1", HeaderNames: split("Host,Connection,sec-ch-ua-platform,User-Agent,sec-ch-ua,sec-ch-ua-mobile,Accept,Origin,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language"),
			RequestKind: knownclients.RequestNavigation},
		verdict: knownclients.VerdictSuspicious, expected: "chrome",
		layers: [3]layer{unknown, unknown, disagree(knownclients.RuleHeaderOrder)},
	},
	{
		name:    "python_requests_ua_requests_evidence",
		claim:   knownclients.Claim{Family: "python-requests"},
		ev:      knownclients.Evidence{JA4: requestsJA4, Proto: "h1", HeaderNames: split("Host,User-Agent,Accept-Encoding,Accept,Connection,Authorization")},
		verdict: knownclients.VerdictConsistent, expected: "python-requests",
		layers: [3]layer{agree(knownclients.RuleJA4), unknown, agree(knownclients.RuleHeaderTolerant)},
	},
	{
		name:    "urllib_ua_requests_ja4_shares_the_stack",
		claim:   knownclients.Claim{Family: "python-urllib"},
		ev:      knownclients.Evidence{JA4: requestsJA4},
		verdict: knownclients.VerdictConsistent, expected: "python-urllib",
		layers: [3]layer{agree(knownclients.RuleJA4B), unknown, unknown},
	},
	{
		name:    "go_ua_custom_headers_sorted_between",
		claim:   knownclients.Claim{Family: "go"},
		ev:      knownclients.Evidence{JA4: goJA4, Proto: "h1", HeaderNames: split("Host,User-Agent,Authorization,X-Request-Id,Accept-Encoding")},
		verdict: knownclients.VerdictConsistent, expected: "go",
		layers: [3]layer{agree(knownclients.RuleJA4), unknown, agree(knownclients.RuleHeaderTolerant)},
	},
	{
		name:    "python_requests_ua_from_go",
		claim:   knownclients.Claim{Family: "python-requests"},
		ev:      knownclients.Evidence{JA4: goJA4, Proto: "h1", HeaderNames: split("Host,User-Agent,Accept-Encoding")},
		verdict: knownclients.VerdictInconsistent, expected: "python-requests",
		layers: [3]layer{disagree(knownclients.RuleJA4B), unknown, disagree(knownclients.RuleHeaderOther)},
	},
	{
		name:    "okhttp_ua_unlisted_stack_is_unknown",
		claim:   knownclients.Claim{Family: "okhttp", OS: "android"},
		ev:      knownclients.Evidence{JA4: unknownJA4},
		verdict: knownclients.VerdictUnknown, expected: "okhttp",
		layers: [3]layer{notInData, unknown, unknown},
	},
	{
		name:    "okhttp_ua_chrome_stack",
		claim:   knownclients.Claim{Family: "okhttp", OS: "android"},
		ev:      knownclients.Evidence{JA4B: "8daaf6152771"},
		verdict: knownclients.VerdictInconsistent, expected: "okhttp",
		layers: [3]layer{disagree(knownclients.RuleJA4B), unknown, unknown},
	},
	{
		name:    "crawler_without_fingerprint_data",
		claim:   knownclients.Claim{Family: "googlebot"},
		ev:      knownclients.Evidence{JA4: chromeJA4, PseudoOrder: "m,a,s,p", Proto: "h1", HeaderNames: split(chromeH1Headers)},
		verdict: knownclients.VerdictUnknown, expected: "googlebot",
		layers: [3]layer{{knownclients.StatusUnknown, knownclients.RuleNoFamilyData}, {knownclients.StatusUnknown, knownclients.RuleNoFamilyData}, {knownclients.StatusUnknown, knownclients.RuleNoFamilyData}},
	},
	{
		name:    "family_not_in_table",
		claim:   knownclients.Claim{Family: "vivaldi"},
		ev:      knownclients.Evidence{JA4: chromeJA4},
		verdict: knownclients.VerdictUnknown,
		layers:  [3]layer{unknown, unknown, unknown},
	},
	{
		name:    "no_claim",
		ev:      knownclients.Evidence{JA4: curlJA4},
		verdict: knownclients.VerdictUnknown,
		layers:  [3]layer{unknown, unknown, unknown},
	},
	{
		name:    "no_evidence",
		claim:   knownclients.Claim{Family: "chrome"},
		verdict: knownclients.VerdictUnknown, expected: "chrome",
		layers: [3]layer{unknown, unknown, unknown},
	},
	{
		name:    "malformed_evidence_is_unknown",
		claim:   knownclients.Claim{Family: "chrome"},
		ev:      knownclients.Evidence{JA4: "t13d1516h2_8daaf6152771", Akamai: "garbage", Proto: "h3", HeaderNames: []string{"Host"}},
		verdict: knownclients.VerdictUnknown, expected: "chrome",
		layers: [3]layer{notInData, notInData, unknown},
	},
}

func TestCompare(t *testing.T) {
	tb := knownclients.Default()
	for _, tc := range compareCases {
		t.Run(tc.name, func(t *testing.T) {
			a := tb.Compare(tc.claim, tc.ev)
			var got [3]layer
			score := 0
			for i, r := range a.Layers {
				got[i] = layer{r.Status, r.Rule}
				if r.Layer != knownclients.Layer(i) {
					t.Errorf("Layers[%d].Layer = %v", i, r.Layer)
				}
				if r.Status == knownclients.StatusDisagree {
					score += r.Layer.Weight()
				}
			}
			if diff := cmp.Diff(tc.layers, got); diff != "" {
				t.Errorf("layers (-want +got):\n%s\nreasons: %q", diff, a.Reasons())
			}
			if a.Verdict != tc.verdict || a.Expected != tc.expected || a.Family != tc.claim.Family || a.Score != score {
				t.Errorf("verdict %v, expected %q, family %q, score %d; want %v, %q, %q, %d (reasons %q)",
					a.Verdict, a.Expected, a.Family, a.Score, tc.verdict, tc.expected, tc.claim.Family, score, a.Reasons())
			}
		})
	}
}

// TestCompareReasons pins the operator-facing sentences of two assessments.
func TestCompareReasons(t *testing.T) {
	tb := knownclients.Default()
	a := tb.Compare(knownclients.Claim{Family: "chrome", OS: "windows"}, knownclients.Evidence{
		JA4: curlJA4, Akamai: curlAkamai, Proto: "h2", HeaderNames: []string{"user-agent", "accept"},
	})
	want := []string{
		"tls: JA4_b e8f1e7e78f70 is the openssl stack; chrome uses boringssl",
		"h2: SETTINGS 3:100;4:33554432;2:0 are curl's, not chrome's",
		"headers: names are exactly curl's template",
	}
	if diff := cmp.Diff(want, a.Reasons()); diff != "" {
		t.Errorf("curl -A Chrome reasons (-want +got):\n%s", diff)
	}
	a = tb.Compare(knownclients.Claim{Family: "chrome", OS: "ios"}, knownclients.Evidence{JA4B: "a09f3c656075", PseudoOrder: "a,m,p,s"})
	want = []string{
		"tls: JA4_b a09f3c656075 is the apple stack, which safari uses",
		"h2: pseudo-header order a,m,p,s is go's; safari sends m,s,p,a or m,s,a,p",
	}
	if diff := cmp.Diff(want, a.Reasons()); diff != "" {
		t.Errorf("CriOS reasons (-want +got):\n%s", diff)
	}
	if a.Kind != knownclients.KindBrowser || a.Verdict.String() != "inconsistent" {
		t.Errorf("kind %q verdict %v", a.Kind, a.Verdict)
	}
}
