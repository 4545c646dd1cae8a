package guardagent

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// sealIndependently encrypts as encryption.py does, with crypto/cipher directly rather
// than Key.Seal: nonce ‖ ciphertext ‖ tag, base64url with padding, no AAD.
func sealIndependently(t *testing.T, key []byte, nonce []byte, plain string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(gcm.Seal(append([]byte(nil), nonce...), nonce, []byte(plain), nil))
}

const plainPayload = `{"events":[{"event_type":"ip_banned","idempotency_key":"0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01","timestamp":"2026-05-01T12:34:56.123456+00:00"}],"metrics":[]}`

func TestEnvelopeOpen(t *testing.T) {
	key := testKey(t)
	nonce := []byte("0123456789ab")
	good := sealIndependently(t, testKeyRaw, nonce, plainPayload)
	withAAD := func() string {
		block, _ := aes.NewCipher(testKeyRaw)
		gcm, _ := cipher.NewGCM(block)
		return base64.URLEncoding.EncodeToString(gcm.Seal(append([]byte(nil), nonce...), nonce, []byte(plainPayload), []byte("batch")))
	}()
	raw, _ := base64.URLEncoding.DecodeString(good)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name    string
		payload string
		status  int
		events  int
	}{
		{name: "padded", payload: good, events: 1},
		{name: "unpadded", payload: strings.TrimRight(good, "="), events: 1},
		{name: "standard_alphabet", payload: base64.StdEncoding.EncodeToString(raw), events: 1},
		{name: "tampered_tag", payload: base64.URLEncoding.EncodeToString(flipped), status: http.StatusBadRequest},
		{name: "with_aad_is_not_the_protocol", payload: withAAD, status: http.StatusBadRequest},
		{name: "truncated", payload: base64.URLEncoding.EncodeToString(raw[:NonceSize+TagSize-1]), status: http.StatusBadRequest},
		{name: "not_base64", payload: "!!!not base64!!!", status: http.StatusBadRequest},
		{name: "empty_plaintext", payload: sealIndependently(t, testKeyRaw, nonce, ""), status: http.StatusBadRequest},
		{name: "plaintext_not_json", payload: sealIndependently(t, testKeyRaw, nonce, "{events"), status: http.StatusBadRequest},
		{name: "plaintext_schema_error", payload: sealIndependently(t, testKeyRaw, nonce, `{"events":[{"event_type":"x"}],"metrics":[]}`), status: http.StatusUnprocessableEntity},
		{name: "plaintext_metrics_only", payload: sealIndependently(t, testKeyRaw, nonce, `{"events":[],"metrics":[{"metric_type":"request_count","tags":{},"timestamp":"2026-05-01T12:34:56+00:00","value":1.0}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &Envelope{EncryptedPayload: tt.payload}
			p, err := env.Open(key)
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err == nil && len(p.Events) != tt.events {
				t.Errorf("%d events, want %d", len(p.Events), tt.events)
			}
		})
	}
}

func TestEnvelopeOpenWithoutKeys(t *testing.T) {
	env := &Envelope{EncryptedPayload: sealIndependently(t, testKeyRaw, []byte("0123456789ab"), plainPayload)}
	for _, keys := range [][]*Key{nil, {nil}, {{}}} {
		if _, err := env.Open(keys...); statusOf(err) != http.StatusBadRequest {
			t.Errorf("Open(%v) = %v, want 400", keys, err)
		}
	}
}

func TestSealOpensIndependently(t *testing.T) {
	key := testKey(t)
	payload := key.Seal([]byte(plainPayload))
	raw, err := base64.URLEncoding.DecodeString(payload) // padded, as Python writes it
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(testKeyRaw)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, raw[:NonceSize], raw[NonceSize:], nil)
	if err != nil || string(plain) != plainPayload {
		t.Fatalf("Seal output does not open with crypto/cipher: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(append([]byte{0xfb, 0xff}, testKeyRaw[2:]...)) // has + and /
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{name: "python_padded", key: testKeyString, ok: true},
		{name: "unpadded", key: strings.TrimRight(testKeyString, "="), ok: true},
		{name: "standard_alphabet", key: std, ok: true},
		{name: "generated", key: GenerateKey(), ok: true},
		{name: "16_bytes", key: base64.URLEncoding.EncodeToString(testKeyRaw[:16])},
		{name: "33_bytes", key: base64.URLEncoding.EncodeToString(append(testKeyRaw, 0))},
		{name: "not_base64", key: "this is not a key at all, not even close!!!!"},
		{name: "empty", key: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseKey(tt.key); (err == nil) != tt.ok {
				t.Errorf("ParseKey: %v, want ok %v", err, tt.ok)
			}
		})
	}
	if k := GenerateKey(); len(k) != 44 || !strings.HasSuffix(k, "=") || GenerateKey() == k {
		t.Errorf("GenerateKey = %q: want 44 padded characters, different each time", k)
	}
}

func TestDecodeEnvelope(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{name: "python", body: `{"encrypted_payload":"abc","batch_id":"1-2","agent_version":"2.8.1","guard_version":null}`},
		{name: "newer_with_guard_core_version", body: `{"encrypted_payload":"abc","batch_id":"1-2","guard_core_version":"4.4.0","future":1}`},
		{name: "missing_payload", body: `{"batch_id":"1-2"}`, status: http.StatusUnprocessableEntity},
		{name: "payload_not_string", body: `{"encrypted_payload":123}`, status: http.StatusUnprocessableEntity},
		{name: "not_json", body: `encrypted`, status: http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEnvelope([]byte(tt.body))
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
		})
	}
}
