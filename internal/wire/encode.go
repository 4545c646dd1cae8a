package wire

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendEventBatch appends the JSON form of b to dst and returns the result. It writes
// exactly the bytes json.Marshal writes for b (TestAppendEventBatchMatchesMarshal and
// FuzzAppendEventBatch hold it to that), four to five times faster and with no
// allocation beyond dst's growth: the agent encodes every event it sends. It does not
// validate b; EncodeEvents does.
func AppendEventBatch(dst []byte, b *EventBatch) []byte {
	dst = append(dst, `{"version":`...)
	dst = strconv.AppendInt(dst, int64(b.Version), 10)
	dst = append(dst, `,"batch_id":`...)
	dst = appendString(dst, b.BatchID)
	dst = append(dst, `,"agent":{"id":`...)
	dst = appendString(dst, b.Agent.ID)
	dst = optString(dst, `,"instance":`, b.Agent.Instance)
	dst = optString(dst, `,"version":`, b.Agent.Version)
	dst = append(dst, `},"events":`...)
	if b.Events == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range b.Events {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEvent(dst, &b.Events[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendEvent(dst []byte, e *Event) []byte {
	dst = append(dst, `{"time":`...)
	dst = appendTime(dst, e.Time)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, e.Kind)
	dst = optString(dst, `,"request_id":`, e.RequestID)
	dst = optString(dst, `,"action":`, e.Action)
	dst = optString(dst, `,"would_be":`, e.WouldBe)
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendInt(dst, int64(e.Score), 10)
	if len(e.Signals) > 0 {
		dst = append(dst, `,"signals":[`...)
		for i := range e.Signals {
			s := &e.Signals[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"detector":`...)
			dst = appendString(dst, s.Detector)
			dst = append(dst, `,"code":`...)
			dst = appendString(dst, s.Code)
			dst = append(dst, `,"score":`...)
			dst = strconv.AppendInt(dst, int64(s.Score), 10)
			dst = optString(dst, `,"detail":`, s.Detail)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if e.ClientIP.IsValid() { // the zero Addr is the only invalid one
		dst = append(dst, `,"client_ip":`...)
		if e.ClientIP.Zone() == "" {
			dst = append(dst, '"')
			dst = e.ClientIP.AppendTo(dst) // hex digits, '.' and ':' only
			dst = append(dst, '"')
		} else {
			dst = appendString(dst, e.ClientIP.String())
		}
	}
	if e.ViaTrustedProxy {
		dst = append(dst, `,"via_trusted_proxy":true`...)
	}
	if d := &e.DNA; *d != (DNA{}) {
		dst = append(dst, `,"dna":{`...)
		n := len(dst)
		dst = optString(dst, `,"id":`, d.ID)
		dst = optString(dst, `,"family":`, d.Family)
		dst = optString(dst, `,"kind":`, d.Kind)
		dst = optString(dst, `,"source":`, d.Source)
		dst = optString(dst, `,"protocol":`, d.Protocol)
		dst = optString(dst, `,"ja4":`, d.JA4)
		dst = optString(dst, `,"ja3":`, d.JA3)
		dst = optString(dst, `,"h2":`, d.H2)
		dst = optString(dst, `,"hdna":`, d.HDNA)
		dst = optString(dst, `,"hdna_id":`, d.HDNAID)
		dst = closeObject(dst, n)
	}
	if en := &e.Enrichment; !en.isZero() {
		dst = append(dst, `,"enrichment":{`...)
		n := len(dst)
		dst = optString(dst, `,"country":`, en.Country)
		if en.ASN != 0 {
			dst = append(dst, `,"asn":`...)
			dst = strconv.AppendUint(dst, uint64(en.ASN), 10)
		}
		dst = optString(dst, `,"as_org":`, en.ASOrg)
		dst = optString(dst, `,"hosting":`, en.Hosting)
		dst = optString(dst, `,"client":`, en.Client)
		dst = optString(dst, `,"client_kind":`, en.ClientKind)
		dst = optString(dst, `,"bot_category":`, en.BotCategory)
		if en.BotVerified {
			dst = append(dst, `,"bot_verified":true`...)
		}
		if m := en.Email; m != nil {
			dst = append(dst, `,"email":{"valid":`...)
			dst = strconv.AppendBool(dst, m.Valid)
			dst = optString(dst, `,"invalid":`, m.Invalid)
			dst = optString(dst, `,"domain":`, m.Domain)
			dst = optString(dst, `,"provider":`, m.Provider)
			dst = append(dst, `,"disposable":`...)
			dst = strconv.AppendBool(dst, m.Disposable)
			dst = append(dst, `,"free":`...)
			dst = strconv.AppendBool(dst, m.Free)
			dst = append(dst, `,"role":`...)
			dst = strconv.AppendBool(dst, m.Role)
			dst = append(dst, `,"risk_score":`...)
			dst = strconv.AppendInt(dst, int64(m.RiskScore), 10)
			dst = optStrings(dst, `,"reasons":`, m.Reasons)
			dst = append(dst, '}')
		}
		if p := en.Phone; p != nil {
			dst = append(dst, `,"phone":{"valid":`...)
			dst = strconv.AppendBool(dst, p.Valid)
			dst = optString(dst, `,"region":`, p.Region)
			dst = optString(dst, `,"type":`, p.Type)
			if p.CountryMismatch {
				dst = append(dst, `,"country_mismatch":true`...)
			}
			dst = append(dst, `,"risk_score":`...)
			dst = strconv.AppendInt(dst, int64(p.RiskScore), 10)
			dst = optStrings(dst, `,"reasons":`, p.Reasons)
			dst = append(dst, '}')
		}
		dst = closeObject(dst, n)
	}
	dst = optString(dst, `,"method":`, e.Method)
	dst = optString(dst, `,"host":`, e.Host)
	dst = optString(dst, `,"path":`, e.Path)
	dst = optString(dst, `,"user_agent":`, e.UserAgent)
	if e.Status != 0 {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(e.Status), 10)
	}
	if e.Bytes != 0 {
		dst = append(dst, `,"bytes":`...)
		dst = strconv.AppendInt(dst, e.Bytes, 10)
	}
	if e.LatencyMS != 0 {
		dst = append(dst, `,"latency_ms":`...)
		dst = appendFloat(dst, e.LatencyMS)
	}
	dst = optString(dst, `,"query":`, e.Query)
	if len(e.Headers) > 0 {
		dst = append(dst, `,"headers":[`...)
		for i, h := range e.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = appendString(dst, h.Name)
			dst = append(dst, `,"value":`...)
			dst = appendString(dst, h.Value)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if b := e.Ban; b != nil {
		dst = append(dst, `,"ban":{"kind":`...)
		dst = appendString(dst, b.Kind)
		dst = append(dst, `,"value":`...)
		dst = appendString(dst, b.Value)
		dst = optString(dst, `,"reason":`, b.Reason)
		if !b.Until.IsZero() {
			dst = append(dst, `,"until":`...)
			dst = appendTime(dst, b.Until)
		}
		if b.Strikes != 0 {
			dst = append(dst, `,"strikes":`...)
			dst = strconv.AppendInt(dst, int64(b.Strikes), 10)
		}
		dst = append(dst, '}')
	}
	dst = optString(dst, `,"error":`, e.Error)
	if e.FailedOpen {
		dst = append(dst, `,"failed_open":true`...)
	}
	return append(dst, '}')
}

// isZero is what json's omitzero sees in an Enrichment: every field zero.
func (en *Enrichment) isZero() bool {
	return en.Country == "" && en.ASN == 0 && en.ASOrg == "" && en.Hosting == "" && en.Client == "" &&
		en.ClientKind == "" && en.BotCategory == "" && !en.BotVerified && en.Email == nil && en.Phone == nil
}

// closeObject ends an object whose members were written with a leading comma from
// dst[n:]: the first member's comma goes.
func closeObject(dst []byte, n int) []byte {
	if len(dst) > n && dst[n] == ',' {
		copy(dst[n:], dst[n+1:])
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}')
}

// optString appends the member key (with its leading comma and colon) and s unless s
// is empty: an omitempty string.
func optString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(append(dst, key...), s)
}

func optStrings(dst []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return dst
	}
	dst = append(dst, key...)
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendTime writes t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendFloat writes f as encoding/json does (f is finite: Validate insists).
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendString writes s as a JSON string exactly as encoding/json does with HTML
// escaping (its default): '<', '>' and '&' as \u003c, \u003e and \u0026, U+2028 and
// U+2029 escaped, invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexd[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
