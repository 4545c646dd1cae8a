// Package wire defines Vigil's native protocol between the telemetry agent and Studio,
// version 1: the endpoints, the JSON bodies, their limits and their validation. The
// protocol is documented for people in docs/wire.md; this package is its source of truth,
// and a test checks that every example in that document decodes here.
//
// The agent builds bodies with [FromEvent], [Interval.Count] and the batch types, checks
// them with [EncodeEvents], [EncodeMetrics] and [EncodeStatus], and follows the policy
// with [StreamReader]. Studio reads request bodies with [ReadBody] and [DecodeEvents],
// [DecodeMetrics] and [DecodeStatus], answers with [Ack], [StatusReply] or a [Problem],
// and serves policy and bans with [EncodeSnapshot]. Every decoder treats its input as
// hostile: it bounds sizes and counts, rejects what it cannot vouch for with a
// [*FieldError] that names the field, and ignores unknown fields (additive changes
// within version 1 must not break older readers).
//
// Redaction is not this package's job: the agent runs its redactor over the fields that
// carry client-controlled text through [Event.Strings] before encoding. The wire event
// has no field for a raw e-mail address, phone number or query string.
//
// Subpackage wiretest is an in-memory Studio for tests.
package wire
