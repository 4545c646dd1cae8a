package challenge_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/challenge"
)

// Example puts a Challenger in front of a handler the way the guard does (Verify,
// then Passed, else Page) and walks one client through it, solving the puzzle in Go
// where a browser would run the page's script.
func Example() {
	c, err := challenge.New(challenge.Config{
		Secret:     []byte("example secret, 32 bytes or more"),
		Difficulty: 8, // small, for the example; the default is DefaultDifficulty
	})
	if err != nil {
		panic(err)
	}
	shop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "welcome to the shop") })
	protected := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The guard binds to the client IP it trusts and to the client's DNA; here the
		// address is RemoteAddr and the DNA the User-Agent.
		ip := netip.MustParseAddrPort(r.RemoteAddr).Addr()
		b := challenge.Bind(ip, r.UserAgent())
		if c.Verify(w, r, b) {
			return // a solution posted to c.Path()
		}
		if c.Passed(r, b, time.Now()) {
			shop.ServeHTTP(w, r)
			return
		}
		c.Page(w, r, b)
	})
	do := func(r *http.Request) *httptest.ResponseRecorder {
		r.RemoteAddr = "198.51.100.7:50000"
		r.Header.Set("User-Agent", "Mozilla/5.0 (example)")
		w := httptest.NewRecorder()
		protected.ServeHTTP(w, r)
		return w
	}

	// 1. No pass: the challenge page.
	page := do(httptest.NewRequest(http.MethodGet, "/shop", nil))
	fmt.Println("page:", page.Code, page.Header().Get("Cache-Control"))

	// 2. The page finds n such that SHA-256(token ‖ n) starts with 8 zero bits and
	// posts it.
	m := regexp.MustCompile(`data-token="([^"]+)"`).FindStringSubmatch(page.Body.String())
	token, n := m[1], 0
	for sha256.Sum256([]byte(token + strconv.Itoa(n)))[0] != 0 { // 8 zero bits: a zero first byte
		n++
	}
	post := httptest.NewRequest(http.MethodPost, c.Path(), strings.NewReader(url.Values{"token": {token}, "nonce": {strconv.Itoa(n)}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	verified := do(post)
	fmt.Println("verify:", verified.Code)

	// 3. The page reloads, now with the pass cookie.
	again := httptest.NewRequest(http.MethodGet, "/shop", nil)
	for _, ck := range verified.Result().Cookies() {
		again.AddCookie(ck)
	}
	fmt.Println("reload:", do(again).Body.String())

	// The same cookie from another address is challenged again.
	stolen := httptest.NewRequest(http.MethodGet, "/shop", nil)
	stolen.Header.Set("Cookie", again.Header.Get("Cookie"))
	stolen.RemoteAddr = "203.0.113.9:40000"
	w := httptest.NewRecorder()
	protected.ServeHTTP(w, stolen)
	fmt.Println("elsewhere:", w.Code)
	// Output:
	// page: 403 no-store
	// verify: 204
	// reload: welcome to the shop
	// elsewhere: 403
}
