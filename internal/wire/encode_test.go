package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// randomEvent fills every field of an event, each present or absent at random, with
// strings that exercise JSON escaping.
func randomEvent(r *rand.Rand) Event {
	str := func() string {
		pool := []string{"", "curl/8.7.1", "/products", `a"b\c`, "<script>&amp;</script>", "tab\there\nnl\r\b\f\x01\x1f",
			"привет", "\u2028\u2029", "bad\xffutf8\xc3", "[REDACTED:JWT:12_chars]", "sqli in body:json:password (value withheld, 33 bytes)"}
		if r.IntN(3) == 0 {
			return ""
		}
		return pool[r.IntN(len(pool))]
	}
	e := Event{Time: time.Unix(1_700_000_000+r.Int64N(1e8), r.Int64N(1e9)).UTC(), Kind: "request", RequestID: str(),
		Action: str(), WouldBe: str(), Score: r.IntN(101), Method: str(), Host: str(), Path: str(), UserAgent: str(),
		Status: r.IntN(2) * 200, Bytes: r.Int64N(3) * 1000, Query: str(), Error: str(), FailedOpen: r.IntN(2) == 0,
		ViaTrustedProxy: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		e.Time = e.Time.In(time.FixedZone("x", 3600))
	}
	switch r.IntN(5) {
	case 0:
		e.LatencyMS = r.Float64() * 10
	case 1:
		e.LatencyMS = 1e-7 * r.Float64()
	case 2:
		e.LatencyMS = 1e22
	}
	switch r.IntN(4) {
	case 0:
		e.ClientIP = netip.MustParseAddr("203.0.113.7")
	case 1:
		e.ClientIP = netip.MustParseAddr("2001:db8::1")
	case 2:
		e.ClientIP = netip.MustParseAddr("fe80::1%eth\"0")
	}
	for range r.IntN(3) {
		e.Signals = append(e.Signals, Signal{Detector: str(), Code: "sqli", Score: r.IntN(101), Detail: str()})
	}
	if r.IntN(2) == 0 {
		e.DNA = DNA{ID: str(), Family: str(), Kind: str(), Source: str(), Protocol: str(), JA4: str(), JA3: str(), H2: str(), HDNA: str(), HDNAID: str()}
	}
	if r.IntN(2) == 0 {
		e.Enrichment = Enrichment{Country: str(), ASN: uint32(r.IntN(2) * 14061), ASOrg: str(), Hosting: str(), Client: str(),
			ClientKind: str(), BotCategory: str(), BotVerified: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			e.Enrichment.Email = &Email{Valid: r.IntN(2) == 0, Invalid: str(), Domain: str(), Provider: str(), Disposable: true, RiskScore: 40}
			if r.IntN(2) == 0 {
				e.Enrichment.Email.Reasons = []string{"disposable", str()}
			}
		}
		if r.IntN(2) == 0 {
			e.Enrichment.Phone = &Phone{Valid: true, Region: str(), Type: str(), CountryMismatch: r.IntN(2) == 0, RiskScore: 10, Reasons: []string{str()}}
		}
	}
	for range r.IntN(3) {
		e.Headers = append(e.Headers, Header{Name: str(), Value: str()})
	}
	if r.IntN(3) == 0 {
		e.Ban = &Ban{Kind: "ip", Value: "203.0.113.7", Reason: str(), Strikes: r.IntN(3)}
		if r.IntN(2) == 0 {
			e.Ban.Until = e.Time.Add(time.Hour)
		}
	}
	return e
}

func TestAppendEventBatchMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := EventBatch{Version: Version, BatchID: "a-1", Agent: Agent{ID: "a", Instance: []string{"", "web-1"}[i%2], Version: "v1"}}
		if i%7 != 0 {
			for range r.IntN(4) {
				b.Events = append(b.Events, randomEvent(r))
			}
			if b.Events == nil {
				b.Events = []Event{}
			}
		}
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendEventBatch(nil, &b); !bytes.Equal(got, want) {
			t.Fatalf("batch %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendEventBatch(f *testing.F) {
	f.Add("curl/8.7.1", "/p", `a"<b>&`, 0.412, int64(1700000000))
	f.Add("\xff\u2028", "\x00", "", 1e-9, int64(-1))
	f.Add("", "", "", math.MaxFloat64, int64(253402300799))
	f.Fuzz(func(t *testing.T, ua, path, detail string, latency float64, sec int64) {
		if math.IsNaN(latency) || math.IsInf(latency, 0) {
			return
		}
		tm := time.Unix(sec, 0).UTC()
		if tm.Year() < 0 || tm.Year() > 9999 {
			return // time.Time's MarshalJSON refuses these; Validate does too
		}
		b := EventBatch{Version: 1, BatchID: path, Agent: Agent{ID: ua}, Events: []Event{{
			Time: tm, Kind: ua, UserAgent: ua, Path: path, LatencyMS: latency,
			Signals: []Signal{{Detector: "attack", Code: detail, Detail: detail}},
			Headers: []Header{{Name: path, Value: detail}},
			DNA:     DNA{HDNA: detail},
		}}}
		want, err := json.Marshal(b)
		if err != nil {
			t.Skip(err)
		}
		if got := AppendEventBatch(nil, &b); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkEncodeEvents(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	batch := EventBatch{Version: 1, BatchID: "a-1", Agent: Agent{ID: "a"}}
	for range 500 {
		batch.Events = append(batch.Events, randomEvent(r))
	}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(batch)
		}
	})
	b.Run("AppendEventBatch", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendEventBatch(buf[:0], &batch)
		}
	})
}
