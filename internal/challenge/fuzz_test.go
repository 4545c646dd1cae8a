package challenge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzPassed feeds Cookie header lines to Passed. The seeds are the Cookie lines of
// the Passed table. Properties: Passed never panics; it accepts a line only when
// net/http's own cookie parser finds, under the pass cookie's name, a value this
// Challenger signed for the binding (differential: Passed's allocation-free parser
// never accepts what the standard one would not); and a line that is exactly the
// valid pass is accepted.
func FuzzPassed(f *testing.F) {
	c := newTest(f, Config{})
	valid := string(c.pass(nil, bindV4, t0.Add(time.Hour)))
	for _, tt := range passCases {
		if tt.binding() != bindV4 || !tt.time().Equal(t0) {
			continue
		}
		f.Add(strings.Join(tt.cookie(c, valid), "; "))
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", line)
		got := c.Passed(r, bindV4, t0)
		std := false
		for _, ck := range r.CookiesNamed(c.cfg.CookieName) {
			if c.validPass(ck.Value, bindV4, t0) {
				std = true
			}
		}
		if got && !std {
			t.Errorf("Passed accepts %q, which net/http parses into no valid pass", line)
		}
		if line == c.cfg.CookieName+"="+valid && !got {
			t.Errorf("Passed refuses the valid pass %q", line)
		}
	})
}

// FuzzPassValue feeds cookie values to validPass: it accepts nothing but the passes
// the Challenger issued (strict base64: no second encoding of the same bytes).
func FuzzPassValue(f *testing.F) {
	c := newTest(f, Config{})
	issued := map[string]bool{}
	for _, exp := range []time.Duration{time.Second, time.Hour, DefaultPassTTL + maxSkew} {
		v := string(c.pass(nil, bindV4, t0.Add(exp)))
		issued[v] = true
		f.Add(v)
		f.Add(v[:len(v)-1])
		f.Add(v + "A")
	}
	f.Add("")
	f.Add(strings.Repeat("_", passChars))
	f.Fuzz(func(t *testing.T, v string) {
		if got := c.validPass(v, bindV4, t0); got != issued[v] {
			t.Errorf("validPass(%q) = %v, want %v", v, got, issued[v])
		}
	})
}

// FuzzToken feeds challenge tokens to parseToken: it accepts nothing but the tokens
// the Challenger issued, and then reports their expiry and difficulty. Verify gets
// each as well, with a nonce that is not checked unless the token is good.
func FuzzToken(f *testing.F) {
	c := newTest(f, Config{Difficulty: 12})
	issued := map[string]bool{}
	for i := range 3 {
		tok := string(c.issueWith(nil, bindV4, t0, [16]byte{byte(i)})) // deterministic: fuzz workers rebuild the set
		issued[tok] = true
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "=")
		f.Add(strings.ToUpper(tok))
	}
	f.Add("")
	f.Add(string(c.pass(nil, bindV4, t0.Add(time.Hour))))
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := c.parseToken(s, bindV4)
		if ok != issued[s] {
			t.Fatalf("parseToken(%q) ok = %v, want %v", s, ok, issued[s])
		}
		if ok && (tok.expiry != t0.Add(DefaultChallengeTTL).Unix() || tok.difficulty != 12) {
			t.Errorf("parseToken(%q) = %+v, want expiry %d and difficulty 12", s, tok, t0.Add(DefaultChallengeTTL).Unix())
		}
		// Verify's body parser in front of it: a body that cannot be parsed is a
		// malformed request, never a panic.
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, DefaultPath, strings.NewReader("token="+s+"&nonce=1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c.Verify(w, r, bindV4)
		if w.Code != http.StatusForbidden && w.Code != http.StatusNoContent {
			t.Errorf("Verify answered %d", w.Code)
		}
	})
}
