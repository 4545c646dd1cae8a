package cli

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// With --tls-self-signed the proxy terminates TLS itself and tells the upstream the
// client's fingerprints, over HTTP/1.1 and HTTP/2.
func TestProxyTLSForwardsDNA(t *testing.T) {
	got := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer up.Close()
	p := startProxy(t, "--upstream", up.URL, "--tls-self-signed")
	port := p.addr[strings.LastIndexByte(p.addr, ':'):]

	for _, tc := range []struct {
		name string
		h2   bool
	}{{"http1", false}, {"http2", true}} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP1(!tc.h2)
			tr.Protocols.SetHTTP2(tc.h2)
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr}).Get("https://localhost" + port + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.TLS == nil {
				t.Fatalf("status %d, TLS %v", res.StatusCode, res.TLS != nil)
			}
			h := <-got
			if ja4 := h.Get("X-Vigil-Ja4"); !strings.HasPrefix(ja4, "t13d") {
				t.Errorf("X-Vigil-Ja4 = %q", ja4)
			}
			if id := h.Get("X-Vigil-Dna"); !strings.HasPrefix(id, "d1-") {
				t.Errorf("X-Vigil-Dna = %q", id)
			}
			if hd := h.Get("X-Vigil-Hdna"); !strings.HasPrefix(hd, "ho1-") {
				t.Errorf("X-Vigil-Hdna = %q: header order not observed", hd)
			}
			if h2 := h.Get("X-Vigil-H2"); tc.h2 != strings.HasSuffix(h2, "|a,m,p,s") {
				t.Errorf("X-Vigil-H2 = %q over %s", h2, tc.name)
			}
			if proto := h.Get("X-Forwarded-Proto"); proto != "https" {
				t.Errorf("X-Forwarded-Proto = %q", proto)
			}
		})
	}
}

// curl with a Chrome User-Agent is blocked at the default threshold by the proxy,
// which sees curl's TLS and HTTP/2 stack; curl as itself is not.
func TestProxyBlocksSpoofedClient(t *testing.T) {
	curl := needTool(t, "curl")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	p := startProxy(t, "--upstream", up.URL, "--tls-self-signed")
	url := "https://localhost" + p.addr[strings.LastIndexByte(p.addr, ':'):] + "/"
	for _, tc := range []struct {
		name   string
		args   []string
		status string
	}{
		{"chrome_ua_http2", []string{"--http2", "-A", chromeUA}, "403"},
		{"chrome_ua_http1", []string{"--http1.1", "-A", chromeUA}, "403"},
		{"own_ua", []string{"--http2"}, "200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-sk", "-o", "/dev/null", "-w", "%{http_code}"}, tc.args...)
			if got := string(output(t, curl, append(args, url)...)); got != tc.status {
				t.Errorf("status %s, want %s", got, tc.status)
			}
		})
	}
	if !strings.Contains(p.stderr.String(), "spoofed_client") {
		t.Errorf("no spoofed_client in the proxy's log:\n%s", p.stderr)
	}
}
