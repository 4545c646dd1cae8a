package guardagent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The secrets the goldens were made with (testdata/gen_goldens.py).
var (
	testSecret = []byte("studio-test-signing-secret")
	testKeyRaw = func() []byte {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}()
	testKeyString = base64.URLEncoding.EncodeToString(testKeyRaw)
)

func testKey(t testing.TB) *Key {
	t.Helper()
	k, err := ParseKey(testKeyString)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// golden is one recorded request, testdata/<name>.json.
type golden struct {
	Name    string
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body_base64"`
	Expect  json.RawMessage   `json:"expect"`
}

func (g *golden) header(name string) string {
	for k, v := range g.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

type expectBatch struct {
	Gzip      bool           `json:"gzip"`
	Signed    *string        `json:"signed"`
	BatchID   string         `json:"batch_id"`
	CreatedAt string         `json:"created_at"`
	Events    []expectEvent  `json:"events"`
	Metrics   []expectMetric `json:"metrics"`
}

type expectEvent struct {
	IdempotencyKey string   `json:"idempotency_key"`
	Timestamp      string   `json:"timestamp"`
	EventType      string   `json:"event_type"`
	IPAddress      string   `json:"ip_address"`
	Country        string   `json:"country"`
	ActionTaken    string   `json:"action_taken"`
	Endpoint       string   `json:"endpoint"`
	Method         string   `json:"method"`
	StatusCode     *int64   `json:"status_code"`
	Extra          []string `json:"extra"`
	MetadataKeys   []string `json:"metadata_keys"`
}

type expectMetric struct {
	Timestamp  string            `json:"timestamp"`
	MetricType string            `json:"metric_type"`
	Value      float64           `json:"value"`
	Endpoint   string            `json:"endpoint"`
	Tags       map[string]string `json:"tags"`
}

type expectStatus struct {
	Signed       *string  `json:"signed"`
	Timestamp    string   `json:"timestamp"`
	Status       string   `json:"status"`
	Uptime       float64  `json:"uptime"`
	EventsSent   int64    `json:"events_sent"`
	EventsFailed int64    `json:"events_failed"`
	BufferSize   int64    `json:"buffer_size"`
	LastFlush    *string  `json:"last_flush"`
	Errors       []string `json:"errors"`
}

func loadGoldens(t testing.TB) []golden {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	var out []golden
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "rules_") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		g.Name = strings.TrimSuffix(filepath.Base(f), ".json")
		out = append(out, g)
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// decodeGolden runs a recorded request through the package as Studio's handler would,
// requiring a valid signature when the client sent one.
func decodeGolden(t *testing.T, g golden) (batch *EventBatch, status *AgentStatus, sig Signature) {
	t.Helper()
	body, err := ReadBody(bytes.NewReader(g.Body), g.header(HeaderContentEncoding))
	if err != nil {
		t.Fatalf("ReadBody: %v", err)
	}
	required := g.header(HeaderSignature) != ""
	sig, err = CheckSignature(g.header(HeaderSignature), body, testSecret, required)
	if err != nil {
		t.Fatalf("CheckSignature: %v", err)
	}
	switch g.Path {
	case PathEvents, PathMetrics:
		batch, err = DecodeBatch(body.JSON)
	case PathEventsEncrypted:
		var env *Envelope
		if env, err = DecodeEnvelope(body.JSON); err == nil {
			var p *Payload
			if p, err = env.Open(testKey(t)); err == nil {
				batch = &EventBatch{BatchID: env.BatchID, Events: p.Events, Metrics: p.Metrics}
			}
		}
	case PathStatus:
		status, err = DecodeStatus(body.JSON)
	default:
		t.Fatalf("unknown path %s", g.Path)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", g.Path, err)
	}
	return batch, status, sig
}

func TestGoldens(t *testing.T) {
	for _, g := range loadGoldens(t) {
		t.Run(g.Name, func(t *testing.T) {
			batch, status, sig := decodeGolden(t, g)
			if status != nil {
				var want expectStatus
				if err := json.Unmarshal(g.Expect, &want); err != nil {
					t.Fatal(err)
				}
				checkSigned(t, sig, want.Signed)
				got := expectStatus{
					Signed: want.Signed, Timestamp: rfc3339(status.Timestamp), Status: status.Status,
					Uptime: status.Uptime, EventsSent: status.EventsSent, EventsFailed: status.EventsFailed,
					BufferSize: status.BufferSize, Errors: status.Errors,
				}
				if !status.LastFlush.IsZero() {
					s := rfc3339(status.LastFlush)
					got.LastFlush = &s
				}
				if want.Errors == nil {
					want.Errors = []string{}
				}
				if got.Errors == nil {
					got.Errors = []string{}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("status (-want +got):\n%s", diff)
				}
				return
			}
			var want expectBatch
			if err := json.Unmarshal(g.Expect, &want); err != nil {
				t.Fatal(err)
			}
			checkSigned(t, sig, want.Signed)
			if g.Path != PathEventsEncrypted {
				if got := g.header(HeaderContentEncoding) == "gzip"; got != want.Gzip {
					t.Fatalf("golden gzip = %v, expect says %v", got, want.Gzip)
				}
				if batch.CreatedAt.IsZero() || rfc3339(batch.CreatedAt) != want.CreatedAt {
					t.Errorf("created_at = %s, want %s", rfc3339(batch.CreatedAt), want.CreatedAt)
				}
			}
			if batch.BatchID != want.BatchID {
				t.Errorf("batch_id = %q, want %q", batch.BatchID, want.BatchID)
			}
			gotEvents := []expectEvent{}
			for _, e := range batch.Events {
				ge := expectEvent{
					IdempotencyKey: e.IdempotencyKey, Timestamp: rfc3339(e.Timestamp), EventType: e.EventType,
					IPAddress: e.IPAddress, Country: e.Country, ActionTaken: e.ActionTaken,
					Endpoint: e.Endpoint, Method: e.Method, StatusCode: e.StatusCode,
					Extra: slices.Sorted(mapKeys(e.Extra)), MetadataKeys: slices.Sorted(mapKeys(e.Metadata)),
				}
				gotEvents = append(gotEvents, ge)
				if !json.Valid(e.Raw) {
					t.Errorf("event %s: Raw is not JSON", e.IdempotencyKey)
				}
				if e.DedupeKey() != "uuid:"+e.IdempotencyKey {
					t.Errorf("DedupeKey = %q", e.DedupeKey())
				}
			}
			for i := range want.Events {
				if want.Events[i].Extra == nil {
					want.Events[i].Extra = []string{}
				}
			}
			for i := range gotEvents {
				if gotEvents[i].Extra == nil {
					gotEvents[i].Extra = []string{}
				}
			}
			if want.Events == nil {
				want.Events = []expectEvent{}
			}
			if diff := cmp.Diff(want.Events, gotEvents); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			gotMetrics := []expectMetric{}
			for _, m := range batch.Metrics {
				gotMetrics = append(gotMetrics, expectMetric{
					Timestamp: rfc3339(m.Timestamp), MetricType: m.MetricType, Value: m.Value,
					Endpoint: m.Endpoint, Tags: m.Tags,
				})
			}
			if want.Metrics == nil {
				want.Metrics = []expectMetric{}
			}
			if diff := cmp.Diff(want.Metrics, gotMetrics); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func checkSigned(t *testing.T, got Signature, want *string) {
	t.Helper()
	switch {
	case want == nil && got != SignatureMissing:
		t.Errorf("signature = %v, want missing", got)
	case want != nil && *want == "wire" && got != SignatureWire:
		t.Errorf("signature = %v, want the wire-bytes variant", got)
	case want != nil && *want == "json" && got != SignatureJSON:
		t.Errorf("signature = %v, want the uncompressed-JSON variant", got)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestGoldensRefuseWrongSecret: every signed golden fails with another secret when the
// project requires signing, and passes when it does not.
func TestGoldensRefuseWrongSecret(t *testing.T) {
	for _, g := range loadGoldens(t) {
		if g.header(HeaderSignature) == "" {
			continue
		}
		t.Run(g.Name, func(t *testing.T) {
			body, err := ReadBody(bytes.NewReader(g.Body), g.header(HeaderContentEncoding))
			if err != nil {
				t.Fatal(err)
			}
			s, err := CheckSignature(g.header(HeaderSignature), body, []byte("another-secret"), true)
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || s != SignatureInvalid {
				t.Fatalf("wrong secret, required: %v, %v; want 401 and invalid", s, err)
			}
			if _, err := CheckSignature(g.header(HeaderSignature), body, []byte("another-secret"), false); err != nil {
				t.Fatalf("wrong secret, not required: %v", err)
			}
		})
	}
}

// TestGoldensRefuseWrongKey: the encrypted goldens fail with another key, with the
// official 400 "Failed to decrypt payload".
func TestGoldensRefuseWrongKey(t *testing.T) {
	other, err := ParseKey(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range loadGoldens(t) {
		if g.Path != PathEventsEncrypted {
			continue
		}
		n++
		body, err := ReadBody(bytes.NewReader(g.Body), g.header(HeaderContentEncoding))
		if err != nil {
			t.Fatal(err)
		}
		env, err := DecodeEnvelope(body.JSON)
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.Open(other)
		r := ErrorReply(err)
		if r.Status != http.StatusBadRequest || string(r.Body) != `{"detail":"Failed to decrypt payload"}` {
			t.Errorf("%s: wrong key answered %d %s", g.Name, r.Status, r.Body)
		}
		if _, err := env.Open(other, testKey(t)); err != nil {
			t.Errorf("%s: rotation (wrong key first, right key second): %v", g.Name, err)
		}
	}
	if n != 2 {
		t.Fatalf("%d encrypted goldens, want 2", n)
	}
}

// TestGoldensDuplicateAcrossPaths: the same events sent plain and encrypted (a client
// that turned encryption on and resent its Redis-persisted events) have the same dedupe
// keys, so Studio stores them once.
func TestGoldensDuplicateAcrossPaths(t *testing.T) {
	keys := map[string][]string{}
	for _, g := range loadGoldens(t) {
		if g.Name != "python_events_plain" && g.Name != "python_encrypted_events" {
			continue
		}
		b, _, _ := decodeGolden(t, g)
		for _, e := range b.Events {
			keys[g.Name] = append(keys[g.Name], e.DedupeKey())
		}
	}
	if len(keys["python_events_plain"]) != 2 {
		t.Fatalf("keys: %v", keys)
	}
	if diff := cmp.Diff(keys["python_events_plain"], keys["python_encrypted_events"]); diff != "" {
		t.Errorf("dedupe keys differ between the plain and encrypted paths:\n%s", diff)
	}
}
