// Package webhook delivers Studio's webhooks: it signs each delivery, POSTs it to
// the webhook's URL and retries it with backoff until the receiver answers 2xx or
// the attempts run out.
//
// # What a receiver gets
//
// A POST with a JSON body and these headers:
//
//	Content-Type:    application/json
//	User-Agent:      vigil-studio
//	Vigil-Event:     the event type: high_threat, new_fingerprint, honeypot_trigger, ban or ping
//	Vigil-Delivery:  the delivery's ID, the same on every retry of it
//	Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// Delivery is at least once: a retry after a lost 2xx, or after a Studio process
// stopped mid-send, repeats a delivery, so a receiver should ignore a Vigil-Delivery
// ID it has handled. Deliveries are not ordered.
//
// # Verifying a delivery
//
// The signature is Stripe's scheme. The key is the webhook's secret as Studio shows
// it when the webhook is made: the 64-character text itself, not the 32 bytes it
// encodes. To verify, in any language:
//
//  1. Split Vigil-Signature on ",", and each part on the first "="; t is the
//     timestamp, each v1 a signature (there may be several; ignore other keys).
//  2. Compute HMAC-SHA256(key, t + "." + body) over the raw body bytes, as received,
//     before any JSON parsing, and hex-encode it.
//  3. Accept if it equals one of the v1 values (compare in constant time) and t is
//     within a few minutes of your clock (5 minutes is usual): an old t is a replay.
//
// [Verify] does exactly this, and is short enough to copy; [Sign] makes the header.
// Each attempt is signed anew, so a retry hours later carries a fresh timestamp.
//
// # Sending
//
// A [Sender] claims due deliveries from the store (store.Store.ClaimDue leases
// them, so several Studio processes may each run a Sender on one database without
// sending a delivery twice at once), sends a few at a time and records every attempt
// (store.Store.RecordAttempt). An answer other than 2xx, a redirect included, or no
// answer within the timeout is a failure; the delivery is tried again after an
// exponential backoff with jitter, and given up after MaxAttempts.
//
// Trust: webhook URLs are set by a project's admins, and the Sender connects to
// whatever address a URL names, private and loopback ones included, which is what a
// self-hosted Studio posting to an internal service needs. Where the people who may
// add webhooks should not reach the internal network, give the Sender an
// [http.Client] whose Transport refuses those addresses (a net.Dialer Control
// function).
package webhook
