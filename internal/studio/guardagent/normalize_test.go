package guardagent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		event string
		want  Normalized // Raw and DedupeKey are checked separately
	}{
		{
			name: "blocked_request_with_enriched_score",
			event: `{"idempotency_key":"0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01","timestamp":"2026-05-01 14:34:56.5+02:00",` +
				`"event_type":"penetration_attempt","ip_address":"::ffff:203.0.113.7","country":"de","user_agent":"sqlmap/1.8",` +
				`"action_taken":"request_blocked","reason":"SQL injection","endpoint":"/search?q=[REDACTED]","method":"get",` +
				`"status_code":403,"response_time":0.25,"rule_type":"sqli","pattern_matched":"union select","handler_name":"h",` +
				`"metadata":{"guard.threat_score":87.6}}`,
			want: Normalized{
				Time: time.Date(2026, 5, 1, 12, 34, 56, 500000000, time.UTC), Kind: "penetration_attempt",
				IP: "203.0.113.7", Action: "request_blocked", Blocked: true, Path: "/search?q=[REDACTED]",
				Method: "GET", UserAgent: "sqlmap/1.8", Country: "DE", Status: 403, Latency: 250 * time.Millisecond,
				Reason: "SQL injection", Score: 88, Rule: "sqli", Pattern: "union select", Handler: "h",
			},
		},
		{
			name:  "passive_mode_without_score_uses_table",
			event: `{"timestamp":"2026-05-01T12:00:00Z","event_type":"penetration_attempt","ip_address":"2001:db8::1","action_taken":"logged_only","metadata":{"passive_mode":true}}`,
			want:  Normalized{Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Kind: "penetration_attempt", IP: "2001:db8::1", Action: "logged_only", Monitor: true, Score: 90},
		},
		{
			name:  "system_event",
			event: `{"timestamp":"2026-05-01T12:00:00Z","event_type":"emergency_mode_activated","ip_address":"system","action_taken":"emergency_lockdown"}`,
			want:  Normalized{Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Kind: "emergency_mode_activated", System: true, Action: "emergency_lockdown", Score: DefaultThreatScore},
		},
		{
			name:  "decorator_and_out_of_range_values",
			event: `{"timestamp":"2026-05-01T12:00:00Z","event_type":"decorator_violation","ip_address":"not an ip","country":"Germany","status_code":1000,"response_time":-1,"decorator_type":"require_auth","action_taken":"banned","metadata":{"guard.threat_score":"high"}}`,
			want:  Normalized{Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Kind: "decorator_violation", Action: "banned", Blocked: true, Score: 50, Rule: "require_auth"},
		},
		{
			name:  "score_clamped",
			event: `{"timestamp":"2026-05-01T12:00:00Z","event_type":"x","metadata":{"guard.threat_score":1e9}}`,
			want:  Normalized{Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Kind: "x", Score: 100},
		},
		{
			name:  "huge_response_time",
			event: `{"timestamp":"2026-05-01T12:00:00Z","event_type":"rate_limited","response_time":1e300}`,
			want:  Normalized{Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Kind: "rate_limited", Score: 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEvent([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			got := Normalize(e)
			if string(got.Raw) != tt.event || got.DedupeKey != e.DedupeKey() || got.DedupeKey == "" {
				t.Errorf("Raw or DedupeKey wrong: %q", got.DedupeKey)
			}
			got.Raw, got.DedupeKey = nil, ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThreatScore(t *testing.T) {
	// The reference's §8.3 table.
	for typ, want := range map[string]int{
		"penetration_attempt": 90, "ip_banned": 70, "ip_blocked": 50, "cloud_blocked": 50,
		"country_blocked": 50, "decorator_violation": 50, "authentication_failed": 50,
		"emergency_mode_block": 50, "csp_violation": 40, "access_denied": 30,
		"user_agent_blocked": 30, "rate_limited": 20, "prompt_injection_attempt": 20,
	} {
		if got := ThreatScore(typ); got != want {
			t.Errorf("ThreatScore(%s) = %d, want %d", typ, got, want)
		}
	}
}

func TestDedupeKeys(t *testing.T) {
	with, _ := DecodeEvent([]byte(`{"idempotency_key":"0B7E5B9E-3F4A-4C1E-9A77-5D2A3C4B1E01","timestamp":"2026-05-01T12:00:00Z","event_type":"x"}`))
	if got := with.DedupeKey(); got != "uuid:0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01" {
		t.Errorf("DedupeKey = %q", got)
	}
	a, _ := DecodeEvent([]byte(`{"timestamp":"2026-05-01T12:00:00Z","event_type":"x"}`))
	b, _ := DecodeEvent([]byte(`{"timestamp":"2026-05-01T12:00:00Z","event_type":"x"}`))
	c, _ := DecodeEvent([]byte(`{"timestamp":"2026-05-01T12:00:01Z","event_type":"x"}`))
	// sha256 of the raw bytes, written out: echo -n '{"timestamp":"2026-05-01T12:00:00Z","event_type":"x"}' | sha256sum
	const want = "sha256:426627566b2eb8fa314ff78c938db0b9486ff316985ee03ba72432e382f36f0e"
	if a.DedupeKey() != want || b.DedupeKey() != want || c.DedupeKey() == want {
		t.Errorf("keys without idempotency_key: %s %s %s", a.DedupeKey(), b.DedupeKey(), c.DedupeKey())
	}

	m := func(ts string, v float64, tags map[string]string) *SecurityMetric {
		tt, _ := ParseTime(ts)
		return &SecurityMetric{Timestamp: tt, MetricType: MetricRequestCount, Value: v, Tags: tags}
	}
	base := m("2026-05-01 12:00:00.5+00:00", 1, map[string]string{"endpoint": "/a", "method": "GET"})
	same := m("2026-05-01T12:00:00.5Z", 1, map[string]string{"method": "GET", "endpoint": "/a"})
	if base.DedupeKey() != same.DedupeKey() {
		t.Error("the same sample in two timestamp styles and tag orders has two keys")
	}
	for name, other := range map[string]*SecurityMetric{
		"time":      m("2026-05-01T12:00:00.500001Z", 1, base.Tags),
		"value":     m("2026-05-01T12:00:00.5Z", 2, base.Tags),
		"tag_value": m("2026-05-01T12:00:00.5Z", 1, map[string]string{"endpoint": "/a", "method": "POST"}),
		"tag_shift": m("2026-05-01T12:00:00.5Z", 1, map[string]string{"endpoint": "/aGET", "method": ""}),
	} {
		if other.DedupeKey() == base.DedupeKey() {
			t.Errorf("%s: distinct samples share a key", name)
		}
	}
	neg := m("2026-05-01T12:00:00Z", 0, nil)
	pos := *neg
	neg.Value = negZero()
	if neg.DedupeKey() != pos.DedupeKey() {
		t.Error("-0 and +0 differ")
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}
