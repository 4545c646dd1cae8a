package fpdata

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := `{"kind":"curl-impersonate-signature","name":"chrome_x","browser":"chrome","http2":{"pseudo_headers":[":method",":authority",":scheme",":path"],"headers":[["sec-ch-ua","x"],["user-agent","y"]]},"tls":{"handshake_version":"TLS_VERSION_1_2","ciphersuites":["GREASE",4865],"extensions":["GREASE","server_name","no_such_extension"],"alpn_list":["h2"],"sig_hash_algs":[1027],"supported_versions":["GREASE","TLS_VERSION_1_3"]}}
{"kind":"ja4-mapping","library":"GoLang net package","ja4":"t13d1312h2_f57a46bbacb6_e7c285222651"}
{"kind":"ja4-mapping","application":"Sliver","ja4":"t13d190900_9dc949149365_97f8aa674fd9"}
`
	rows, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Kind != KindSignature || rows[1].Kind != KindJA4Map {
		t.Fatalf("rows = %+v", rows)
	}
	sig := &rows[0]
	if got := sig.PseudoOrder(); got != "m,a,s,p" {
		t.Errorf("PseudoOrder = %q, want m,a,s,p", got)
	}
	if got := strings.Join(sig.HeaderNames(), ","); got != "sec-ch-ua,user-agent" {
		t.Errorf("HeaderNames = %q", got)
	}
	if _, err := sig.SignatureJA4(); err == nil || !strings.Contains(err.Error(), "no_such_extension") {
		t.Errorf("SignatureJA4 with an unknown extension: %v, want an error naming it", err)
	}
	sig.TLS.Extensions = []string{"GREASE", "server_name", "supported_versions"}
	ja4, err := sig.SignatureJA4()
	if err != nil {
		t.Fatal(err)
	}
	// TLS 1.3 from the supported_versions extension, SNI present, one cipher and two
	// extensions besides GREASE, ALPN h2.
	if !strings.HasPrefix(ja4, "t13d0102h2_") {
		t.Errorf("JA4 = %s, want prefix t13d0102h2_", ja4)
	}
	if got := Family(rows[1].Label()); got != "go" {
		t.Errorf("Family(%q) = %q, want go", rows[1].Label(), got)
	}
	if got := Family(rows[2].Label()); got != "" {
		t.Errorf("Family(%q) = %q, want none", rows[2].Label(), got)
	}
	if _, err := Read(strings.NewReader("{not json}\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Read of a bad line: %v, want an error naming line 1", err)
	}
}
