package knownclients_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/tlsfp"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// fpRow is a row of shared/data/fingerprints.jsonl, the fields these tests read.
type fpRow struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Browser string `json:"browser"`
	HTTP2   struct {
		PseudoHeaders []string   `json:"pseudo_headers"`
		Headers       [][]string `json:"headers"`
	} `json:"http2"`
	TLS struct {
		HandshakeVersion  string   `json:"handshake_version"`
		Ciphersuites      []any    `json:"ciphersuites"`
		Extensions        []string `json:"extensions"`
		ALPN              []string `json:"alpn_list"`
		SigHashAlgs       []uint16 `json:"sig_hash_algs"`
		SupportedVersions []string `json:"supported_versions"`
	} `json:"tls"`
	Application *string `json:"application"`
	Library     *string `json:"library"`
	JA4         string  `json:"ja4"`
	Index       int     `json:"index"`
}

func loadRows(t *testing.T, kind string) []fpRow {
	t.Helper()
	f, err := os.Open(vigiltest.SharedData(t, "fingerprints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []fpRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r fpRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == kind {
			rows = append(rows, r)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("no %s rows", kind)
	}
	return rows
}

// extensionIDs maps curl-impersonate's extension names (tests/signature.py) to their
// IANA code points.
var extensionIDs = map[string]uint16{
	"server_name": 0, "status_request": 5, "supported_groups": 10, "ec_point_formats": 11,
	"signature_algorithms": 13, "application_layer_protocol_negotiation": 16,
	"signed_certificate_timestamp": 18, "padding": 21, "extended_master_secret": 23,
	"compress_certificate": 27, "record_size_limit": 28, "delegated_credentials": 34,
	"session_ticket": 35, "pre_shared_key": 41, "supported_versions": 43,
	"psk_key_exchange_modes": 45, "keyshare": 51, "application_settings": 17513,
	"renegotiation_info": 65281,
}

var tlsVersions = map[string]uint16{
	"TLS_VERSION_1_0": 0x0301, "TLS_VERSION_1_1": 0x0302,
	"TLS_VERSION_1_2": 0x0303, "TLS_VERSION_1_3": 0x0304,
}

// signatureJA4 computes the JA4 of a curl-impersonate signature with the project's
// JA4 implementation (tlsfp), GREASE values standing in for "GREASE".
func signatureJA4(t *testing.T, r fpRow) string {
	t.Helper()
	h := &tlsfp.ClientHello{Version: tlsVersions[r.TLS.HandshakeVersion], SupportedProtos: r.TLS.ALPN}
	for _, c := range r.TLS.Ciphersuites {
		switch c := c.(type) {
		case float64:
			h.CipherSuites = append(h.CipherSuites, uint16(c))
		case string:
			h.CipherSuites = append(h.CipherSuites, 0x0a0a)
		}
	}
	for _, e := range r.TLS.Extensions {
		if e == "GREASE" {
			h.Extensions = append(h.Extensions, 0x1a1a)
			continue
		}
		id, ok := extensionIDs[e]
		if !ok {
			t.Fatalf("unknown extension %q", e)
		}
		h.Extensions = append(h.Extensions, id)
	}
	for _, v := range r.TLS.SupportedVersions {
		if v == "GREASE" {
			h.SupportedVersions = append(h.SupportedVersions, 0x2a2a)
		} else {
			h.SupportedVersions = append(h.SupportedVersions, tlsVersions[v])
		}
	}
	for _, s := range r.TLS.SigHashAlgs {
		h.SignatureSchemes = append(h.SignatureSchemes, tlsSignatureScheme(s))
	}
	return h.Fingerprint().JA4
}

// TestCurlImpersonateSignatures checks every browser signature of curl-impersonate:
// its JA4 (computed here), its cipher hash, its pseudo-header order and its HTTP/2
// header order all map to the signature's browser.
func TestCurlImpersonateSignatures(t *testing.T) {
	tb := knownclients.Default()
	rows := loadRows(t, "curl-impersonate-signature")
	if len(rows) != 21 {
		t.Errorf("%d signatures, want 21", len(rows))
	}
	for _, r := range rows {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(r.Name), func(t *testing.T) {
			if _, ok := tb.Family(r.Browser); !ok {
				t.Fatalf("browser %q is not a family", r.Browser)
			}
			ja4 := signatureJA4(t, r)
			if ms := tb.ByJA4(ja4); !contains(ms, r.Browser) {
				t.Errorf("ByJA4(%s) = %v, want %s", ja4, ms, r.Browser)
			}
			if ms := tb.ByJA4B(ja4[11:23]); !contains(ms, r.Browser) {
				t.Errorf("ByJA4B(%s) = %v, want %s", ja4[11:23], ms, r.Browser)
			}
			var letters []string
			for _, p := range r.HTTP2.PseudoHeaders {
				letters = append(letters, p[1:2])
			}
			pseudo := strings.Join(letters, ",")
			ms := tb.ByH2("", pseudo)
			if !contains(ms, r.Browser) || ms[0].Confidence != knownclients.ConfidenceH2Pseudo {
				t.Errorf("ByH2(%q) = %v, want %s by pseudo-header order", pseudo, ms, r.Browser)
			}
			var names []string
			for _, h := range r.HTTP2.Headers {
				names = append(names, h[0])
			}
			if ms := tb.ByHeaderOrder("h2", names); !contains(ms, r.Browser) || ms[0].Confidence != knownclients.ConfidenceHeaderExact {
				t.Errorf("ByHeaderOrder(h2, %q) = %v, want %s exactly", names, ms, r.Browser)
			}
			a := tb.Compare(knownclients.Claim{Family: r.Browser}, knownclients.Evidence{
				JA4: ja4, PseudoOrder: pseudo, Proto: "h2", HeaderNames: names, RequestKind: knownclients.RequestNavigation,
			})
			if a.Verdict != knownclients.VerdictConsistent || a.Layers[knownclients.LayerTLS].Rule != knownclients.RuleJA4 {
				t.Errorf("Compare: %v, %q; want consistent with an exact JA4", a.Verdict, a.Reasons())
			}
		})
	}
}

// foxioFamily maps the FoxIO ja4plus-mapping labels that name one known family. The
// other labels (malware, VPN clients, IoT devices, WinINET) are not in the table.
var foxioFamily = map[string]string{
	"Chromium Browser": "chrome", "Mozilla Firefox": "firefox", "Safari": "safari",
	"Python": "python", "GoLang": "go", "GoLang net package": "go", "GoLang webhooks": "go",
}

// TestFoxIOMapping checks every labelled JA4 of FoxIO's mapping: a value whose labels
// all name one family resolves to it exactly, and a value that any other label
// claims too (row 62's GoLang value is also WinINET's) is not in the table.
func TestFoxIOMapping(t *testing.T) {
	tb := knownclients.Default()
	rows := loadRows(t, "ja4-mapping")
	fams := map[string]map[string]bool{} // JA4 → families ("" for an unmapped label)
	var order []string
	for _, r := range rows {
		label := ""
		if r.Library != nil {
			label = *r.Library
		} else if r.Application != nil {
			label = *r.Application
		}
		if fams[r.JA4] == nil {
			fams[r.JA4] = map[string]bool{}
			order = append(order, r.JA4)
		}
		fams[r.JA4][foxioFamily[label]] = true
	}
	mapped := 0
	for _, ja4 := range order {
		t.Run(ja4, func(t *testing.T) {
			ms := tb.ByJA4(ja4)
			if len(fams[ja4]) != 1 || fams[ja4][""] {
				if ms != nil {
					t.Errorf("ByJA4(%s) = %v; its labels %v are not one known family", ja4, ms, fams[ja4])
				}
				return
			}
			mapped++
			for want := range fams[ja4] {
				if len(ms) == 0 || ms[0].Family != want {
					t.Errorf("ByJA4(%s) = %v, want %s first", ja4, ms, want)
				}
			}
		})
	}
	if mapped != 21 {
		t.Errorf("%d FoxIO values mapped, want 21 (Python 3, Chromium 8, Firefox 2, Safari 2, Go 6)", mapped)
	}
}

func tlsSignatureScheme(v uint16) tls.SignatureScheme { return tls.SignatureScheme(v) }
