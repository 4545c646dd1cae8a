package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seed adds the table's inputs and the document's examples of kind to f.
func seed(f *testing.F, cases []decodeCase, kind string) {
	for _, c := range cases {
		f.Add([]byte(c.input))
	}
	for _, ex := range docExamples(f) {
		if ex.kind == kind {
			f.Add([]byte(ex.body))
		}
	}
}

// Each decoder target checks that decoding never panics and that whatever a decoder
// accepts, the matching encoder writes back and the decoder reads to an equal value.

func FuzzDecodeEvents(f *testing.F) {
	seed(f, eventCases, "events")
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeEvents(data)
		if err != nil {
			return
		}
		enc, err := EncodeEvents(b)
		if err != nil {
			t.Fatalf("accepted batch does not encode: %v", err)
		}
		b2, err := DecodeEvents(enc)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(b, b2, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeEventsRaw holds DecodeEventsRaw to DecodeEvents (the same batch, or an
// error exactly when DecodeEvents gives one) and each raw event to its decoded event:
// it is valid JSON, an object, and json.Unmarshal reads it to that event.
func FuzzDecodeEventsRaw(f *testing.F) {
	seed(f, eventCases, "events")
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := DecodeEvents(data)
		b, raws, err := DecodeEventsRaw(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("DecodeEventsRaw error %v, DecodeEvents error %v", err, werr)
		}
		if err != nil {
			if raws != nil {
				t.Fatal("raws with an error")
			}
			return
		}
		if diff := cmp.Diff(want, b, cmpOpts...); diff != "" {
			t.Fatalf("batches differ (-DecodeEvents +DecodeEventsRaw):\n%s", diff)
		}
		if raws == nil {
			return
		}
		if len(raws) != len(b.Events) {
			t.Fatalf("%d raws for %d events", len(raws), len(b.Events))
		}
		for i, r := range raws {
			if !json.Valid(r) || r[0] != '{' {
				t.Fatalf("raw %d is not a JSON object: %q", i, r)
			}
			var e Event
			if err := json.Unmarshal(r, &e); err != nil {
				t.Fatalf("raw %d: %v", i, err)
			}
			if diff := cmp.Diff(b.Events[i], e, cmpOpts...); diff != "" {
				t.Fatalf("raw %d reads to another event (-decoded +raw):\n%s", i, diff)
			}
		}
	})
}

func FuzzDecodeMetrics(f *testing.F) {
	seed(f, metricCases, "metrics")
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeMetrics(data)
		if err != nil {
			return
		}
		enc, err := EncodeMetrics(b)
		if err != nil {
			t.Fatalf("accepted batch does not encode: %v", err)
		}
		b2, err := DecodeMetrics(enc)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(b, b2, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	seed(f, statusCases, "status")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStatus(data)
		if err != nil {
			return
		}
		enc, err := EncodeStatus(s)
		if err != nil {
			t.Fatalf("accepted status does not encode: %v", err)
		}
		s2, err := DecodeStatus(enc)
		if err != nil {
			t.Fatalf("re-encoded status does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(s, s2, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzDecodePolicy(f *testing.F) {
	seed(f, policyCases, "policy")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodePolicy(data)
		if err != nil {
			return
		}
		if s.Version < 1 || (s.Policy.Version != s.Version && !s.Local) || (s.Local && s.Policy.Version != 0) {
			t.Fatalf("accepted snapshot with version %d, policy version %d", s.Version, s.Policy.Version)
		}
		if len(s.Bans) > MaxBans {
			t.Fatalf("accepted %d bans", len(s.Bans))
		}
		for _, b := range s.Bans {
			// Differential: an address or prefix ban is one the standard library parses.
			var perr error
			switch b.Kind {
			case "ip":
				_, perr = netip.ParseAddr(b.Value)
			case "cidr":
				_, perr = netip.ParsePrefix(b.Value)
			case "dna":
				if b.Value == "" || len(b.Value) > MaxBanDNALen {
					perr = errors.New("dna length")
				}
			default:
				perr = errors.New("unknown kind")
			}
			if perr != nil {
				t.Fatalf("accepted ban %+v: %v", b, perr)
			}
		}
		enc, err := EncodeSnapshot(s)
		if err != nil {
			t.Fatalf("accepted snapshot does not encode: %v", err)
		}
		if bytes.ContainsAny(enc, "\r\n") {
			t.Fatalf("encoded snapshot is not one line: %q", enc)
		}
		s2, err := DecodePolicy(enc)
		if err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(s, s2, cmpOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzStreamReader(f *testing.F) {
	for _, ex := range docExamples(f) {
		if ex.kind == "stream" {
			f.Add([]byte(ex.body))
		}
	}
	f.Add([]byte(": ping\n\nevent: policy\r\nid: 1\r\ndata: {\"version\":1,\"policy\":{}}\r\n\r\n"))
	f.Add([]byte("event: policy\nid: 2\ndata: {\"version\":2,\ndata: \"policy\":{}}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewStreamReader(bytes.NewReader(data))
		for range 1000 {
			s, err := r.Next()
			var fe *FieldError
			switch {
			case err == nil:
				if s.Version < 1 || r.LastEventID() != strconv.FormatInt(s.Version, 10) {
					t.Fatalf("snapshot with version %d after id %q", s.Version, r.LastEventID())
				}
				continue
			case errors.As(err, &fe):
				continue
			}
			return // the stream ended
		}
		t.Fatal("more than 1000 events from a short input")
	})
}

func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"a":1}`), false)
	f.Add(Gzip([]byte(`{"a":1}`)), true)
	f.Add(Gzip(bytes.Repeat([]byte("a"), 5000)), true)
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		const limit = 4096
		r := httptest.NewRequest("POST", PathEvents, bytes.NewReader(body))
		if gz {
			r.Header.Set("Content-Encoding", "gzip")
		}
		got, err := ReadBody(r, limit)
		if err != nil {
			if got != nil {
				t.Fatal("body returned with an error")
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("%d bytes returned, limit %d", len(got), limit)
		}
		if !gz && !bytes.Equal(got, body) {
			t.Fatal("plain body changed")
		}
		if gz && len(body) > limit {
			t.Fatalf("accepted %d compressed bytes over the limit %d", len(body), limit)
		}
	})
}
