package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/policy"
)

// Version is the version of the body schemas this package reads and writes: the
// "version" field of every POST body. Changes within version 1 only add optional
// fields, so readers ignore fields they do not know.
const Version = 1

// The endpoints, relative to Studio's base URL.
const (
	PathEvents       = "/v1/ingest/events"
	PathMetrics      = "/v1/ingest/metrics"
	PathStatus       = "/v1/ingest/status"
	PathPolicy       = "/v1/policy"
	PathPolicyStream = "/v1/policy/stream"
)

// Limits. A reader rejects a body over them; FromEvent and the agent keep within them.
const (
	// MaxBodySize is the largest POST body, in bytes after decompression. A larger
	// body gets 413.
	MaxBodySize = 4 << 20
	// MaxEvents is the most events in one batch.
	MaxEvents = 1000
	// MaxIntervals is the most metric intervals in one batch.
	MaxIntervals = 1000
	// MaxSignals is the most signals in one event; FromEvent keeps the first ones.
	MaxSignals = 64
	// MaxReasons is the most reason codes in an e-mail or phone analysis.
	MaxReasons = 32
	// MaxFieldLen is the longest string field, in bytes.
	MaxFieldLen = 4096
	// MaxHeaders is the most header lines one event carries.
	MaxHeaders = 48
	// MaxHeaderLen is the longest header name or value, in bytes.
	MaxHeaderLen = 1024
	// MaxCounterKeys is the most keys in one counter map of an Interval.
	MaxCounterKeys = 256
	// MaxBuckets is the most histogram bounds.
	MaxBuckets = 64
	// MaxBatchIDLen is the longest batch ID.
	MaxBatchIDLen = 128
	// MaxAgentIDLen is the longest agent ID.
	MaxAgentIDLen = 64
	// MaxBans is the most bans in one policy snapshot. The snapshot must also fit
	// MaxBodySize and MaxStreamEvent, which bounds it first for long values.
	MaxBans = 100_000
	// MaxBanDNALen is the longest DNA ID a snapshot's ban names.
	MaxBanDNALen = 128
)

// Agent says which agent sent a body.
type Agent struct {
	// ID identifies one agent installation: random, made once and kept with the
	// agent's spool, 1–64 characters from [A-Za-z0-9._-]. Required.
	ID string `json:"id"`
	// Instance names the process or host (a hostname, a pod name). Optional.
	Instance string `json:"instance,omitempty"`
	// Version is the Vigil version the agent runs. Optional.
	Version string `json:"version,omitempty"`
}

// BatchID returns the batch ID for the seq-th batch cut by agent agentID:
// "<agentID>-<seq>". The agent gives each batch its ID when it cuts the batch and keeps
// it with the batch in the spool, so every retry, across restarts, carries the same ID.
func BatchID(agentID string, seq uint64) string {
	return agentID + "-" + strconv.FormatUint(seq, 10)
}

// SplitBatchID returns the IDs of the two halves of a batch that got 413: id + ".0" for
// the first half and id + ".1" for the second. Splitting the same batch the same way
// again gives the same IDs, so the halves are deduplicated like any batch.
func SplitBatchID(id string) (first, second string) {
	return id + ".0", id + ".1"
}

// EventBatch is the body of POST /v1/ingest/events.
type EventBatch struct {
	// Version is the schema version, 1.
	Version int `json:"version"`
	// BatchID is the idempotency key (see BatchID): Studio stores a batch once
	// whatever the number of times it arrives.
	BatchID string `json:"batch_id"`
	Agent   Agent  `json:"agent"`
	// Events are at most MaxEvents events. An empty batch is valid.
	Events []Event `json:"events"`
}

// MetricBatch is the body of POST /v1/ingest/metrics.
type MetricBatch struct {
	Version int    `json:"version"`
	BatchID string `json:"batch_id"`
	Agent   Agent  `json:"agent"`
	// Intervals are at most MaxIntervals aggregates, each over its own time span.
	Intervals []Interval `json:"intervals"`
}

// Status is the body of POST /v1/ingest/status, the agent's heartbeat. Studio keeps the
// latest per agent ID; a status has no batch ID because resending one is harmless.
type Status struct {
	Version int   `json:"version"`
	Agent   Agent `json:"agent"`
	// Time is when the agent wrote the status; Studio compares it to its own clock.
	Time time.Time `json:"time"`
	// UptimeMS is how long the agent has run, in milliseconds.
	UptimeMS int64 `json:"uptime_ms"`
	// PolicyVersion is the version of the policy in force in the guard; 0 for a local
	// policy.
	PolicyVersion int64 `json:"policy_version"`
	// QueueLen and QueueCap are the events waiting in the in-memory buffer and its
	// capacity.
	QueueLen int64 `json:"queue_len"`
	QueueCap int64 `json:"queue_cap"`
	// SpoolBatches and SpoolBytes are what waits on disk; SpoolMaxBytes is its bound.
	SpoolBatches  int64 `json:"spool_batches"`
	SpoolBytes    int64 `json:"spool_bytes"`
	SpoolMaxBytes int64 `json:"spool_max_bytes"`
	// The counters run from the agent's start.
	EventsRecorded int64 `json:"events_recorded"` // handed to the agent by the guard
	EventsSent     int64 `json:"events_sent"`     // accepted by Studio (duplicates excluded)
	// Dropped counts events lost, by reason: "queue_full" (the buffer overflowed),
	// "spool_full", "rejected" (Studio answered 400 or 413 for one event), ….
	Dropped map[string]int64 `json:"dropped,omitempty"`
	// BatchesFailed counts send attempts that did not get a 2xx.
	BatchesFailed int64 `json:"batches_failed"`
	// LastSuccess is when Studio last accepted a batch; zero if never.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the agent's last send error, for the operator.
	LastError string `json:"last_error,omitempty"`
	// StoreDegraded reports that the guard's shared store is down and the guard decides
	// from local state.
	StoreDegraded bool `json:"store_degraded"`
}

// StatusReply is Studio's answer to a status: the version of the newest published
// policy (0 when none), so an agent that cannot hold a stream open learns when to GET
// /v1/policy.
type StatusReply struct {
	PolicyVersion int64 `json:"policy_version"`
}

// Ack is Studio's answer to a batch: 202 with Accepted = the number of items stored, or
// 200 with Duplicate set and Accepted 0 when the batch ID was seen before.
type Ack struct {
	Accepted  int  `json:"accepted"`
	Duplicate bool `json:"duplicate"`
}

// PolicySnapshot is the body of GET /v1/policy and the data of each policy event on
// the stream: the whole policy and the whole set of Studio's bans, never a
// difference.
type PolicySnapshot struct {
	// Version is the snapshot's version, at least 1, and equal to Policy.Version.
	// Studio gives a snapshot a new, higher version whenever its policy or its bans
	// change, so that an agent that holds a version holds its bans too.
	Version int64         `json:"version"`
	Policy  policy.Policy `json:"policy"`
	// Local reports a snapshot without a policy ("policy" absent or null): the
	// project has published none, so the agent keeps the policy it has (its local
	// configuration) and applies only the bans. Policy is then the zero Policy.
	// Agents older than this field refuse such a snapshot, keeping what they have.
	Local bool `json:"-"`
	// Bans are the bans Studio places on every agent's guard, at most MaxBans: the
	// full set, so a ban absent from the next snapshot is lifted. Kind is "ip" (an
	// address), "cidr" (a prefix) or "dna" (a DNA ID of 1–MaxBanDNALen bytes of
	// printable ASCII); Until, when set, ends the ban. Strikes is not used here.
	// Agents older than this field ignore it.
	Bans []Ban `json:"bans,omitempty"`
}

// FieldError is a decoder's complaint about one field. Field is the field's path in the
// document ("events[3].time"), empty for the document as a whole.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// DecodeEvents reads and validates an event batch. It reads the batch exactly as
// json.Unmarshal would, accepting the same inputs and giving the same result, with a
// decoder of its own several times faster. The strings of one event share memory, and
// a string equal to the same field's in the event before is that string, so a string
// kept after the batch keeps its event's strings, a few hundred bytes, in memory.
func DecodeEvents(data []byte) (EventBatch, error) {
	var b EventBatch
	if err := decodeEventBatch(data, &b); err != nil {
		return EventBatch{}, err
	}
	if err := b.Validate(); err != nil {
		return EventBatch{}, err
	}
	return b, nil
}

// DecodeEventsRaw is DecodeEvents that also returns each event's JSON as it is in
// data: raws[i] is the bytes of the object that Events[i] was read from, sharing
// data's memory, so that a receiver can keep an event as it arrived, fields it does
// not know included, without encoding it again. raws is nil, and the receiver must
// encode the events itself, in the one case where no such bytes exist: a batch
// whose "events" key comes more than once (encoding/json, and so DecodeEvents, then
// reads the second array into the events of the first).
func DecodeEventsRaw(data []byte) (b EventBatch, raws [][]byte, err error) {
	d := decoder{data: data, keepRaws: true}
	if err := d.decodeEventBatch(&b); err != nil {
		return EventBatch{}, nil, err
	}
	if err := b.Validate(); err != nil {
		return EventBatch{}, nil, err
	}
	if d.eventArrays != 1 || len(d.raws) != len(b.Events) {
		return b, nil, nil
	}
	for _, r := range d.raws {
		if len(r) == 0 || r[0] != '{' {
			return b, nil, nil
		}
	}
	return b, d.raws, nil
}

// DecodeMetrics reads and validates a metric batch.
func DecodeMetrics(data []byte) (MetricBatch, error) {
	var b MetricBatch
	if err := unmarshal(data, &b); err != nil {
		return MetricBatch{}, err
	}
	if err := b.Validate(); err != nil {
		return MetricBatch{}, err
	}
	return b, nil
}

// DecodeStatus reads and validates a status.
func DecodeStatus(data []byte) (Status, error) {
	var s Status
	if err := unmarshal(data, &s); err != nil {
		return Status{}, err
	}
	if err := s.Validate(); err != nil {
		return Status{}, err
	}
	return s, nil
}

// DecodePolicy reads a policy snapshot. The policy document inside is parsed by
// policy.Parse, strictly: a policy field this build does not know is an error, because
// applying a policy without one of its rules would be applying another policy. A
// policy whose own version is 0 takes the snapshot's; any other mismatch is an error.
//
// The snapshot's bans are checked as validBans says: a known kind, a value that parses
// as that kind, at most MaxBans. A ban's Until is returned in UTC.
func DecodePolicy(data []byte) (PolicySnapshot, error) {
	var raw struct {
		Version *int64          `json:"version"`
		Policy  json.RawMessage `json:"policy"`
		Bans    []Ban           `json:"bans"`
	}
	if err := unmarshal(data, &raw); err != nil {
		return PolicySnapshot{}, err
	}
	if raw.Version == nil {
		return PolicySnapshot{}, fieldErr("version", "missing")
	}
	if *raw.Version < 1 {
		return PolicySnapshot{}, fieldErr("version", "%d is below 1", *raw.Version)
	}
	if t := bytes.TrimSpace(raw.Policy); len(t) == 0 || string(t) == "null" {
		if err := validBans(raw.Bans); err != nil {
			return PolicySnapshot{}, err
		}
		utcBans(raw.Bans)
		return PolicySnapshot{Version: *raw.Version, Local: true, Bans: raw.Bans}, nil
	} else if t[0] != '{' {
		return PolicySnapshot{}, fieldErr("policy", "must be an object")
	}
	p, err := policy.Parse(raw.Policy)
	if err != nil {
		return PolicySnapshot{}, fieldErr("policy", "%v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if p.Version != 0 && p.Version != *raw.Version {
		return PolicySnapshot{}, fieldErr("policy.version", "%d differs from the snapshot's version %d", p.Version, *raw.Version)
	}
	p.Version = *raw.Version
	if err := validBans(raw.Bans); err != nil {
		return PolicySnapshot{}, err
	}
	utcBans(raw.Bans)
	return PolicySnapshot{Version: p.Version, Policy: p, Bans: raw.Bans}, nil
}

func utcBans(bans []Ban) {
	for i := range bans {
		if u := &bans[i].Until; !u.IsZero() {
			*u = u.UTC()
		}
	}
}

// EncodeEvents validates b and returns its JSON form (AppendEventBatch).
func EncodeEvents(b EventBatch) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return AppendEventBatch(nil, &b), nil
}

// EncodeMetrics validates b and returns its JSON form.
func EncodeMetrics(b MetricBatch) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(b)
}

// EncodeStatus validates s and returns its JSON form.
func EncodeStatus(s Status) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// EncodePolicy returns the snapshot of p as version, without bans, on one line (as the
// stream needs it). It sets the policy's own version to version and validates it.
func EncodePolicy(version int64, p policy.Policy) ([]byte, error) {
	return EncodeSnapshot(PolicySnapshot{Version: version, Policy: p})
}

// EncodeSnapshot returns s on one line (as the stream needs it). It sets the policy's
// own version to s.Version and validates the policy and the bans as DecodePolicy does.
func EncodeSnapshot(s PolicySnapshot) ([]byte, error) {
	if s.Version < 1 {
		return nil, fieldErr("version", "%d is below 1", s.Version)
	}
	if s.Local {
		if err := validBans(s.Bans); err != nil {
			return nil, err
		}
		return json.Marshal(struct {
			Version int64 `json:"version"`
			Bans    []Ban `json:"bans,omitempty"`
		}{s.Version, s.Bans})
	}
	s.Policy.Version = s.Version
	if err := s.Policy.Validate(); err != nil {
		return nil, fieldErr("policy", "%v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := validBans(s.Bans); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// validBans checks a snapshot's bans: at most MaxBans; each with a kind this version
// knows ("ip", "cidr", "dna"; a kind it does not know is an error, as a policy field
// it does not know is) and a value of that kind: an address without a zone
// (netip.ParseAddr), a prefix (netip.ParsePrefix), or a DNA ID of 1–MaxBanDNALen
// bytes of printable ASCII without spaces. Reason is a string field like any other;
// Until, when set, is not before 2000; Strikes is not negative.
func validBans(bans []Ban) error {
	if len(bans) > MaxBans {
		return fieldErr("bans", "%d bans, more than %d", len(bans), MaxBans)
	}
	for i := range bans {
		// The field names are built only for the ban that fails.
		if bans[i].validSnapshot("") != nil {
			return bans[i].validSnapshot(fmt.Sprintf("bans[%d].", i))
		}
	}
	return nil
}

func (b *Ban) validSnapshot(prefix string) error {
	switch b.Kind {
	case "":
		return fieldErr(prefix+"kind", "missing")
	case "ip", "cidr", "dna":
	default:
		return fieldErr(prefix+"kind", "%.32q is not ip, cidr or dna", b.Kind)
	}
	if b.Value == "" {
		return fieldErr(prefix+"value", "missing")
	}
	switch b.Kind {
	case "ip":
		a, err := netip.ParseAddr(b.Value)
		if err != nil {
			return fieldErr(prefix+"value", "%.64q is not an IP address", b.Value)
		}
		if a.Zone() != "" {
			return fieldErr(prefix+"value", "%.64q has a zone", b.Value)
		}
	case "cidr":
		if _, err := netip.ParsePrefix(b.Value); err != nil {
			return fieldErr(prefix+"value", "%.64q is not a prefix", b.Value)
		}
	case "dna":
		if len(b.Value) > MaxBanDNALen {
			return fieldErr(prefix+"value", "longer than %d bytes", MaxBanDNALen)
		}
		for i := 0; i < len(b.Value); i++ {
			if c := b.Value[i]; c <= ' ' || c > '~' {
				return fieldErr(prefix+"value", "byte %d is not printable ASCII", i)
			}
		}
	}
	if err := validString(prefix+"reason", b.Reason); err != nil {
		return err
	}
	if err := validTime(prefix+"until", b.Until, false); err != nil {
		return err
	}
	if b.Strikes < 0 {
		return fieldErr(prefix+"strikes", "%d is negative", b.Strikes)
	}
	return nil
}

// unmarshal decodes one JSON object, and nothing after it, into v.
func unmarshal(data []byte, v any) error {
	if len(data) > MaxBodySize {
		return fieldErr("", "body is %d bytes, more than %d", len(data), MaxBodySize)
	}
	// json.Unmarshal refuses anything but white space after the value; a
	// json.Decoder would first copy data into a buffer of its own.
	if err := json.Unmarshal(data, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return fieldErr(ute.Field, "cannot use a JSON %s here", ute.Value)
		}
		return fieldErr("", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// Validate checks b against the schema and the limits and returns the first problem as
// a *FieldError.
func (b *EventBatch) Validate() error {
	if err := validateHeader(b.Version, b.BatchID, &b.Agent); err != nil {
		return err
	}
	if b.Events == nil {
		return fieldErr("events", "missing")
	}
	if len(b.Events) > MaxEvents {
		return fieldErr("events", "%d events, more than %d", len(b.Events), MaxEvents)
	}
	for i := range b.Events {
		// The field names are built only for the event that fails: for every event
		// they cost dozens of allocations.
		if b.Events[i].validate("") != nil {
			return b.Events[i].validate(fmt.Sprintf("events[%d].", i))
		}
	}
	return nil
}

// Validate checks b against the schema and the limits and returns the first problem as
// a *FieldError.
func (b *MetricBatch) Validate() error {
	if err := validateHeader(b.Version, b.BatchID, &b.Agent); err != nil {
		return err
	}
	if b.Intervals == nil {
		return fieldErr("intervals", "missing")
	}
	if len(b.Intervals) > MaxIntervals {
		return fieldErr("intervals", "%d intervals, more than %d", len(b.Intervals), MaxIntervals)
	}
	for i := range b.Intervals {
		if err := b.Intervals[i].validate(fmt.Sprintf("intervals[%d].", i)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks s against the schema and the limits and returns the first problem as
// a *FieldError.
func (s *Status) Validate() error {
	if s.Version != Version {
		return fieldErr("version", "%d is not %d", s.Version, Version)
	}
	if err := s.Agent.validate(); err != nil {
		return err
	}
	if err := validTime("time", s.Time, true); err != nil {
		return err
	}
	if err := validTime("last_success", s.LastSuccess, false); err != nil {
		return err
	}
	for _, c := range [...]struct {
		name string
		n    int64
	}{
		{"uptime_ms", s.UptimeMS}, {"policy_version", s.PolicyVersion}, {"queue_len", s.QueueLen},
		{"queue_cap", s.QueueCap}, {"spool_batches", s.SpoolBatches}, {"spool_bytes", s.SpoolBytes},
		{"spool_max_bytes", s.SpoolMaxBytes}, {"events_recorded", s.EventsRecorded},
		{"events_sent", s.EventsSent}, {"batches_failed", s.BatchesFailed},
	} {
		if c.n < 0 {
			return fieldErr(c.name, "%d is negative", c.n)
		}
	}
	if err := validCounters("dropped", s.Dropped); err != nil {
		return err
	}
	return validString("last_error", s.LastError)
}

func validateHeader(version int, batchID string, a *Agent) error {
	if version != Version {
		return fieldErr("version", "%d is not %d", version, Version)
	}
	if batchID == "" {
		return fieldErr("batch_id", "missing")
	}
	if len(batchID) > MaxBatchIDLen {
		return fieldErr("batch_id", "longer than %d bytes", MaxBatchIDLen)
	}
	for i := 0; i < len(batchID); i++ {
		if c := batchID[i]; c <= ' ' || c > '~' {
			return fieldErr("batch_id", "byte %d is not printable ASCII", i)
		}
	}
	return a.validate()
}

func (a *Agent) validate() error {
	if a.ID == "" {
		return fieldErr("agent.id", "missing")
	}
	if len(a.ID) > MaxAgentIDLen {
		return fieldErr("agent.id", "longer than %d bytes", MaxAgentIDLen)
	}
	for i := 0; i < len(a.ID); i++ {
		c := a.ID[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fieldErr("agent.id", "byte %d is not one of [A-Za-z0-9._-]", i)
		}
	}
	if err := validString("agent.instance", a.Instance); err != nil {
		return err
	}
	return validString("agent.version", a.Version)
}

func (e *Event) validate(prefix string) error {
	if err := validTime(prefix+"time", e.Time, true); err != nil {
		return err
	}
	if e.Kind == "" {
		return fieldErr(prefix+"kind", "missing")
	}
	if e.Score < 0 || e.Score > 100 {
		return fieldErr(prefix+"score", "%d is outside 0–100", e.Score)
	}
	if len(e.Signals) > MaxSignals {
		return fieldErr(prefix+"signals", "%d signals, more than %d", len(e.Signals), MaxSignals)
	}
	for i, s := range e.Signals {
		p := func() string { return fmt.Sprintf("%ssignals[%d].", prefix, i) } // only for an error
		if s.Code == "" {
			return fieldErr(p()+"code", "missing")
		}
		if s.Score < 0 || s.Score > 100 {
			return fieldErr(p()+"score", "%d is outside 0–100", s.Score)
		}
		for _, f := range [...]struct{ name, v string }{{"detector", s.Detector}, {"code", s.Code}, {"detail", s.Detail}} {
			if len(f.v) > MaxFieldLen {
				return validString(p()+f.name, f.v)
			}
		}
	}
	if e.Status < 0 || e.Status > 999 {
		return fieldErr(prefix+"status", "%d is outside 0–999", e.Status)
	}
	if e.Bytes < 0 {
		return fieldErr(prefix+"bytes", "%d is negative", e.Bytes)
	}
	if e.LatencyMS < 0 || math.IsNaN(e.LatencyMS) || math.IsInf(e.LatencyMS, 0) {
		return fieldErr(prefix+"latency_ms", "%v is not a duration", e.LatencyMS)
	}
	d, en := &e.DNA, &e.Enrichment
	for _, f := range [...]struct{ name, v string }{
		{"kind", e.Kind}, {"request_id", e.RequestID}, {"action", e.Action}, {"would_be", e.WouldBe},
		{"method", e.Method}, {"host", e.Host}, {"path", e.Path}, {"user_agent", e.UserAgent}, {"error", e.Error},
		{"dna.id", d.ID}, {"dna.family", d.Family}, {"dna.kind", d.Kind}, {"dna.source", d.Source},
		{"dna.protocol", d.Protocol}, {"dna.ja4", d.JA4}, {"dna.ja3", d.JA3}, {"dna.h2", d.H2},
		{"dna.hdna", d.HDNA}, {"dna.hdna_id", d.HDNAID},
		{"enrichment.country", en.Country}, {"enrichment.as_org", en.ASOrg}, {"enrichment.hosting", en.Hosting},
		{"enrichment.client", en.Client}, {"enrichment.client_kind", en.ClientKind},
		{"enrichment.bot_category", en.BotCategory},
	} {
		if err := validString(prefix+f.name, f.v); err != nil {
			return err
		}
	}
	if err := validString(prefix+"query", e.Query); err != nil {
		return err
	}
	if len(e.Headers) > MaxHeaders {
		return fieldErr(prefix+"headers", "%d lines, more than %d", len(e.Headers), MaxHeaders)
	}
	for i, h := range e.Headers {
		if h.Name == "" || len(h.Name) > MaxHeaderLen || len(h.Value) > MaxHeaderLen {
			return fieldErr(fmt.Sprintf("%sheaders[%d]", prefix, i), "name empty, or name or value longer than %d bytes", MaxHeaderLen)
		}
	}
	if m := en.Email; m != nil {
		p := prefix + "enrichment.email."
		if m.RiskScore < 0 || m.RiskScore > 100 {
			return fieldErr(p+"risk_score", "%d is outside 0–100", m.RiskScore)
		}
		for _, f := range [...]struct{ name, v string }{{"invalid", m.Invalid}, {"domain", m.Domain}, {"provider", m.Provider}} {
			if err := validString(p+f.name, f.v); err != nil {
				return err
			}
		}
		if err := validCodes(p+"reasons", m.Reasons); err != nil {
			return err
		}
	}
	if ph := en.Phone; ph != nil {
		p := prefix + "enrichment.phone."
		if ph.RiskScore < 0 || ph.RiskScore > 100 {
			return fieldErr(p+"risk_score", "%d is outside 0–100", ph.RiskScore)
		}
		for _, f := range [...]struct{ name, v string }{{"region", ph.Region}, {"type", ph.Type}} {
			if err := validString(p+f.name, f.v); err != nil {
				return err
			}
		}
		if err := validCodes(p+"reasons", ph.Reasons); err != nil {
			return err
		}
	}
	if b := e.Ban; b != nil {
		p := prefix + "ban."
		if b.Kind == "" {
			return fieldErr(p+"kind", "missing")
		}
		if b.Value == "" {
			return fieldErr(p+"value", "missing")
		}
		for _, f := range [...]struct{ name, v string }{{"kind", b.Kind}, {"value", b.Value}, {"reason", b.Reason}} {
			if err := validString(p+f.name, f.v); err != nil {
				return err
			}
		}
		if err := validTime(p+"until", b.Until, false); err != nil {
			return err
		}
		if b.Strikes < 0 {
			return fieldErr(p+"strikes", "%d is negative", b.Strikes)
		}
	}
	return nil
}

// Validate checks e as a reader would, so that the agent can leave out one bad event
// instead of having a whole batch refused.
func (e *Event) Validate() error { return e.validate("") }

func validString(field, s string) error {
	if len(s) > MaxFieldLen {
		return fieldErr(field, "longer than %d bytes", MaxFieldLen)
	}
	return nil
}

func validCodes(field string, codes []string) error {
	if len(codes) > MaxReasons {
		return fieldErr(field, "%d entries, more than %d", len(codes), MaxReasons)
	}
	for i, c := range codes {
		if err := validString(fmt.Sprintf("%s[%d]", field, i), c); err != nil {
			return err
		}
	}
	return nil
}

func validCounters(field string, m map[string]int64) error {
	if len(m) > MaxCounterKeys {
		return fieldErr(field, "%d keys, more than %d", len(m), MaxCounterKeys)
	}
	for k, n := range m {
		if k == "" || len(k) > 128 {
			return fieldErr(field, "key %.32q is empty or longer than 128 bytes", k)
		}
		if n < 0 {
			return fieldErr(fmt.Sprintf("%s[%q]", field, k), "%d is negative", n)
		}
	}
	return nil
}

// minTime is the earliest time the protocol accepts: nothing Vigil records is older.
var minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// validTime checks a time field: RFC 3339 (encoding/json already insisted on it), not
// before 2000. A required time must not be zero; an optional one may be.
func validTime(field string, t time.Time, required bool) error {
	if t.IsZero() {
		if required {
			return fieldErr(field, "missing")
		}
		return nil
	}
	if t.Before(minTime) {
		return fieldErr(field, "%s is before 2000", t.Format(time.RFC3339))
	}
	return nil
}
