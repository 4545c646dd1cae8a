package vigil_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fraud"
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

// Multipart signups are read too (a file part before the address is skipped), and with
// a phone analyzer the number is checked and its E.164 form handed to the handler.
func TestSignupMultipartAndPhone(t *testing.T) {
	p := policy.Default()
	p.Signups = policy.Signups{Paths: []string{"/signup"}}
	g, err := vigil.New(vigil.Config{Policy: p, Phones: fraud.PhoneAnalyzer{DefaultRegion: "GB"}})
	if err != nil {
		t.Fatal(err)
	}
	var seen vigil.Verdict
	var avatar string
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = *vigil.VerdictFrom(r.Context())
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			if f, _, err := r.FormFile("avatar"); err == nil {
				b, _ := io.ReadAll(f)
				avatar = string(b)
			}
		}
	}))
	post := func(email, phone string) (int, http.Header) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("avatar", "me.png")
		_, _ = fw.Write([]byte("PNG-bytes email=nobody@mailinator.com"))
		_ = mw.WriteField("email", email)
		_ = mw.WriteField("phone", phone)
		_ = mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/signup", &buf)
		r.Header = navigationHeaders()
		r.Header.Set("Content-Type", mw.FormDataContentType())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header()
	}
	if code, _ := post("someone@yopmail.com", "07400 123456"); code != http.StatusForbidden {
		t.Errorf("disposable address in a multipart form: %d, want 403", code)
	}
	if code, _ := post("ann@example.org", "07400 123456"); code != http.StatusOK {
		t.Fatalf("ordinary signup: %d", code)
	}
	if avatar != "PNG-bytes email=nobody@mailinator.com" {
		t.Errorf("the handler read the file part as %q", avatar)
	}
	ph := seen.Enrichment.Phone
	if ph == nil || ph.E164 != "+447400123456" || !ph.Valid || ph.Region != "GB" || ph.Type != "mobile" {
		t.Fatalf("phone enrichment %+v", ph)
	}
	if e := seen.Enrichment.Email; e == nil || e.Canonical != "ann@example.org" {
		t.Errorf("email enrichment %+v", e)
	}
	// A number outside the numbering plan scores phone_invalid (60): a signal, not a block.
	if code, _ := post("ann@example.org", "+44 12345"); code != http.StatusOK {
		t.Fatalf("signup with a bad number: %d", code)
	}
	if !hasSignal(seen, "phone_invalid") || seen.Enrichment.Phone.Valid {
		t.Errorf("bad number: signals %v, phone %+v", seen.Signals, seen.Enrichment.Phone)
	}
}
