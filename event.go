package vigil

import (
	"net/http"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// The event kinds.
const (
	// EventRequest reports one request: its verdict and, when the handler ran, the
	// response status and size.
	EventRequest EventKind = "request"
	// EventBan reports a ban the guard placed (for example after a honeypot hit), or
	// one placed with Guard.Ban.
	EventBan EventKind = "ban"
	// EventError reports an internal fault the guard survived. In the default fail-open
	// configuration the request was let through; the event says so.
	EventError EventKind = "error"
)

// Event is one record for telemetry. Events are built after the response is written, so
// recording them never delays the client.
type Event struct {
	Kind EventKind `json:"kind"`
	Time time.Time `json:"time"`
	// Verdict is the decision about the request. For EventBan and EventError it is the
	// verdict of the request that caused the event; for a ban placed with Guard.Ban,
	// which no request caused, it is a block with the signal "operator_ban" and, for
	// an address ban, the address as ClientIP.
	Verdict Verdict `json:"verdict"`

	Method    string `json:"method,omitempty"`
	Host      string `json:"host,omitempty"`
	Path      string `json:"path,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	// Status and Bytes describe the response; zero when none was written.
	Status int   `json:"status,omitempty"`
	Bytes  int64 `json:"bytes,omitempty"`
	// Latency is the time from the guard receiving the request to the handler
	// returning.
	Latency time.Duration `json:"latency,omitempty"`

	// Query and Header are the request's raw query string and headers, set only on
	// EventRequest events of requests the policy acted on (Verdict.WouldBe is not
	// allow), for forensics. Header is the request's own map, not a copy: treat it as
	// read-only. Both hold whatever the client sent, credentials included, so they are
	// left out of the Event's JSON form; redact them before storing them (package agent
	// does, with package redact).
	Query  string      `json:"-"`
	Header http.Header `json:"-"`

	// Ban is set on EventBan.
	Ban *Ban `json:"ban,omitempty"`
	// Error is set on EventError: the internal error text. It is never shown to
	// clients.
	Error string `json:"error,omitempty"`
	// FailedOpen reports, on EventError, that the request was let through because of
	// the fault.
	FailedOpen bool `json:"failed_open,omitempty"`
}

// EventSink receives the guard's events. Record is called on the request goroutine after
// the response was written; it must not block and must be safe for concurrent use. The
// telemetry agent (package agent) implements it with a bounded ring buffer.
type EventSink interface {
	Record(Event)
}
