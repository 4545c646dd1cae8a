package vigil

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/vigilhq/vigil/internal/detect/attack"
	"github.com/vigilhq/vigil/internal/phonecheck"
	"github.com/vigilhq/vigil/policy"
)

// Defaults of Config fields whose zero value means a size.
const (
	// DefaultMaxBodyBytes is the body scan bound when Config.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = attack.DefaultMaxBodyBytes
	// DefaultMemoryStoreMaxKeys is the key bound when MemoryStoreConfig.MaxKeys is zero.
	DefaultMemoryStoreMaxKeys = 1 << 20
)

// Config configures a Guard. The zero value is a working, safe configuration: block mode,
// the default policy, client IP from the connection only, an in-memory store, no telemetry,
// and logs discarded.
//
// Fields that hold behaviour (Store, Events, Logger, hooks) are not serialised; the rest
// load from YAML or JSON (see cmd/vigil's config file).
type Config struct {
	// Policy is the initial policy: thresholds, mode, lists, honeypots, limits, bot
	// categories and rules. The zero value is policy.Default(). SetPolicy replaces it at
	// run time.
	Policy policy.Policy `json:"policy" yaml:"policy"`

	// TrustedProxies lists the IPs and CIDRs of the proxies in front of the service.
	// Forwarding headers (X-Forwarded-For, Forwarded or ClientIPHeader) are believed only
	// when the connection comes from one of them, and are walked right to left past
	// trusted hops. Empty (the default): the client IP is the connection's peer address
	// and forwarding headers are ignored, so a client cannot choose its own IP.
	TrustedProxies []string `json:"trusted_proxies,omitempty" yaml:"trusted_proxies,omitempty"`
	// ClientIPHeader names the header the trusted proxies write: empty or
	// "X-Forwarded-For" for X-Forwarded-For, "Forwarded" for RFC 7239's header, or a
	// single-address header such as "X-Real-IP" or "CF-Connecting-IP" that every
	// trusted proxy sets. Only that one header is read. Setting it without
	// TrustedProxies is an error.
	ClientIPHeader string `json:"client_ip_header,omitempty" yaml:"client_ip_header,omitempty"`
	// ChallengeSecret keys the proof-of-work challenges and the pass cookies of clients
	// that solved one: at least 32 bytes, the same on every instance so that a pass
	// works everywhere. Empty means a random key per process: passes then do not
	// survive a restart or span instances.
	ChallengeSecret string `json:"challenge_secret,omitempty" yaml:"challenge_secret,omitempty"`
	// FingerprintHeaders names the headers in which the trusted proxies pass on the
	// fingerprints they took from the client's own connection (a CDN's JA4 header,
	// or vigil proxy's X-Vigil-Ja4). The zero value reads none.
	FingerprintHeaders FingerprintHeaders `json:"fingerprint_headers,omitzero" yaml:"fingerprint_headers,omitempty"`
	// TrustRequestID makes the guard keep a well-formed inbound X-Request-Id (1–128 bytes
	// of letters, digits and "-_.:") instead of generating one. Off by default: an
	// inbound ID is client input.
	TrustRequestID bool `json:"trust_request_id,omitempty" yaml:"trust_request_id,omitempty"`
	// MaxBodyBytes bounds how much of a request body is read for attack scanning. The
	// body is always restored for the handler. A larger body is scanned up to the bound
	// and produces a body_not_scanned signal, whose weight policy sets. Zero means 64 KiB.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty" yaml:"max_body_bytes,omitempty"`
	// FailClosed makes an internal fault (a store error, a detector panic) block the
	// request with 503 instead of letting it through. Off by default: a fault fails open
	// and is reported by an EventError event, a log line and OnError.
	FailClosed bool `json:"fail_closed,omitempty" yaml:"fail_closed,omitempty"`
	// Geo names GeoIP and hosting-network data to look client IPs up in (see
	// GeoConfig). The zero value has none: countries and networks are unknown.
	Geo GeoConfig `json:"geo,omitzero" yaml:"geo,omitempty"`
	// MemoryStore configures the default store; ignored when Store is set.
	MemoryStore MemoryStoreConfig `json:"memory_store,omitzero" yaml:"memory_store,omitempty"`

	// Store holds rate limits, counters and bans. Nil means a MemoryStore.
	Store Store `json:"-" yaml:"-"`
	// Phones analyses the phone numbers submitted to signup paths
	// (policy.Signups.PhoneFields); fraud.PhoneAnalyzer is one. Nil leaves phone
	// numbers unchecked. It is an interface so that a service that does not ask for
	// phone checks does not link the numbering-plan metadata.
	Phones PhoneAnalyzer `json:"-" yaml:"-"`
	// Events receives an event for every request and for every ban and fault. Nil means
	// events are not built.
	Events EventSink `json:"-" yaml:"-"`
	// Logger receives the guard's own log lines (faults, bans, policy changes). Nil
	// means they are discarded.
	Logger *slog.Logger `json:"-" yaml:"-"`
	// OnBlock, when set, is called after the guard answered a request with a block,
	// challenge or rate-limit response (in monitor mode: when it would have). It runs on
	// the request goroutine and must be quick.
	OnBlock func(r *http.Request, v *Verdict) `json:"-" yaml:"-"`
	// OnError, when set, is called with every internal fault the guard survived.
	OnError func(r *http.Request, err error) `json:"-" yaml:"-"`
	// Offline makes the guard make no network calls of its own: crawlers' claims are
	// not verified by DNS (they stay unverified) and signup e-mail domains are judged
	// without DNS even where the policy asks for MX checks. False (the zero value)
	// allows both look-ups.
	Offline bool `json:"offline,omitempty" yaml:"offline,omitempty"`
	// Clock tells the time for every decision: rate limits, bans and their expiry,
	// behaviour, event times. It is also the MemoryStore's clock when the guard makes
	// that store itself. Nil means time.Now. Replaying recorded traffic (vigil replay)
	// sets it to each request's recorded time.
	Clock func() time.Time `json:"-" yaml:"-"`
}

// FingerprintHeaders names request headers that carry a client's fingerprints from a
// trusted proxy. They are read only from requests whose connection comes from one of
// Config.TrustedProxies, and only when the guard does not observe the client's
// connection itself; from anyone else they are ignored, since a client can write any
// header. A value longer than 1 KiB or not in the fingerprint's format is ignored. An
// empty name is not read.
type FingerprintHeaders struct {
	// JA4 names the header with the client's JA4, such as "X-Vigil-Ja4" or
	// "Cloudfront-Viewer-Ja4-Fingerprint".
	JA4 string `json:"ja4,omitempty" yaml:"ja4,omitempty"`
	// JA3 names the header with the MD5 of the client's JA3.
	JA3 string `json:"ja3,omitempty" yaml:"ja3,omitempty"`
	// H2 names the header with the client's Akamai HTTP/2 fingerprint.
	H2 string `json:"h2,omitempty" yaml:"h2,omitempty"`
}

// PhoneAnalyzer analyses a phone number submitted to a signup path. ipCountry is the
// client IP's country ("" when unknown). fraud.PhoneAnalyzer implements it; its report
// type, fraud.PhoneReport, is the one named here.
type PhoneAnalyzer interface {
	AnalyzePhone(number, ipCountry string) phonecheck.Report
}
