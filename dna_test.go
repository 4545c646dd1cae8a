package vigil_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// dnaHandler answers with the DNA of the verdict the guard made.
var dnaHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_ = json.NewEncoder(w).Encode(vigil.VerdictFrom(r.Context()).DNA)
})

func getDNA(t *testing.T, c *http.Client, url string, header http.Header) fingerprint.DNA {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d fingerprint.DNA
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	return d
}

// In pure middleware mode net/http has thrown the header order away: the guard reports
// it unknown, with no TLS or HTTP/2 fingerprint, and never a guessed order.
func TestDNAMiddlewareModeOrderUnknown(t *testing.T) {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(g.Handler(dnaHandler))
	defer srv.Close()
	d := getDNA(t, srv.Client(), srv.URL, vigiltest.NavigationRequest("/").Header)
	if d.HeaderOrder != nil || d.Protocol != "" || d.HDNA != "" || d.TLS != nil || d.H2 != nil {
		t.Errorf("middleware mode reported connection-level DNA: %+v", d)
	}
	if d.Source != "request" || !strings.HasPrefix(d.ID, "d1-") || d.Family != "chrome" || d.Presence == 0 {
		t.Errorf("request-level DNA: %+v", d)
	}
}

// Behind a fingerprint.Server the guard's DNA carries the connection: the header order,
// JA4 and, over HTTP/2, the Akamai fingerprint. From a trusted proxy's connection it
// carries none of them: they would be the proxy's.
func TestDNAListenerMode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		h2      bool
	}{
		{"http1", nil, false},
		{"http2", nil, true},
		{"trusted_proxy", []string{"127.0.0.1/32"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := vigil.New(vigil.Config{TrustedProxies: tc.trusted})
			if err != nil {
				t.Fatal(err)
			}
			cert, err := selfsigned.Certificate()
			if err != nil {
				t.Fatal(err)
			}
			s := &fingerprint.Server{HTTP: &http.Server{Handler: g.Handler(dnaHandler), ReadHeaderTimeout: 5 * time.Second,
				TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = s.Serve(ln) }()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = s.Shutdown(ctx)
			}()
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP1(!tc.h2)
			tr.Protocols.SetHTTP2(tc.h2)
			defer tr.CloseIdleConnections()
			d := getDNA(t, &http.Client{Transport: tr}, "https://"+ln.Addr().String()+"/", nil)
			if tc.trusted != nil {
				if d.Source != "request" || d.HeaderOrder != nil || d.TLS != nil {
					t.Errorf("a trusted proxy's connection fingerprints became the client's: %+v", d)
				}
				return
			}
			if d.Source != "connection" || d.HeaderOrder == nil || d.TLS == nil || !d.TLS.Exact || !strings.HasPrefix(d.HDNA, "hdna1:") {
				t.Errorf("connection not in the DNA: %+v", d)
			}
			if (d.H2 != nil) != tc.h2 || (d.Protocol == "h2") != tc.h2 {
				t.Errorf("protocol %q, h2 %+v", d.Protocol, d.H2)
			}
		})
	}
}

// A trusted proxy's fingerprint headers become the client's DNA; anyone else's, and
// malformed ones, are ignored.
func TestDNAFromTrustedProxyHeaders(t *testing.T) {
	const ja4 = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
	const akamai = "3:100;4:33554432;2:0|33488897|0|m,p,s,a"
	for _, tc := range []struct {
		name    string
		trusted []string
		ja4     string
		want    bool
	}{
		{"trusted", []string{"127.0.0.1/32"}, ja4, true},
		{"untrusted_peer", []string{"10.0.0.0/8"}, ja4, false},
		{"malformed", []string{"127.0.0.1/32"}, "t13d3112h2_e8f1e7e78f70_b26ce05bbdzz", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := vigil.New(vigil.Config{TrustedProxies: tc.trusted,
				FingerprintHeaders: vigil.FingerprintHeaders{JA4: "X-Vigil-Ja4", H2: "X-Vigil-H2"}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(g.Handler(dnaHandler))
			defer srv.Close()
			h := http.Header{"X-Vigil-Ja4": {tc.ja4}, "X-Vigil-H2": {akamai}, "User-Agent": {"curl/8.5.0"}}
			d := getDNA(t, srv.Client(), srv.URL, h)
			if got := d.TLS != nil && d.TLS.JA4 == tc.ja4; got != tc.want {
				t.Errorf("JA4 taken: %v, want %v (DNA %+v)", got, tc.want, d)
			}
			if tc.want && (d.Source != "upstream" || d.H2 == nil || d.H2.Akamai != akamai || d.HeaderOrder != nil) {
				t.Errorf("DNA %+v", d)
			}
			// The H2 header is well-formed in every case: taken from the trusted proxy
			// only.
			if trusted := tc.trusted[0] == "127.0.0.1/32"; (d.Source == "upstream") != trusted || (d.H2 != nil) != trusted {
				t.Errorf("source %q, h2 %+v, from a trusted proxy: %v", d.Source, d.H2, trusted)
			}
		})
	}
}
