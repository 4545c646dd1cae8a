package guardagent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// SignaturePrefix starts every X-Payload-Signature value: "v1=" and the lowercase hex
// HMAC-SHA256 of the body under the project's signing secret.
const SignaturePrefix = "v1="

// Signature is the outcome of checking X-Payload-Signature.
type Signature int

// The outcomes.
const (
	// SignatureMissing: the request has no X-Payload-Signature header (or an empty one).
	SignatureMissing Signature = iota
	// SignatureMalformed: the header is not "v1=" followed by 64 hex digits.
	SignatureMalformed
	// SignatureInvalid: the header is well formed but matches neither signed form of
	// the body, or the project has no secret to check it with.
	SignatureInvalid
	// SignatureWire: the HMAC of the wire bytes matches (Python and TypeScript
	// agents, which sign after gzip).
	SignatureWire
	// SignatureJSON: the HMAC of the decompressed JSON matches (guard-agent-go, which
	// signs before gzip). Only possible for a gzip body; for an uncompressed body the
	// two forms are the same bytes and a match is reported as SignatureWire.
	SignatureJSON
)

// Valid reports whether s is a matching signature of either variant.
func (s Signature) Valid() bool { return s == SignatureWire || s == SignatureJSON }

func (s Signature) String() string {
	switch s {
	case SignatureMissing:
		return "missing"
	case SignatureMalformed:
		return "malformed"
	case SignatureInvalid:
		return "invalid"
	case SignatureWire:
		return "valid (wire bytes)"
	case SignatureJSON:
		return "valid (uncompressed JSON)"
	}
	return "unknown"
}

// ParseSignature parses an X-Payload-Signature value, "v1=<64 hex digits>" (either
// case of hex digits; surrounding white space is ignored), and returns the 32-byte MAC.
func ParseSignature(header string) ([]byte, error) {
	h := strings.TrimSpace(header)
	hexMAC, ok := strings.CutPrefix(h, SignaturePrefix)
	if !ok {
		return nil, errors.New(`signature does not start with "v1="`)
	}
	if len(hexMAC) != 2*sha256.Size {
		return nil, errors.New("signature is not 64 hex digits")
	}
	mac, err := hex.DecodeString(hexMAC)
	if err != nil {
		return nil, errors.New("signature is not 64 hex digits")
	}
	return mac, nil
}

// VerifySignature checks an X-Payload-Signature value against b under secret (§7): it
// computes the HMAC-SHA256 of the wire bytes and, for a gzip body, of the decompressed
// JSON, and compares each with hmac.Equal (constant time). Both MACs are always computed
// and compared, so the time taken does not depend on which variant matched.
//
// The signature covers the body alone: the protocol signs no timestamp or nonce, so
// there is no clock-skew window to check and a captured request can be replayed as is.
// Replayed events are stored once all the same, by their dedupe keys (§6).
func VerifySignature(header string, b *Body, secret []byte) Signature {
	if strings.TrimSpace(header) == "" {
		return SignatureMissing
	}
	mac, err := ParseSignature(header)
	if err != nil {
		return SignatureMalformed
	}
	if len(secret) == 0 {
		return SignatureInvalid
	}
	wireOK := hmac.Equal(mac, sum(secret, b.Wire))
	jsonOK := b.Gzip && hmac.Equal(mac, sum(secret, b.JSON))
	switch {
	case wireOK:
		return SignatureWire
	case jsonOK:
		return SignatureJSON
	}
	return SignatureInvalid
}

// CheckSignature applies the project's signing rule: when required, a request whose
// signature is missing, malformed or wrong gets a 401 *Error; when not required, every
// request passes and the result is only informative (Studio may record it). A project
// that requires signing but has no secret refuses everything: it fails closed.
//
// 401 rather than 400 (the reference names no status): a client with a wrong or missing
// secret keeps its batches and retries with backoff, so nothing is lost once its
// configuration is fixed, while 400 would make it drop every batch.
func CheckSignature(header string, b *Body, secret []byte, required bool) (Signature, error) {
	s := VerifySignature(header, b, secret)
	if required && !s.Valid() {
		return s, &Error{Status: http.StatusUnauthorized, Msg: MsgSignature, Err: errors.New("signature " + s.String())}
	}
	return s, nil
}

// Sign returns the X-Payload-Signature value for body under secret, as the agents
// compute it. Studio does not sign; this is for tests and tools.
func Sign(body, secret []byte) string {
	return SignaturePrefix + hex.EncodeToString(sum(secret, body))
}

func sum(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}
