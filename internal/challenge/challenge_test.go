package challenge

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	otherKey   = []byte("fedcba9876543210fedcba9876543210")
	t0         = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

	bindV4    = Binding{IPPrefix: netip.MustParsePrefix("198.51.100.7/32"), DNA: "chrome-142 t13d1516h2"}
	bindV4Nbr = Binding{IPPrefix: netip.MustParsePrefix("198.51.100.8/32"), DNA: bindV4.DNA}
	bindV4DNA = Binding{IPPrefix: bindV4.IPPrefix, DNA: "curl-8 t13d3112h2"}
	bindV6    = Bind(netip.MustParseAddr("2001:db8:1:2:aaaa::1"), "firefox-140")
	bindV6Sib = Bind(netip.MustParseAddr("2001:db8:1:2:bbbb::2"), "firefox-140") // same /64
	bindV6Far = Bind(netip.MustParseAddr("2001:db8:1:3::1"), "firefox-140")      // next /64
)

// newTest returns a Challenger with testSecret, the given difficulty and a clock
// stopped at t0.
func newTest(t testing.TB, cfg Config) *Challenger {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return t0 }
	return c
}

// leadingZeroBits counts the leading zero bits of sum bit by bit: written apart from
// solves, so that the tests check solves rather than repeat it.
func leadingZeroBits(sum [sha256.Size]byte) int {
	n := 0
	for _, b := range sum {
		for mask := byte(0x80); mask != 0; mask >>= 1 {
			if b&mask != 0 {
				return n
			}
			n++
		}
	}
	return n
}

// solve is the tests' solver: the first nonce, counting from 0, whose SHA-256 with tok
// has difficulty leading zero bits.
func solve(tok string, difficulty int) string {
	return search(tok, func(zeros int) bool { return zeros >= difficulty })
}

// search returns the first nonce, counting from 0, whose hash with tok has a number of
// leading zero bits that ok accepts.
func search(tok string, ok func(zeros int) bool) string {
	buf := []byte(tok)
	for n := int64(0); ; n++ {
		b := strconv.AppendInt(buf[:len(tok)], n, 10)
		if ok(leadingZeroBits(sha256.Sum256(b))) {
			return string(b[len(tok):])
		}
		buf = b
	}
}

// nonSolution is the first nonce, counting from 0, that does not solve tok.
func nonSolution(tok string, difficulty int) string {
	return search(tok, func(zeros int) bool { return zeros < difficulty })
}

var tokenAttr = regexp.MustCompile(`data-token="([A-Za-z0-9_-]*)"`)

// pageToken serves the page for b at time at and returns the token in it.
func pageToken(t testing.TB, c *Challenger, b Binding, at time.Time) string {
	t.Helper()
	saved := c.now
	c.now = func() time.Time { return at }
	defer func() { c.now = saved }()
	w := httptest.NewRecorder()
	c.Page(w, httptest.NewRequest(http.MethodGet, "/shop", nil), b)
	m := tokenAttr.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no token in the page:\n%s", w.Body)
	}
	return m[1]
}

// verifyRequest is a POST to the default verify path with the form fields.
func verifyRequest(form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, DefaultPath, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	return r
}

// reencode decodes a token or cookie, lets edit change its bytes, and encodes it
// again.
func reencode(t testing.TB, s string, edit func([]byte)) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	edit(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		want    Config // the filled-in config, Secret dropped
	}{
		{name: "zero_value_defaults", cfg: Config{}, want: Config{Difficulty: DefaultDifficulty, PassTTL: DefaultPassTTL, ChallengeTTL: DefaultChallengeTTL, CookieName: DefaultCookieName, Path: DefaultPath}},
		{name: "explicit_values", cfg: Config{Secret: testSecret, Difficulty: 20, PassTTL: 2 * time.Hour, ChallengeTTL: time.Minute, CookieName: "__Host-pass", Path: "/_pow/v1"},
			want: Config{Difficulty: 20, PassTTL: 2 * time.Hour, ChallengeTTL: time.Minute, CookieName: "__Host-pass", Path: "/_pow/v1"}},
		{name: "short_secret", cfg: Config{Secret: []byte("hunter2")}, wantErr: true},
		{name: "negative_difficulty", cfg: Config{Difficulty: -1}, wantErr: true},
		{name: "difficulty_above_max", cfg: Config{Difficulty: MaxDifficulty + 1}, wantErr: true},
		{name: "negative_pass_ttl", cfg: Config{PassTTL: -time.Second}, wantErr: true},
		{name: "sub_second_pass_ttl", cfg: Config{PassTTL: time.Millisecond}, wantErr: true},
		{name: "negative_challenge_ttl", cfg: Config{ChallengeTTL: -time.Second}, wantErr: true},
		{name: "cookie_name_with_separator", cfg: Config{CookieName: "a;b"}, wantErr: true},
		{name: "cookie_name_with_space", cfg: Config{CookieName: "a b"}, wantErr: true},
		{name: "relative_path", cfg: Config{Path: "verify"}, wantErr: true},
		{name: "path_with_quote", cfg: Config{Path: `/x"onload="`}, wantErr: true},
		{name: "path_with_query", cfg: Config{Path: "/x?y"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, c.cfg); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewWithoutSecretIsRandom(t *testing.T) {
	a, b := newTest(t, Config{Secret: []byte{}}), newTest(t, Config{Secret: []byte{}})
	cookie := string(a.pass(nil, bindV4, t0.Add(time.Minute)))
	if !a.validPass(cookie, bindV4, t0) {
		t.Fatal("a does not accept its own pass")
	}
	if b.validPass(cookie, bindV4, t0) {
		t.Error("b accepts a's pass: the generated secrets are equal")
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		name string
		ip   string
		want string
	}{
		{name: "ipv4_is_a_slash_32", ip: "198.51.100.7", want: "198.51.100.7/32"},
		{name: "ipv4_mapped_is_ipv4", ip: "::ffff:198.51.100.7", want: "198.51.100.7/32"},
		{name: "ipv6_is_its_slash_64", ip: "2001:db8:1:2:3:4:5:6", want: "2001:db8:1:2::/64"},
		{name: "invalid_stays_invalid", ip: "", want: "invalid Prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip, _ := netip.ParseAddr(tt.ip)
			got := Bind(ip, "dna")
			if diff := cmp.Diff(tt.want, got.IPPrefix.String()); diff != "" {
				t.Errorf("prefix (-want +got):\n%s", diff)
			}
			if got.DNA != "dna" {
				t.Errorf("DNA = %q, want dna", got.DNA)
			}
		})
	}
}

// verifyCase is one row of the Verify table. The token is served to issuedTo at
// issuedAt, then the request built by edit (from the token and its solution) is
// verified for verifyAs at t0.
type verifyCase struct {
	name     string
	issuedTo Binding
	issuedAt time.Time
	verifyAs Binding
	edit     func(t testing.TB, tok, nonce string) *http.Request
	want     verifyResult
}

type verifyResult struct {
	Status int
	Body   string
	Cookie bool // a pass cookie was set
}

// form posts the token and nonce as the page does.
func form(tok, nonce string) *http.Request {
	return verifyRequest(url.Values{"token": {tok}, "nonce": {nonce}})
}

const testDifficulty = 10

var verifyCases = []verifyCase{
	{name: "good_solution", want: verifyResult{Status: 204, Cookie: true},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "good_solution_ipv6_same_slash_64", issuedTo: bindV6, verifyAs: bindV6Sib, want: verifyResult{Status: 204, Cookie: true},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "good_solution_just_before_expiry", issuedAt: t0.Add(-DefaultChallengeTTL + time.Second), want: verifyResult{Status: 204, Cookie: true},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "wrong_solution", want: verifyResult{Status: 403, Body: "wrong solution\n"},
		edit: func(_ testing.TB, tok, _ string) *http.Request { return form(tok, nonSolution(tok, testDifficulty)) }},
	{name: "expired_challenge", issuedAt: t0.Add(-DefaultChallengeTTL), want: verifyResult{Status: 403, Body: "challenge expired\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "challenge_from_the_future", issuedAt: t0.Add(2 * time.Minute), want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "tampered_challenge_difficulty_lowered", want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(t testing.TB, tok, _ string) *http.Request {
			tok = reencode(t, tok, func(raw []byte) { raw[9] = 1 })
			return form(tok, solve(tok, 1))
		}},
	{name: "tampered_challenge_expiry_extended", issuedAt: t0.Add(-time.Hour), want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(t testing.TB, tok, _ string) *http.Request {
			tok = reencode(t, tok, func(raw []byte) { binary.BigEndian.PutUint64(raw[1:9], uint64(t0.Add(time.Minute).Unix())) })
			return form(tok, solve(tok, testDifficulty))
		}},
	{name: "tampered_challenge_mac", want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(t testing.TB, tok, _ string) *http.Request {
			tok = reencode(t, tok, func(raw []byte) { raw[len(raw)-1] ^= 1 })
			return form(tok, solve(tok, testDifficulty))
		}},
	{name: "truncated_challenge", want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok[:len(tok)-1], nonce) }},
	{name: "wrong_binding_ip_prefix", verifyAs: bindV4Nbr, want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "wrong_binding_ipv6_other_slash_64", issuedTo: bindV6, verifyAs: bindV6Far, want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "wrong_binding_dna", verifyAs: bindV4DNA, want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "invalid_binding", issuedTo: Binding{DNA: "x"}, verifyAs: Binding{DNA: "x"}, want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, nonce) }},
	{name: "token_of_another_secret", want: verifyResult{Status: 403, Body: "invalid challenge\n"},
		edit: func(t testing.TB, _, _ string) *http.Request {
			tok := pageToken(t, newTest(t, Config{Secret: otherKey, Difficulty: testDifficulty}), bindV4, t0)
			return form(tok, solve(tok, testDifficulty))
		}},
	{name: "missing_nonce", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, _ string) *http.Request { return verifyRequest(url.Values{"token": {tok}}) }},
	{name: "nonce_not_decimal", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request { return form(tok, "-"+nonce) }},
	{name: "nonce_too_long", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, _ string) *http.Request {
			return form(tok, strings.Repeat("1", maxNonceDigits+1))
		}},
	{name: "body_too_large", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request {
			return verifyRequest(url.Values{"token": {tok}, "nonce": {nonce}, "pad": {strings.Repeat("x", maxVerifyBody)}})
		}},
	{name: "json_body", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, DefaultPath, strings.NewReader(`{"token":"`+tok+`","nonce":"`+nonce+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	{name: "get_is_not_allowed", want: verifyResult{Status: 405, Body: "method not allowed\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request {
			return httptest.NewRequest(http.MethodGet, DefaultPath+"?token="+tok+"&nonce="+nonce, nil)
		}},
	{name: "solution_in_query_not_body", want: verifyResult{Status: 403, Body: "malformed request\n"},
		edit: func(_ testing.TB, tok, nonce string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, DefaultPath+"?token="+tok+"&nonce="+nonce, strings.NewReader(""))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
}

func TestVerify(t *testing.T) {
	for _, tt := range verifyCases {
		t.Run(tt.name, func(t *testing.T) {
			c := newTest(t, Config{Difficulty: testDifficulty})
			issuedTo, verifyAs, issuedAt := tt.issuedTo, tt.verifyAs, tt.issuedAt
			if issuedTo == (Binding{}) {
				issuedTo = bindV4
			}
			if verifyAs == (Binding{}) {
				verifyAs = issuedTo
			}
			if issuedAt.IsZero() {
				issuedAt = t0
			}
			tok := pageToken(t, c, issuedTo, issuedAt)
			r := tt.edit(t, tok, solve(tok, testDifficulty))
			w := httptest.NewRecorder()
			if !c.Verify(w, r, verifyAs) {
				t.Fatal("Verify did not handle a request for its path")
			}
			res := w.Result()
			got := verifyResult{Status: res.StatusCode, Body: w.Body.String(), Cookie: len(res.Cookies()) > 0}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if !got.Cookie {
				return
			}
			// The cookie Verify set lets the same binding through, and not another.
			r2 := httptest.NewRequest(http.MethodGet, "/shop", nil)
			r2.AddCookie(res.Cookies()[0])
			if !c.Passed(r2, verifyAs, t0) {
				t.Error("the cookie Verify set does not pass its own binding")
			}
			if c.Passed(r2, bindV4DNA, t0) {
				t.Error("the cookie Verify set passes another DNA")
			}
		})
	}
}

func TestVerifyCookieAttributes(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
		want string
	}{
		{name: "plain_http", want: "__vigil_pass=<value>; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"},
		{name: "tls_is_secure", tls: true, want: "__vigil_pass=<value>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTest(t, Config{Difficulty: testDifficulty})
			tok := pageToken(t, c, bindV4, t0)
			r := form(tok, solve(tok, testDifficulty))
			if tt.tls {
				r = httptest.NewRequest(http.MethodPost, "https://shop.example"+DefaultPath, r.Body)
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			c.Verify(w, r, bindV4)
			got := w.Header().Get("Set-Cookie")
			v := got[len("__vigil_pass="):strings.IndexByte(got, ';')]
			if len(v) != passChars {
				t.Errorf("cookie value %q has %d characters, want %d", v, len(v), passChars)
			}
			if diff := cmp.Diff(tt.want, strings.Replace(got, v, "<value>", 1)); diff != "" {
				t.Errorf("Set-Cookie (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyOtherPathIsNotHandled(t *testing.T) {
	c := newTest(t, Config{})
	for _, target := range []string{"/", "/shop", DefaultPath + "/", DefaultPath + "x", "/.vigil"} {
		w := httptest.NewRecorder()
		if c.Verify(w, httptest.NewRequest(http.MethodPost, target, nil), bindV4) {
			t.Errorf("Verify handled %s", target)
		}
		if w.Code != 200 || w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("Verify wrote to the response for %s: %d %v %q", target, w.Code, w.Header(), w.Body)
		}
	}
}

func TestVerifyDefaultDifficulty(t *testing.T) {
	c := newTest(t, Config{})
	tok := pageToken(t, c, bindV4, t0)
	nonce := solve(tok, DefaultDifficulty)
	for _, tt := range []struct {
		name  string
		nonce string
		want  int
	}{
		{name: "solution", nonce: nonce, want: 204},
		{name: "solution_of_one_bit_less", nonce: search(tok, func(zeros int) bool { return zeros == DefaultDifficulty-1 }), want: 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c.Verify(w, form(tok, tt.nonce), bindV4)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
		})
	}
}

// passCase is one row of the Passed table, shared with the fuzz seeds and the
// benchmarks. cookie builds the Cookie header lines from a valid pass for bindV4
// expiring at t0+1h.
type passCase struct {
	name   string
	cookie func(c *Challenger, valid string) []string
	as     Binding
	at     time.Time
	want   bool
}

func oneCookie(v string) func(*Challenger, string) []string {
	return func(c *Challenger, _ string) []string { return []string{c.cfg.CookieName + "=" + v} }
}

func validCookie(c *Challenger, valid string) []string {
	return []string{c.cfg.CookieName + "=" + valid}
}

var passCases = []passCase{
	{name: "no_cookie", cookie: func(*Challenger, string) []string { return nil }},
	{name: "other_cookies_only", cookie: func(*Challenger, string) []string {
		return []string{"session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark"}
	}},
	{name: "valid_cookie", cookie: validCookie, want: true},
	{name: "valid_cookie_among_others", want: true, cookie: func(c *Challenger, v string) []string {
		return []string{"session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b;  " + c.cfg.CookieName + "=" + v + " ; theme=dark"}
	}},
	{name: "valid_cookie_in_second_header_line", want: true, cookie: func(c *Challenger, v string) []string {
		return []string{"theme=dark", c.cfg.CookieName + "=" + v}
	}},
	{name: "valid_cookie_after_a_stale_one", want: true, cookie: func(c *Challenger, v string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.pass(nil, bindV4, t0.Add(-time.Second))) + "; " + c.cfg.CookieName + "=" + v}
	}},
	{name: "valid_cookie_after_four_bad_ones_is_not_examined", cookie: func(c *Challenger, v string) []string {
		n := c.cfg.CookieName + "=x; "
		return []string{strings.Repeat(n, maxCookies) + c.cfg.CookieName + "=" + v}
	}},
	{name: "valid_cookie_other_name", cookie: func(_ *Challenger, v string) []string { return []string{"vigil_pass=" + v} }},
	{name: "valid_cookie_quoted", cookie: func(c *Challenger, v string) []string { return []string{c.cfg.CookieName + `="` + v + `"`} }},
	{name: "same_ipv6_slash_64", as: bindV6Sib, want: true, cookie: func(c *Challenger, _ string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.pass(nil, bindV6, t0.Add(time.Hour)))}
	}},
	{name: "other_ipv6_slash_64", as: bindV6Far, cookie: func(c *Challenger, _ string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.pass(nil, bindV6, t0.Add(time.Hour)))}
	}},
	{name: "other_ipv4_address", as: bindV4Nbr, cookie: validCookie},
	{name: "other_dna", as: bindV4DNA, cookie: validCookie},
	{name: "empty_dna", as: Binding{IPPrefix: bindV4.IPPrefix}, cookie: validCookie},
	{name: "invalid_binding", as: Binding{DNA: bindV4.DNA}, cookie: validCookie},
	{name: "expired_cookie", at: t0.Add(time.Hour + time.Second), cookie: validCookie},
	{name: "cookie_at_its_expiry", at: t0.Add(time.Hour), cookie: validCookie},
	{name: "cookie_a_second_before_expiry", at: t0.Add(time.Hour - time.Second), cookie: validCookie, want: true},
	{name: "cookie_expiring_beyond_pass_ttl", cookie: func(c *Challenger, _ string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.pass(nil, bindV4, t0.Add(DefaultPassTTL+maxSkew+time.Second)))}
	}},
	{name: "cookie_expiring_within_skew", want: true, cookie: func(c *Challenger, _ string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.pass(nil, bindV4, t0.Add(DefaultPassTTL+maxSkew)))}
	}},
	{name: "forged_cookie_random_mac", cookie: func(c *Challenger, v string) []string {
		raw, _ := base64.RawURLEncoding.DecodeString(v)
		copy(raw[passPayload:], sha256.New().Sum([]byte("forged")))
		return []string{c.cfg.CookieName + "=" + base64.RawURLEncoding.EncodeToString(raw)}
	}},
	{name: "forged_cookie_expiry_extended", at: t0.Add(2 * time.Hour), cookie: func(c *Challenger, v string) []string {
		raw, _ := base64.RawURLEncoding.DecodeString(v)
		binary.BigEndian.PutUint64(raw[1:9], uint64(t0.Add(2*time.Hour+time.Minute).Unix()))
		return []string{c.cfg.CookieName + "=" + base64.RawURLEncoding.EncodeToString(raw)}
	}},
	{name: "forged_cookie_other_secret", cookie: func(c *Challenger, _ string) []string {
		o, _ := New(Config{Secret: otherKey})
		return []string{c.cfg.CookieName + "=" + string(o.pass(nil, bindV4, t0.Add(time.Hour)))}
	}},
	{name: "forged_cookie_wrong_version", cookie: func(c *Challenger, v string) []string {
		raw, _ := base64.RawURLEncoding.DecodeString(v)
		raw[0] = 2
		return []string{c.cfg.CookieName + "=" + base64.RawURLEncoding.EncodeToString(raw)}
	}},
	{name: "non_canonical_base64", cookie: func(c *Challenger, v string) []string {
		// 41 bytes in 55 characters leave 2 unused bits in the last one; setting them
		// must not give a second valid encoding.
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", v[len(v)-1])
		alt := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]
		return []string{c.cfg.CookieName + "=" + v[:len(v)-1] + string(alt)}
	}},
	{name: "padded_base64", cookie: func(c *Challenger, v string) []string { return []string{c.cfg.CookieName + "=" + v + "="} }},
	{name: "truncated_cookie", cookie: func(c *Challenger, v string) []string { return []string{c.cfg.CookieName + "=" + v[:len(v)-1]} }},
	{name: "challenge_token_as_cookie", cookie: func(c *Challenger, _ string) []string {
		return []string{c.cfg.CookieName + "=" + string(c.issue(nil, bindV4, t0))}
	}},
	{name: "empty_value", cookie: oneCookie("")},
	{name: "garbage_value", cookie: oneCookie("%00%ff<script>")},
}

// passRequest builds the request of a Passed case; the valid pass is for bindV4 and
// expires at t0+1h.
func passRequest(c *Challenger, tt passCase) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/shop", nil)
	for _, line := range tt.cookie(c, string(c.pass(nil, bindV4, t0.Add(time.Hour)))) {
		r.Header.Add("Cookie", line)
	}
	return r
}

func (tt passCase) binding() Binding {
	if tt.as == (Binding{}) {
		return bindV4
	}
	return tt.as
}

func (tt passCase) time() time.Time {
	if tt.at.IsZero() {
		return t0
	}
	return tt.at
}

func TestPassed(t *testing.T) {
	c := newTest(t, Config{})
	for _, tt := range passCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Passed(passRequest(c, tt), tt.binding(), tt.time()); got != tt.want {
				t.Errorf("Passed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPassedLowerTTL checks that lowering PassTTL applies to passes already issued.
func TestPassedLowerTTL(t *testing.T) {
	long := newTest(t, Config{PassTTL: 24 * time.Hour})
	short := newTest(t, Config{PassTTL: time.Hour})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", DefaultCookieName+"="+string(long.pass(nil, bindV4, t0.Add(24*time.Hour))))
	if !long.Passed(r, bindV4, t0) {
		t.Fatal("the issuing Challenger refuses its own pass")
	}
	if short.Passed(r, bindV4, t0) {
		t.Error("a Challenger with a 1 h PassTTL accepts a pass valid for 24 h")
	}
}

func TestPassedAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are not meaningful with -short's settings")
	}
	c := newTest(t, Config{})
	for _, name := range []string{"no_cookie", "other_cookies_only", "valid_cookie", "expired_cookie", "forged_cookie_random_mac"} {
		t.Run(name, func(t *testing.T) {
			var tt passCase
			for _, pc := range passCases {
				if pc.name == name {
					tt = pc
				}
			}
			r, b, at := passRequest(c, tt), tt.binding(), tt.time()
			if raceEnabled && strings.Contains(r.Header.Get("Cookie"), c.cfg.CookieName) {
				t.Skip("the race detector makes sync.Pool drop entries")
			}
			c.Passed(r, b, at) // fill the pool
			if n := vigiltest.AllocsPerRun(100, func() { c.Passed(r, b, at) }); n != 0 {
				t.Errorf("Passed allocates %v times per call, want 0", n)
			}
		})
	}
}

func TestSolves(t *testing.T) {
	// solves against the bit-by-bit count, over tokens and nonces whose hashes have
	// every number of leading zero bits from 0 to 12 and beyond.
	tok := strings.Repeat("A", tokenChars)
	for n := range 20000 {
		nonce := strconv.Itoa(n)
		z := leadingZeroBits(sha256.Sum256([]byte(tok + nonce)))
		for _, d := range []int{1, z, z + 1, 32} {
			if got, want := solves(tok, nonce, d), z >= d; got != want {
				t.Fatalf("solves(%q, %d) = %v, want %v (%d zero bits)", nonce, d, got, want, z)
			}
		}
	}
	// A hash with known leading zeros: SHA-256("abc") starts with 0xba (no zero bit);
	// the token "ab" with nonce "c" hashes the same bytes.
	if !solves("ab", "c", 0) || solves("ab", "c", 1) {
		t.Error(`solves("ab", "c") disagrees with SHA-256("abc") = ba78…`)
	}
}

func TestPageHeaders(t *testing.T) {
	c := newTest(t, Config{})
	w := httptest.NewRecorder()
	c.Page(w, httptest.NewRequest(http.MethodGet, "/shop", nil), bindV4)
	res := w.Result()
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Length":          strconv.Itoa(w.Body.Len()),
		"Content-Security-Policy": c.page.csp,
	}
	got := map[string]string{}
	for k := range res.Header {
		got[k] = res.Header.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want 403", res.StatusCode)
	}

	h := httptest.NewRecorder()
	c.Page(h, httptest.NewRequest(http.MethodHead, "/shop", nil), bindV4)
	if h.Code != http.StatusForbidden || h.Body.Len() != 0 || h.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Errorf("HEAD: status %d, %d body bytes, Content-Length %s", h.Code, h.Body.Len(), h.Header().Get("Content-Length"))
	}
}

// TestPageCSP checks that the page's inline script and style are the ones its CSP
// allows, by hashing what is in the served page, and that the page refers to nothing
// outside itself.
func TestPageCSP(t *testing.T) {
	c := newTest(t, Config{Path: "/_check"})
	w := httptest.NewRecorder()
	c.Page(w, httptest.NewRequest(http.MethodGet, "/shop", nil), bindV4)
	body := w.Body.String()
	inline := func(tag string) string {
		m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Fatalf("%d <%s> elements, want 1", len(m), tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	want := "default-src 'none'; script-src " + inline("script") + "; style-src " + inline("style") +
		"; worker-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	if diff := cmp.Diff(want, w.Header().Get("Content-Security-Policy")); diff != "" {
		t.Errorf("CSP (-want +got):\n%s", diff)
	}
	for _, ref := range []string{"src=", "href=", "http:", "https:", "@import", "url(", "importScripts"} {
		if i := strings.Index(body, ref); i >= 0 {
			t.Errorf("the page refers to something outside itself: %q at %q", ref, body[max(0, i-40):min(len(body), i+40)])
		}
	}
	for _, want := range []string{`data-path="/_check"`, `data-bits="` + strconv.Itoa(DefaultDifficulty) + `"`, "<noscript>", `<meta name="robots" content="noindex,nofollow">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestPageTokensDiffer(t *testing.T) {
	c := newTest(t, Config{})
	a, b := pageToken(t, c, bindV4, t0), pageToken(t, c, bindV4, t0)
	if a == b {
		t.Error("two pages for the same binding at the same time carry the same token")
	}
	if len(a) != tokenChars {
		t.Errorf("token has %d characters, want %d", len(a), tokenChars)
	}
}

func BenchmarkPassed(b *testing.B) {
	c := newTest(b, Config{})
	for _, name := range []string{"no_cookie", "other_cookies_only", "valid_cookie", "valid_cookie_among_others", "expired_cookie", "forged_cookie_random_mac"} {
		b.Run(name, func(b *testing.B) {
			var tt passCase
			for _, pc := range passCases {
				if pc.name == name {
					tt = pc
				}
			}
			r, bind, at := passRequest(c, tt), tt.binding(), tt.time()
			b.ReportAllocs()
			for b.Loop() {
				if c.Passed(r, bind, at) != tt.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}

func BenchmarkPage(b *testing.B) {
	c := newTest(b, Config{})
	r := httptest.NewRequest(http.MethodGet, "/shop", nil)
	b.ReportAllocs()
	for b.Loop() {
		c.Page(discard{}, r, bindV4)
	}
}

func BenchmarkVerify(b *testing.B) {
	c := newTest(b, Config{Difficulty: testDifficulty})
	tok := pageToken(b, c, bindV4, t0)
	body := url.Values{"token": {tok}, "nonce": {solve(tok, testDifficulty)}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, DefaultPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := discard{}
		clear(w.Header())
		if !c.Verify(w, r, bindV4) {
			b.Fatal("not handled")
		}
	}
}

// discard is a ResponseWriter that keeps nothing but a reused header map.
type discard struct{}

var discardHeader = http.Header{}

func (discard) Header() http.Header         { return discardHeader }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
