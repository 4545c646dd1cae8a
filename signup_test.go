package vigil_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// On a signup path a disposable address is blocked; an ordinary one reaches the handler,
// which finds the canonical address in the verdict, with the body intact.
func TestSignupProtection(t *testing.T) {
	p := policy.Default()
	p.Signups = policy.Signups{Paths: []string{"/signup"}}
	g, err := vigil.New(vigil.Config{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	var canonical, body string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := vigil.VerdictFrom(r.Context()).Enrichment.Email; e != nil {
			canonical = e.Canonical
		}
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		body = m["email"]
	}))
	post := func(ct, payload string) int {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(payload))
		r.Header = navigationHeaders()
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := post("application/json", `{"email":"throwaway@mailinator.com","password":"x"}`); code != http.StatusForbidden {
		t.Errorf("disposable address: %d, want 403", code)
	}
	if code := post("application/json", `{"email":"J.o.h.n+news@googlemail.com","password":"x"}`); code != http.StatusOK {
		t.Fatalf("ordinary address: %d", code)
	}
	if canonical != "john@gmail.com" || body != "J.o.h.n+news@googlemail.com" {
		t.Errorf("handler saw canonical %q and body %q", canonical, body)
	}
	if code := post("application/x-www-form-urlencoded", "email=someone%40yopmail.com"); code != http.StatusForbidden {
		t.Errorf("disposable address in a form: %d, want 403", code)
	}
}
