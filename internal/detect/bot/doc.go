// Package bot classifies the User-Agent of a request (browser, crawler, HTTP library,
// automation, attack tool), reports cheap header inconsistencies of requests that claim to
// come from a browser, and verifies crawler claims such as Googlebot by reverse and forward
// DNS off the request path.
//
// A [Detector] holds the crawler patterns of crawler-user-agents (embedded, MIT; see
// data/README.md), a bounded cache of classified User-Agent strings and a bounded cache of
// DNS verifications. [Detector.Classify] costs a map look-up on a cache hit; a miss parses
// the browser grammar first and runs a crawler pattern only when an Aho–Corasick scan finds
// one of the literals that the pattern requires.
//
// # Findings
//
// [Detector.Inspect] reports these codes, with Detector "bot" and these scores:
//
//	ua_missing       40  no User-Agent header, or an empty one
//	ua_malformed     50  control characters, longer than 1 KiB, several User-Agent
//	                     headers, or text that is not User-Agent grammar
//	bot              40  a known crawler; Detail is "<name> (<category>)" so that policy
//	                     can weigh categories (search, ai, seo, …) differently
//	automation       40  an HTTP library or tool (curl, python-requests, Go-http-client, …)
//	                 60  a driven browser (HeadlessChrome, PhantomJS, Selenium, Puppeteer,
//	                     Playwright markers)
//	scanner_ua       95  an attack or vulnerability-scanning tool (sqlmap, nikto, nuclei, …)
//	ua_inconsistent  20–35 each, one finding per check, for a User-Agent that names a
//	                     browser whose headers that browser would not send:
//	                       35 sec-ch-ua names a Chromium major other than the User-Agent's
//	                       35 sec-ch-ua sent under a Firefox, Safari or other non-Chromium UA
//	                       30 Chromium 89+ over TLS without sec-ch-ua
//	                       30 a version that sends Fetch Metadata, over TLS, without
//	                          Sec-Fetch-Site or Sec-Fetch-Mode
//	                       25 no Accept-Language
//	                       25 no Accept-Encoding
//	                       20 over TLS, Accept-Encoding without br (not for Range requests)
//
// Scores combine as a probabilistic OR, so several inconsistencies together score high
// while one alone stays modest. Benign scanners (certificate authorities, cookie and
// header auditors, internet surveys) are crawlers with category "scanner", not
// scanner_ua. The checks skip the legitimate mismatches listed in the project's
// fingerprinting reference (§11, "legitimate mismatches"): every
// iOS browser uses WebKit's network stack, so Chrome, Firefox and Edge on iOS are judged
// as Safari; Android WebView and in-app browsers (User-Agents with tokens beyond a known
// browser's) are judged only on sec-ch-ua agreement. Header order and header-name case
// are not visible to middleware and are not used.
//
// # Crawler verification
//
// A User-Agent is a claim. [Detector.Verify] checks a claim of Google, Bing, Apple,
// Yandex or Baidu the way those operators document: the PTR name of the client IP must
// end in one of the operator's domains and resolve forward to that IP. Look-ups run in
// background goroutines, each bounded by a timeout, deduplicated per IP, limited in
// number, and cached; Verify itself never waits on the network. OpenAI and DuckDuckGo
// publish IP ranges instead of PTR names, so their claims are [NotApplicable] here.
package bot
