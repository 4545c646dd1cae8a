package agent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil"
)

func TestMeter(t *testing.T) {
	var m meter
	for _, e := range []vigil.Event{
		{Kind: vigil.EventRequest, Status: 200, Latency: 80 * time.Microsecond, Verdict: vigil.Verdict{Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow}},
		{Kind: vigil.EventRequest, Status: 204, Latency: 300 * time.Microsecond, Verdict: vigil.Verdict{Action: vigil.ActionAllow, WouldBe: vigil.ActionBlock}},
		{Kind: vigil.EventRequest, Status: 403, Latency: 3 * time.Second, Verdict: vigil.Verdict{Action: vigil.ActionBlock, WouldBe: vigil.ActionBlock}},
		{Kind: vigil.EventRequest, Status: 0, Verdict: vigil.Verdict{Action: vigil.ActionRateLimit, WouldBe: vigil.ActionRateLimit}},
		{Kind: vigil.EventBan},
		{Kind: vigil.EventError, FailedOpen: true},
	} {
		m.record(&e)
	}
	got := m.take(time.Unix(0, 0), time.Unix(10, 0))
	if diff := cmp.Diff(map[string]uint64{"allow": 2, "block": 1, "ratelimit": 1}, got.Requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"allow": 1, "block": 2, "ratelimit": 1}, got.WouldBe); diff != "" {
		t.Errorf("would be (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"2xx": 2, "4xx": 1, "none": 1}, got.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	wantLat := make([]uint64, len(latencyBounds)+1)
	wantLat[0] = 2                  // 80 µs and 0 (no latency) are ≤ 100 µs
	wantLat[2] = 1                  // 300 µs ≤ 500 µs
	wantLat[len(latencyBounds)] = 1 // 3 s is slower than every bound
	if diff := cmp.Diff(wantLat, got.Latency); diff != "" {
		t.Errorf("latency (-want +got):\n%s", diff)
	}
	if got.LatencySum != 80+300+3_000_000 || got.Bans != 1 || got.Errors != 1 || got.FailedOpen != 1 {
		t.Errorf("sum %d bans %d errors %d failed open %d", got.LatencySum, got.Bans, got.Errors, got.FailedOpen)
	}
	// A take starts a new interval.
	if again := m.take(time.Unix(10, 0), time.Unix(20, 0)); len(again.Requests) != 0 || again.Bans != 0 || again.Latency[0] != 0 {
		t.Errorf("second interval not empty: %+v", again)
	}
}
