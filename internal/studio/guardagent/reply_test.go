package guardagent

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// pythonOutcome is what guard-agent 2.8.1 does with an answer to a POST, transcribed
// from transport.py (_handle_response, _handle_200, _evaluate_send_result) and §4:
// "success", "retry_now" (resent at once, no sleep), "partial_failure" (requeued with
// streak backoff), "split" (413), "drop" (permanent), "retry_backoff", or "sleep <s>"
// for 429.
func pythonOutcome(status int, body []byte, retryAfter string) string {
	switch {
	case status == 200:
		var v any
		if json.Unmarshal(body, &v) != nil {
			return "retry_now" // unparseable JSON: _handle_200 returns False
		}
		m, ok := v.(map[string]any)
		if !ok {
			return "success" // not a dict: _handle_200 returns True
		}
		if s, ok := m["success"].(bool); ok && !s {
			return "partial_failure"
		}
		if e, ok := m["errors"]; ok && truthy(e) {
			return "partial_failure"
		}
		if len(m) == 0 {
			return "retry_now" // {} is falsy
		}
		return "success"
	case status == 201:
		return "success"
	case status == 429:
		s, err := strconv.ParseFloat(retryAfter, 64)
		if err != nil {
			s = 60
		}
		return "sleep " + strconv.FormatFloat(min(s, 300), 'f', -1, 64)
	case status == 401, status == 403, status >= 500:
		return "retry_backoff"
	case status == 413:
		return "split"
	case status == 400, status == 404, status == 422:
		return "drop"
	}
	return "retry_now"
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	case float64:
		return v != 0
	}
	return true
}

// TestPythonOutcomeModel checks the model against the reference's table, so that the
// tests below rest on it.
func TestPythonOutcomeModel(t *testing.T) {
	for _, tt := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"success": true, "errors": []}`, "success"},
		{200, `{}`, "retry_now"},
		{200, `not json`, "retry_now"},
		{200, `true`, "success"},
		{200, `{"success": false}`, "partial_failure"},
		{200, `{"errors": ["x"]}`, "partial_failure"},
		{201, ``, "success"},
		{413, ``, "split"},
		{422, ``, "drop"},
		{418, ``, "retry_now"},
	} {
		if got := pythonOutcome(tt.status, []byte(tt.body), ""); got != tt.want {
			t.Errorf("%d %s: %s, want %s", tt.status, tt.body, got, tt.want)
		}
	}
}

func TestReplies(t *testing.T) {
	tests := []struct {
		name       string
		reply      Reply
		outcome    string
		retryAfter string
	}{
		{name: "accepted", reply: Accepted(3), outcome: "success"},
		{name: "accepted_nothing_new", reply: Accepted(0), outcome: "success"},
		{name: "too_large", reply: ErrorReply(&Error{Status: 413, Msg: MsgTooLarge}), outcome: "split"},
		{name: "malformed", reply: ErrorReply(errorf(400, "body is not valid JSON")), outcome: "drop"},
		{name: "schema", reply: ErrorReply(errorf(422, "events[0].timestamp: field required")), outcome: "drop"},
		{name: "decrypt", reply: ErrorReply(&Error{Status: 400, Msg: MsgDecrypt}), outcome: "drop"},
		{name: "signature", reply: ErrorReply(&Error{Status: 401, Msg: MsgSignature}), outcome: "retry_backoff"},
		{name: "unauthorized", reply: Unauthorized(), outcome: "retry_backoff"},
		{name: "internal", reply: ErrorReply(errors.New("database is locked")), outcome: "retry_backoff"},
		{name: "wrapped_error", reply: ErrorReply(errorsJoin(&Error{Status: 413, Msg: MsgTooLarge})), outcome: "split"},
		{name: "throttled", reply: Throttled(1500 * time.Millisecond), outcome: "sleep 2", retryAfter: "2"},
		{name: "throttled_below_a_second", reply: Throttled(time.Millisecond), outcome: "sleep 1", retryAfter: "1"},
		{name: "throttled_capped", reply: Throttled(time.Hour), outcome: "sleep 300", retryAfter: "300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tt.reply.Write(w)
			res := w.Result()
			if got := pythonOutcome(res.StatusCode, w.Body.Bytes(), res.Header.Get("Retry-After")); got != tt.outcome {
				t.Errorf("client outcome %q, want %q (status %d, body %s)", got, tt.outcome, res.StatusCode, w.Body)
			}
			if got := res.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var obj map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &obj); err != nil || len(obj) == 0 {
				t.Errorf("body %s is not a non-empty JSON object (never answer {})", w.Body)
			}
		})
	}
}

func errorsJoin(err error) error { return errors.Join(errors.New("context"), err) }

func TestInternalErrorTextStaysInternal(t *testing.T) {
	r := ErrorReply(errors.New("pq: password authentication failed for user studio"))
	if r.Status != http.StatusInternalServerError || string(r.Body) != `{"detail":"Internal server error"}` {
		t.Errorf("reply %d %s", r.Status, r.Body)
	}
	e := &Error{Status: 422, Msg: "events[0].timestamp: invalid datetime", Err: errors.New("parsing time \"secret\"")}
	if r := ErrorReply(e); string(r.Body) != `{"detail":"events[0].timestamp: invalid datetime"}` {
		t.Errorf("reply %s", r.Body)
	}
	if e.Error() != `events[0].timestamp: invalid datetime: parsing time "secret"` {
		t.Errorf("Error() = %q: the log form keeps the cause", e.Error())
	}
}

func TestRulesReply(t *testing.T) {
	r, _ := RenderRules(testPolicy(), nil, 7, RulesOptions{Now: testNow})
	reply, err := RulesReply(r)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if reply.Status != http.StatusOK || json.Unmarshal(reply.Body, &obj) != nil || obj["version"] != float64(7) {
		t.Errorf("reply %d %s", reply.Status, reply.Body)
	}
}
