package guardagent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// hmacHex is an independent HMAC-SHA256 for the expectations, written out rather than
// through Sign.
func hmacHex(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

var parseSignatureTests = []struct {
	name   string
	header string
	ok     bool
}{
	{name: "lowercase_hex", header: "v1=" + strings.Repeat("ab", 32), ok: true},
	{name: "uppercase_hex", header: "v1=" + strings.Repeat("AB", 32), ok: true},
	{name: "surrounding_space", header: "  v1=" + strings.Repeat("0f", 32) + " ", ok: true},
	{name: "no_prefix", header: strings.Repeat("ab", 32)},
	{name: "other_version", header: "v2=" + strings.Repeat("ab", 32)},
	{name: "uppercase_prefix", header: "V1=" + strings.Repeat("ab", 32)},
	{name: "short", header: "v1=" + strings.Repeat("ab", 31)},
	{name: "long", header: "v1=" + strings.Repeat("ab", 33)},
	{name: "not_hex", header: "v1=" + strings.Repeat("zz", 32)},
	{name: "sha1_length", header: "v1=" + strings.Repeat("ab", 20)},
	{name: "two_signatures", header: "v1=" + strings.Repeat("ab", 32) + ",v1=" + strings.Repeat("cd", 32)},
	{name: "empty", header: ""},
	{name: "prefix_only", header: "v1="},
}

func TestParseSignature(t *testing.T) {
	for _, tt := range parseSignatureTests {
		t.Run(tt.name, func(t *testing.T) {
			mac, err := ParseSignature(tt.header)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && len(mac) != 32 {
				t.Errorf("mac is %d bytes", len(mac))
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	secret := []byte("s3cret")
	json := []byte(`{"project_id":"default","events":[]}`)
	zipped := gz(t, json)
	plain := &Body{Wire: json, JSON: json}
	gzipped := &Body{Wire: zipped, JSON: json, Gzip: true}
	tests := []struct {
		name   string
		header string
		body   *Body
		secret []byte
		want   Signature
	}{
		{name: "python_plain", header: "v1=" + hmacHex(secret, json), body: plain, secret: secret, want: SignatureWire},
		{name: "python_gzip_signs_wire_bytes", header: "v1=" + hmacHex(secret, zipped), body: gzipped, secret: secret, want: SignatureWire},
		{name: "go_gzip_signs_uncompressed_json", header: "v1=" + hmacHex(secret, json), body: gzipped, secret: secret, want: SignatureJSON},
		{name: "uppercase_hex_accepted", header: "v1=" + strings.ToUpper(hmacHex(secret, json)), body: plain, secret: secret, want: SignatureWire},
		{name: "wrong_secret", header: "v1=" + hmacHex([]byte("other"), json), body: plain, secret: secret, want: SignatureInvalid},
		{name: "tampered_body", header: "v1=" + hmacHex(secret, json), body: &Body{Wire: []byte(`{"project_id":"x"}`), JSON: []byte(`{"project_id":"x"}`)}, secret: secret, want: SignatureInvalid},
		{name: "signature_of_other_bytes", header: "v1=" + hmacHex(secret, zipped), body: plain, secret: secret, want: SignatureInvalid},
		{name: "missing", header: "", body: plain, secret: secret, want: SignatureMissing},
		{name: "blank", header: "   ", body: plain, secret: secret, want: SignatureMissing},
		{name: "malformed", header: "sha256=" + hmacHex(secret, json), body: plain, secret: secret, want: SignatureMalformed},
		{name: "no_secret", header: "v1=" + hmacHex(nil, json), body: plain, secret: nil, want: SignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.header, tt.body, tt.secret); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckSignature(t *testing.T) {
	secret := []byte("s3cret")
	body := &Body{Wire: []byte("{}"), JSON: []byte("{}")}
	good := Sign(body.Wire, secret)
	if good != "v1="+hmacHex(secret, body.Wire) {
		t.Fatalf("Sign = %q", good)
	}
	tests := []struct {
		name     string
		header   string
		secret   []byte
		required bool
		status   int
	}{
		{name: "required_valid", header: good, secret: secret, required: true},
		{name: "required_missing", secret: secret, required: true, status: http.StatusUnauthorized},
		{name: "required_wrong", header: Sign(body.Wire, []byte("x")), secret: secret, required: true, status: http.StatusUnauthorized},
		{name: "required_malformed", header: "v1=nothex", secret: secret, required: true, status: http.StatusUnauthorized},
		{name: "required_but_no_secret_fails_closed", header: good, secret: nil, required: true, status: http.StatusUnauthorized},
		{name: "optional_missing", secret: secret},
		{name: "optional_wrong_is_accepted", header: Sign(body.Wire, []byte("x")), secret: secret},
		{name: "optional_no_secret", header: good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckSignature(tt.header, body, tt.secret, tt.required)
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err != nil && !bytes.Equal(ErrorReply(err).Body, []byte(`{"detail":"Invalid payload signature"}`)) {
				t.Errorf("body %s", ErrorReply(err).Body)
			}
		})
	}
}
