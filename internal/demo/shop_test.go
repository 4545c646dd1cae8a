package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
)

func TestShop(t *testing.T) {
	shop := newShop()
	for _, tc := range []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		status      int
		contains    string
	}{
		{"home", "GET", "/", "", "", http.StatusOK, "Union Jack mug"},
		{"products", "GET", "/products", "", "", http.StatusOK, "Gift card"},
		{"product", "GET", "/products/5", "", "", http.StatusOK, "O&#39;Reilly book bundle"},
		{"unknown_product", "GET", "/products/99", "", "", http.StatusNotFound, "No such product"},
		{"search_escapes_query", "GET", "/search?q=%3Cb%3Emug", "", "", http.StatusOK, `value="&lt;b&gt;mug"`},
		{"search_finds", "GET", "/search?q=mug", "", "", http.StatusOK, "1 results"},
		{"login_page", "GET", "/login", "", "", http.StatusOK, `type="password"`},
		{"login", "POST", "/login", "application/x-www-form-urlencoded", "email=alice%40example.com&password=correct+horse+battery+staple", http.StatusSeeOther, ""},
		{"login_wrong_password", "POST", "/login", "application/x-www-form-urlencoded", "email=alice%40example.com&password=x", http.StatusUnauthorized, "Wrong e-mail or password"},
		{"login_unknown", "POST", "/login", "application/x-www-form-urlencoded", "email=a%40example.com&password=x", http.StatusUnauthorized, "Wrong e-mail or password"},
		{"signup_page", "GET", "/signup", "", "", http.StatusOK, `action="/signup"`},
		{"signup", "POST", "/signup", "application/x-www-form-urlencoded", "email=new%40example.com&password=x", http.StatusSeeOther, ""},
		{"signup_empty", "POST", "/signup", "application/x-www-form-urlencoded", "email=new%40example.com", http.StatusBadRequest, "E-mail and password"},
		{"robots", "GET", "/robots.txt", "", "", http.StatusOK, "Disallow: /account"},
		{"login_empty", "POST", "/login", "application/x-www-form-urlencoded", "email=", http.StatusBadRequest, "E-mail and password"},
		{"account_needs_login", "GET", "/account", "", "", http.StatusSeeOther, ""},
		{"cart", "POST", "/api/cart", "application/json", `{"product_id":3,"quantity":2,"note":"gift"}`, http.StatusOK, `"quantity":2`},
		{"cart_bad_product", "POST", "/api/cart", "application/json", `{"product_id":"x"}`, http.StatusBadRequest, "error"},
		{"script", "GET", "/static/app.js", "", "", http.StatusOK, "fetch(\"/api/cart\""},
		{"no_such_page", "GET", "/nope", "", "", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			shop.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.contains) {
				t.Errorf("%s %s: %d, want %d with %q:\n%s", tc.method, tc.target, w.Code, tc.status, tc.contains, w.Body.String())
			}
		})
	}
}

func TestShopCookies(t *testing.T) {
	shop := newShop()
	w := httptest.NewRecorder()
	shop.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != "sid" || !c[0].HttpOnly {
		t.Errorf("first visit cookies %v, want an HttpOnly sid", c)
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader("email=bob%40example.org&password=Tr0ub4dor%263"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "sid", Value: "1"})
	w = httptest.NewRecorder()
	shop.ServeHTTP(w, r)
	session := w.Result().Cookies()
	if len(session) != 1 || session[0].Name != "session" || w.Header().Get("Location") != "/account" {
		t.Fatalf("login: cookies %v, location %q", session, w.Header().Get("Location"))
	}
	r = httptest.NewRequest("GET", "/account", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: "1"})
	r.AddCookie(session[0])
	w = httptest.NewRecorder()
	shop.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "signed in") {
		t.Errorf("account after login: %d\n%s", w.Code, w.Body.String())
	}
}

// TestShopShowsVerdict checks that pages behind a guard show the guard's verdict.
func TestShopShowsVerdict(t *testing.T) {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/products", nil)
	r.RemoteAddr = "198.51.100.20:1234"
	w := httptest.NewRecorder()
	g.Handler(newShop()).ServeHTTP(w, r)
	want := "Checked by Vigil: allow, score "
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) || !strings.Contains(w.Body.String(), "client 198.51.100.20") {
		t.Errorf("%d, want a footer with %q and the client:\n%s", w.Code, want, w.Body.String())
	}
}
