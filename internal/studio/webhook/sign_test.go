package webhook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/studio/webhook"
)

// The known answer below is from OpenSSL, not from this package:
//
//	printf '%s' '1700000000.{"type":"ban"}' | openssl dgst -sha256 -hmac "$secret" -hex
const (
	vectorSecret = "a3f1c2d4e5b60718293a4b5c6d7e8f90a3f1c2d4e5b60718293a4b5c6d7e8f90"
	vectorBody   = `{"type":"ban"}`
	vectorHeader = "t=1700000000,v1=1bca1537f7ab3c6791bdf394df3c231b7b62197c89002b6e378fb04ed5907ac2"
)

var vectorTime = time.Unix(1700000000, 0)

func TestSignKnownAnswer(t *testing.T) {
	if got := webhook.Sign([]byte(vectorSecret), vectorTime, []byte(vectorBody)); got != vectorHeader {
		t.Errorf("Sign = %q, want %q", got, vectorHeader)
	}
	// Sub-second parts of the time are not signed.
	if got := webhook.Sign([]byte(vectorSecret), vectorTime.Add(999*time.Millisecond), []byte(vectorBody)); got != vectorHeader {
		t.Errorf("Sign(+999ms) = %q, want %q", got, vectorHeader)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte(vectorSecret)
	body := []byte(vectorBody)
	sig := vectorHeader[len("t=1700000000,v1="):]
	other := strings.Repeat("ab", 32)
	for _, c := range []struct {
		name      string
		secret    string
		header    string
		body      string
		now       time.Duration // after vectorTime
		tolerance time.Duration
		want      error
	}{
		{name: "valid", header: vectorHeader},
		{name: "valid_spaces", header: "t=1700000000, v1=" + sig},
		{name: "order_does_not_matter", header: "v1=" + sig + ",t=1700000000"},
		{name: "rotated_second_v1", header: "t=1700000000,v1=" + other + ",v1=" + sig},
		{name: "unknown_key_ignored", header: "t=1700000000,v0=x,v1=" + sig},
		{name: "uppercase_hex", header: "t=1700000000,v1=" + strings.ToUpper(sig)},
		{name: "clock_ahead_in_tolerance", header: vectorHeader, now: 5 * time.Minute},
		{name: "clock_behind_in_tolerance", header: vectorHeader, now: -5 * time.Minute},
		{name: "wrong_secret", secret: strings.Repeat("0", 64), header: vectorHeader, want: webhook.ErrSignature},
		{name: "secret_decoded_is_not_the_key", secret: "\xa3\xf1", header: vectorHeader, want: webhook.ErrSignature},
		{name: "tampered_body", header: vectorHeader, body: `{"type":"ban" }`, want: webhook.ErrSignature},
		{name: "other_timestamp", header: "t=1700000001,v1=" + sig, now: time.Second, want: webhook.ErrSignature},
		{name: "only_wrong_v1", header: "t=1700000000,v1=" + other, want: webhook.ErrSignature},
		{name: "too_old", header: vectorHeader, now: 5*time.Minute + time.Second, want: webhook.ErrTimestamp},
		{name: "too_new", header: vectorHeader, now: -5*time.Minute - time.Second, want: webhook.ErrTimestamp},
		{name: "custom_tolerance", header: vectorHeader, now: time.Hour, tolerance: 2 * time.Hour},
		{name: "custom_tolerance_exceeded", header: vectorHeader, now: time.Minute, tolerance: time.Second, want: webhook.ErrTimestamp},
		{name: "empty", header: "", want: webhook.ErrMalformed},
		{name: "no_t", header: "v1=" + sig, want: webhook.ErrMalformed},
		{name: "no_v1", header: "t=1700000000", want: webhook.ErrMalformed},
		{name: "two_t", header: "t=1700000000,t=1700000000,v1=" + sig, want: webhook.ErrMalformed},
		{name: "t_not_a_number", header: "t=17e8,v1=" + sig, want: webhook.ErrMalformed},
		{name: "t_signed", header: "t=+1700000000,v1=" + sig, want: webhook.ErrMalformed},
		{name: "t_too_long", header: "t=1" + strings.Repeat("0", 30) + ",v1=" + sig, want: webhook.ErrMalformed},
		{name: "v1_not_hex", header: "t=1700000000,v1=" + strings.Repeat("zz", 32), want: webhook.ErrMalformed},
		{name: "v1_short", header: "t=1700000000,v1=" + sig[:62], want: webhook.ErrMalformed},
		{name: "part_without_equals", header: "t=1700000000,v1=" + sig + ",junk", want: webhook.ErrMalformed},
		{name: "huge", header: vectorHeader + strings.Repeat(",v1="+other, 100), want: webhook.ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, b := secret, body
			if c.secret != "" {
				s = []byte(c.secret)
			}
			if c.body != "" {
				b = []byte(c.body)
			}
			err := webhook.Verify(s, c.header, b, vectorTime.Add(c.now), c.tolerance)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(vectorHeader, []byte(vectorBody), int64(0))
	f.Add("t=1,v1=", []byte{}, int64(1))
	f.Add("v1=00,t=", []byte("x"), int64(-1))
	f.Add(",,,=,", []byte(nil), int64(1<<40))
	f.Fuzz(func(t *testing.T, header string, body []byte, unix int64) {
		secret := []byte(vectorSecret)
		now := time.Unix(unix, 0)
		// Whatever the header, no panic; and a header Verify accepts must carry
		// the signature Sign makes for its timestamp.
		if err := webhook.Verify(secret, header, body, now, time.Hour); err == nil {
			var ts int64 = -1
			for p := range strings.SplitSeq(header, ",") {
				if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "t" {
					ts = parseDigits(v)
				}
			}
			want := webhook.Sign(secret, time.Unix(ts, 0), body)
			if ts < 0 || !strings.Contains(strings.ToLower(header), want[strings.Index(want, "v1="):]) {
				t.Fatalf("Verify accepted %q for body %q", header, body)
			}
		}
		// What Sign makes, Verify accepts.
		if err := webhook.Verify(secret, webhook.Sign(secret, now, body), body, now, 0); err != nil && unix >= 0 {
			t.Fatalf("Verify(Sign) = %v", err)
		}
	})
}

func parseDigits(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
