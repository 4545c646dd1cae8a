package guardagent

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"strings"
	"time"
)

// Normalized is a guard-agent event in the neutral form Studio stores next to the
// events of its own agents. Each field says which SecurityEvent field (§8.3) it comes
// from. A Normalized is plain data.
type Normalized struct {
	// Time is timestamp, in UTC.
	Time time.Time
	// Kind is event_type, verbatim: an open set such as "ip_banned", "rate_limited",
	// "penetration_attempt" (§8.3).
	Kind string
	// IP is ip_address in canonical form (IPv4-mapped IPv6 unmapped, zone dropped) when
	// it is an IP address; "" otherwise, such as for "system".
	IP string
	// System is true when ip_address is "system", guard-core's marker for internal
	// events (rule updates, emergency mode, Redis errors) that concern no client.
	System bool
	// Action is action_taken, verbatim ("request_blocked", "logged_only", "banned", …).
	Action string
	// Blocked is true when action_taken is "request_blocked" or "banned": the client
	// was refused.
	Blocked bool
	// Monitor is true when the guard only logged what it would have blocked:
	// action_taken "logged_only", or metadata.passive_mode true
	// (penetration_attempt events of passive mode).
	Monitor bool
	// Path is endpoint: the request path, sensitive query parameters already redacted
	// by the client.
	Path string
	// Method is method, upper-cased.
	Method string
	// UserAgent is user_agent.
	UserAgent string
	// Country is country upper-cased when it is two ASCII letters (ISO 3166-1
	// alpha-2); "" otherwise.
	Country string
	// Status is status_code; 0 when absent or outside 0–999.
	Status int
	// Latency is response_time (seconds); 0 when absent, negative or not finite.
	Latency time.Duration
	// Reason is reason, verbatim.
	Reason string
	// Score is the threat score, 0–100: metadata["guard.threat_score"] when the client's
	// enricher set it (a number, rounded and clamped), else ThreatScore(Kind), the same
	// table guard-core's enricher uses.
	Score int
	// Rule is rule_type, or decorator_type when rule_type is empty.
	Rule string
	// Pattern is pattern_matched.
	Pattern string
	// Handler is handler_name.
	Handler string
	// DedupeKey is SecurityEvent.DedupeKey: store the event once per project under it.
	DedupeKey string
	// Raw is the event object exactly as sent, unknown fields and metadata included.
	// It may hold secrets the client did not redact (§8.3).
	Raw json.RawMessage
}

// Normalize converts a decoded event to the neutral form.
func Normalize(e *SecurityEvent) Normalized {
	n := Normalized{
		Time:      e.Timestamp.UTC(),
		Kind:      e.EventType,
		System:    e.IPAddress == "system",
		Action:    e.ActionTaken,
		Blocked:   e.ActionTaken == "request_blocked" || e.ActionTaken == "banned",
		Monitor:   e.ActionTaken == "logged_only" || string(bytes.TrimSpace(e.Metadata["passive_mode"])) == "true",
		Path:      e.Endpoint,
		Method:    strings.ToUpper(e.Method),
		UserAgent: e.UserAgent,
		Reason:    e.Reason,
		Rule:      e.RuleType,
		Pattern:   e.PatternMatched,
		Handler:   e.HandlerName,
		DedupeKey: e.DedupeKey(),
		Raw:       e.Raw,
	}
	if a, err := netip.ParseAddr(e.IPAddress); err == nil {
		n.IP = a.Unmap().WithZone("").String()
	}
	if c := e.Country; len(c) == 2 && isLetter(c[0]) && isLetter(c[1]) {
		n.Country = strings.ToUpper(c)
	}
	if e.StatusCode != nil && *e.StatusCode >= 0 && *e.StatusCode <= 999 {
		n.Status = int(*e.StatusCode)
	}
	if e.ResponseTime != nil {
		if rt := *e.ResponseTime; rt > 0 && rt < float64(math.MaxInt64/int64(time.Second)) {
			n.Latency = time.Duration(rt * float64(time.Second))
		}
	}
	if n.Rule == "" {
		n.Rule = e.DecoratorType
	}
	n.Score = ThreatScore(e.EventType)
	var s float64
	if v, ok := e.Metadata["guard.threat_score"]; ok && json.Unmarshal(v, &s) == nil {
		n.Score = int(math.Round(min(max(s, 0), 100)))
	}
	return n
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// threatScores is guard-core's enricher table (guard_core/core/events/enricher.py,
// _THREAT_SCORE_MAP, as of commit 1e3978f), which the reference summarises in §8.3.
// guard-core spells one key "behavior_violation" while the event type is
// "behavioral_violation", so its own events of that type score the default 20; this
// table lists both spellings at 50, the score of the other blocking events, which is
// what the key evidently meant.
var threatScores = map[string]int{
	"penetration_attempt":   90,
	"ip_banned":             70,
	"ip_blocked":            50,
	"behavior_violation":    50,
	"behavioral_violation":  50,
	"cloud_blocked":         50,
	"country_blocked":       50,
	"decorator_violation":   50,
	"authentication_failed": 50,
	"emergency_mode_block":  50,
	"pattern_detected":      50,
	"csp_violation":         40,
	"redis_error":           40,
	"access_denied":         30,
	"user_agent_blocked":    30,
	"rate_limited":          20,
	"geo_lookup_failed":     20,
}

// DefaultThreatScore is ThreatScore's answer for an event type not in the table.
const DefaultThreatScore = 20

// ThreatScore returns the threat score guard-core's enricher gives an event type, for
// events from clients that do not send metadata["guard.threat_score"] themselves.
func ThreatScore(eventType string) int {
	if s, ok := threatScores[eventType]; ok {
		return s
	}
	return DefaultThreatScore
}
