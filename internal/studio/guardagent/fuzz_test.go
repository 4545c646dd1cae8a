package guardagent

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// requireError fails unless err is an *Error with one of the statuses.
func requireError(t *testing.T, err error, statuses ...int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	for _, s := range statuses {
		if e.Status == s {
			if e.Msg == "" {
				t.Fatalf("empty client message")
			}
			return
		}
	}
	t.Fatalf("status %d (%v), want one of %v", e.Status, err, statuses)
}

// goldenJSON returns the decompressed bodies of the goldens sent to path.
func goldenJSON(f *testing.F, path string) [][]byte {
	var out [][]byte
	for _, g := range loadGoldens(f) {
		if g.Path != path {
			continue
		}
		b, err := ReadBody(bytes.NewReader(g.Body), g.header(HeaderContentEncoding))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b.JSON)
	}
	return out
}

func checkBatch(t *testing.T, b *EventBatch) {
	for i := range b.Events {
		e := &b.Events[i]
		if e.Timestamp.Location() != time.UTC || e.DedupeKey() == "" || len(e.Raw) == 0 {
			t.Fatalf("event %d: %+v", i, e)
		}
		n := Normalize(e)
		if n.Score < 0 || n.Score > 100 || n.Latency < 0 {
			t.Fatalf("normalized %+v", n)
		}
	}
	for i := range b.Metrics {
		m := &b.Metrics[i]
		if !validMetricType(m.MetricType) || m.DedupeKey() == "" {
			t.Fatalf("metric %d: %+v", i, m)
		}
	}
}

func FuzzDecodeBatchEvents(f *testing.F) {
	for _, b := range goldenJSON(f, PathEvents) {
		f.Add(b)
	}
	for _, tt := range decodeBatchTests {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			requireError(t, err, 400, 422)
			return
		}
		checkBatch(t, b)
	})
}

func FuzzDecodeBatchMetrics(f *testing.F) {
	for _, b := range goldenJSON(f, PathMetrics) {
		f.Add(b)
	}
	f.Add([]byte(`{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"error_rate","value":1,"tags":{"a":"b"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			requireError(t, err, 400, 422)
			return
		}
		checkBatch(t, b)
	})
}

func FuzzDecodeStatus(f *testing.F) {
	for _, b := range goldenJSON(f, PathStatus) {
		f.Add(b)
	}
	for _, tt := range decodeStatusTests {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStatus(data)
		if err != nil {
			requireError(t, err, 400, 422)
			return
		}
		if s.Status != StatusHealthy && s.Status != StatusDegraded && s.Status != StatusFailed {
			t.Fatalf("status %q accepted", s.Status)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, b := range goldenJSON(f, PathEventsEncrypted) {
		f.Add(b)
	}
	f.Add([]byte(`{"encrypted_payload":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`))
	key := testKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := DecodeEnvelope(data)
		if err != nil {
			requireError(t, err, 400, 422)
			return
		}
		p, err := env.Open(key)
		if err != nil {
			requireError(t, err, 400, 422)
			return
		}
		checkBatch(t, &EventBatch{Events: p.Events, Metrics: p.Metrics})
	})
}

// FuzzEnvelopePayload fuzzes the decrypted payload: whatever a holder of the key
// encrypts round-trips through Seal and Open exactly as DecodePayload reads it.
func FuzzEnvelopePayload(f *testing.F) {
	f.Add([]byte(plainPayload))
	f.Add([]byte(`{"events":[],"metrics":[{"metric_type":"request_count","tags":{},"timestamp":"2026-05-01T12:34:56+00:00","value":1.0}]}`))
	key := testKey(f)
	f.Fuzz(func(t *testing.T, plain []byte) {
		direct, errDirect := DecodePayload(plain)
		opened, errOpen := (&Envelope{EncryptedPayload: key.Seal(plain)}).Open(key)
		if (errDirect == nil) != (errOpen == nil) {
			t.Fatalf("DecodePayload: %v; Seal then Open: %v", errDirect, errOpen)
		}
		if errOpen != nil {
			requireError(t, errOpen, 400, 422)
			return
		}
		if len(direct.Events) != len(opened.Events) || len(direct.Metrics) != len(opened.Metrics) {
			t.Fatal("Open and DecodePayload disagree")
		}
		checkBatch(t, &EventBatch{Events: opened.Events, Metrics: opened.Metrics})
	})
}

func FuzzParseSignature(f *testing.F) {
	for _, tt := range parseSignatureTests {
		f.Add(tt.header, []byte("{}"))
	}
	secret := []byte("s3cret")
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		mac, err := ParseSignature(header)
		if err == nil {
			// Differential against encoding/hex on the documented form.
			h, ok := strings.CutPrefix(strings.TrimSpace(header), "v1=")
			if !ok || !strings.EqualFold(hex.EncodeToString(mac), h) {
				t.Fatalf("ParseSignature(%q) = %x", header, mac)
			}
		}
		b := &Body{Wire: body, JSON: body}
		s := VerifySignature(header, b, secret)
		if s.Valid() && !hmacEqualHex(header, secret, body) {
			t.Fatalf("VerifySignature(%q) = %v for a signature that does not match", header, s)
		}
		if got := VerifySignature(Sign(body, secret), b, secret); got != SignatureWire {
			t.Fatalf("own signature: %v", got)
		}
	})
}

func hmacEqualHex(header string, secret, body []byte) bool {
	h, _ := strings.CutPrefix(strings.TrimSpace(header), "v1=")
	return strings.EqualFold(h, hmacHex(secret, body))
}

func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"a":1}`), false)
	f.Add(gz(f, []byte(`{"a":1}`)), true)
	f.Add(gz(f, bytes.Repeat([]byte("x"), 1<<20)), true)
	f.Fuzz(func(t *testing.T, data []byte, zipped bool) {
		enc := ""
		if zipped {
			enc = "gzip"
		}
		b, err := ReadBody(bytes.NewReader(data), enc)
		if err != nil {
			requireError(t, err, 400, 413)
			return
		}
		if !bytes.Equal(b.Wire, data) || len(b.JSON) > MaxBodySize {
			t.Fatal("body mangled or over the cap")
		}
		if zipped {
			// Differential against compress/gzip read to the end.
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ReadBody accepted what gzip.NewReader refuses: %v", err)
			}
			want, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(want, b.JSON) {
				t.Fatalf("ReadBody and compress/gzip disagree: %v", err)
			}
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, tt := range parseTimeTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err == nil && got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not in UTC", s)
		}
		// Differential: whatever the standard library reads as RFC 3339 (within
		// ParseTime's length bound), ParseTime reads the same way.
		if want, werr := time.Parse(time.RFC3339Nano, s); werr == nil && len(s) <= 64 {
			if err != nil || !got.Equal(want) {
				t.Fatalf("ParseTime(%q) = %v, %v; time.Parse = %v", s, got, err, want)
			}
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add(testKeyString)
	f.Add(GenerateKey())
	f.Add("short")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		plain := []byte(`{"events":[],"metrics":[]}`)
		p, err := (&Envelope{EncryptedPayload: k.Seal(plain)}).Open(k)
		if err != nil || len(p.Events) != 0 {
			t.Fatalf("round trip with key %q: %v", s, err)
		}
	})
}
