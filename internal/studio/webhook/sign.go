package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderSignature = "Vigil-Signature"
	HeaderEvent     = "Vigil-Event"
	HeaderDelivery  = "Vigil-Delivery"
)

// UserAgent is the User-Agent of every delivery.
const UserAgent = "vigil-studio"

// DefaultTolerance is how far a signature's timestamp may be from the receiver's
// clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// maxHeaderLen bounds the signature header Verify reads.
const maxHeaderLen = 4096

// Errors Verify returns; test for them with errors.Is.
var (
	// ErrMalformed: the header is not "t=<unix>,v1=<hex>[,v1=…]".
	ErrMalformed = errors.New("webhook: malformed signature header")
	// ErrSignature: no v1 signature matches the body and the secret.
	ErrSignature = errors.New("webhook: signature does not match")
	// ErrTimestamp: the signature matches but its timestamp is too far from now.
	ErrTimestamp = errors.New("webhook: signature timestamp outside the tolerance")
)

// Sign returns the Vigil-Signature header value of body sent at ts:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<body>")>".
func Sign(secret []byte, ts time.Time, body []byte) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + unix + ",v1=" + hex.EncodeToString(mac(secret, unix, body))
}

func mac(secret []byte, unix string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(unix))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Vigil-Signature header against the raw body and the webhook's
// secret: one of its v1 signatures must be the body's and its timestamp within
// tolerance of now, either way (zero or less: DefaultTolerance). It returns nil, or
// an error wrapping ErrMalformed, ErrSignature or ErrTimestamp. Keys other than t
// and v1 are ignored, so a later scheme can be added beside v1.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(header) > maxHeaderLen {
		return ErrMalformed
	}
	var (
		unix string
		sigs [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			if unix != "" || v == "" || strings.Trim(v, "0123456789") != "" || len(v) > 18 {
				return ErrMalformed
			}
			unix = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return ErrMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	if unix == "" || len(sigs) == 0 {
		return ErrMalformed
	}
	want := mac(secret, unix, body)
	match := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	if !match {
		return ErrSignature
	}
	t, _ := strconv.ParseInt(unix, 10, 64) // 18 digits at most: fits
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	return nil
}
