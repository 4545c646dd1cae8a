package vigil_test

import (
	"crypto/sha256"
	"io"
	"math/bits"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// A rule sends /members through a challenge: a browser navigation gets the
// proof-of-work page, solving it (in Go here, as the page's script does) sets a pass
// with which the page opens; a client that does not solve it never gets in, and a
// forged pass does not help.
func TestChallengeThroughTheGuard(t *testing.T) {
	p := policy.Default()
	p.Rules = []policy.Rule{{Name: "members", Match: policy.Match{Paths: []string{"/members"}}, Action: policy.ActionChallenge}}
	g, err := vigil.New(vigil.Config{Policy: p, ChallengeSecret: strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "members only")
	})))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func() (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/members", nil)
		req.Header = navigationHeaders()
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, page := get()
	if res.StatusCode != http.StatusForbidden || res.Header.Get("X-Vigil-Action") != "challenge" || !strings.Contains(page, "<script") {
		t.Fatalf("first visit: %d %q, want the challenge page", res.StatusCode, res.Header.Get("X-Vigil-Action"))
	}
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s in the page", name)
		}
		return m[1]
	}
	tok, path := attr("data-token"), attr("data-path")
	difficulty, _ := strconv.Atoi(attr("data-bits"))

	// Without a solution: still challenged.
	if res, _ := get(); res.StatusCode != http.StatusForbidden {
		t.Fatalf("unsolved: %d", res.StatusCode)
	}
	// A wrong solution is refused.
	post := func(nonce string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(url.Values{"token": {tok}, "nonce": {nonce}}.Encode()))
		req.Header = navigationHeaders()
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Logf("verify answered %d %q (%s)", res.StatusCode, b, res.Header.Get("X-Vigil-Action"))
		}
		return res.StatusCode
	}
	if code := post("1"); code == http.StatusNoContent && !solves(tok, "1", difficulty) {
		t.Fatalf("a wrong solution was accepted")
	}
	// A forged pass is refused.
	u, _ := url.Parse(srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "__vigil_pass", Value: "AQAAAAB_____forged_forged_forged_forged_forged_forge"}})
	if res, _ := get(); res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged pass: %d", res.StatusCode)
	}
	// The right one opens the page.
	if code := post(solve(tok, difficulty)); code != http.StatusNoContent {
		t.Fatalf("solution refused: %d", code)
	}
	if res, body := get(); res.StatusCode != http.StatusOK || body != "members only" {
		t.Fatalf("after solving: %d %q", res.StatusCode, body)
	}
}

func solve(tok string, difficulty int) string {
	for n := 0; ; n++ {
		if s := strconv.Itoa(n); solves(tok, s, difficulty) {
			return s
		}
	}
}

func solves(tok, nonce string, difficulty int) bool {
	sum := sha256.Sum256([]byte(tok + nonce))
	zeros := 0
	for _, b := range sum {
		if b != 0 {
			zeros += bits.LeadingZeros8(b)
			break
		}
		zeros += 8
	}
	return zeros >= difficulty
}

// navigationHeaders are a browser navigation's headers, from one browser.
func navigationHeaders() http.Header {
	return http.Header{
		"User-Agent":      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
		"Accept":          {"text/html,application/xhtml+xml,*/*;q=0.8"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Sec-Fetch-Mode":  {"navigate"},
		"Sec-Fetch-Dest":  {"document"},
		"Sec-Fetch-Site":  {"none"},
	}
}
