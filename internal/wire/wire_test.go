package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/emailcheck"
	"github.com/vigilhq/vigil/internal/phonecheck"
	"github.com/vigilhq/vigil/policy"
)

// cmpOpts compares wire values: addresses by value, empty and nil alike.
var cmpOpts = []cmp.Option{cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateEmpty()}

var t0 = time.Date(2026, 5, 1, 12, 34, 56, 123456789, time.UTC)

// fullEvent is a guard event with every field set, including the ones the wire form
// must leave out (the e-mail address, the phone number, the header order).
func fullEvent() vigil.Event {
	return vigil.Event{
		Kind: vigil.EventRequest,
		Time: t0.In(time.FixedZone("CEST", 2*3600)),
		Verdict: vigil.Verdict{
			RequestID:       "01JT3Q0ZJ8M6V4N2K9XG7H5B3C",
			ClientIP:        netip.MustParseAddr("203.0.113.7"),
			ViaTrustedProxy: true,
			Score:           94,
			Action:          vigil.ActionAllow,
			WouldBe:         vigil.ActionBlock,
			Signals: []vigil.Signal{
				{Detector: "attack", Code: "sqli", Score: 90, Detail: "query id"},
				{Detector: "signup", Code: "email_disposable", Score: 80, Detail: "mailinator.com is on the list"},
			},
			DNA: fingerprint.DNA{
				ID: "d1-abc", Family: "curl", Kind: "library", Source: "connection", Protocol: "h2",
				HeaderOrder: []string{"user-agent", "accept"}, HDNA: "hdna1:h2:l:m,p,s,a:user-agent,accept",
				HDNAID: "ho1-xyz", Presence: 3, Extra: 1,
				TLS: &fingerprint.TLS{JA4: "t13d_x_y", JA3: "ja3hash", JA3N: "ja3n", Exact: true},
				H2:  &fingerprint.H2{Akamai: "1:65536|15663105|0|m,a,s,p", Hash: "md5"},
			},
			Enrichment: vigil.Enrichment{
				Country: "NL", ASN: 14061, ASOrg: "DO", Hosting: "asn:14061", Client: "curl",
				ClientKind: "library", BotCategory: "automation", BotVerified: false,
				Email: &emailcheck.EmailReport{
					Input: "Jane.Doe+x@mailinator.com", Valid: true, Local: "Jane.Doe+x", Domain: "mailinator.com",
					Canonical: "jane.doe@mailinator.com", Provider: emailcheck.ProviderOther, Disposable: true,
					RiskScore: 80, Reasons: []emailcheck.Signal{{Code: "email_disposable", Score: 80, Detail: "jane.doe@mailinator.com"}},
				},
				Phone: &phonecheck.Report{
					Input: "+44 7911 123456", Valid: true, E164: "+447911123456", Region: "GB", Type: "mobile",
					IPCountry: "NL", CountryMismatch: true, RiskScore: 20,
					Reasons: []emailcheck.Signal{{Code: "phone_country_mismatch", Score: 20, Detail: "+447911123456"}},
				},
			},
		},
		Method: "POST", Host: "shop.example.com", Path: "/signup", UserAgent: "curl/8.7.1",
		Status: 201, Bytes: 17, Latency: 1500 * time.Microsecond,
	}
}

func TestFromEvent(t *testing.T) {
	want := Event{
		Time: t0, Kind: "request", RequestID: "01JT3Q0ZJ8M6V4N2K9XG7H5B3C", Action: "allow", WouldBe: "block",
		Score: 94,
		Signals: []Signal{
			{Detector: "attack", Code: "sqli", Score: 90, Detail: "query id"},
			{Detector: "signup", Code: "email_disposable", Score: 80, Detail: "mailinator.com is on the list"},
		},
		ClientIP: netip.MustParseAddr("203.0.113.7"), ViaTrustedProxy: true,
		DNA: DNA{ID: "d1-abc", Family: "curl", Kind: "library", Source: "connection", Protocol: "h2",
			JA4: "t13d_x_y", JA3: "ja3hash", H2: "1:65536|15663105|0|m,a,s,p",
			HDNA: "hdna1:h2:l:m,p,s,a:user-agent,accept", HDNAID: "ho1-xyz"},
		Enrichment: Enrichment{Country: "NL", ASN: 14061, ASOrg: "DO", Hosting: "asn:14061", Client: "curl",
			ClientKind: "library", BotCategory: "automation",
			Email: &Email{Valid: true, Domain: "mailinator.com", Provider: "other", Disposable: true, RiskScore: 80,
				Reasons: []string{"email_disposable"}},
			Phone: &Phone{Valid: true, Region: "GB", Type: "mobile", CountryMismatch: true, RiskScore: 20,
				Reasons: []string{"phone_country_mismatch"}},
		},
		Method: "POST", Host: "shop.example.com", Path: "/signup", UserAgent: "curl/8.7.1",
		Status: 201, Bytes: 17, LatencyMS: 1.5,
	}
	got := FromEvent(fullEvent())
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("FromEvent (-want +got):\n%s", diff)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("time zone %v, want UTC", got.Time.Location())
	}
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Jane", "jane.doe", "7911", "+44", "user-agent\",\"accept"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("wire event contains %q: %s", secret, data)
		}
	}
}

func TestFromEventBan(t *testing.T) {
	until := time.Date(2026, 5, 1, 13, 0, 0, 0, time.FixedZone("X", 3600))
	e := vigil.Event{Kind: vigil.EventBan, Time: t0, Ban: &vigil.Ban{Kind: vigil.BanIP, Value: "198.51.100.23", Reason: "honeypot", Until: until, Strikes: 2}}
	got := FromEvent(e).Ban
	want := &Ban{Kind: "ip", Value: "198.51.100.23", Reason: "honeypot", Until: until.UTC(), Strikes: 2}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("ban (-want +got):\n%s", diff)
	}
	e.Ban.Until = time.Time{}
	if b := FromEvent(e).Ban; !b.Until.IsZero() {
		t.Errorf("a ban without end has until %v", b.Until)
	}
	data, _ := json.Marshal(FromEvent(e))
	if bytes.Contains(data, []byte("until")) {
		t.Errorf("a ban without end is encoded with until: %s", data)
	}
}

func TestFromEventLimits(t *testing.T) {
	e := fullEvent()
	e.Path = "/" + strings.Repeat("é", MaxFieldLen) // 2 bytes a rune: the cut falls inside one
	e.Verdict.Signals = make([]vigil.Signal, MaxSignals+10)
	for i := range e.Verdict.Signals {
		e.Verdict.Signals[i] = vigil.Signal{Detector: "rule", Code: "rule:r", Score: 1}
	}
	w := FromEvent(e)
	if len(w.Path) > MaxFieldLen || len(w.Path) < MaxFieldLen-3 || !strings.HasSuffix(w.Path, "é") {
		t.Errorf("path cut to %d bytes ending %q, want at most %d ending in a whole rune", len(w.Path), w.Path[len(w.Path)-3:], MaxFieldLen)
	}
	if len(w.Signals) != MaxSignals {
		t.Errorf("%d signals, want %d", len(w.Signals), MaxSignals)
	}
	if err := w.Validate(); err != nil {
		t.Errorf("FromEvent's result does not validate: %v", err)
	}
}

func TestStrings(t *testing.T) {
	e := FromEvent(fullEvent())
	e.Error = "boom"
	var seen []string
	e.Strings(func(s string) string {
		seen = append(seen, s)
		return strings.Repeat("R", MaxFieldLen+1) // longer than allowed: must be cut
	})
	want := []string{"POST", "shop.example.com", "/signup", "curl/8.7.1", "boom", "query id",
		"mailinator.com is on the list", "hdna1:h2:l:m,p,s,a:user-agent,accept", "mailinator.com"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("visited (-want +got):\n%s", diff)
	}
	r := strings.Repeat("R", MaxFieldLen)
	for _, got := range []string{e.Method, e.Host, e.Path, e.UserAgent, e.Error, e.Signals[0].Detail, e.Signals[1].Detail, e.DNA.HDNA, e.Enrichment.Email.Domain} {
		if got != r {
			t.Errorf("a visited field is %d bytes, want the replacement cut to %d", len(got), MaxFieldLen)
		}
	}
	if e.RequestID != "01JT3Q0ZJ8M6V4N2K9XG7H5B3C" || e.DNA.ID != "d1-abc" || e.Signals[0].Code != "sqli" {
		t.Errorf("an identifier was changed: %+v", e)
	}
	// Empty fields are not visited.
	var empty Event
	empty.Strings(func(string) string { t.Error("visited an empty field"); return "x" })
}

func validBatch() EventBatch {
	return EventBatch{Version: 1, BatchID: BatchID("agent1", 7), Agent: Agent{ID: "agent1", Instance: "web-3", Version: "0.9.0"},
		Events: []Event{FromEvent(fullEvent())}}
}

func TestEventsRoundTrip(t *testing.T) {
	b := validBatch()
	data, err := EncodeEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvents(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got, cmpOpts...); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !bytes.Contains(data, []byte(`"time":"2026-05-01T12:34:56.123456789Z"`)) {
		t.Errorf("time not in RFC 3339 with nanoseconds: %s", data)
	}
}

func TestBatchIDs(t *testing.T) {
	if got := BatchID("a7Kq2mZ9", 41); got != "a7Kq2mZ9-41" {
		t.Errorf("BatchID = %q", got)
	}
	if a, b := SplitBatchID("x-1"); a != "x-1.0" || b != "x-1.1" {
		t.Errorf("SplitBatchID = %q, %q", a, b)
	}
}

// decodeCase is one decoder input; field is the FieldError.Field expected, or "-" for
// success. The table feeds TestDecode and the fuzz seeds.
type decodeCase struct {
	name  string
	input string
	field string
}

const okEvent = `{"time":"2026-05-01T12:34:56Z","kind":"request","score":1}`
const okAgent = `"agent":{"id":"a1"}`

var eventCases = []decodeCase{
	{"minimal", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[]}`, "-"},
	{"one_event", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[` + okEvent + `]}`, "-"},
	{"unknown_fields_ignored", `{"version":1,"future":{"x":1},"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"new_kind","score":1,"new":[1]}]}`, "-"},
	{"offset_time", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T14:34:56.5+02:00","kind":"request","score":0}]}`, "-"},
	{"version_2", `{"version":2,"batch_id":"a1-1",` + okAgent + `,"events":[]}`, "version"},
	{"version_missing", `{"batch_id":"a1-1",` + okAgent + `,"events":[]}`, "version"},
	{"batch_id_missing", `{"version":1,` + okAgent + `,"events":[]}`, "batch_id"},
	{"batch_id_space", `{"version":1,"batch_id":"a 1",` + okAgent + `,"events":[]}`, "batch_id"},
	{"batch_id_long", `{"version":1,"batch_id":"` + strings.Repeat("a", MaxBatchIDLen+1) + `",` + okAgent + `,"events":[]}`, "batch_id"},
	{"agent_missing", `{"version":1,"batch_id":"a1-1","events":[]}`, "agent.id"},
	{"agent_id_slash", `{"version":1,"batch_id":"a1-1","agent":{"id":"a/1"},"events":[]}`, "agent.id"},
	{"events_missing", `{"version":1,"batch_id":"a1-1",` + okAgent + `}`, "events"},
	{"events_null", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":null}`, "events"},
	{"too_many_events", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[` + strings.Repeat(okEvent+",", MaxEvents) + okEvent + `]}`, "events"},
	{"time_missing", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"kind":"request"}]}`, "events[0].time"},
	{"time_space_separator", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01 12:34:56+00:00","kind":"request"}]}`, ""},
	{"time_1999", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"1999-12-31T23:59:59Z","kind":"request"}]}`, "events[0].time"},
	{"time_number", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":1714567890,"kind":"request"}]}`, ""},
	{"kind_missing", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z"}]}`, "events[0].kind"},
	{"score_high", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","score":101}]}`, "events[0].score"},
	{"signal_code_missing", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","signals":[{"detector":"x"}]}]}`, "events[0].signals[0].code"},
	{"bad_ip", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","client_ip":"999.1.1.1"}]}`, ""},
	{"negative_latency", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","latency_ms":-1}]}`, "events[0].latency_ms"},
	{"long_path", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","path":"` + strings.Repeat("a", MaxFieldLen+1) + `"}]}`, "events[0].path"},
	{"ban_without_value", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"ban","ban":{"kind":"ip"}}]}`, "events[0].ban.value"},
	{"status_type", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[{"time":"2026-05-01T12:34:56Z","kind":"request","status":"200"}]}`, "events.status"},
	{"trailing_data", `{"version":1,"batch_id":"a1-1",` + okAgent + `,"events":[]} {}`, ""},
	{"not_json", `version=1`, ""},
	{"array", `[]`, ""},
}

var metricCases = []decodeCase{
	{"minimal", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[]}`, "-"},
	{"interval", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:34:00Z","end":"2026-05-01T12:35:00Z","requests":{"allow":3},"latency":{"bounds_ms":[1,10],"counts":[1,1,1],"sum_ms":30}}]}`, "-"},
	{"end_before_start", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:35:00Z","end":"2026-05-01T12:34:00Z"}]}`, "intervals[0].end"},
	{"too_long", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:35:00Z","end":"2026-05-03T12:34:00Z"}]}`, "intervals[0].end"},
	{"negative_counter", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:34:00Z","end":"2026-05-01T12:35:00Z","requests":{"allow":-3}}]}`, `intervals[0].requests["allow"]`},
	{"empty_key", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:34:00Z","end":"2026-05-01T12:35:00Z","status":{"":1}}]}`, "intervals[0].status"},
	{"counts_mismatch", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:34:00Z","end":"2026-05-01T12:35:00Z","latency":{"bounds_ms":[1,10],"counts":[1,1],"sum_ms":3}}]}`, "intervals[0].latency.counts"},
	{"bounds_unsorted", `{"version":1,"batch_id":"a1-2",` + okAgent + `,"intervals":[{"start":"2026-05-01T12:34:00Z","end":"2026-05-01T12:35:00Z","latency":{"bounds_ms":[10,1],"counts":[1,1,1],"sum_ms":3}}]}`, "intervals[0].latency.bounds_ms[1]"},
	{"batch_id_missing", `{"version":1,` + okAgent + `,"intervals":[]}`, "batch_id"},
	{"intervals_missing", `{"version":1,"batch_id":"a1-2",` + okAgent + `}`, "intervals"},
}

var statusCases = []decodeCase{
	{"minimal", `{"version":1,` + okAgent + `,"time":"2026-05-01T12:35:00Z"}`, "-"},
	{"full", `{"version":1,` + okAgent + `,"time":"2026-05-01T12:35:00Z","uptime_ms":5,"policy_version":3,"dropped":{"queue_full":2},"last_success":"2026-05-01T12:34:00Z","store_degraded":true}`, "-"},
	{"time_missing", `{"version":1,` + okAgent + `}`, "time"},
	{"negative_uptime", `{"version":1,` + okAgent + `,"time":"2026-05-01T12:35:00Z","uptime_ms":-5}`, "uptime_ms"},
	{"version_0", `{"version":0,` + okAgent + `,"time":"2026-05-01T12:35:00Z"}`, "version"},
	{"agent_missing", `{"version":1,"time":"2026-05-01T12:35:00Z"}`, "agent.id"},
}

var policyCases = []decodeCase{
	{"minimal", `{"version":3,"policy":{}}`, "-"},
	{"with_version", `{"version":3,"policy":{"version":3,"mode":"monitor"}}`, "-"},
	{"unknown_outer_field", `{"version":3,"emergency":false,"policy":{}}`, "-"},
	{"version_mismatch", `{"version":3,"policy":{"version":2}}`, "policy.version"},
	{"version_missing", `{"policy":{}}`, "version"},
	{"version_0", `{"version":0,"policy":{}}`, "version"},
	{"policy_missing_local", `{"version":3}`, "-"},
	{"policy_null_local", `{"version":3,"policy":null}`, "-"},
	{"local_with_bans", `{"version":3,"bans":[{"kind":"ip","value":"203.0.113.7"}]}`, "-"},
	{"local_bad_ban", `{"version":3,"bans":[{"kind":"ip","value":"nope"}]}`, "bans[0].value"},
	{"policy_string", `{"version":3,"policy":"x"}`, "policy"},
	{"policy_unknown_field", `{"version":3,"policy":{"treshold":3}}`, "policy"},
	{"policy_invalid", `{"version":3,"policy":{"block_threshold":300}}`, "policy"},
	{"bans", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"203.0.113.7"},{"kind":"ip","value":"2001:db8::1","reason":"scraper"},` +
		`{"kind":"cidr","value":"198.51.100.0/24","reason":"scraping","until":"2026-06-01T02:00:00+02:00"},{"kind":"dna","value":"d1-5f0c2a9e41b7d3c8"}]}`, "-"},
	{"bans_empty", `{"version":3,"policy":{},"bans":[]}`, "-"},
	{"bans_null", `{"version":3,"policy":{},"bans":null}`, "-"},
	{"ban_ip_mapped", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"::ffff:192.0.2.1"}]}`, "-"},
	{"ban_cidr_host_bits", `{"version":3,"policy":{},"bans":[{"kind":"cidr","value":"10.1.2.3/8"}]}`, "-"},
	{"ban_dna_longest", `{"version":3,"policy":{},"bans":[{"kind":"dna","value":"` + strings.Repeat("d", MaxBanDNALen) + `"}]}`, "-"},
	{"ban_unknown_field", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"192.0.2.1","scope":"eu"}]}`, "-"},
	{"bans_object", `{"version":3,"policy":{},"bans":{}}`, "bans"},
	{"ban_kind_missing", `{"version":3,"policy":{},"bans":[{"value":"192.0.2.1"}]}`, "bans[0].kind"},
	{"ban_kind_unknown", `{"version":3,"policy":{},"bans":[{"kind":"asn","value":"14061"}]}`, "bans[0].kind"},
	{"ban_kind_unknown_second", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"192.0.2.1"},{"kind":"asn","value":"14061"}]}`, "bans[1].kind"},
	{"ban_kind_upper", `{"version":3,"policy":{},"bans":[{"kind":"IP","value":"192.0.2.1"}]}`, "bans[0].kind"},
	{"ban_kind_number", `{"version":3,"policy":{},"bans":[{"kind":1,"value":"192.0.2.1"}]}`, "bans.kind"},
	{"ban_value_missing", `{"version":3,"policy":{},"bans":[{"kind":"dna"}]}`, "bans[0].value"},
	{"ban_ip_bad", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"999.1.1.1"}]}`, "bans[0].value"},
	{"ban_ip_space", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":" 192.0.2.1"}]}`, "bans[0].value"},
	{"ban_ip_prefix", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"10.0.0.0/8"}]}`, "bans[0].value"},
	{"ban_ip_zone", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"fe80::1%eth0"}]}`, "bans[0].value"},
	{"ban_cidr_address", `{"version":3,"policy":{},"bans":[{"kind":"cidr","value":"10.0.0.1"}]}`, "bans[0].value"},
	{"ban_cidr_bits", `{"version":3,"policy":{},"bans":[{"kind":"cidr","value":"10.0.0.0/33"}]}`, "bans[0].value"},
	{"ban_dna_long", `{"version":3,"policy":{},"bans":[{"kind":"dna","value":"` + strings.Repeat("d", MaxBanDNALen+1) + `"}]}`, "bans[0].value"},
	{"ban_dna_space", `{"version":3,"policy":{},"bans":[{"kind":"dna","value":"d1 x"}]}`, "bans[0].value"},
	{"ban_dna_utf8", `{"version":3,"policy":{},"bans":[{"kind":"dna","value":"d1-é"}]}`, "bans[0].value"},
	{"ban_reason_long", `{"version":3,"policy":{},"bans":[{"kind":"dna","value":"d1","reason":"` + strings.Repeat("r", MaxFieldLen+1) + `"}]}`, "bans[0].reason"},
	{"ban_until_1999", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"192.0.2.1"},{"kind":"ip","value":"192.0.2.2","until":"1999-12-31T23:59:59Z"}]}`, "bans[1].until"},
	{"ban_until_not_time", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"192.0.2.1","until":"tomorrow"}]}`, ""},
	{"ban_strikes_negative", `{"version":3,"policy":{},"bans":[{"kind":"ip","value":"192.0.2.1","strikes":-1}]}`, "bans[0].strikes"},
	{"bans_with_bad_policy", `{"version":3,"policy":{"block_threshold":300},"bans":[{"kind":"ip","value":"192.0.2.1"}]}`, "policy"},
}

func TestDecode(t *testing.T) {
	decoders := []struct {
		name   string
		cases  []decodeCase
		decode func([]byte) error
	}{
		{"events", eventCases, func(b []byte) error { _, err := DecodeEvents(b); return err }},
		{"metrics", metricCases, func(b []byte) error { _, err := DecodeMetrics(b); return err }},
		{"status", statusCases, func(b []byte) error { _, err := DecodeStatus(b); return err }},
		{"policy", policyCases, func(b []byte) error { _, err := DecodePolicy(b); return err }},
	}
	for _, d := range decoders {
		for _, c := range d.cases {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				err := d.decode([]byte(c.input))
				if c.field == "-" {
					if err != nil {
						t.Fatalf("error %v, want none", err)
					}
					return
				}
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v (%T), want a *FieldError", err, err)
				}
				if fe.Field != c.field {
					t.Errorf("error %q names field %q, want %q", err, fe.Field, c.field)
				}
			})
		}
	}
}

func TestDecodePolicyVersion(t *testing.T) {
	s, err := DecodePolicy([]byte(`{"version":3,"policy":{"mode":"monitor"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 3 || s.Policy.Version != 3 || s.Policy.Mode != policy.ModeMonitor {
		t.Errorf("got %+v", s)
	}
	data, err := EncodePolicy(4, s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("\n")) {
		t.Errorf("EncodePolicy wrote more than one line: %s", data)
	}
	s2, err := DecodePolicy(data)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Version != 4 || s2.Policy.Version != 4 || s2.Policy.Mode != policy.ModeMonitor {
		t.Errorf("re-encoded: %+v", s2)
	}
	if _, err := EncodePolicy(0, policy.Policy{}); err == nil {
		t.Error("EncodePolicy accepted version 0")
	}
	if _, err := EncodePolicy(1, policy.Policy{BlockThreshold: 500}); err == nil {
		t.Error("EncodePolicy accepted an invalid policy")
	}
}

// A snapshot's bans survive encoding and decoding; Until comes back in UTC.
func TestSnapshotBans(t *testing.T) {
	until := time.Date(2026, 6, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	in := PolicySnapshot{Version: 9, Policy: policy.Policy{Mode: policy.ModeMonitor}, Bans: []Ban{
		{Kind: "ip", Value: "203.0.113.7"},
		{Kind: "cidr", Value: "198.51.100.0/24", Reason: "scraping", Until: until},
		{Kind: "dna", Value: "d1-5f0c2a9e41b7d3c8", Reason: "credential stuffing"},
	}}
	data, err := EncodeSnapshot(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(data, "\r\n") {
		t.Errorf("EncodeSnapshot wrote more than one line: %s", data)
	}
	got, err := DecodePolicy(data)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Policy.Version = 9
	want.Bans = slices.Clone(in.Bans)
	want.Bans[1].Until = until.UTC()
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if loc := got.Bans[1].Until.Location(); loc != time.UTC {
		t.Errorf("until in %v, want UTC", loc)
	}
	// A snapshot without bans leaves the field out: an older reader sees what it
	// always saw.
	if data, _ := EncodePolicy(9, policy.Policy{}); bytes.Contains(data, []byte("bans")) {
		t.Errorf("EncodePolicy wrote bans: %s", data)
	}
	// The encoder refuses what the decoder would.
	for _, b := range []Ban{{Kind: "ip", Value: "10.0.0.0/8"}, {Kind: "asn", Value: "1"}, {Kind: "dna"}} {
		if _, err := EncodeSnapshot(PolicySnapshot{Version: 1, Bans: []Ban{b}}); err == nil {
			t.Errorf("EncodeSnapshot accepted ban %+v", b)
		}
	}
}

// At most MaxBans bans, the count checked after the body limit.
func TestSnapshotMaxBans(t *testing.T) {
	build := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"version":1,"policy":{},"bans":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"kind":"dna","value":"%x"}`, i)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	if len(build(MaxBans+1)) > MaxBodySize {
		t.Fatal("the test's snapshot no longer fits MaxBodySize")
	}
	s, err := DecodePolicy(build(MaxBans))
	if err != nil || len(s.Bans) != MaxBans {
		t.Fatalf("%d bans: %d decoded, %v", MaxBans, len(s.Bans), err)
	}
	var fe *FieldError
	if _, err := DecodePolicy(build(MaxBans + 1)); !errors.As(err, &fe) || fe.Field != "bans" {
		t.Errorf("%d bans: %v, want a FieldError for bans", MaxBans+1, err)
	}
}

func TestIntervalCount(t *testing.T) {
	var m Interval
	req := func(action, wouldBe vigil.Action, status int, latency time.Duration, codes ...string) *vigil.Event {
		e := &vigil.Event{Kind: vigil.EventRequest, Status: status, Latency: latency,
			Verdict: vigil.Verdict{Action: action, WouldBe: wouldBe}}
		for _, c := range codes {
			e.Verdict.Signals = append(e.Verdict.Signals, vigil.Signal{Code: c})
		}
		return e
	}
	m.Count(req(vigil.ActionAllow, vigil.ActionAllow, 200, 500*time.Microsecond, "library_client"))
	m.Count(req(vigil.ActionBlock, vigil.ActionBlock, 403, time.Millisecond, "sqli", "rule:x", "sqli"))
	m.Count(req(vigil.ActionAllow, vigil.ActionBlock, 200, 3*time.Millisecond, "sqli"))
	m.Count(req(vigil.ActionRateLimit, vigil.ActionRateLimit, 429, 20*time.Second, "rate_limited"))
	m.Count(req(vigil.ActionAllow, vigil.ActionAllow, 0, 0))
	m.Count(&vigil.Event{Kind: vigil.EventBan})
	m.Count(&vigil.Event{Kind: vigil.EventError, FailedOpen: true})
	m.Count(&vigil.Event{Kind: vigil.EventError})
	m.Count(&vigil.Event{Kind: "future"})
	want := Interval{
		Requests:      map[string]int64{"allow": 3, "block": 1, "ratelimit": 1},
		WouldBe:       map[string]int64{"allow": 2, "block": 2, "ratelimit": 1},
		BlockedByCode: map[string]int64{"sqli": 2, "rule:x": 1, "rate_limited": 1},
		Status:        map[string]int64{"2xx": 2, "4xx": 2},
		Bans:          1, Errors: 2, FailedOpen: 1,
		Latency: &Histogram{
			BoundsMS: LatencyBoundsMS,
			// 0.5 and 0 ms ≤ 1; 1 ms ≤ 1 (bounds are inclusive); 3 ms ≤ 5; 20 s above.
			Counts: []int64{3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			SumMS:  0.5 + 1 + 3 + 20000,
		},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("interval (-want +got):\n%s", diff)
	}
}

func TestIntervalCountBound(t *testing.T) {
	var m Interval
	for i := range 2 * MaxCounterKeys {
		m.Count(&vigil.Event{Kind: vigil.EventRequest, Verdict: vigil.Verdict{Action: vigil.Action("a" + strconv.Itoa(i)), WouldBe: vigil.ActionAllow}})
	}
	if len(m.Requests) != MaxCounterKeys || m.Requests["other"] == 0 {
		t.Errorf("%d keys, other = %d; want %d keys with the rest in other", len(m.Requests), m.Requests["other"], MaxCounterKeys)
	}
	m.Start, m.End = t0, t0.Add(time.Minute)
	if err := m.validate(""); err != nil {
		t.Errorf("a counted interval does not validate: %v", err)
	}
}

func TestReadBody(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1000)
	cases := []struct {
		name     string
		encoding string
		body     []byte
		limit    int64
		want     []byte
		err      error
	}{
		{"plain", "", []byte(`{}`), 10, []byte(`{}`), nil},
		{"identity", "identity", []byte(`{}`), 10, []byte(`{}`), nil},
		{"gzip", "gzip", Gzip([]byte(`{"a":1}`)), 100, []byte(`{"a":1}`), nil},
		{"gzip_upper", "GZIP", Gzip([]byte(`{}`)), 100, []byte(`{}`), nil},
		{"plain_too_large", "", big, 999, nil, ErrTooLarge},
		{"plain_at_limit", "", big, 1000, big, nil},
		{"bomb", "gzip", Gzip(big), 999, nil, ErrTooLarge},
		{"br", "br", []byte(`{}`), 100, nil, ErrEncoding},
		{"bad_gzip", "gzip", []byte(`{}`), 100, nil, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", PathEvents, bytes.NewReader(c.body))
			if c.encoding != "" {
				r.Header.Set("Content-Encoding", c.encoding)
			}
			got, err := ReadBody(r, c.limit)
			switch {
			case c.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case c.err == io.ErrUnexpectedEOF && err != nil:
				// any gzip error
			case c.err != nil && !errors.Is(err, c.err):
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if !bytes.Equal(got, c.want) {
				t.Errorf("body %q, want %q", got, c.want)
			}
		})
	}
}

func TestWriteProblem(t *testing.T) {
	w := httptest.NewRecorder()
	WriteProblem(w, 400, &FieldError{Field: "events[3].time", Msg: "missing"})
	if ct := w.Header().Get("Content-Type"); ct != ContentTypeProblem {
		t.Errorf("content type %q", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Problem{Title: "Bad Request", Status: 400, Detail: "missing", Field: "events[3].time"}, p); diff != "" {
		t.Errorf("problem (-want +got):\n%s", diff)
	}
	w = httptest.NewRecorder()
	WriteProblem(w, 500, errors.New("dial tcp 10.0.0.5:5432: secret internals"))
	if strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Errorf("internal error text shown: %s", w.Body)
	}
}

func TestStreamReader(t *testing.T) {
	stream := "retry: 1000\n\n: ping\n\n" +
		"event: other\ndata: x\n\n" +
		"event: policy\r\nid: 1\r\ndata: {\"version\":1,\"policy\":{}}\r\n\r\n" +
		"event: policy\nid: 9\ndata: {\"version\":2,\"policy\":{}}\n\n" + // id mismatch
		"event: policy\nid: 3\ndata: {\"version\":3,\ndata: \"policy\":{\"mode\":\"monitor\"}}\n\n" + // two data lines
		"event: policy\nid: 4\ndata: {\"version\":4"
	r := NewStreamReader(strings.NewReader(stream))
	s, err := r.Next()
	if err != nil || s.Version != 1 || r.LastEventID() != "1" {
		t.Fatalf("first: %+v, %v, id %q", s, err, r.LastEventID())
	}
	var fe *FieldError
	if _, err := r.Next(); !errors.As(err, &fe) || fe.Field != "id" {
		t.Fatalf("mismatched id: %v, want a FieldError for id", err)
	}
	s, err = r.Next()
	if err != nil || s.Version != 3 || s.Policy.Mode != policy.ModeMonitor {
		t.Fatalf("multi-line data: %+v, %v", s, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut stream: %v, want io.ErrUnexpectedEOF", err)
	}

	huge := "event: policy\nid: 1\ndata: " + strings.Repeat("x", MaxStreamEvent) + "\n\n"
	if _, err := NewStreamReader(strings.NewReader(huge)).Next(); err == nil || errors.As(err, &fe) {
		t.Errorf("oversized event: %v, want an error that ends the stream", err)
	}
	many := "event: policy\nid: 1\n" + strings.Repeat("data: "+strings.Repeat("x", 1000)+"\n", MaxStreamEvent/1000+1) + "\n"
	if _, err := NewStreamReader(strings.NewReader(many)).Next(); err == nil || errors.As(err, &fe) {
		t.Errorf("oversized event in many lines: %v, want an error that ends the stream", err)
	}
}

func TestWritePolicyEvent(t *testing.T) {
	data, err := EncodePolicy(5, policy.Policy{Mode: policy.ModeMonitor})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePolicyEvent(&b, 5, data); err != nil {
		t.Fatal(err)
	}
	s, err := NewStreamReader(&b).Next()
	if err != nil || s.Version != 5 || s.Policy.Mode != policy.ModeMonitor {
		t.Errorf("read back %+v, %v", s, err)
	}
}

// docExample is one example in docs/wire.md: a fenced block whose first line is
// "<!-- wire:KIND -->".
type docExample struct {
	kind, body string
}

var docBlock = regexp.MustCompile("(?s)```(?:json|text)\n<!-- wire:([a-z-]+) -->\n(.*?)```")

func docExamples(tb testing.TB) []docExample {
	tb.Helper()
	doc, err := os.ReadFile("../../docs/wire.md")
	if err != nil {
		tb.Fatal(err)
	}
	var out []docExample
	for _, m := range docBlock.FindAllStringSubmatch(string(doc), -1) {
		out = append(out, docExample{m[1], m[2]})
	}
	if n := strings.Count(string(doc), "```json") + strings.Count(string(doc), "```text"); n != len(out) {
		tb.Fatalf("docs/wire.md has %d json/text blocks, %d with a wire: marker: mark every example", n, len(out))
	}
	return out
}

// strict decodes data into v, refusing unknown fields, so that a misspelt field in an
// example of an answer fails.
func strict(data string, v any) error {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestDocExamples decodes every example in docs/wire.md with the decoder for its kind
// and checks that it says what the document claims.
func TestDocExamples(t *testing.T) {
	kinds := map[string]int{}
	for _, ex := range docExamples(t) {
		kinds[ex.kind]++
		var err error
		switch ex.kind {
		case "events":
			var b EventBatch
			if b, err = DecodeEvents([]byte(ex.body)); err == nil {
				// The example shows each kind, and nothing the decoder dropped.
				re, _ := json.Marshal(b)
				if !jsonEqual(t, ex.body, string(re)) {
					t.Errorf("events example has fields the types do not know:\n%s\nre-encoded:\n%s", ex.body, re)
				}
			}
		case "metrics":
			var b MetricBatch
			if b, err = DecodeMetrics([]byte(ex.body)); err == nil {
				h := b.Intervals[0].Latency
				var n int64
				for _, c := range h.Counts {
					n += c
				}
				var reqs int64
				for _, c := range b.Intervals[0].Requests {
					reqs += c
				}
				if n != reqs {
					t.Errorf("metrics example: histogram counts %d requests, requests %d", n, reqs)
				}
				re, _ := json.Marshal(b)
				if !jsonEqual(t, ex.body, string(re)) {
					t.Errorf("metrics example has fields the types do not know")
				}
			}
		case "status":
			var s Status
			if s, err = DecodeStatus([]byte(ex.body)); err == nil {
				re, _ := json.Marshal(s)
				if !jsonEqual(t, ex.body, string(re)) {
					t.Errorf("status example has fields the types do not know")
				}
			}
		case "policy":
			_, err = DecodePolicy([]byte(ex.body))
		case "ack":
			err = strict(ex.body, new(Ack))
		case "status-reply":
			err = strict(ex.body, new(StatusReply))
		case "problem":
			err = strict(ex.body, new(Problem))
		case "stream":
			r := NewStreamReader(strings.NewReader(ex.body))
			var versions []int64
			for {
				s, serr := r.Next()
				if serr == io.EOF {
					break
				}
				if serr != nil {
					err = serr
					break
				}
				versions = append(versions, s.Version)
			}
			if err == nil && !cmp.Equal(versions, []int64{7, 8}) {
				t.Errorf("stream example gives versions %v, want [7 8]", versions)
			}
		default:
			t.Errorf("unknown example kind %q", ex.kind)
		}
		if err != nil {
			t.Errorf("%s example: %v\n%s", ex.kind, err, ex.body)
		}
	}
	for _, k := range []string{"events", "metrics", "status", "policy", "ack", "status-reply", "problem", "stream"} {
		if kinds[k] == 0 {
			t.Errorf("docs/wire.md has no %s example", k)
		}
	}
}

// jsonEqual reports whether two JSON documents are the same value, ignoring layout and
// treating times as instants.
func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y, cmpopts.EquateEmpty())
}

// A snapshot without a policy is Local: it round-trips without one, keeps its bans,
// and never decodes as a zero policy to apply.
func TestSnapshotLocal(t *testing.T) {
	in := PolicySnapshot{Version: 5, Local: true, Bans: []Ban{{Kind: "ip", Value: "203.0.113.7", Reason: "studio"}}}
	data, err := EncodeSnapshot(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`"policy"`)) {
		t.Errorf("a local snapshot carries a policy: %s", data)
	}
	out, err := DecodePolicy(data)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Local || out.Version != 5 || len(out.Bans) != 1 || out.Bans[0].Value != "203.0.113.7" {
		t.Errorf("decoded %+v", out)
	}
	withPolicy, err := DecodePolicy([]byte(`{"version":5,"policy":{}}`))
	if err != nil || withPolicy.Local {
		t.Errorf("a snapshot with a policy decoded as local: %+v %v", withPolicy, err)
	}
}
