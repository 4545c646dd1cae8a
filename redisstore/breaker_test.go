package redisstore

import (
	"testing"
	"time"
)

// TestBreaker walks the breaker through its states: closed until three failures in a
// row, open (no calls, no probe before the cooldown), one probe at a time after it, a
// failed probe restarting the cooldown, a successful one closing it.
func TestBreaker(t *testing.T) {
	b := &breaker{threshold: 3, cooldown: time.Second}
	t0 := time.Unix(1000, 0)
	type step struct {
		name   string
		do     func() bool
		want   bool
		closed bool
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	steps := []step{
		{"closed_allows", func() bool { return b.allow(at(0)) }, true, true},
		{"failure_1", func() bool { return b.failure(at(0)) }, false, true},
		{"failure_2", func() bool { return b.failure(at(0)) }, false, true},
		{"success_resets", func() bool { return b.success() }, false, true},
		{"failure_1_again", func() bool { return b.failure(at(0)) }, false, true},
		{"failure_2_again", func() bool { return b.failure(at(0)) }, false, true},
		{"failure_3_opens", func() bool { return b.failure(at(0)) }, true, false},
		{"open_refuses", func() bool { return b.allow(at(500 * time.Millisecond)) }, false, false},
		{"probe_after_cooldown", func() bool { return b.allow(at(time.Second)) }, true, false},
		{"one_probe_at_a_time", func() bool { return b.allow(at(time.Second)) }, false, false},
		{"other_failure_keeps_cooldown", func() bool { return b.failure(at(1200 * time.Millisecond)) }, false, false},
		{"probe_fails", func() bool { return b.failure(at(1500 * time.Millisecond)) }, false, false},
		{"cooldown_restarts", func() bool { return b.allow(at(2 * time.Second)) }, false, false},
		{"second_probe", func() bool { return b.allow(at(2500 * time.Millisecond)) }, true, false},
		{"probe_succeeds_closes", func() bool { return b.success() }, true, true},
		{"closed_again", func() bool { return b.allow(at(2500 * time.Millisecond)) }, true, true},
		{"failure_count_restarted", func() bool { return b.failure(at(3 * time.Second)) }, false, true},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
		}
		if b.ready() != s.closed {
			t.Fatalf("%s: closed %v, want %v", s.name, b.ready(), s.closed)
		}
	}
}
