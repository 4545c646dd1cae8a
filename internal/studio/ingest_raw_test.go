package studio

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vigilhq/vigil/internal/wire"
)

// A native event is stored as it arrived: a field this Studio does not know (from a
// newer agent) and the agent's own formatting are in the stored raw event, byte for
// byte, as docs/wire.md promises.
func TestIngestKeepsEventAsItArrived(t *testing.T) {
	for name, dsnf := range engines(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, dsnf(t))
			ev := `{"time":"2026-11-21T10:00:00Z", "kind":"request","action":"block","would_be":"block","score":95,` +
				`"client_ip":"203.0.113.9","path":"/.env","status":403,"from_a_newer_agent":{"risk":[1, 2.50]}}`
			body := `{"version":1,"batch_id":"raw-1","agent":{"id":"raw"},"events":[` + ev + `]}`
			req, _ := http.NewRequest("POST", e.ts.URL+wire.PathEvents, bytes.NewReader([]byte(body)))
			req.Header.Set("Authorization", "Bearer "+e.a.ingest)
			req.Header.Set(wire.HeaderIdempotencyKey, "raw-1")
			res, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				t.Fatalf("ingest: %d", res.StatusCode)
			}
			a := e.do("GET", "/v1/events?ip=203.0.113.9", bearer(e.a.admin), "")
			if a.code != 200 {
				t.Fatalf("events: %d %s", a.code, a.body)
			}
			var page struct {
				Events []struct {
					Raw json.RawMessage `json:"raw"`
				} `json:"events"`
			}
			if err := json.Unmarshal(a.body, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != 1 {
				t.Fatalf("%d events, want 1: %s", len(page.Events), a.body)
			}
			// The answer's encoder may re-indent raw; compare compacted forms.
			var want, got bytes.Buffer
			if err := json.Compact(&want, []byte(ev)); err != nil {
				t.Fatal(err)
			}
			if err := json.Compact(&got, page.Events[0].Raw); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("stored raw\n%s\nwant\n%s", got.String(), want.String())
			}
		})
	}
}
