package wire_test

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/wire"
)

// The agent's path for one event: convert, redact the client-controlled text, check,
// batch, encode.
func ExampleFromEvent() {
	e := vigil.Event{
		Kind: vigil.EventRequest,
		Time: time.Date(2026, 5, 1, 12, 34, 56, 500, time.UTC),
		Verdict: vigil.Verdict{
			RequestID: "01JT3Q0ZJ8M6V4N2K9XG7H5B3C", ClientIP: netip.MustParseAddr("203.0.113.7"),
			Action: vigil.ActionBlock, WouldBe: vigil.ActionBlock, Score: 90,
			Signals: []vigil.Signal{{Detector: "attack", Code: "sqli", Score: 90}},
		},
		Method: "GET", Path: "/reset/token=eyJhbGciOi", Status: 403, Latency: 250 * time.Microsecond,
	}
	w := wire.FromEvent(e)
	w.Strings(func(s string) string { // the agent passes its redactor here
		if i := strings.Index(s, "token="); i >= 0 {
			return s[:i] + "token=[REDACTED]"
		}
		return s
	})
	if err := w.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	body, err := wire.EncodeEvents(wire.EventBatch{
		Version: wire.Version, BatchID: wire.BatchID("a7Kq2mZ9", 41),
		Agent: wire.Agent{ID: "a7Kq2mZ9"}, Events: []wire.Event{w},
	})
	fmt.Println(string(body), err)
	// Output:
	// {"version":1,"batch_id":"a7Kq2mZ9-41","agent":{"id":"a7Kq2mZ9"},"events":[{"time":"2026-05-01T12:34:56.0000005Z","kind":"request","request_id":"01JT3Q0ZJ8M6V4N2K9XG7H5B3C","action":"block","would_be":"block","score":90,"signals":[{"detector":"attack","code":"sqli","score":90}],"client_ip":"203.0.113.7","method":"GET","path":"/reset/token=[REDACTED]","status":403,"latency_ms":0.25}]} <nil>
}

// Following the policy stream.
func ExampleStreamReader() {
	body := strings.NewReader("event: policy\nid: 7\ndata: {\"version\":7,\"policy\":{\"mode\":\"monitor\"}}\n\n: ping\n\n")
	r := wire.NewStreamReader(body)
	for {
		snap, err := r.Next()
		if err != nil {
			fmt.Println(err, "; reconnect with Last-Event-ID:", r.LastEventID())
			return
		}
		fmt.Println("apply version", snap.Version, "mode", snap.Policy.Mode) // guard.SetPolicy(snap.Policy)
	}
	// Output:
	// apply version 7 mode monitor
	// EOF ; reconnect with Last-Event-ID: 7
}
