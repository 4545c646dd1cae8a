package guardagent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The AES-256-GCM parameters of the encrypted envelope (§8.6, guard_agent/encryption.py).
const (
	KeySize   = 32
	NonceSize = 12
	TagSize   = 16
)

// Envelope is the body of POST /api/v1/events/encrypted (§8.6). It carries an events
// batch or a metrics batch, encrypted; Open decrypts it.
type Envelope struct {
	// EncryptedPayload is base64url(nonce[12] ‖ ciphertext ‖ tag[16]).
	EncryptedPayload string
	// BatchID, AgentVersion, GuardVersion and GuardCoreVersion are "" when absent or
	// null. Python agents up to 2.8.1 send no guard_core_version here.
	BatchID          string
	AgentVersion     string
	GuardVersion     string
	GuardCoreVersion string
	Extra            map[string]json.RawMessage
}

// Payload is an opened envelope: compact JSON with sorted keys,
// {"events":[…],"metrics":[…]}, one of the arrays empty. Its timestamps are Python
// isoformat() ("T" separator) and its items carry neither project_id nor created_at;
// those belong to the batch, which the envelope does not repeat.
type Payload struct {
	Events  []SecurityEvent
	Metrics []SecurityMetric
}

// DecodeEnvelope decodes the JSON body of POST /api/v1/events/encrypted. Errors are as
// for DecodeBatch; encrypted_payload is required.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	o, err := parseObject(data, "")
	if err != nil {
		return nil, err
	}
	e := &Envelope{}
	o.reqStr("encrypted_payload", &e.EncryptedPayload)
	o.str("batch_id", &e.BatchID)
	o.str("agent_version", &e.AgentVersion)
	o.str("guard_version", &e.GuardVersion)
	o.str("guard_core_version", &e.GuardCoreVersion)
	if err := o.result(); err != nil {
		return nil, err
	}
	e.Extra = o.extras()
	return e, nil
}

// Key is a project's payload-encryption key, ready to use. The zero Key opens nothing.
// A Key is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// ParseKey parses a project encryption key: base64url of 32 bytes, as the agent's
// project_encryption_key holds it. Python's urlsafe_b64decode writes and expects "="
// padding; ParseKey accepts the key with or without it, and also in the standard
// alphabet ("+/"), which Python's decoder accepts too.
func ParseKey(s string) (*Key, error) {
	raw, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("encryption key is not base64url: %w", err)
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("encryption key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	aead, err := cipher.NewGCMWithNonceSize(block, NonceSize)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return &Key{aead: aead}, nil
}

// GenerateKey returns a new random project encryption key in the form clients are
// configured with: base64url with padding, 44 characters.
func GenerateKey() string {
	var k [KeySize]byte
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.URLEncoding.EncodeToString(k[:])
}

// Seal encrypts plaintext as the agent does — a random 12-byte nonce, AES-256-GCM
// without additional data — and returns the encrypted_payload value. Studio does not
// encrypt; this is for tests and tools.
func (k *Key) Seal(plaintext []byte) string {
	nonce := make([]byte, NonceSize, NonceSize+len(plaintext)+TagSize)
	_, _ = rand.Read(nonce)
	return base64.URLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plaintext, nil))
}

// open decrypts an encrypted_payload value with k.
func (k *Key) open(payload []byte) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, errors.New("no key")
	}
	nonce, sealed := payload[:NonceSize], payload[NonceSize:]
	return k.aead.Open(nil, nonce, sealed, nil)
}

// Open decrypts the envelope with the first of keys that authenticates it (several keys
// allow rotation: GCM's tag makes trying a wrong key safe) and decodes the payload.
//
// A payload that is not base64url, is shorter than a nonce and a tag, or opens with
// none of the keys is refused with 400 and the official service's message, "Failed to
// decrypt payload", which the Python client treats as a permanent drop (§8.6): it
// cannot be fixed by resending. A decrypted payload that is not valid JSON is 400, one
// that does not fit the schema 422, as for DecodeBatch.
func (e *Envelope) Open(keys ...*Key) (*Payload, error) {
	sealed, err := decodeBase64(e.EncryptedPayload)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: MsgDecrypt, Err: fmt.Errorf("encrypted_payload: %w", err)}
	}
	if len(sealed) < NonceSize+TagSize {
		return nil, &Error{Status: http.StatusBadRequest, Msg: MsgDecrypt, Err: errors.New("encrypted_payload shorter than nonce and tag")}
	}
	var plain []byte
	err = errors.New("no key configured")
	for _, k := range keys {
		if plain, err = k.open(sealed); err == nil {
			break
		}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: MsgDecrypt, Err: err}
	}
	return DecodePayload(plain)
}

// DecodePayload decodes a decrypted envelope payload, {"events":[…],"metrics":[…]}.
// Either array may be absent or null. Errors are as for DecodeBatch, with field paths
// such as "events[2].timestamp".
func DecodePayload(plain []byte) (*Payload, error) {
	o, err := parseObject(plain, "")
	if err != nil {
		return nil, err
	}
	events, metrics := o.array("events"), o.array("metrics")
	if err := o.result(); err != nil {
		return nil, err
	}
	p := &Payload{}
	if p.Events, err = decodeEvents(events, "events"); err != nil {
		return nil, err
	}
	if p.Metrics, err = decodeMetrics(metrics, "metrics"); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeBase64 decodes base64url with or without padding, also accepting the standard
// alphabet.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}
