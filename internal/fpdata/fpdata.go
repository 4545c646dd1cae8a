// Package fpdata reads the client-fingerprint reference rows of the shared data
// (fingerprints.jsonl): curl-impersonate's browser signatures, from which it computes
// each signature's JA4 with Vigil's own implementation (internal/tlsfp), and FoxIO's
// labelled JA4 values, whose labels it maps to the families of the known-clients table.
// The known-clients tests and the detection report (eval) both read them through it.
package fpdata

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/vigilhq/vigil/internal/tlsfp"
)

// The row kinds.
const (
	KindSignature = "curl-impersonate-signature" // a browser's TLS and HTTP/2 signature
	KindJA4Map    = "ja4-mapping"                // a JA4 value with FoxIO's label
)

// Row is one row of fingerprints.jsonl, the fields Vigil reads.
type Row struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Browser string `json:"browser"` // the known-clients family of a signature
	HTTP2   struct {
		PseudoHeaders []string   `json:"pseudo_headers"`
		Headers       [][]string `json:"headers"`
	} `json:"http2"`
	TLS struct {
		HandshakeVersion  string   `json:"handshake_version"`
		Ciphersuites      []any    `json:"ciphersuites"` // numbers, or "GREASE"
		Extensions        []string `json:"extensions"`
		ALPN              []string `json:"alpn_list"`
		SigHashAlgs       []uint16 `json:"sig_hash_algs"`
		SupportedVersions []string `json:"supported_versions"`
	} `json:"tls"`
	Application *string `json:"application"`
	Library     *string `json:"library"`
	JA4         string  `json:"ja4"` // a mapping row's value
}

// Read decodes every row of r.
func Read(r io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var row Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("fingerprints line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// extensionIDs maps curl-impersonate's extension names (its tests/signature.py) to
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

// SignatureJA4 returns the JA4 of a signature row's ClientHello, GREASE values standing
// where the signature says "GREASE".
func (r *Row) SignatureJA4() (string, error) {
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
			return "", fmt.Errorf("signature %s: unknown extension %q", r.Name, e)
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
		h.SignatureSchemes = append(h.SignatureSchemes, tls.SignatureScheme(s))
	}
	return h.Fingerprint().JA4, nil
}

// PseudoOrder returns a signature's HTTP/2 pseudo-header order as the known-clients
// table writes it: "m,a,s,p".
func (r *Row) PseudoOrder() string {
	letters := make([]string, 0, len(r.HTTP2.PseudoHeaders))
	for _, p := range r.HTTP2.PseudoHeaders {
		if len(p) > 1 {
			letters = append(letters, p[1:2])
		}
	}
	return strings.Join(letters, ",")
}

// HeaderNames returns a signature's HTTP/2 header names in order.
func (r *Row) HeaderNames() []string {
	names := make([]string, 0, len(r.HTTP2.Headers))
	for _, h := range r.HTTP2.Headers {
		if len(h) > 0 {
			names = append(names, h[0])
		}
	}
	return names
}

// Label returns a mapping row's FoxIO label: its library, else its application.
func (r *Row) Label() string {
	switch {
	case r.Library != nil:
		return *r.Library
	case r.Application != nil:
		return *r.Application
	}
	return ""
}

// foxioFamily maps the FoxIO labels that name one family of the known-clients table.
// The other labels (malware, VPN clients, IoT devices, WinINET) name clients the
// table does not hold.
var foxioFamily = map[string]string{
	"Chromium Browser": "chrome", "Mozilla Firefox": "firefox", "Safari": "safari",
	"Python": "python", "GoLang": "go", "GoLang net package": "go", "GoLang webhooks": "go",
}

// Family returns the known-clients family a FoxIO label names, "" for none.
func Family(label string) string { return foxioFamily[label] }
