package guardagent

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
)

// DedupeKey returns the key under which Studio stores e once (§6): "uuid:" and the
// canonical idempotency_key when the event has one, which every current client sets
// and keeps across retries, requeues and Redis reloads. An event without one (no client
// of the reference omits it, but the field is optional on the wire) gets "sha256:" and
// the hex SHA-256 of its raw JSON, which a client resending the same event reproduces
// byte for byte.
//
// Keys are unique within a project, not across projects: a client chooses its own
// idempotency keys, so Studio must scope them to the API key's project.
//
// The batch_id is deliberately not part of the key: no client keeps it across
// requeues.
func (e *SecurityEvent) DedupeKey() string {
	if e.IdempotencyKey != "" {
		return "uuid:" + e.IdempotencyKey
	}
	h := sha256.Sum256(e.Raw)
	return "sha256:" + hex.EncodeToString(h[:])
}

// DedupeKey returns a key for m built from the fields the reference names for metric
// deduplication (§6): timestamp, metric_type, endpoint, tags and value. Metrics carry no
// idempotency key, so this is the only way to store a retried metric batch once. Two
// genuinely distinct samples with the same timestamp (to the microsecond Python sends),
// type, endpoint, tags and value get the same key; Studio may prefer to accept that a
// retried metric batch is counted twice instead.
//
// The key is "m:" and the hex SHA-256 of an unambiguous encoding of those fields: the
// timestamp as UTC seconds and nanoseconds, each string length-prefixed, tags sorted by name, the
// value's IEEE 754 bits.
func (m *SecurityMetric) DedupeKey() string {
	h := sha256.New()
	var n [8]byte
	putInt := func(v uint64) {
		binary.BigEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	putStr := func(s string) {
		putInt(uint64(len(s)))
		h.Write([]byte(s))
	}
	putInt(uint64(m.Timestamp.Unix()))
	putInt(uint64(m.Timestamp.Nanosecond()))
	putStr(m.MetricType)
	putStr(m.Endpoint)
	names := make([]string, 0, len(m.Tags))
	for k := range m.Tags {
		names = append(names, k)
	}
	slices.Sort(names)
	putInt(uint64(len(names)))
	for _, k := range names {
		putStr(k)
		putStr(m.Tags[k])
	}
	v := m.Value
	if v == 0 {
		v = 0 // -0 and +0 are the same sample
	}
	putInt(math.Float64bits(v))
	return "m:" + hex.EncodeToString(h.Sum(nil))
}
