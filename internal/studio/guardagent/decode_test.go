package guardagent

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// batchWith builds an events batch around one event object.
func batchWith(event string) string {
	return `{"project_id":"default","events":[` + event + `],"metrics":[],"batch_id":"1777638896000-0a1b2c3d","created_at":"2026-05-01 12:35:00+00:00"}`
}

const minimalEvent = `{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"ip_banned"}`

var decodeBatchTests = []struct {
	name   string
	body   string
	status int    // 0: accepted
	msg    string // substring of the client message
}{
	{name: "minimal_event", body: batchWith(minimalEvent)},
	{name: "go_agent_omits_metrics_and_nulls", body: `{"project_id":"p","events":[` + minimalEvent + `],"batch_id":"b","created_at":"2026-05-01T12:35:00Z","compressed":false,"agent_version":"0.3.0"}`},
	{name: "empty_batch", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z"}`},
	{name: "null_arrays", body: `{"project_id":"p","events":null,"metrics":null,"batch_id":"b","created_at":"2026-05-01T12:35:00Z"}`},
	{name: "nulls_in_nullable_fields", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","country":null,"status_code":null,"response_time":null,"metadata":null,"idempotency_key":null}`)},
	{name: "null_in_defaulted_string_tolerated", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","ip_address":null}`)},
	{name: "unknown_batch_field", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","future_field":{"a":1}}`},

	{name: "not_json", body: `{"project_id":`, status: http.StatusBadRequest, msg: "not valid JSON"},
	{name: "empty_body", body: ``, status: http.StatusBadRequest, msg: "not valid JSON"},
	{name: "trailing_garbage", body: batchWith(minimalEvent) + "x", status: http.StatusBadRequest},
	{name: "not_utf8", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","reason":"` + "\xff\xfe" + `"}`), status: http.StatusBadRequest, msg: "UTF-8"},
	{name: "array_body", body: `[]`, status: http.StatusUnprocessableEntity, msg: "must be an object"},
	{name: "null_body", body: `null`, status: http.StatusUnprocessableEntity},
	{name: "missing_project_id", body: `{"batch_id":"b","created_at":"2026-05-01T12:35:00Z"}`, status: http.StatusUnprocessableEntity, msg: "project_id: field required"},
	{name: "missing_batch_id", body: `{"project_id":"p","created_at":"2026-05-01T12:35:00Z"}`, status: http.StatusUnprocessableEntity, msg: "batch_id: field required"},
	{name: "missing_created_at", body: `{"project_id":"p","batch_id":"b"}`, status: http.StatusUnprocessableEntity, msg: "created_at: field required"},
	{name: "bad_created_at", body: `{"project_id":"p","batch_id":"b","created_at":"yesterday"}`, status: http.StatusUnprocessableEntity, msg: "created_at: invalid datetime"},
	{name: "numeric_created_at", body: `{"project_id":"p","batch_id":"b","created_at":1777638896}`, status: http.StatusUnprocessableEntity, msg: "created_at: must be a datetime string"},
	{name: "events_not_array", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","events":{}}`, status: http.StatusUnprocessableEntity, msg: "events: must be an array"},
	{name: "event_not_object", body: batchWith(`"x"`), status: http.StatusUnprocessableEntity, msg: "events[0]: must be an object"},
	{name: "event_missing_timestamp", body: batchWith(`{"event_type":"x"}`), status: http.StatusUnprocessableEntity, msg: "events[0].timestamp: field required"},
	{name: "event_null_timestamp", body: batchWith(`{"timestamp":null,"event_type":"x"}`), status: http.StatusUnprocessableEntity, msg: "events[0].timestamp: field required"},
	{name: "event_missing_event_type", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00"}`), status: http.StatusUnprocessableEntity, msg: "events[0].event_type: field required"},
	{name: "event_field_names_are_case_sensitive", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","Event_Type":"x"}`), status: http.StatusUnprocessableEntity, msg: "events[0].event_type: field required"},
	{name: "event_bad_timestamp", body: batchWith(`{"timestamp":"2026-05-01 12:34","event_type":"x"}`), status: http.StatusUnprocessableEntity, msg: "events[0].timestamp: invalid datetime"},
	{name: "event_status_code_string", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","status_code":"403"}`), status: http.StatusUnprocessableEntity, msg: "events[0].status_code: must be an integer"},
	{name: "event_status_code_float", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","status_code":403.5}`), status: http.StatusUnprocessableEntity},
	{name: "event_metadata_list", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","metadata":[1]}`), status: http.StatusUnprocessableEntity, msg: "events[0].metadata: must be an object"},
	{name: "event_bad_idempotency_key", body: batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","idempotency_key":"not-a-uuid"}`), status: http.StatusUnprocessableEntity, msg: "events[0].idempotency_key: must be a UUID"},
	{name: "second_event_bad", body: batchWith(minimalEvent + `,{"timestamp":"x","event_type":"y"}`), status: http.StatusUnprocessableEntity, msg: "events[1].timestamp"},
	{name: "metric_unknown_type", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"latency","value":1}]}`, status: http.StatusUnprocessableEntity, msg: "metrics[0].metric_type: must be one of"},
	{name: "metric_missing_value", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"request_count"}]}`, status: http.StatusUnprocessableEntity, msg: "metrics[0].value: field required"},
	{name: "metric_tag_not_string", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"request_count","value":1,"tags":{"status":200}}]}`, status: http.StatusUnprocessableEntity, msg: "metrics[0].tags"},
	{name: "python_nan_is_not_json", body: `{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"response_time","value":NaN}]}`, status: http.StatusBadRequest},
}

func TestDecodeBatch(t *testing.T) {
	for _, tt := range decodeBatchTests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBatch([]byte(tt.body))
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err != nil {
				if msg := err.(*Error).Msg; !strings.Contains(msg, tt.msg) {
					t.Errorf("message %q does not contain %q", msg, tt.msg)
				}
				if strings.Contains(string(ErrorReply(err).Body), "\xff") {
					t.Errorf("reply echoes client bytes")
				}
				return
			}
			if b == nil {
				t.Fatal("nil batch without error")
			}
		})
	}
}

func TestDecodeEventKeepsUnknownFields(t *testing.T) {
	raw := `{"idempotency_key":"{0B7E5B9E3F4A4C1E9A775D2A3C4B1E01}","timestamp":"2026-05-01 12:34:56+00:00",` +
		`"event_type":"prompt_injection_attempt","trace_origin":"edge-eu-1","nested":{"a":[1,2]},` +
		`"metadata":{"guard.threat_score":85,"traceparent":"00-abc-def-01"}}`
	e, err := DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if e.IdempotencyKey != "0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01" {
		t.Errorf("idempotency key %q not canonical", e.IdempotencyKey)
	}
	extra := map[string]string{}
	for k, v := range e.Extra {
		extra[k] = string(v)
	}
	if diff := cmp.Diff(map[string]string{"trace_origin": `"edge-eu-1"`, "nested": `{"a":[1,2]}`}, extra); diff != "" {
		t.Errorf("extra (-want +got):\n%s", diff)
	}
	if string(e.Metadata["guard.threat_score"]) != "85" || string(e.Metadata["traceparent"]) != `"00-abc-def-01"` {
		t.Errorf("metadata %v", e.Metadata)
	}
	if string(e.Raw) != raw {
		t.Errorf("Raw is not the object as sent")
	}
}

func TestCanonicalUUID(t *testing.T) {
	want := "0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01"
	for _, in := range []string{
		want,
		strings.ToUpper(want),
		"0b7e5b9e3f4a4c1e9a775d2a3c4b1e01",
		"{0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01}",
		"urn:uuid:0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01",
	} {
		if got, err := canonicalUUID(in); err != nil || got != want {
			t.Errorf("canonicalUUID(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0b7e5b9e", "0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e0g", want + "00", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		if got, err := canonicalUUID(in); err == nil {
			t.Errorf("canonicalUUID(%q) = %q, want an error", in, got)
		}
	}
}

var decodeStatusTests = []struct {
	name   string
	body   string
	status int
}{
	{name: "python", body: `{"timestamp":"2026-05-01 12:34:56.123456+00:00","status":"healthy","uptime":1.5,"events_sent":1,"events_failed":0,"buffer_size":0,"last_flush":null,"errors":[]}`},
	{name: "go_omits_optional", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"failed","uptime":0,"events_sent":0,"events_failed":0,"buffer_size":0}`},
	{name: "unknown_status", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"ok","uptime":0,"events_sent":0,"events_failed":0,"buffer_size":0}`, status: http.StatusUnprocessableEntity},
	{name: "missing_uptime", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"healthy","events_sent":0,"events_failed":0,"buffer_size":0}`, status: http.StatusUnprocessableEntity},
	{name: "missing_timestamp", body: `{"status":"healthy","uptime":0,"events_sent":0,"events_failed":0,"buffer_size":0}`, status: http.StatusUnprocessableEntity},
	{name: "bad_last_flush", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"healthy","uptime":0,"events_sent":0,"events_failed":0,"buffer_size":0,"last_flush":"never"}`, status: http.StatusUnprocessableEntity},
	{name: "errors_not_strings", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"healthy","uptime":0,"events_sent":0,"events_failed":0,"buffer_size":0,"errors":[1]}`, status: http.StatusUnprocessableEntity},
	{name: "events_sent_float", body: `{"timestamp":"2026-05-01T12:34:56Z","status":"healthy","uptime":0,"events_sent":1.5,"events_failed":0,"buffer_size":0}`, status: http.StatusUnprocessableEntity},
	{name: "not_json", body: `{"timestamp"`, status: http.StatusBadRequest},
}

func TestDecodeStatus(t *testing.T) {
	for _, tt := range decodeStatusTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeStatus([]byte(tt.body))
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
		})
	}
}

// TestErrorMessagesDoNotEchoValues: a client message names the field, never the value,
// which may be a secret the client failed to redact.
func TestErrorMessagesDoNotEchoValues(t *testing.T) {
	secret := "Bearer-SECRET-TOKEN-123"
	for _, body := range []string{
		batchWith(`{"timestamp":"` + secret + `","event_type":"x"}`),
		batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","idempotency_key":"` + secret + `"}`),
		batchWith(`{"timestamp":"2026-05-01 12:34:56+00:00","event_type":"x","status_code":"` + secret + `"}`),
		`{"project_id":"p","batch_id":"b","created_at":"2026-05-01T12:35:00Z","metrics":[{"timestamp":"2026-05-01 12:34:56+00:00","metric_type":"` + secret + `","value":1}]}`,
	} {
		_, err := DecodeBatch([]byte(body))
		if err == nil {
			t.Fatalf("accepted %s", body)
		}
		r := ErrorReply(err)
		var d struct{ Detail string }
		if json.Unmarshal(r.Body, &d) != nil || d.Detail == "" || strings.Contains(string(r.Body), secret) {
			t.Errorf("reply %s", r.Body)
		}
	}
}
