package guardagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The endpoints a guard-agent client calls, relative to the host it is configured with
// (§2). The Python agent strips a trailing "/api/v1" from its endpoint and appends these.
const (
	PathEvents          = "/api/v1/events"
	PathMetrics         = "/api/v1/metrics"
	PathEventsEncrypted = "/api/v1/events/encrypted"
	PathStatus          = "/api/v1/status"
	PathRules           = "/api/v1/rules"
)

// The request headers of §3. Header names are case-insensitive; the Go agent spells the
// project header X-Project-Id, which net/http canonicalizes to the same key.
const (
	HeaderAPIKey          = "X-API-Key"
	HeaderInstallID       = "X-Agent-Install-Id"
	HeaderProjectID       = "X-Project-ID"
	HeaderSignature       = "X-Payload-Signature"
	HeaderContentEncoding = "Content-Encoding"
)

// MaxRetryAfter is the longest Retry-After the Python client honours (§4); Throttled
// never asks for more.
const MaxRetryAfter = 300 * time.Second

// Error is a request that Studio refuses: the HTTP status to answer, a message safe to
// show the client, and the underlying error for the log. The message names fields by
// their path ("events[3].timestamp") but never repeats a value the client sent.
type Error struct {
	// Status is the HTTP status to answer: 400, 401, 413 or 422.
	Status int
	// Msg is the client-facing message, the "detail" of the error body.
	Msg string
	// Err is the internal cause, for logs only; may be nil.
	Err error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error with a formatted client message and no internal cause.
func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// The client-facing messages of the fixed errors.
const (
	// MsgDecrypt is the answer to an envelope that does not open with the project's
	// key, the official service's exact text (§8.6).
	MsgDecrypt = "Failed to decrypt payload"
	// MsgTooLarge is the answer to a body over MaxBodySize.
	MsgTooLarge = "Payload too large"
	// MsgSignature is the answer to a missing or wrong signature when the project
	// requires one.
	MsgSignature = "Invalid payload signature"
)

// Reply is an answer to a guard-agent client: the status, the JSON body and, for 429,
// the Retry-After delay. The zero Reply is not a valid answer.
type Reply struct {
	Status int
	Body   []byte
	// RetryAfter, when positive, is sent as a Retry-After header in whole seconds
	// (rounded up).
	RetryAfter time.Duration
}

// Write sends r: the Content-Type, the Retry-After header when set, the status and the
// body.
func (r Reply) Write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	if r.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(r.RetryAfter), 10))
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// Accepted is the answer to a POST that Studio stored, including one whose items were
// all duplicates: 201 with {"success": true, "errors": [], "processed": n}.
//
// Why 201 (§4): the Python client counts any 201 as success whatever the body, while a
// 200 succeeds only with a non-empty JSON object that has no "success": false and no
// errors; a 200 with {} or a non-JSON body makes it resend immediately, three times,
// without sleeping. The body is still a non-empty success object, so a client that
// inspects it (guard-agent-go reads "success" and "errors") agrees.
func Accepted(processed int) Reply {
	b, _ := json.Marshal(struct {
		Success   bool     `json:"success"`
		Errors    []string `json:"errors"`
		Processed int      `json:"processed"`
	}{true, []string{}, processed})
	return Reply{Status: http.StatusCreated, Body: b}
}

// Throttled is Studio's ingest throttle: 429 with Retry-After, which the Python client
// sleeps for (at most 300 s, MaxRetryAfter) before retrying. A delay below one second
// is sent as 1; above MaxRetryAfter as MaxRetryAfter.
func Throttled(retryAfter time.Duration) Reply {
	retryAfter = min(max(retryAfter, time.Second), MaxRetryAfter)
	return Reply{Status: http.StatusTooManyRequests, Body: detail("Too many requests"), RetryAfter: retryAfter}
}

// Unauthorized is the answer to a missing or unknown API key: 401, which the Python
// client retries with backoff and counts toward its circuit breaker, so a key that is
// fixed later loses nothing that is still buffered.
func Unauthorized() Reply {
	return Reply{Status: http.StatusUnauthorized, Body: detail("Invalid API key")}
}

// ErrorReply is the answer to a request that failed with err: for an *Error (anywhere
// in err's chain) its Status and {"detail": Msg}; for anything else 500 with a fixed
// message, so internal error text never reaches the client.
//
// What the statuses do to the Python client (§4): 413 makes it split the batch in half
// and resend, dropping a single item that is still too large; 400 and 422 drop the batch
// for good (the right outcome for a payload no retry can fix); 401 and 5xx are retried
// with backoff and trip its circuit breaker.
func ErrorReply(err error) Reply {
	var e *Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status <= 599 {
		return Reply{Status: e.Status, Body: detail(e.Msg)}
	}
	return Reply{Status: http.StatusInternalServerError, Body: detail("Internal server error")}
}

// RulesReply is the answer to GET /api/v1/rules: 200 with the full DynamicRules object.
// The Python client treats an empty object or anything that is not an object as "no
// rules", so Studio always answers the whole document; and it reads a body only from a
// 200 (a 201, right for POSTs, would make it retry the GET).
func RulesReply(r *DynamicRules) (Reply, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Reply{}, fmt.Errorf("encode rules: %w", err)
	}
	return Reply{Status: http.StatusOK, Body: b}, nil
}

// detail encodes a FastAPI-style error body, {"detail": msg}.
func detail(msg string) []byte {
	b, _ := json.Marshal(struct {
		Detail string `json:"detail"`
	}{msg})
	return b
}

func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
