package guardagent

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// EventBatch is the body of POST /api/v1/events and /api/v1/metrics (§8.2). Python
// sends both arrays, one of them empty; guard-agent-go leaves an empty one out. A
// decoded batch is plain data, safe to read from several goroutines.
type EventBatch struct {
	// ProjectID is the client's configured project, "default" when unset. Advisory
	// only: Studio derives the project from the API key (§3).
	ProjectID string
	Events    []SecurityEvent
	Metrics   []SecurityMetric
	// BatchID is "{unix_ms}-{8 hex}". It is not stable across requeues in any client,
	// so it is not a dedupe key (§6).
	BatchID   string
	CreatedAt time.Time
	// Compressed is informational only; Content-Encoding says whether the body was.
	Compressed bool
	// AgentVersion, GuardVersion (the framework adapter, e.g. fastapi-guard) and
	// GuardCoreVersion (newer Python agents and Go) are "" when absent or null.
	AgentVersion     string
	GuardVersion     string
	GuardCoreVersion string
	// Extra holds top-level members the schema does not name, by name, as sent.
	Extra map[string]json.RawMessage
}

// SecurityEvent is one event (§8.3). The schema allows extra top-level fields
// (pydantic extra="allow"); they are kept in Extra, and Raw keeps the whole object as
// sent so Studio can store it verbatim. Nullable strings are "" when absent or null.
type SecurityEvent struct {
	// IdempotencyKey is the client's UUID for the event, in canonical lowercase
	// 8-4-4-4-12 form whatever form it arrived in; "" when the client sent none.
	IdempotencyKey string
	// Timestamp is required, in UTC.
	Timestamp time.Time
	// EventType is required; an open set (ip_banned, rate_limited, …).
	EventType string
	// IPAddress is the client address, or "system" for internal events.
	IPAddress string
	// Country is an ISO 3166-1 alpha-2 code, as sent.
	Country   string
	UserAgent string
	// ActionTaken is what the guard did: request_blocked, logged_only (a would-block in
	// passive mode), banned, …
	ActionTaken string
	Reason      string
	// Endpoint is the request path with sensitive query parameters redacted.
	Endpoint string
	Method   string
	// StatusCode is nil when absent or null.
	StatusCode *int64
	// ResponseTime is in seconds; nil when absent or null.
	ResponseTime   *float64
	DecoratorType  string
	RuleType       string
	PatternMatched string
	HandlerName    string
	// Metadata holds the top-level members of the metadata object, each as sent.
	// Clients redact only top-level keys named like sensitive headers: assume it may
	// hold secrets (§8.3).
	Metadata map[string]json.RawMessage
	// Extra holds the event's top-level members that the schema does not name.
	Extra map[string]json.RawMessage
	// Raw is the event object exactly as sent.
	Raw json.RawMessage
}

// The metric types, a strict enum in both clients (§8.4). guard-core emits the first
// three, per request.
const (
	MetricResponseTime   = "response_time"
	MetricRequestCount   = "request_count"
	MetricErrorRate      = "error_rate"
	MetricBandwidthUsage = "bandwidth_usage"
	MetricThreatLevel    = "threat_level"
	MetricBlockRate      = "block_rate"
	MetricCacheHitRate   = "cache_hit_rate"
)

func validMetricType(t string) bool {
	switch t {
	case MetricResponseTime, MetricRequestCount, MetricErrorRate, MetricBandwidthUsage,
		MetricThreatLevel, MetricBlockRate, MetricCacheHitRate:
		return true
	}
	return false
}

// SecurityMetric is one metric sample (§8.4). guard-core puts endpoint, method and
// status in Tags.
type SecurityMetric struct {
	Timestamp  time.Time
	MetricType string
	// Value is in seconds for response_time, 1.0 per request for request_count and
	// error_rate.
	Value    float64
	Endpoint string
	Tags     map[string]string
	// Raw is the metric object exactly as sent.
	Raw json.RawMessage
}

// The agent health states of AgentStatus.Status.
const (
	StatusHealthy  = "healthy"
	StatusDegraded = "degraded"
	StatusFailed   = "failed"
)

// AgentStatus is the body of POST /api/v1/status (§8.5).
type AgentStatus struct {
	Timestamp time.Time
	// Status is StatusHealthy, StatusDegraded (breaker open, buffer ≥ 90 % full or
	// failure rate above 10 %) or StatusFailed.
	Status       string
	Uptime       float64 // seconds
	EventsSent   int64
	EventsFailed int64
	BufferSize   int64
	// LastFlush is zero when absent or null.
	LastFlush time.Time
	Errors    []string
	Extra     map[string]json.RawMessage
}

// DecodeBatch decodes the JSON body of POST /api/v1/events or /api/v1/metrics. Errors
// are *Error: 400 for a body that is not JSON (or not UTF-8), 422 for one that does not
// fit the schema (a missing required field, a wrong type, a bad timestamp or an unknown
// metric type anywhere in the batch), naming the first offending field.
func DecodeBatch(data []byte) (*EventBatch, error) {
	o, err := parseObject(data, "")
	if err != nil {
		return nil, err
	}
	b := &EventBatch{}
	o.reqStr("project_id", &b.ProjectID)
	o.reqStr("batch_id", &b.BatchID)
	o.time("created_at", &b.CreatedAt, true)
	o.bool("compressed", &b.Compressed)
	o.str("agent_version", &b.AgentVersion)
	o.str("guard_version", &b.GuardVersion)
	o.str("guard_core_version", &b.GuardCoreVersion)
	events, metrics := o.array("events"), o.array("metrics")
	if err := o.result(); err != nil {
		return nil, err
	}
	b.Extra = o.extras()
	if b.Events, err = decodeEvents(events, "events"); err != nil {
		return nil, err
	}
	if b.Metrics, err = decodeMetrics(metrics, "metrics"); err != nil {
		return nil, err
	}
	return b, nil
}

func decodeEvents(raw []json.RawMessage, path string) ([]SecurityEvent, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	events := make([]SecurityEvent, len(raw))
	for i, r := range raw {
		if err := decodeEvent(&events[i], r, index(path, i)); err != nil {
			return nil, err
		}
	}
	return events, nil
}

func decodeMetrics(raw []json.RawMessage, path string) ([]SecurityMetric, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	metrics := make([]SecurityMetric, len(raw))
	for i, r := range raw {
		if err := decodeMetric(&metrics[i], r, index(path, i)); err != nil {
			return nil, err
		}
	}
	return metrics, nil
}

// DecodeEvent decodes one SecurityEvent object, as found in a batch. Errors are as
// for DecodeBatch.
func DecodeEvent(data []byte) (*SecurityEvent, error) {
	var e SecurityEvent
	if err := decodeEvent(&e, data, ""); err != nil {
		return nil, err
	}
	return &e, nil
}

func decodeEvent(e *SecurityEvent, data json.RawMessage, path string) error {
	o, err := parseObject(data, path)
	if err != nil {
		return err
	}
	var key string
	o.str("idempotency_key", &key)
	if key != "" {
		if e.IdempotencyKey, err = canonicalUUID(key); err != nil {
			o.fail(&Error{Status: http.StatusUnprocessableEntity, Msg: at(o.child("idempotency_key"), "must be a UUID"), Err: err})
		}
	}
	o.time("timestamp", &e.Timestamp, true)
	o.reqStr("event_type", &e.EventType)
	o.str("ip_address", &e.IPAddress)
	o.str("country", &e.Country)
	o.str("user_agent", &e.UserAgent)
	o.str("action_taken", &e.ActionTaken)
	o.str("reason", &e.Reason)
	o.str("endpoint", &e.Endpoint)
	o.str("method", &e.Method)
	var status int64
	if o.int("status_code", &status, false) {
		e.StatusCode = &status
	}
	var rt float64
	if o.float("response_time", &rt, false) {
		e.ResponseTime = &rt
	}
	o.str("decorator_type", &e.DecoratorType)
	o.str("rule_type", &e.RuleType)
	o.str("pattern_matched", &e.PatternMatched)
	o.str("handler_name", &e.HandlerName)
	if v := o.raw("metadata"); v != nil {
		if m, err := parseObject(v, o.child("metadata")); err != nil {
			o.fail(asError(err))
		} else if len(m.m) > 0 {
			e.Metadata = m.m
		}
	}
	if err := o.result(); err != nil {
		return err
	}
	e.Extra = o.extras()
	e.Raw = data
	return nil
}

func decodeMetric(m *SecurityMetric, data json.RawMessage, path string) error {
	o, err := parseObject(data, path)
	if err != nil {
		return err
	}
	o.time("timestamp", &m.Timestamp, true)
	o.reqStr("metric_type", &m.MetricType)
	o.float("value", &m.Value, true)
	o.str("endpoint", &m.Endpoint)
	if v := o.raw("tags"); v != nil {
		o.unmarshal("tags", v, &m.Tags, "an object of strings")
	}
	if err := o.result(); err != nil {
		return err
	}
	if !validMetricType(m.MetricType) {
		return errorf(http.StatusUnprocessableEntity, "%s", at(o.child("metric_type"), "must be one of request_count, response_time, error_rate, bandwidth_usage, threat_level, block_rate, cache_hit_rate"))
	}
	m.Raw = data
	return nil
}

// DecodeStatus decodes the JSON body of POST /api/v1/status. Errors are as for
// DecodeBatch; an unknown status value is 422.
func DecodeStatus(data []byte) (*AgentStatus, error) {
	o, err := parseObject(data, "")
	if err != nil {
		return nil, err
	}
	s := &AgentStatus{}
	o.time("timestamp", &s.Timestamp, true)
	o.reqStr("status", &s.Status)
	o.float("uptime", &s.Uptime, true)
	o.int("events_sent", &s.EventsSent, true)
	o.int("events_failed", &s.EventsFailed, true)
	o.int("buffer_size", &s.BufferSize, true)
	o.time("last_flush", &s.LastFlush, false)
	if v := o.raw("errors"); v != nil {
		o.unmarshal("errors", v, &s.Errors, "an array of strings")
	}
	if err := o.result(); err != nil {
		return nil, err
	}
	switch s.Status {
	case StatusHealthy, StatusDegraded, StatusFailed:
	default:
		return nil, errorf(http.StatusUnprocessableEntity, "status: must be one of healthy, degraded, failed")
	}
	s.Extra = o.extras()
	return s, nil
}

// canonicalUUID accepts what Python's uuid.UUID (and so pydantic) accepts — 32 hex
// digits, optionally hyphenated, in braces or after "urn:uuid:" — and returns the
// lowercase 8-4-4-4-12 form, so the same key sent two ways dedupes as one.
func canonicalUUID(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "urn:"), "uuid:")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return "", errors.New("not 32 hex digits")
	}
	var b [36]byte
	j := 0
	for i := 0; i < 32; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			c += 'a' - 'A'
		default:
			return "", errors.New("not 32 hex digits")
		}
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		b[j] = c
		j++
	}
	return string(b[:]), nil
}
