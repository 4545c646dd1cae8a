package wire

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil"
)

// Event is the wire form of a vigil.Event: flat, stable, and free of raw e-mail
// addresses and phone numbers. Build it with [FromEvent]. The zero value
// is not a valid event (Time and Kind are required). An Event is a plain value; it is
// not safe for concurrent modification.
//
// Fields that carry text the client controls, and that the agent must redact, are the
// ones [Event.Strings] visits: method, host, path, query, headers, user_agent, error,
// signals[].detail, dna.hdna and enrichment.email.domain.
type Event struct {
	// Time is when the guard recorded the event, in UTC, RFC 3339 with nanoseconds.
	Time time.Time `json:"time"`
	// Kind is "request", "ban" or "error" (vigil.EventKind). Readers accept kinds they
	// do not know.
	Kind string `json:"kind"`
	// RequestID is the request's X-Request-Id.
	RequestID string `json:"request_id,omitempty"`
	// Action is what the guard did: "allow", "block", "challenge" or "ratelimit".
	Action string `json:"action,omitempty"`
	// WouldBe is what the policy decided; it differs from Action in monitor mode.
	WouldBe string `json:"would_be,omitempty"`
	// Score is the combined score, 0–100.
	Score int `json:"score"`
	// Signals are the findings, in the order they were made, at most MaxSignals.
	Signals []Signal `json:"signals,omitempty"`
	// ClientIP is the client's address as the guard established it.
	ClientIP netip.Addr `json:"client_ip,omitzero"`
	// ViaTrustedProxy reports that the connection came from a trusted proxy.
	ViaTrustedProxy bool `json:"via_trusted_proxy,omitempty"`
	// DNA is the client's fingerprint.
	DNA DNA `json:"dna,omitzero"`
	// Enrichment is what the guard learned about the client.
	Enrichment Enrichment `json:"enrichment,omitzero"`

	Method    string `json:"method,omitempty"`
	Host      string `json:"host,omitempty"`
	Path      string `json:"path,omitempty"` // decoded path, no query
	UserAgent string `json:"user_agent,omitempty"`
	// Status and Bytes describe the response; zero when none was written.
	Status int   `json:"status,omitempty"`
	Bytes  int64 `json:"bytes,omitempty"`
	// LatencyMS is the time from the guard receiving the request to the handler
	// returning, in milliseconds.
	LatencyMS float64 `json:"latency_ms,omitempty"`

	// Query and Headers are the request's raw query string and headers, sent only
	// for requests the policy acted on (WouldBe is not "allow"), after redaction. The
	// headers are sorted by name (lower case), at most MaxHeaders, each value cut to
	// MaxHeaderLen bytes.
	Query   string   `json:"query,omitempty"`
	Headers []Header `json:"headers,omitempty"`

	// Ban is set on "ban" events.
	Ban *Ban `json:"ban,omitempty"`
	// Error is the internal error text of an "error" event.
	Error string `json:"error,omitempty"`
	// FailedOpen reports, on an "error" event, that the request was let through.
	FailedOpen bool `json:"failed_open,omitempty"`
}

// Header is one request header line. A header the client sent several times is
// several Headers with the same name, in the order they came.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Signal is one finding (vigil.Signal).
type Signal struct {
	Detector string `json:"detector"`
	Code     string `json:"code"`
	Score    int    `json:"score"`
	Detail   string `json:"detail,omitempty"`
}

// DNA is the wire form of fingerprint.DNA: the identifiers, without the header order
// and presence vector.
type DNA struct {
	ID       string `json:"id,omitempty"`
	Family   string `json:"family,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Source   string `json:"source,omitempty"`   // "request", "connection" or "upstream"
	Protocol string `json:"protocol,omitempty"` // "h1" or "h2" when the order was seen
	JA4      string `json:"ja4,omitempty"`
	JA3      string `json:"ja3,omitempty"`
	H2       string `json:"h2,omitempty"` // Akamai HTTP/2 fingerprint
	// HDNA is Vigil's header fingerprint in its readable form. It holds the header
	// names the client sent, so it is client-controlled text.
	HDNA   string `json:"hdna,omitempty"`
	HDNAID string `json:"hdna_id,omitempty"`
}

// Enrichment is the wire form of vigil.Enrichment. The e-mail and phone analyses keep
// their verdicts and drop the address and number themselves.
type Enrichment struct {
	Country     string `json:"country,omitempty"`
	ASN         uint32 `json:"asn,omitempty"`
	ASOrg       string `json:"as_org,omitempty"`
	Hosting     string `json:"hosting,omitempty"`
	Client      string `json:"client,omitempty"`
	ClientKind  string `json:"client_kind,omitempty"`
	BotCategory string `json:"bot_category,omitempty"`
	BotVerified bool   `json:"bot_verified,omitempty"`
	Email       *Email `json:"email,omitempty"`
	Phone       *Phone `json:"phone,omitempty"`
}

// Email is what the guard found about an address submitted to a signup path, without
// the address: no input, local part or canonical form.
type Email struct {
	Valid bool `json:"valid"`
	// Invalid is the code of the syntax rule an invalid address breaks.
	Invalid string `json:"invalid,omitempty"`
	// Domain is the address's domain (lower case, ASCII). It is client-controlled text.
	Domain     string `json:"domain,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Disposable bool   `json:"disposable"`
	Free       bool   `json:"free"`
	Role       bool   `json:"role"`
	RiskScore  int    `json:"risk_score"`
	// Reasons are the codes of the findings, most important first.
	Reasons []string `json:"reasons,omitempty"`
}

// Phone is what the guard found about a phone number submitted to a signup path,
// without the number.
type Phone struct {
	Valid           bool     `json:"valid"`
	Region          string   `json:"region,omitempty"`
	Type            string   `json:"type,omitempty"`
	CountryMismatch bool     `json:"country_mismatch,omitempty"`
	RiskScore       int      `json:"risk_score"`
	Reasons         []string `json:"reasons,omitempty"`
}

// Ban is the wire form of vigil.Ban: the ban on a "ban" event, and one of the bans of
// a PolicySnapshot (where validBans checks it and Strikes is not used).
type Ban struct {
	Kind    string    `json:"kind"`  // "ip", "cidr" or "dna"
	Value   string    `json:"value"` // the address, prefix or DNA ID
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until,omitzero"` // zero: no end
	Strikes int       `json:"strikes,omitempty"`
}

// FromEvent converts a guard event to its wire form. It copies what it keeps, so the
// result shares nothing with e. It cuts every string to MaxFieldLen bytes (at a rune
// boundary), keeps the first MaxSignals signals and MaxReasons reasons, and leaves out
// the e-mail address, the phone number, the DNA's header order and presence vector. It
// does not redact: see [Event.Strings].
func FromEvent(e vigil.Event) Event {
	v := &e.Verdict
	w := Event{
		Time:            e.Time.UTC(),
		Kind:            string(e.Kind),
		RequestID:       v.RequestID,
		Action:          string(v.Action),
		WouldBe:         string(v.WouldBe),
		Score:           v.Score,
		ClientIP:        v.ClientIP,
		ViaTrustedProxy: v.ViaTrustedProxy,
		DNA: DNA{
			ID:       v.DNA.ID,
			Family:   v.DNA.Family,
			Kind:     v.DNA.Kind,
			Source:   v.DNA.Source,
			Protocol: v.DNA.Protocol,
			HDNA:     v.DNA.HDNA,
			HDNAID:   v.DNA.HDNAID,
		},
		Enrichment: Enrichment{
			Country:     v.Enrichment.Country,
			ASN:         v.Enrichment.ASN,
			ASOrg:       v.Enrichment.ASOrg,
			Hosting:     v.Enrichment.Hosting,
			Client:      v.Enrichment.Client,
			ClientKind:  v.Enrichment.ClientKind,
			BotCategory: v.Enrichment.BotCategory,
			BotVerified: v.Enrichment.BotVerified,
		},
		Method:     e.Method,
		Host:       e.Host,
		Path:       e.Path,
		UserAgent:  e.UserAgent,
		Status:     e.Status,
		Bytes:      e.Bytes,
		LatencyMS:  float64(e.Latency) / float64(time.Millisecond),
		Error:      e.Error,
		FailedOpen: e.FailedOpen,
	}
	if t := v.DNA.TLS; t != nil {
		w.DNA.JA4, w.DNA.JA3 = t.JA4, t.JA3
	}
	if h := v.DNA.H2; h != nil {
		w.DNA.H2 = h.Akamai
	}
	if n := min(len(v.Signals), MaxSignals); n > 0 {
		w.Signals = make([]Signal, n)
		for i, s := range v.Signals[:n] {
			w.Signals[i] = Signal{Detector: s.Detector, Code: s.Code, Score: s.Score, Detail: s.Detail}
		}
	}
	if m := v.Enrichment.Email; m != nil {
		w.Enrichment.Email = &Email{
			Valid: m.Valid, Invalid: m.Invalid, Domain: m.Domain, Provider: string(m.Provider),
			Disposable: m.Disposable, Free: m.Free, Role: m.Role, RiskScore: m.RiskScore,
		}
		for _, r := range m.Reasons[:min(len(m.Reasons), MaxReasons)] {
			w.Enrichment.Email.Reasons = append(w.Enrichment.Email.Reasons, r.Code)
		}
	}
	if p := v.Enrichment.Phone; p != nil {
		w.Enrichment.Phone = &Phone{
			Valid: p.Valid, Region: p.Region, Type: p.Type,
			CountryMismatch: p.CountryMismatch, RiskScore: p.RiskScore,
		}
		for _, r := range p.Reasons[:min(len(p.Reasons), MaxReasons)] {
			w.Enrichment.Phone.Reasons = append(w.Enrichment.Phone.Reasons, r.Code)
		}
	}
	if e.Kind == vigil.EventRequest && e.Verdict.WouldBe != vigil.ActionAllow {
		w.Query = e.Query
		w.Headers = headers(e.Header)
	}
	if b := e.Ban; b != nil {
		w.Ban = &Ban{Kind: string(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until.UTC(), Strikes: b.Strikes}
		if b.Until.IsZero() {
			w.Ban.Until = time.Time{}
		}
	}
	w.eachString(func(s string) string { return s }) // cut every string to MaxFieldLen
	return w
}

// headers flattens h into sorted lines: at most MaxHeaders, names lower-cased, values
// cut to MaxHeaderLen.
func headers(h http.Header) []Header {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Header
	for _, name := range names {
		lower := cutTo(strings.ToLower(name), MaxHeaderLen)
		for _, v := range h[name] {
			if len(out) == MaxHeaders {
				return out
			}
			out = append(out, Header{Name: lower, Value: cutTo(v, MaxHeaderLen)})
		}
	}
	return out
}

// Redactor is what Redact needs of a redactor; *redact.Redactor is one.
type Redactor interface {
	String(s string) string
	Header(name, value string) string
	Query(rawQuery string) string
}

// Redact removes secrets and personal data from every field of e that carries
// client-controlled text, with r (package redact's Redactor): each header by its name
// and value (Redactor.Header: a Cookie keeps its cookie names, an Authorization value
// becomes one placeholder), the query by parameter name (Redactor.Query), and the
// other fields of [Event.Strings] by shape (Redactor.String). The agent calls it
// before an event is stored or sent.
func (e *Event) Redact(r Redactor) {
	e.Query = r.Query(e.Query)
	for i := range e.Headers {
		h := &e.Headers[i]
		h.Value = cutTo(r.Header(h.Name, h.Value), MaxHeaderLen)
	}
	e.Strings(r.String)
}

// Strings replaces each non-empty field of e that carries client-controlled text with
// f's result, then cuts it to MaxFieldLen bytes. The fields are method, host, path,
// user_agent, error, every signal's detail, dna.hdna and enrichment.email.domain. The
// agent passes its redactor here before encoding; identifiers that Vigil computed
// (codes, DNA IDs, fingerprints, the client IP) are not visited.
func (e *Event) Strings(f func(string) string) {
	e.eachString(func(s string) string {
		if s == "" {
			return s
		}
		return f(s)
	})
}

// eachString applies f to the client-controlled fields and every other free-text field
// FromEvent copies, and cuts the results to MaxFieldLen.
func (e *Event) eachString(f func(string) string) {
	apply := func(p *string) { *p = cut(f(*p)) }
	apply(&e.Method)
	apply(&e.Host)
	apply(&e.Path)
	apply(&e.UserAgent)
	apply(&e.Error)
	for i := range e.Signals {
		apply(&e.Signals[i].Detail)
	}
	apply(&e.Query)
	for i := range e.Headers {
		h := &e.Headers[i]
		h.Name, h.Value = cutTo(f(h.Name), MaxHeaderLen), cutTo(f(h.Value), MaxHeaderLen)
	}
	apply(&e.DNA.HDNA)
	if m := e.Enrichment.Email; m != nil {
		apply(&m.Domain)
	}
}

// cut shortens s to at most MaxFieldLen bytes without splitting a UTF-8 sequence.
func cut(s string) string { return cutTo(s, MaxFieldLen) }

// cutTo shortens s to at most n bytes without splitting a UTF-8 sequence.
func cutTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > n-utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
