package guardagent_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/internal/studio/guardagent"
	"github.com/vigilhq/vigil/policy"
)

// A Python agent's events batch, gzipped and signed over the wire bytes, as Studio's
// POST /api/v1/events handler reads it.
func Example() {
	json := []byte(`{"project_id":"default","events":[{"idempotency_key":"0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01",` +
		`"timestamp":"2026-05-01 12:34:56.123456+00:00","event_type":"ip_banned","ip_address":"203.0.113.7",` +
		`"action_taken":"banned","reason":"honeypot","metadata":{"duration":3600},"trace_origin":"edge-1"}],` +
		`"metrics":[],"batch_id":"1777638896123-0a1b2c3d","created_at":"2026-05-01 12:35:00+00:00"}`)
	var wire bytes.Buffer
	zw := gzip.NewWriter(&wire)
	zw.Write(json)
	zw.Close()
	secret := []byte("project-signing-secret")
	signature := guardagent.Sign(wire.Bytes(), secret)

	body, err := guardagent.ReadBody(&wire, "gzip")
	if err != nil {
		fmt.Println(guardagent.ErrorReply(err).Status)
		return
	}
	sig, err := guardagent.CheckSignature(signature, body, secret, true)
	if err != nil {
		fmt.Println(guardagent.ErrorReply(err).Status)
		return
	}
	batch, err := guardagent.DecodeBatch(body.JSON)
	if err != nil {
		fmt.Println(guardagent.ErrorReply(err).Status)
		return
	}
	for i := range batch.Events {
		n := guardagent.Normalize(&batch.Events[i])
		fmt.Println(n.Time.Format(time.RFC3339Nano), n.Kind, n.IP, n.Action, n.Score, n.DedupeKey)
		fmt.Println("kept:", string(batch.Events[i].Extra["trace_origin"]))
	}
	reply := guardagent.Accepted(len(batch.Events))
	fmt.Println(sig, reply.Status, string(reply.Body))
	// Output:
	// 2026-05-01T12:34:56.123456Z ip_banned 203.0.113.7 banned 70 uuid:0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01
	// kept: "edge-1"
	// valid (wire bytes) 201 {"success":true,"errors":[],"processed":1}
}

// The rules a project serves to guard-agent clients.
func ExampleRenderRules() {
	p := policy.Policy{
		Deny: []string{"198.51.100.0/24"},
		Geo:  policy.Geo{DenyCountries: []string{"ru"}},
	}
	bans := []guardagent.Ban{{Kind: "ip", Value: "203.0.113.7", Until: time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC)}}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r, notes := guardagent.RenderRules(p, bans, 3, guardagent.RulesOptions{RuleID: "shop", Now: now})
	fmt.Println(r.RuleID, r.Version, r.IPBlacklist, r.IPBanDuration, r.BlockedCountries, len(notes))

	// The operator lifts the country block: an empty list could not clear it on the
	// clients, so the next version sends one that blocks nothing.
	p.Geo.DenyCountries = nil
	next, _ := guardagent.RenderRules(p, bans, 4, guardagent.RulesOptions{RuleID: "shop", Now: now, Previous: r})
	fmt.Println(next.BlockedCountries, guardagent.RulesWarnings(r, next))
	// Output:
	// shop 3 [198.51.100.0/24 203.0.113.7] 31536000 [RU] 0
	// [AA] []
}
