package wire

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// decodeEventsJSON is DecodeEvents as it was before decodeEventBatch: encoding/json
// (through unmarshal), then Validate. It is the reference the hand-written decoder is
// held to.
func decodeEventsJSON(data []byte) (EventBatch, error) {
	var b EventBatch
	if err := unmarshal(data, &b); err != nil {
		return EventBatch{}, err
	}
	if err := b.Validate(); err != nil {
		return EventBatch{}, err
	}
	return b, nil
}

// checkAgainstJSON decodes data with decodeEventBatch and with json.Unmarshal (through
// unmarshal) and fails t unless both fail, with *FieldErrors naming the same field, or
// both succeed with deep-equal batches; then it does the same for DecodeEvents and
// decodeEventsJSON. It returns the reference's error.
func checkAgainstJSON(t *testing.T, data []byte) error {
	t.Helper()
	var want, got EventBatch
	werr := unmarshal(data, &want)
	gerr := decodeEventBatch(data, &got)
	sameErrors(t, "decodeEventBatch", data, werr, gerr)
	if werr == nil && gerr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("decodeEventBatch(%.300q) differs from json.Unmarshal (-json +hand):\n%s", data, cmp.Diff(want, got, cmpOpts...))
	}
	want, werr2 := decodeEventsJSON(data)
	got, gerr = DecodeEvents(data)
	sameErrors(t, "DecodeEvents", data, werr2, gerr)
	if werr2 == nil && gerr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("DecodeEvents(%.300q) differs from the json decoder (-json +hand):\n%s", data, cmp.Diff(want, got, cmpOpts...))
	}
	return werr
}

func sameErrors(t *testing.T, name string, data []byte, want, got error) {
	t.Helper()
	if (want == nil) != (got == nil) {
		t.Fatalf("%s(%.300q): error %v, json's %v", name, data, got, want)
	}
	if want == nil {
		return
	}
	var wfe, gfe *FieldError
	if !errors.As(want, &wfe) || !errors.As(got, &gfe) {
		t.Fatalf("%s(%.300q): errors %T %v and json's %T %v, want *FieldErrors", name, data, got, got, want, want)
	}
	if wfe.Field != gfe.Field {
		t.Fatalf("%s(%.300q): error %q names field %q, json's %q names %q", name, data, got, gfe.Field, want, wfe.Field)
	}
}

// ev is a batch with one event of the given members.
func ev(members string) string {
	return `{"version":1,"batch_id":"a-1","agent":{"id":"a"},"events":[{` + members + `}]}`
}

const okTime = `"time":"2026-05-01T12:34:56Z",`

// decoderCase is an input on which encoding/json does something easy to get wrong.
// field is what json.Unmarshal does with it: "-" for success, else the Field of
// the *FieldError unmarshal returns ("" for a syntax error or the whole document).
type decoderCase struct {
	name  string
	input string
	field string
}

// decoderCases feed TestDecodeEventBatchMatchesJSON and FuzzDecodeEventsDifferential.
var decoderCases = []decoderCase{
	{"plain", ev(okTime + `"kind":"request","score":1`), "-"},
	{"white_space", " \t\r\n{ \"version\" :\t1 ,\n\"batch_id\" : \"a-1\" , \"agent\" : { \"id\" : \"a\" } , \"events\" : [ { \"kind\" : \"x\" } , { } ] } \r\n", "-"},
	{"empty_object", `{}`, "-"},
	{"top_null", `null`, "-"},
	{"top_null_space", " null\n", "-"},

	// Names: exact, then case-insensitive as bytes.EqualFold.
	{"upper_case_keys", `{"VERSION":1,"Batch_Id":"a-1","AGENT":{"Id":"a","INSTANCE":"i"},"Events":[{"TIME":"2026-05-01T12:34:56Z","KIND":"request","Score":1,"DNA":{"HDNA_ID":"x","Ja4":"y"},"Enrichment":{"ASN":5,"EMAIL":{"Risk_Score":3,"REASONS":["a"]}},"BAN":{"Until":"2026-05-01T12:34:56Z"}}]}`, "-"},
	{"kelvin_sign_escaped", ev(okTime + `"\u212aind":"request","\u017fcore":3`), "-"},
	{"kelvin_sign_raw", ev(okTime + "\"\u212aind\":\"request\",\"\u017fcore\":3,\"ja\u212a\":1"), "-"},
	{"dotless_i_is_not_i", ev(okTime + "\"k\u0131nd\":\"request\""), "-"},
	{"escaped_key", ev(`"\u0074ime":"2026-05-01T12:34:56Z","\u006bind":"x"`), "-"},
	{"fold_then_exact", ev(okTime + `"KIND":"a","kind":"b"`), "-"},
	{"exact_then_fold", ev(okTime + `"kind":"a","KIND":"b"`), "-"},
	{"key_with_invalid_utf8", ev(okTime + "\"ki\xffnd\":\"a\",\"kind\xff\":\"b\""), "-"},
	{"key_prefix", ev(okTime + `"kin":"a","kinds":"b","":"c"`), "-"},
	{"long_unknown_key", ev(okTime + `"` + strings.Repeat("K", 100) + `":1`), "-"},

	// Duplicates: the last wins, decoding into what is there.
	{"duplicate_scalar", `{"version":2,"version":1,"batch_id":"a","batch_id":"b"}`, "-"},
	{"duplicate_struct_merges", ev(`"dna":{"id":"a","kind":"x"},"dna":{"id":"b"},"agent":{"id":"z"}`), "-"},
	{"duplicate_agent_merges", `{"agent":{"id":"a","instance":"i"},"agent":{"version":"v"}}`, "-"},
	{"duplicate_pointer_merges", ev(`"ban":{"kind":"ip","reason":"r"},"ban":{"value":"v"},"enrichment":{"email":{"valid":true}},"enrichment":{"email":{"domain":"d"},"phone":{"type":"t"}}`), "-"},
	{"duplicate_slice_decodes_into_old", ev(`"signals":[{"code":"a","detail":"d"},{"code":"b"}],"signals":[{"code":"c"}]`), "-"},
	{"stale_elements_come_back", ev(`"signals":[{"code":"a"},{"code":"b","detail":"x"},{"code":"q"}],"signals":[{"code":"c"}],"signals":[{},{},null,{}]`), "-"},
	{"stale_strings_come_back", ev(`"enrichment":{"email":{"reasons":["a","b"]}},"enrichment":{"email":{"reasons":["c"]}},"enrichment":{"email":{"reasons":[null,null,null]}}`), "-"},
	{"stale_headers", ev(`"headers":[{"name":"a","value":"1"},{"name":"b"}],"headers":[{"value":"2"}],"headers":[{},{}]`), "-"},
	{"empty_array_resets", ev(`"signals":[{"code":"a"}],"signals":[],"signals":[{}]`), "-"},
	{"duplicate_events", `{"events":[{"kind":"a","score":1},{"kind":"b"}],"events":[{"score":2}],"events":[{},{},{}]}`, "-"},
	{"events_reset", `{"events":[{"kind":"a"}],"events":[],"events":[{"score":2}]}`, "-"},

	// Strings equal to the event before's are shared, which must not reorder
	// assignments to a field set twice.
	{"repeat_after_other", `{"events":[{"kind":"a","path":"p"},{"kind":"b","kind":"a","path":"q","PATH":"p"}]}`, "-"},
	{"repeat_in_struct", `{"events":[{"dna":{"id":"a"}},{"dna":{"id":"b","ID":"a"}},{"dna":{"id":"c"},"dna":{"id":"a"}}]}`, "-"},
	{"repeat_in_slice", `{"events":[{"signals":[{"code":"a"}]},{"signals":[{"code":"b"}],"signals":[{"code":"a"}]},{"signals":[{"code":"a","code":"a"}]}]}`, "-"},
	{"repeat_in_pointer", `{"events":[{"ban":{"kind":"a"},"enrichment":{"email":{"domain":"d","reasons":["r"]}}},{"ban":{"kind":"b"},"ban":{"kind":"a"},"enrichment":{"email":{"domain":"e","reasons":["s"]},"email":{"domain":"d","reasons":["r"]}}}]}`, "-"},
	{"repeat_empty", `{"events":[{"kind":""},{"kind":"b","kind":""},{"kind":"","kind":"c"}]}`, "-"},
	{"repeat_events", `{"events":[{"kind":"a"},{"kind":"b"}],"events":[{"kind":"b"},{"kind":"a"}]}`, "-"},

	// Nulls.
	{"nulls", ev(`"time":null,"kind":null,"request_id":null,"action":null,"would_be":null,"score":null,"signals":null,"client_ip":null,"via_trusted_proxy":null,"dna":null,"enrichment":null,"method":null,"host":null,"path":null,"user_agent":null,"status":null,"bytes":null,"latency_ms":null,"query":null,"headers":null,"ban":null,"error":null,"failed_open":null`), "-"},
	{"nulls_inside", ev(`"signals":[null,{"detector":null,"code":null,"score":null,"detail":null}],"headers":[null,{"name":null,"value":null}],"dna":{"id":null,"hdna":null},"enrichment":{"country":null,"asn":null,"bot_verified":null,"email":{"valid":null,"reasons":null},"phone":null},"ban":{"until":null,"strikes":null}`), "-"},
	{"null_keeps_value", ev(`"kind":"x","kind":null,"score":5,"score":null,"time":"2026-05-01T12:34:56Z","time":null,"client_ip":"::1","client_ip":null,"dna":{"id":"a"},"dna":null,"via_trusted_proxy":true,"via_trusted_proxy":null`), "-"},
	{"null_clears_slices_and_pointers", ev(`"signals":[{}],"signals":null,"ban":{},"ban":null,"headers":[{}],"headers":null,"enrichment":{"email":{},"phone":{},"email":null}`), "-"},
	{"null_batch_fields", `{"version":null,"batch_id":null,"agent":null,"events":null}`, "-"},
	{"empty_members", ev(`"dna":{},"enrichment":{},"ban":{},"signals":[],"headers":[],"enrichment":{"email":{"reasons":[]}}`), "-"},

	// Strings.
	{"escapes", ev(okTime + `"path":"\u0041\/\b\f\n\r\t\"\\\u00e9\u20ac\ud83d\ude00 \u2028","kind":"\u0000"`), "-"},
	{"lone_surrogates", ev(`"kind":"\ud800","path":"\udc00x","host":"\ud800\u0041","method":"\ud800\ud800\udc00","query":"\udbff\udfff\ud800","error":"\uDFFF\uD800\\u0041"`), "-"},
	{"surrogate_then_bad_hex", ev(`"kind":"\ud800\uzzzz"`), ""},
	{"invalid_utf8", ev("\"kind\":\"\xff\",\"path\":\"a\xed\xa0\x80b\",\"host\":\"\xc3\",\"method\":\"\xe2\x82\",\"query\":\"\xf4\x90\x80\x80\",\"error\":\"\xc0\xaf\\n\xff\""), "-"},
	{"valid_utf8", ev("\"kind\":\"\u00e9\u20ac\U0001F600\uFFFD\",\"path\":\"" + strings.Repeat("\u00e9", 20) + "\""), "-"},
	{"invalid_utf8_long", ev("\"user_agent\":\"" + strings.Repeat("abcdefg\xff", 10) + "\""), "-"},
	{"del_is_plain", ev("\"kind\":\"a\x7fb\""), "-"},
	{"control_in_string", ev("\"kind\":\"a\x01b\""), ""},
	{"newline_in_string", ev("\"kind\":\"a\nb\""), ""},
	{"control_in_unknown_string", ev("\"x\":\"a\x1fb\""), ""},
	{"bad_escape", ev(`"kind":"\q"`), ""},
	{"bad_escape_in_unknown", ev(`"x":"\x41"`), ""},
	{"single_quote_escape", ev(`"kind":"\'"`), ""},
	{"short_unicode_escape", ev(`"kind":"\u12"`), ""},
	{"short_unicode_escape_unknown", ev(`"x":"\u12g4"`), ""},
	{"unterminated_string", `{"batch_id":"abc`, ""},
	{"unterminated_escape", `{"batch_id":"abc\`, ""},
	{"unterminated_unicode", `{"batch_id":"abc\u00`, ""},

	// Numbers.
	{"int_float", `{"version":1.0}`, "version"},
	{"int_exponent", `{"version":1e0}`, "version"},
	{"int_negative_zero", `{"version":-0}`, "-"},
	{"int_overflow", `{"version":99999999999999999999}`, "version"},
	{"int_max", ev(`"score":9223372036854775807,"status":-9223372036854775808,"bytes":-9223372036854775808`), "-"},
	{"int_over_max", ev(`"score":9223372036854775808`), "events.score"},
	{"int_under_min", ev(`"bytes":-9223372036854775809`), "events.bytes"},
	{"int_19_digits", ev(`"bytes":1000000000000000000,"score":-1000000000000000000`), "-"},
	{"int_long_zeros", ev(`"bytes":0.00000000000000000000000000000000000000`), "events.bytes"},
	{"uint_negative", ev(`"enrichment":{"asn":-1}`), "events.enrichment.asn"},
	{"uint_negative_zero", ev(`"enrichment":{"asn":-0}`), "events.enrichment.asn"},
	{"uint_max", ev(`"enrichment":{"asn":4294967295}`), "-"},
	{"uint_over_max", ev(`"enrichment":{"asn":4294967296}`), "events.enrichment.asn"},
	{"uint_huge", ev(`"enrichment":{"asn":184467440737095516160}`), "events.enrichment.asn"},
	{"float_forms", ev(`"latency_ms":1.5E+2,"latency_ms":-0,"latency_ms":0.000001e-3,"latency_ms":12345678901234567890123`), "-"},
	{"float_underflow", ev(`"latency_ms":1e-400`), "-"},
	{"float_overflow", ev(`"latency_ms":1e400`), "events.latency_ms"},
	{"float_long", ev(`"latency_ms":0.` + strings.Repeat("1", 100)), "-"},
	{"number_leading_zero", `{"version":01}`, ""},
	{"number_minus_alone", `{"version":-}`, ""},
	{"number_dot_end", `{"version":1.}`, ""},
	{"number_exponent_end", `{"version":1e}`, ""},
	{"number_exponent_sign_end", `{"version":1e+}`, ""},
	{"number_leading_dot", `{"version":.5}`, ""},
	{"number_plus", `{"version":+1}`, ""},
	{"number_nan", `{"version":NaN}`, ""},
	{"number_hex", `{"version":0x10}`, ""},
	{"number_in_unknown", ev(`"x":[-0.5e-7,0,1E9,-1]`), "-"},

	// Values of the wrong type: the first one's field is the error.
	{"string_for_int", ev(`"status":"200"`), "events.status"},
	{"bool_for_int", ev(`"score":true`), "events.score"},
	{"array_for_int", ev(`"score":[1]`), "events.score"},
	{"object_for_int", ev(`"score":{"a":1}`), "events.score"},
	{"number_for_string", ev(`"kind":1`), "events.kind"},
	{"bool_for_string", ev(`"kind":false`), "events.kind"},
	{"object_for_string", ev(`"kind":{}`), "events.kind"},
	{"array_for_string", ev(`"kind":["a"]`), "events.kind"},
	{"number_for_bool", ev(`"via_trusted_proxy":1`), "events.via_trusted_proxy"},
	{"string_for_bool", ev(`"failed_open":"true"`), "events.failed_open"},
	{"string_for_float", ev(`"latency_ms":"1"`), "events.latency_ms"},
	{"string_for_struct", ev(`"dna":"x"`), "events.dna"},
	{"array_for_struct", ev(`"enrichment":[]`), "events.enrichment"},
	{"object_for_slice", ev(`"signals":{}`), "events.signals"},
	{"number_element", ev(`"signals":[1]`), "events.signals"},
	{"string_element", ev(`"headers":["a"]`), "events.headers"},
	{"nested_mismatch", ev(`"signals":[{"score":"x"}]`), "events.signals.score"},
	{"number_for_pointer", ev(`"ban":1`), "events.ban"},
	{"array_for_pointer", ev(`"enrichment":{"phone":[]}`), "events.enrichment.phone"},
	{"string_for_strings", ev(`"enrichment":{"email":{"reasons":"x"}}`), "events.enrichment.email.reasons"},
	{"number_in_strings", ev(`"enrichment":{"email":{"reasons":["a",1]}}`), "events.enrichment.email.reasons"},
	{"deep_mismatch", ev(`"enrichment":{"phone":{"risk_score":1.5}}`), "events.enrichment.phone.risk_score"},
	{"ban_mismatch", ev(`"ban":{"strikes":"1"}`), "events.ban.strikes"},
	{"number_for_agent", `{"agent":1}`, "agent"},
	{"number_for_agent_id", `{"agent":{"id":1}}`, "agent.id"},
	{"object_for_events", `{"events":{}}`, "events"},
	{"number_event", `{"events":[1,{}]}`, "events"},
	{"string_for_version", `{"version":"1"}`, "version"},
	{"first_mismatch_wins", ev(`"kind":1,"score":"x"`), "events.kind"},
	{"mismatch_then_syntax", ev(`"kind":1,"score":}`), ""},
	{"mismatch_then_syntax_far", `{"version":"x","events":[]]`, ""},
	{"mismatch_then_bad_time", ev(`"kind":1,"time":"x"`), ""},
	{"mismatch_then_bad_address", ev(`"kind":1,"client_ip":"x"`), ""},
	{"mismatch_then_deep_nesting", `{"version":"x","y":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, ""},
	{"top_array", `[]`, ""},
	{"top_string", `"x"`, ""},
	{"top_number", `1`, ""},
	{"top_bool", `true`, ""},
	{"top_array_bad", `[}`, ""},

	// Times: time.Time's UnmarshalJSON on the raw value.
	{"time_offset", ev(`"time":"2026-05-01T14:34:56.5+02:00","ban":{"until":"2026-05-01T14:34:56-07:30"}`), "-"},
	{"time_nanoseconds", ev(`"time":"2026-05-01T12:34:56.123456789Z"`), "-"},
	{"time_lower_case", ev(`"time":"2026-05-01t12:34:56z"`), ""},
	{"time_escaped", ev(`"time":"2026\u002d05-01T12:34:56Z"`), ""},
	{"time_number", ev(`"time":1714567890`), ""},
	{"time_bool", ev(`"time":true`), ""},
	{"time_object", ev(`"time":{"a":1}`), ""},
	{"time_array", ev(`"time":[]`), ""},
	{"time_empty", ev(`"time":""`), ""},
	{"time_space", ev(`"time":"2026-05-01 12:34:56Z"`), ""},
	{"time_hour_24", ev(`"time":"2026-05-01T24:00:00Z"`), ""},
	{"time_year_0", ev(`"time":"0000-01-01T00:00:00Z"`), "-"},
	{"time_offset_hours_24", ev(`"time":"2026-05-01T12:00:00+24:00"`), "-"},
	{"time_offset_no_colon", ev(`"time":"2026-05-01T12:00:00+0100"`), ""},
	{"time_bad_in_ban", ev(`"ban":{"until":"x"}`), ""},

	// Addresses: netip.Addr's UnmarshalText on the string.
	{"ip_forms", ev(`"client_ip":"0.0.0.0","client_ip":"255.255.255.255","client_ip":"::1","client_ip":"::ffff:1.2.3.4","client_ip":"fe80::1%eth0","client_ip":"\u0031.2.3.4"`), "-"},
	{"ip_empty", ev(`"client_ip":"1.2.3.4","client_ip":""`), "-"},
	{"ip_leading_zero", ev(`"client_ip":"1.2.3.04"`), ""},
	{"ip_short", ev(`"client_ip":"1.2.3"`), ""},
	{"ip_long", ev(`"client_ip":"1.2.3.4.5"`), ""},
	{"ip_256", ev(`"client_ip":"1.2.3.256"`), ""},
	{"ip_trailing_dot", ev(`"client_ip":"1.2.3.4."`), ""},
	{"ip_empty_field", ev(`"client_ip":"1..2.3"`), ""},
	{"ip_space", ev(`"client_ip":"1.2.3.4 "`), ""},
	{"ip_zone_v4", ev(`"client_ip":"1.2.3.4%eth0"`), ""},
	{"ip_number", ev(`"client_ip":1`), "events.client_ip"},
	{"ip_object", ev(`"client_ip":{}`), "events.client_ip"},
	{"ip_bool", ev(`"client_ip":false`), "events.client_ip"},

	// Syntax.
	{"empty", ``, ""},
	{"space", " \n", ""},
	{"trailing_comma_object", `{"version":1,}`, ""},
	{"trailing_comma_array", ev(`"signals":[{},]`), ""},
	{"missing_colon", `{"version" 1}`, ""},
	{"missing_comma", `{"version":1 "batch_id":"a"}`, ""},
	{"comma_first", `{,}`, ""},
	{"single_quotes", `{'version':1}`, ""},
	{"unquoted_key", `{version:1}`, ""},
	{"bad_literal", `{"version":tru}`, ""},
	{"bad_null", ev(`"kind":nul`), ""},
	{"long_null", ev(`"kind":nulll`), ""},
	{"literal_at_end", `{"x":fals`, ""},
	{"unclosed", `{"version":1`, ""},
	{"unclosed_array", ev(`"signals":[{}`)[:50], ""},
	{"mismatched_close", `{"x":[1}}`, ""},
	{"trailing_object", `{} {}`, ""},
	{"trailing_garbage", `{}x`, ""},
	{"trailing_close", `{}}`, ""},
	{"trailing_nul", "{}\x00", ""},
	{"byte_order_mark", "\ufeff{}", ""},
	{"comment", `{}//`, ""},
	{"vertical_tab", "{\v}", ""},

	// Unknown fields of every shape, skipped but checked.
	{"unknown_fields", `{"x":{"a":[1,"b",{"c":null,"d":true,"e":false}],"f":-1.5e3},"version":1,"events":[{"y":[[[]]],"z":"\ud800\u00e9"}],"agent":{"w":{}}}`, "-"},
	{"unknown_bad_inside", `{"x":{"a":[1,"b",{"c":nul}]}}`, ""},
	{"unknown_unclosed", `{"x":[[[]]}`, ""},
	{"depth_limit", `{"x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, "-"},
	{"depth_over", `{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, ""},
	{"depth_objects", strings.Repeat(`{"x":`, maxDepth) + `1` + strings.Repeat("}", maxDepth), "-"},
	{"depth_objects_over", strings.Repeat(`{"x":`, maxDepth+1) + `1` + strings.Repeat("}", maxDepth+1), ""},
	{"depth_in_event", `{"events":[{"signals":[{"x":` + strings.Repeat("[", maxDepth-5) + strings.Repeat("]", maxDepth-5) + `}]}]}`, "-"},
	{"depth_in_event_over", `{"events":[{"signals":[{"x":` + strings.Repeat("[", maxDepth-4) + strings.Repeat("]", maxDepth-4) + `}]}]}`, ""},
	{"depth_in_mismatch_over", `{"events":[{"score":` + strings.Repeat("[", maxDepth-2) + strings.Repeat("]", maxDepth-2) + `}]}`, ""},
	{"too_big", `{"x":"` + strings.Repeat("a", MaxBodySize) + `"}`, ""},
}

func TestDecodeEventBatchMatchesJSON(t *testing.T) {
	for _, c := range decoderCases {
		t.Run(c.name, func(t *testing.T) {
			err := checkAgainstJSON(t, []byte(c.input))
			// The case says what encoding/json does; check that it does, so that the
			// case tests what its name says.
			switch {
			case c.field == "-" && err != nil:
				t.Fatalf("json.Unmarshal fails with %v, want success", err)
			case c.field != "-" && err == nil:
				t.Fatalf("json.Unmarshal succeeds, want an error naming %q", c.field)
			case c.field != "-":
				if fe := err.(*FieldError); fe.Field != c.field {
					t.Fatalf("json.Unmarshal's error %q names %q, want %q", err, fe.Field, c.field)
				}
			}
		})
	}
}

// TestDecodeEventBatchResults checks results worked out by hand, not only that the
// two decoders agree.
func TestDecodeEventBatchResults(t *testing.T) {
	decode := func(t *testing.T, s string) EventBatch {
		t.Helper()
		var b EventBatch
		if err := decodeEventBatch([]byte(s), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("stale_elements_come_back", func(t *testing.T) {
		b := decode(t, ev(`"signals":[{"code":"a"},{"code":"b","detail":"x"},{"code":"q"}],"signals":[{"code":"c"}],"signals":[{},{},null,{}]`))
		want := []Signal{{Code: "c"}, {Code: "b", Detail: "x"}, {Code: "q"}, {}}
		if diff := cmp.Diff(want, b.Events[0].Signals); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("case_folding", func(t *testing.T) {
		b := decode(t, ev("\"KIND\":\"a\",\"\u212aind\":\"b\",\"ScOrE\":7,\"Dna\":{\"HDNA_id\":\"h\"}"))
		if e := b.Events[0]; e.Kind != "b" || e.Score != 7 || e.DNA.HDNAID != "h" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("strings", func(t *testing.T) {
		b := decode(t, ev(`"path":"\ud83d\ude00\ud800\u0041\/","kind":"a`+"\xffb\xe2\x82"+`"`))
		if e := b.Events[0]; e.Path != "\U0001F600\uFFFDA/" || e.Kind != "a\uFFFDb\uFFFD\uFFFD" {
			t.Errorf("path %+q, kind %+q", e.Path, e.Kind)
		}
	})
	t.Run("merge", func(t *testing.T) {
		b := decode(t, ev(`"ban":{"kind":"ip","reason":"r"},"ban":{"value":"v"},"enrichment":{"email":{"reasons":["a","b"]}},"enrichment":{"email":{"reasons":["c"]}},"enrichment":{"email":{"reasons":[null,null]}}`))
		e := b.Events[0]
		if *e.Ban != (Ban{Kind: "ip", Value: "v", Reason: "r"}) {
			t.Errorf("ban %+v", *e.Ban)
		}
		if diff := cmp.Diff([]string{"c", "b"}, e.Enrichment.Email.Reasons); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("empty_and_null", func(t *testing.T) {
		b := decode(t, `{"events":[{"signals":[{}],"signals":[],"headers":[{}],"headers":null}]}`)
		if s := b.Events[0].Signals; s == nil || len(s) != 0 {
			t.Errorf("signals %#v, want empty and not nil", s)
		}
		if h := b.Events[0].Headers; h != nil {
			t.Errorf("headers %#v, want nil", h)
		}
	})
	t.Run("strings_are_copies", func(t *testing.T) {
		data := []byte(ev(`"kind":"abc"`))
		var b EventBatch
		if err := decodeEventBatch(data, &b); err != nil {
			t.Fatal(err)
		}
		copy(data[bytes.Index(data, []byte("abc")):], "xyz")
		if b.Events[0].Kind != "abc" {
			t.Errorf("kind %q changed with the input", b.Events[0].Kind)
		}
	})
}

// TestFieldTables checks each struct's switch against its table of names, and that no
// two names of a struct fold to the same key (foldField returns the first).
func TestFieldTables(t *testing.T) {
	for _, tab := range []struct {
		names  []string
		lookup func([]byte) int
		typ    reflect.Type
	}{
		{batchNames, batchField, reflect.TypeFor[EventBatch]()},
		{agentNames, agentField, reflect.TypeFor[Agent]()},
		{eventNames, eventField, reflect.TypeFor[Event]()},
		{signalNames, signalField, reflect.TypeFor[Signal]()},
		{headerNames, headerField, reflect.TypeFor[Header]()},
		{dnaNames, dnaField, reflect.TypeFor[DNA]()},
		{enrichmentNames, enrichmentField, reflect.TypeFor[Enrichment]()},
		{emailNames, emailField, reflect.TypeFor[Email]()},
		{phoneNames, phoneField, reflect.TypeFor[Phone]()},
		{banNames, banField, reflect.TypeFor[Ban]()},
	} {
		// The names are the JSON names of the struct's fields, in order.
		if tab.typ.NumField() != len(tab.names) {
			t.Errorf("%v has %d fields, the table %d", tab.typ, tab.typ.NumField(), len(tab.names))
			continue
		}
		for i, name := range tab.names {
			tag, _, _ := strings.Cut(tab.typ.Field(i).Tag.Get("json"), ",")
			if tag != name {
				t.Errorf("%v field %d is %q, the table says %q", tab.typ, i, tag, name)
			}
			if got := tab.lookup([]byte(name)); got != i {
				t.Errorf("%v: lookup(%q) = %d, want %d", tab.typ, name, got, i)
			}
			if got := tab.lookup([]byte(strings.ToUpper(name))); got != i {
				t.Errorf("%v: lookup(%q) = %d, want %d", tab.typ, strings.ToUpper(name), got, i)
			}
			for j, other := range tab.names[:i] {
				if strings.EqualFold(name, other) {
					t.Errorf("%v: names %d and %d fold together", tab.typ, i, j)
				}
			}
		}
		if got := tab.lookup([]byte("no_such_field")); got != -1 {
			t.Errorf("%v: lookup of an unknown name = %d", tab.typ, got)
		}
	}
}

// randomBatch is a batch of randomEvents, as TestAppendEventBatchMatchesMarshal makes
// them.
func randomBatch(r *rand.Rand, i int) EventBatch {
	b := EventBatch{Version: Version, BatchID: "a-" + strconv.Itoa(i), Agent: Agent{ID: "a", Instance: []string{"", "web-1"}[i%2], Version: "v1"}}
	if i%7 != 0 {
		for range r.IntN(4) {
			b.Events = append(b.Events, randomEvent(r))
		}
		if b.Events == nil {
			b.Events = []Event{}
		}
	}
	return b
}

// validUTF8 is s as encoding/json decodes its encoding: each byte of invalid UTF-8
// becomes U+FFFD.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func TestDecodeEventBatchRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	opts := append([]cmp.Option{
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.Transformer("validUTF8", validUTF8),
	}, cmpOpts...)
	for i := range 2000 {
		b := randomBatch(r, i)
		data := AppendEventBatch(nil, &b)
		var got EventBatch
		if err := decodeEventBatch(data, &got); err != nil {
			t.Fatalf("batch %d: %v\n%s", i, err, data)
		}
		// Exactly what encoding/json makes of the same bytes.
		var want EventBatch
		if err := unmarshal(data, &want); err != nil {
			t.Fatalf("batch %d: json: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d differs from json.Unmarshal (-json +hand):\n%s", i, cmp.Diff(want, got, cmpOpts...))
		}
		// And b itself, up to what JSON changes: time zones and invalid UTF-8.
		if diff := cmp.Diff(b, got, opts...); diff != "" {
			t.Fatalf("batch %d round trip (-sent +decoded):\n%s", i, diff)
		}
		if (b.Validate() == nil) != (func() error { _, err := DecodeEvents(data); return err }() == nil) {
			t.Fatalf("batch %d: Validate and DecodeEvents disagree", i)
		}
	}
}

func FuzzDecodeEventsDifferential(f *testing.F) {
	for _, c := range decoderCases {
		if len(c.input) < 64<<10 {
			f.Add([]byte(c.input))
		}
	}
	for _, c := range eventCases {
		f.Add([]byte(c.input))
	}
	for _, ex := range docExamples(f) {
		if ex.kind == "events" {
			f.Add([]byte(ex.body))
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 40 {
		b := randomBatch(r, i)
		f.Add(AppendEventBatch(nil, &b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstJSON(t, data)
	})
}

// benchEvent is the i-th of a stream of realistic request events, as the agent's
// throughput benchmark makes them: one in four blocked with two signals and the
// request's headers, the others allowed with one signal.
func benchEvent(i int, now time.Time) Event {
	signals := []vigil.Signal{
		{Detector: "attack", Code: "sqli", Score: 60, Detail: "query parameter id: ' OR 1=1 --"},
		{Detector: "bot", Code: "headless", Score: 25, Detail: "HeadlessChrome in User-Agent"},
	}
	e := vigil.Event{Kind: vigil.EventRequest, Time: now.Add(time.Duration(i) * time.Millisecond), Method: "GET", Host: "shop.example.com",
		Path:      "/e/" + strconv.Itoa(i),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		Status:    200, Bytes: 5120, Latency: 850 * time.Microsecond,
		Verdict: vigil.Verdict{RequestID: "req-" + strconv.Itoa(i), ClientIP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
			Score: 10, Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow, Signals: signals[1:],
			DNA: fingerprint.DNA{ID: "d1-5f0c2a9e4b7d1386", Family: "chrome", Kind: "browser", Source: "connection", Protocol: "h1",
				HDNA:   "hdna1:h1:c:-:Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language",
				HDNAID: "ho1-3c1d9a0e77b2", TLS: &fingerprint.TLS{JA4: "t13d1516h2_8daaf6152771_02713d6af862"}},
			Enrichment: vigil.Enrichment{Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH", Client: "chrome", ClientKind: "browser"}}}
	if i%4 == 0 {
		e.Status, e.Bytes = 403, 0
		e.Verdict.Score, e.Verdict.Action, e.Verdict.WouldBe, e.Verdict.Signals = 85, vigil.ActionBlock, vigil.ActionBlock, signals
		e.Query = "id=%27+OR+1%3D1+--"
		e.Header = http.Header{"Accept": {"*/*"}, "Accept-Language": {"de-DE,de;q=0.9"}, "User-Agent": {e.UserAgent}}
	}
	return FromEvent(e)
}

// benchBatch is the JSON of a batch of n benchEvents.
func benchBatch(n int) []byte {
	b := EventBatch{Version: Version, BatchID: "agent1-1", Agent: Agent{ID: "agent1", Instance: "web-1", Version: "0.9.0"}}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		b.Events = append(b.Events, benchEvent(i, now))
	}
	return AppendEventBatch(nil, &b)
}

// BenchmarkDecodeEvents compares DecodeEvents with the encoding/json decoder it
// replaces, on a batch of 500 realistic events.
func BenchmarkDecodeEvents(b *testing.B) {
	const n = 500
	data := benchBatch(n)
	for _, d := range []struct {
		name   string
		decode func([]byte) (EventBatch, error)
	}{
		{"encoding_json", decodeEventsJSON},
		{"hand", DecodeEvents},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := d.decode(data); err != nil {
					b.Fatal(err)
				}
			}
			perEvent := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
			b.ReportMetric(perEvent, "ns/event")
			b.ReportMetric(1e9/perEvent, "events/s")
		})
	}
}

// A docGen writes random JSON documents shaped like event batches, mostly right and
// often wrong in the ways encoding/json treats specially: keys in other cases, repeated
// keys, nulls, values of other types, odd numbers, strings and times, unknown members,
// white space, and now and then a broken byte.
type docGen struct {
	r *rand.Rand
	b []byte
}

// docSchema describes the structs: each member's JSON name and kind. A kind is
// "string", "int", "uint", "float", "bool", "time", "ip", "object:<struct>",
// "pointer:<struct>" or "array:<kind>".
var docSchema = map[string][][2]string{
	"batch": {{"version", "int"}, {"batch_id", "string"}, {"agent", "object:agent"}, {"events", "array:object:event"}},
	"agent": {{"id", "string"}, {"instance", "string"}, {"version", "string"}},
	"event": {{"time", "time"}, {"kind", "string"}, {"request_id", "string"}, {"action", "string"}, {"would_be", "string"},
		{"score", "int"}, {"signals", "array:object:signal"}, {"client_ip", "ip"}, {"via_trusted_proxy", "bool"},
		{"dna", "object:dna"}, {"enrichment", "object:enrichment"}, {"method", "string"}, {"host", "string"},
		{"path", "string"}, {"user_agent", "string"}, {"status", "int"}, {"bytes", "int"}, {"latency_ms", "float"},
		{"query", "string"}, {"headers", "array:object:header"}, {"ban", "pointer:ban"}, {"error", "string"},
		{"failed_open", "bool"}},
	"signal": {{"detector", "string"}, {"code", "string"}, {"score", "int"}, {"detail", "string"}},
	"header": {{"name", "string"}, {"value", "string"}},
	"dna": {{"id", "string"}, {"family", "string"}, {"kind", "string"}, {"source", "string"}, {"protocol", "string"},
		{"ja4", "string"}, {"ja3", "string"}, {"h2", "string"}, {"hdna", "string"}, {"hdna_id", "string"}},
	"enrichment": {{"country", "string"}, {"asn", "uint"}, {"as_org", "string"}, {"hosting", "string"},
		{"client", "string"}, {"client_kind", "string"}, {"bot_category", "string"}, {"bot_verified", "bool"},
		{"email", "pointer:email"}, {"phone", "pointer:phone"}},
	"email": {{"valid", "bool"}, {"invalid", "string"}, {"domain", "string"}, {"provider", "string"},
		{"disposable", "bool"}, {"free", "bool"}, {"role", "bool"}, {"risk_score", "int"}, {"reasons", "array:string"}},
	"phone": {{"valid", "bool"}, {"region", "string"}, {"type", "string"}, {"country_mismatch", "bool"},
		{"risk_score", "int"}, {"reasons", "array:string"}},
	"ban": {{"kind", "string"}, {"value", "string"}, {"reason", "string"}, {"until", "time"}, {"strikes", "int"}},
}

var (
	genStrings = []string{`""`, `"a"`, `"request"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\udc00\ud800x"`, "\"\xff\xfe\"",
		"\"\xed\xa0\x80\"", `"\"\\\/\b\f\n\r\t"`, `"\u0000"`, "\"caf\u00e9 \u2028\"", `"` + strings.Repeat("long ", 20) + `"`}
	genNumbers = []string{"0", "-0", "1", "-1", "100", "1.5", "1e2", "1E+2", "-1.0e-2", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "4294967295", "4294967296",
		"123456789012345678", "1234567890123456789", "1e400", "1e-400", "0.1", "255"}
	genTimes = []string{`"2026-05-01T12:34:56Z"`, `"2026-05-01T12:34:56.123456789+02:00"`, `"1999-12-31T23:59:59Z"`,
		`"2026-05-01T12:34:56"`, `"2026-05-01 12:34:56Z"`, `"x"`, `""`, `"2026\u002d05-01T12:34:56Z"`, `"0001-01-01T00:00:00Z"`}
	genIPs = []string{`"203.0.113.7"`, `"2001:db8::1"`, `"fe80::1%eth0"`, `""`, `"1.2.3.04"`, `"1.2.3"`, `"::ffff:1.2.3.4"`,
		`"256.1.1.1"`, `"\u0031.2.3.4"`, `"x"`}
)

func (g *docGen) ws() {
	if g.r.IntN(8) == 0 {
		g.b = append(g.b, " \t\n\r"[g.r.IntN(4)])
	}
}

func (g *docGen) pick(pool []string) { g.b = append(g.b, pool[g.r.IntN(len(pool))]...) }

// any writes a random value of any type, nested at most depth deep.
func (g *docGen) any(depth int) {
	switch n := g.r.IntN(7); {
	case n == 0 && depth > 0:
		g.b = append(g.b, '[')
		for i := range g.r.IntN(3) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.ws()
			g.any(depth - 1)
			g.ws()
		}
		g.b = append(g.b, ']')
	case n == 1 && depth > 0:
		g.b = append(g.b, '{')
		for i := range g.r.IntN(3) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.pick(genStrings)
			g.b = append(g.b, ':')
			g.any(depth - 1)
		}
		g.b = append(g.b, '}')
	case n == 2:
		g.pick(genNumbers)
	case n == 3:
		g.pick([]string{"true", "false", "null"})
	default:
		g.pick(genStrings)
	}
}

// key writes name as a member key, sometimes in another case or escaped.
func (g *docGen) key(name string) {
	switch g.r.IntN(12) {
	case 0:
		name = strings.ToUpper(name)
	case 1:
		name = strings.Replace(name, "k", "\u212a", 1)
	case 2:
		name = strings.Replace(name, "s", `\u017f`, 1)
	case 3:
		if name != "" {
			name = `\u00` + strconv.FormatInt(int64(name[0]), 16) + name[1:]
		}
	case 4:
		name += "x"
	}
	g.b = append(g.b, '"')
	g.b = append(g.b, name...)
	g.b = append(g.b, '"')
}

func (g *docGen) value(kind string, depth int) {
	if g.r.IntN(10) == 0 {
		g.any(2) // likely the wrong type
		return
	}
	if g.r.IntN(15) == 0 {
		g.b = append(g.b, "null"...)
		return
	}
	name, rest, _ := strings.Cut(kind, ":")
	switch name {
	case "string":
		g.pick(genStrings)
	case "int", "uint", "float":
		g.pick(genNumbers)
	case "bool":
		g.pick([]string{"true", "false"})
	case "time":
		g.pick(genTimes)
	case "ip":
		g.pick(genIPs)
	case "object", "pointer":
		g.object(rest, depth)
	case "array":
		g.b = append(g.b, '[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.ws()
			g.value(rest, depth)
		}
		g.b = append(g.b, ']')
	}
}

func (g *docGen) object(typ string, depth int) {
	members := docSchema[typ]
	g.b = append(g.b, '{')
	n := g.r.IntN(len(members) + 3)
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.ws()
		if g.r.IntN(10) == 0 {
			g.pick(genStrings) // an unknown key, mostly
			g.b = append(g.b, ':')
			g.any(3)
			continue
		}
		m := members[g.r.IntN(len(members))]
		g.key(m[0])
		g.ws()
		g.b = append(g.b, ':')
		g.ws()
		g.value(m[1], depth+1)
		g.ws()
	}
	g.b = append(g.b, '}')
}

// TestDecodeEventBatchRandomDocuments holds decodeEventBatch to json.Unmarshal on
// random documents shaped like event batches.
func TestDecodeEventBatchRandomDocuments(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 3000
	}
	g := docGen{r: rand.New(rand.NewPCG(9, 10))}
	ok, mismatches := 0, 0
	for range n {
		g.b = g.b[:0]
		g.ws()
		g.object("batch", 0)
		g.ws()
		if g.r.IntN(20) == 0 && len(g.b) > 0 {
			// Break one byte.
			const breakers = "{}[]\",:0 x\\\x01"
			g.b[g.r.IntN(len(g.b))] = breakers[g.r.IntN(len(breakers))]
		}
		switch err := checkAgainstJSON(t, g.b); {
		case err == nil:
			ok++
		case err.(*FieldError).Field != "":
			mismatches++
		}
	}
	// The documents must exercise both outcomes, and wrong types, in good numbers.
	t.Logf("of %d documents %d decode, %d have a mismatch, %d another error", n, ok, mismatches, n-ok-mismatches)
	if ok < n/10 || mismatches < n/10 || n-ok-mismatches < n/20 {
		t.Errorf("of %d documents %d decode, %d have a mismatch, %d another error", n, ok, mismatches, n-ok-mismatches)
	}
}

// TestDecodeEventsAllocs bounds the allocations of DecodeEvents on realistic events:
// beyond the events array, an event takes one for its new strings and one per
// non-empty slice.
func TestDecodeEventsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const n = 100
	data := benchBatch(n)
	allocs := vigiltest.AllocsPerRun(20, func() {
		if _, err := DecodeEvents(data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3*n {
		t.Errorf("%v allocations for %d events, want at most %d", allocs, n, 3*n)
	}
	t.Logf("%.2f allocations per event", allocs/n)
}

// TestDecodeEventsRaw: each event's bytes come back exactly as they are in the body,
// white space and fields Vigil does not know included; a batch whose events key
// comes twice has none (its events merge two arrays).
func TestDecodeEventsRaw(t *testing.T) {
	ev1 := `{"time":"2026-11-21T10:00:00Z","kind":"request","action":"allow","would_be":"allow","from_the_future":{"x":[1,2]}}`
	ev2 := `{ "time" : "2026-11-21T10:00:01.5Z", "kind":"request", "action":"block", "would_be":"block" }`
	body := `{"version":1,"batch_id":"a-1","agent":{"id":"a"},"events":[` + ev1 + ",\n  " + ev2 + `]}`
	b, raws, err := DecodeEventsRaw([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 2 || len(raws) != 2 {
		t.Fatalf("%d events, %d raws, want 2 and 2", len(b.Events), len(raws))
	}
	if string(raws[0]) != ev1 || string(raws[1]) != ev2 {
		t.Errorf("raws\n%s\n%s\nwant\n%s\n%s", raws[0], raws[1], ev1, ev2)
	}
	if b.Events[1].Action != "block" {
		t.Errorf("second event's action %q, want block", b.Events[1].Action)
	}

	twice := `{"version":1,"batch_id":"a-2","agent":{"id":"a"},"events":[` + ev1 + `],"events":[` + ev2 + `]}`
	b, raws, err = DecodeEventsRaw([]byte(twice))
	if err != nil {
		t.Fatal(err)
	}
	if raws != nil {
		t.Errorf("raws %q for a batch with events twice, want nil", raws)
	}
	want, err := DecodeEvents([]byte(twice))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("batch %+v, DecodeEvents gives %+v", b, want)
	}

	if _, raws, err := DecodeEventsRaw([]byte(`{"version":1}`)); err == nil || raws != nil {
		t.Errorf("invalid batch: raws %q, error %v; want nil and an error", raws, err)
	}
}
