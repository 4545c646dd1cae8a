// Package guardagent speaks the guard-agent protocol: the telemetry and rules protocol of
// the fastapi-guard ecosystem's agents (rennf93/guard-agent in Python, guard-agent-go,
// guard-agent-ts), so that an application running fastapi-guard, flaskapi-guard,
// djapi-guard or anything else built on guard-core can report to Studio by configuration
// alone. The protocol, with every quirk of its clients, is specified in
// ../shared/reference/guard-agent-protocol.md; the section numbers (§) in this package's
// docs refer to that document.
//
// The package is pure: it has no HTTP server and no storage. Studio's handlers use it
// in this order for a POST:
//
//  1. [ReadBody] reads the body as sent, undoes "Content-Encoding: gzip" and enforces
//     [MaxBodySize] on both forms (§5): over the cap is 413, a broken gzip stream 400.
//  2. [CheckSignature] verifies X-Payload-Signature in both variants (§7): over the
//     wire bytes (Python, TypeScript) or the uncompressed JSON (Go).
//  3. [DecodeBatch], [DecodeStatus] or [DecodeEnvelope] then [Envelope.Open] decode the
//     JSON with every quirk of §8: three timestamp styles, unknown event fields kept,
//     strict enums where the clients are strict.
//  4. [SecurityEvent.DedupeKey] and [SecurityMetric.DedupeKey] give the keys to store
//     once (§6); [Normalize] turns an event into the neutral [Normalized] record.
//  5. [Accepted] and [ErrorReply] give the exact answer (§4): status and body chosen for
//     what the Python client does with them.
//
// For GET /api/v1/rules, [RenderRules] turns a Vigil policy and the project's bans into
// the [DynamicRules] document (§8.7), working around how Python clients apply it (§9),
// and [RulesWarnings] lists what a change cannot do on those clients.
//
// Every decoder treats its input as hostile: it never panics, bounds what it reads, and
// reports a problem as an [*Error] carrying the HTTP status to answer and a message that
// is safe to show the client (field paths, never values). Nothing in the package keeps
// state; every function is safe for concurrent use.
package guardagent
