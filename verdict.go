package vigil

import (
	"context"
	"net/netip"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/emailcheck"
	"github.com/vigilhq/vigil/internal/phonecheck"
)

// Action is what the guard does with a request.
type Action string

// The actions. Every response the guard handles carries one of them in X-Vigil-Action.
const (
	// ActionAllow passes the request to the handler.
	ActionAllow Action = "allow"
	// ActionBlock answers 403 without calling the handler.
	ActionBlock Action = "block"
	// ActionChallenge answers a browser navigation with a proof-of-work page (403) whose
	// solution earns a pass cookie bound to the client's IP prefix and software; any
	// other request gets 403. Policy rules and Policy.ChallengeThreshold ask for it; a
	// client holding a valid pass, or a verified crawler, is let through instead.
	ActionChallenge Action = "challenge"
	// ActionRateLimit answers 429 with Retry-After and RateLimit headers.
	ActionRateLimit Action = "ratelimit"
)

// Signal is one detector's observation about a request. Scores from all signals combine as
// a probabilistic OR, 1 − Π(1 − wᵢ·sᵢ/100), with per-code weights wᵢ from policy.
type Signal struct {
	// Detector names the detector: "gate", "ratelimit", "attack", "bot" or "rule".
	Detector string `json:"detector"`
	// Code is the stable machine-readable reason, for example "sqli", "honeypot",
	// "banned" or "rule:block-admin". Policy weights refer to signals by Code.
	Code string `json:"code"`
	// Score is the signal's strength from 0 to 100.
	Score int `json:"score"`
	// Detail says where and why, in a form that is safe to log.
	Detail string `json:"detail,omitempty"`
}

// Enrichment is what the guard learned about the client beyond the request itself.
// Empty fields are unknown.
type Enrichment struct {
	// Country is the ISO 3166-1 alpha-2 code of the client IP, from the country
	// database in Config.Geo.
	Country string `json:"country,omitempty"`
	// BotVerified reports that a crawler's claim (for example Googlebot) was verified by
	// reverse and forward DNS. (It sits here, beside ASN, so that the two share eight
	// bytes: the verdict then fits a smaller allocation size class.)
	BotVerified bool `json:"bot_verified,omitempty"`
	// ASN is the autonomous system number of the client IP, and ASOrg the name of its
	// organisation, from the ASN database in Config.Geo.
	ASN   uint32 `json:"asn,omitempty"`
	ASOrg string `json:"as_org,omitempty"`
	// Hosting is set when the client IP belongs to a hosting provider (a datacenter or
	// cloud network) and says how that is known: "asn:16509", "cloud:aws", …
	Hosting string `json:"hosting,omitempty"`
	// Client is the client family named by the User-Agent ("chrome", "curl",
	// "googlebot", …).
	Client string `json:"client,omitempty"`
	// ClientKind is "browser", "crawler", "library", "automation" or "scanner".
	ClientKind string `json:"client_kind,omitempty"`
	// BotCategory is the category of a non-browser client ("search", "ai", "seo",
	// "monitor", "automation", "scanner", …).
	BotCategory string `json:"bot_category,omitempty"`
	// Email is the analysis of the e-mail address submitted to a signup path
	// (policy.Signups), nil elsewhere. Email.Canonical is the identity key to look
	// duplicates up by; deliver mail to the address as typed.
	Email *emailcheck.EmailReport `json:"email,omitempty"`
	// Phone is the analysis of the phone number submitted to a signup path, when
	// Config.Phones is set (a fraud.PhoneReport), nil elsewhere. Phone.E164 is the
	// number's canonical form.
	Phone *phonecheck.Report `json:"phone,omitempty"`
}

// Verdict is the guard's decision about one request. The handler finds it with
// VerdictFrom; events carry it to telemetry. A Verdict must not be modified after the guard
// returned it.
type Verdict struct {
	// RequestID identifies the request in the response (X-Request-Id), in logs and in
	// events.
	RequestID string `json:"request_id"`
	// ClientIP is the client's address as established by the trusted-proxy rules.
	ClientIP netip.Addr `json:"client_ip"`
	// ViaTrustedProxy reports that the connection came from one of
	// Config.TrustedProxies, so the forwarding headers it wrote (scheme, host) may be
	// believed as the client IP was.
	ViaTrustedProxy bool `json:"via_trusted_proxy,omitempty"`
	// Score is the combined score, 0–100.
	Score int `json:"score"`
	// Action is what the guard did. In monitor mode it is always ActionAllow.
	Action Action `json:"action"`
	// WouldBe is what the policy decided. It equals Action in block mode and tells, in
	// monitor mode, what would have happened.
	WouldBe Action `json:"would_be"`
	// Signals lists every observation that contributed, in the order they were made.
	Signals []Signal `json:"signals,omitempty"`
	// DNA identifies the client beyond its IP address.
	DNA fingerprint.DNA `json:"dna"`
	// Enrichment is what the guard learned about the client.
	Enrichment Enrichment `json:"enrichment"`
}

// Blocked reports whether the guard did not let the request through.
func (v *Verdict) Blocked() bool { return v.Action != ActionAllow }

type verdictKey struct{}

// verdictCtx is the context a guarded handler's request carries: its parent plus the
// verdict. It is context.WithValue(parent, verdictKey{}, &v) folded into one allocation
// together with the verdict, its request ID and the two response header values the
// guard sets.
type verdictCtx struct {
	context.Context
	v   Verdict
	id  idBuf            // the bytes of v.RequestID when the guard made it
	hv  [2]string        // X-Request-Id and X-Vigil-Action values
	rec responseRecorder // the handler's writer, when the guard needs the response status
}

// Value returns the verdict for verdictKey and asks the parent for every other key.
func (c *verdictCtx) Value(key any) any {
	if key == (verdictKey{}) {
		return &c.v
	}
	return c.Context.Value(key)
}

// VerdictFrom returns the verdict the guard made for the request whose context is ctx, or
// nil when the request did not pass through a guard.
func VerdictFrom(ctx context.Context) *Verdict {
	v, _ := ctx.Value(verdictKey{}).(*Verdict)
	return v
}
