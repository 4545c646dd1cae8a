package tlsfp

import (
	"crypto/tls"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// chromeHello is what ParseClientHello must return for chromeSpec in one record.
func chromeHello(t testing.TB) *ClientHello {
	s := chromeSpec()
	var extTypes []uint16
	for _, e := range s.exts {
		extTypes = append(extTypes, e.typ)
	}
	return &ClientHello{
		RecordVersion:      0x0301,
		Records:            1,
		Version:            0x0303,
		CipherSuites:       s.ciphers,
		CompressionMethods: []uint8{0},
		Extensions:         extTypes,
		ServerName:         "www.example.com",
		SupportedProtos:    []string{"h2", "http/1.1"},
		SupportedVersions:  []uint16{0x6a6a, 0x0304, 0x0303},
		SupportedCurves:    []tls.CurveID{0x4a4a, tls.X25519, tls.CurveP256, tls.CurveP384},
		SupportedPoints:    []uint8{0},
		SignatureSchemes:   sigs(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
	}
}

// parseCases feed TestParseClientHello, the fuzz seeds and the benchmarks.
var parseCases = []struct {
	name string
	in   func() []byte
	want func(t testing.TB) *ClientHello
}{
	{
		name: "chrome_one_record",
		in:   func() []byte { return records(chromeSpec().message()) },
		want: chromeHello,
	},
	{
		name: "chrome_bare_handshake_message",
		in:   func() []byte { return chromeSpec().message() },
		want: func(t testing.TB) *ClientHello {
			h := chromeHello(t)
			h.RecordVersion, h.Records = 0, 0
			return h
		},
	},
	{
		name: "chrome_three_records",
		in:   func() []byte { return records(chromeSpec().message(), 100, 200) },
		want: func(t testing.TB) *ClientHello {
			h := chromeHello(t)
			h.Records = 3
			return h
		},
	},
	{
		// The 4-byte handshake header itself is split: 1, 2 and 1 bytes.
		name: "chrome_header_split_over_records",
		in:   func() []byte { return records(chromeSpec().message(), 1, 2, 1) },
		want: func(t testing.TB) *ClientHello {
			h := chromeHello(t)
			h.Records = 4
			return h
		},
	},
	{
		name: "chrome_one_byte_records",
		in: func() []byte {
			msg := chromeSpec().message()
			return records(msg, sizesOf(1, len(msg))...)
		},
		want: func(t testing.TB) *ClientHello {
			h := chromeHello(t)
			h.Records = len(chromeSpec().message())
			return h
		},
	},
	{
		name: "trailing_record_ignored",
		in: func() []byte {
			return append(records(chromeSpec().message()), 0x14, 3, 3, 0, 1, 1)
		},
		want: chromeHello,
	},
	{
		name: "tls10_without_extension_block",
		in: func() []byte {
			return records(helloSpec{version: 0x0301, ciphers: []uint16{0x002f}, noExtBlock: true}.message())
		},
		want: func(testing.TB) *ClientHello {
			return &ClientHello{RecordVersion: 0x0301, Records: 1, Version: 0x0301,
				CipherSuites: []uint16{0x002f}, CompressionMethods: []uint8{0}}
		},
	},
	{
		// A repeated extension is listed twice; its payload comes from the first.
		name: "duplicate_extension_first_wins",
		in: func() []byte {
			return helloSpec{version: 0x0303, ciphers: []uint16{0x1301},
				exts: []ext{sniExt("first.example"), alpnExt("h2"), sniExt("second.example")}}.message()
		},
		want: func(testing.TB) *ClientHello {
			return &ClientHello{Version: 0x0303, CipherSuites: []uint16{0x1301},
				CompressionMethods: []uint8{0}, Extensions: []uint16{0, 16, 0},
				ServerName: "first.example", SupportedProtos: []string{"h2"}}
		},
	},
	{
		// Lenient where JA4 needs it: empty lists and an empty ALPN value parse.
		name: "empty_lists",
		in: func() []byte {
			return helloSpec{version: 0x0303, sessionID: make([]byte, 40), compression: []byte{},
				exts: []ext{{extServerName, nil}, {extALPN, []byte{0, 1, 0}}, versionsExt(),
					groupsExt(), pointsExt(), sigalgsExt()}}.message()
		},
		want: func(testing.TB) *ClientHello {
			return &ClientHello{Version: 0x0303,
				Extensions:      []uint16{0, 16, 43, 10, 11, 13},
				SupportedProtos: []string{""}}
		},
	},
	{
		// Only host_name entries count; the first one is the server name.
		name: "server_name_of_other_type_skipped",
		in: func() []byte {
			list := []byte{7, 0, 1, 'x', 0, 0, 3, 'a', '.', 'b', 0, 0, 1, 'c'}
			data := append([]byte{0, byte(len(list))}, list...)
			return helloSpec{version: 0x0303, exts: []ext{{extServerName, data}}}.message()
		},
		want: func(testing.TB) *ClientHello {
			return &ClientHello{Version: 0x0303, CompressionMethods: []uint8{0},
				Extensions: []uint16{0}, ServerName: "a.b"}
		},
	},
}

func TestParseClientHello(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientHello(tc.in())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(t), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseCopiesInput checks that the result shares no memory with the input.
func TestParseCopiesInput(t *testing.T) {
	in := records(chromeSpec().message())
	h := mustParse(t, in)
	want := chromeHello(t)
	for i := range in {
		in[i] = 0xff
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("overwriting the input changed the hello (-want +got):\n%s", diff)
	}
}

// TestParseLists checks that appending to one list of the result does not change
// another, although one array backs several of them.
func TestParseLists(t *testing.T) {
	h := mustParse(t, records(chromeSpec().message()))
	want := chromeHello(t)
	_ = append(h.CipherSuites, 0xffff)
	_ = append(h.Extensions, 0xffff)
	_ = append(h.CompressionMethods, 0xff)
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("append changed a neighbouring list (-want +got):\n%s", diff)
	}
}

// largeSpec returns a hello whose body is exactly body bytes, filled with padding.
func largeSpec(t testing.TB, body int) helloSpec {
	s := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []ext{sniExt("big.example"), paddingExt(0)}}
	n := len(s.message()) - handshakeHeaderLen
	if body < n {
		t.Fatalf("body %d below the minimum %d", body, n)
	}
	s.exts[1] = paddingExt(body - n)
	return s
}

func TestParseLargestHello(t *testing.T) {
	s := largeSpec(t, MaxHelloBody)
	msg := s.message()
	if got := len(msg) - handshakeHeaderLen; got != MaxHelloBody {
		t.Fatalf("built a body of %d bytes", got)
	}
	for name, in := range map[string][]byte{
		"bare":              msg,
		"16k_records":       records(msg),
		"1000_byte_records": records(msg, sizesOf(1000, len(msg))...),
	} {
		t.Run(name, func(t *testing.T) {
			h := mustParse(t, in)
			if h.ServerName != "big.example" || len(h.Extensions) != 2 {
				t.Errorf("got server name %q and extensions %v", h.ServerName, h.Extensions)
			}
		})
	}
	// crypto/tls agrees on the limit: it accepts this hello and rejects one more byte.
	if stdlibHello(records(msg), nil) == nil {
		t.Error("crypto/tls rejected a hello of MaxHelloBody bytes")
	}
	over := largeSpec(t, MaxHelloBody+1).message()
	if stdlibHello(records(over), nil) != nil {
		t.Error("crypto/tls accepted a hello of MaxHelloBody+1 bytes")
	}
	if _, err := ParseClientHello(records(over)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("hello of MaxHelloBody+1 bytes: err = %v, want ErrTooLarge", err)
	}
}

// parseErrorCases are malformed inputs and the error each must wrap; they feed
// TestParseErrors and the fuzz seeds.
var parseErrorCases = func() []struct {
	name string
	in   []byte
	want error
} {
	chrome := chromeSpec().message()
	withBody := func(body []byte) []byte { return records(handshake(body)) }
	fixed := func() []byte { // version, random, empty session id
		return append([]byte{3, 3}, make([]byte, 33)...)
	}
	return []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"not_tls", []byte("GET / HTTP/1.1\r\n\r\n"), ErrMalformed},
		{"record_header_cut", []byte{22, 3, 1, 0}, ErrTruncated},
		{"record_payload_cut", records(chrome)[:100], ErrTruncated},
		{"second_record_missing", records(chrome, 100)[:105], ErrTruncated},
		{"handshake_header_cut", records(chrome[:3]), ErrTruncated},
		{"bare_message_cut", chrome[:len(chrome)-1], ErrTruncated},
		{"bare_header_cut", chrome[:2], ErrTruncated},
		{"record_too_large", append([]byte{22, 3, 1, 0x40, 0x01}, make([]byte, 1<<14+1)...), ErrTooLarge},
		{"empty_record", append([]byte{22, 3, 1, 0, 0}, records(chrome)...), ErrMalformed},
		{"alert_record_inside_hello", append(records(chrome[:10]), 21, 3, 1, 0, 2, 1, 0), ErrMalformed},
		{"server_hello", records(append([]byte{2}, chrome[1:]...)), ErrMalformed},
		{"body_over_64k", records([]byte{1, 1, 0, 1}), ErrTooLarge},
		{"bare_body_over_64k", []byte{1, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"empty_body", withBody(nil), ErrMalformed},
		{"random_cut", withBody([]byte{3, 3, 0, 0}), ErrMalformed},
		{"session_id_overruns", withBody(append(fixed()[:34], 40)), ErrMalformed},
		{"cipher_list_overruns", withBody(append(fixed(), 0, 4, 0x13)), ErrMalformed},
		{"cipher_list_odd", withBody(append(fixed(), 0, 3, 0x13, 0x01, 0x13, 1, 0)), ErrMalformed},
		{"no_compression_methods", withBody(append(fixed(), 0, 2, 0x13, 0x01)), ErrMalformed},
		{"extensions_length_short", withBody(append(fixed(), 0, 2, 0x13, 0x01, 1, 0, 0, 4, 0, 23, 0, 0, 9)), ErrMalformed},
		{"extensions_length_long", withBody(append(fixed(), 0, 2, 0x13, 0x01, 1, 0, 0, 5, 0, 23, 0, 0)), ErrMalformed},
		{"extension_overruns_block", withBody(append(fixed(), 0, 2, 0x13, 0x01, 1, 0, 0, 4, 0, 23, 0, 1)), ErrMalformed},
		{"extension_header_cut", withBody(append(fixed(), 0, 2, 0x13, 0x01, 1, 0, 0, 3, 0, 23, 0)), ErrMalformed},
		{"sni_list_overruns", helloSpec{exts: []ext{rawExt(0, 0, 9, 0, 0, 1, 'a')}}.message(), ErrMalformed},
		{"sni_entry_overruns", helloSpec{exts: []ext{rawExt(0, 0, 4, 0, 0, 5, 'a')}}.message(), ErrMalformed},
		{"sni_trailing_bytes", helloSpec{exts: []ext{rawExt(0, 0, 4, 0, 0, 1, 'a', 0)}}.message(), ErrMalformed},
		{"alpn_value_overruns", helloSpec{exts: []ext{rawExt(16, 0, 3, 5, 'h', '2')}}.message(), ErrMalformed},
		{"alpn_list_overruns", helloSpec{exts: []ext{rawExt(16, 0, 9, 2, 'h', '2')}}.message(), ErrMalformed},
		{"versions_odd", helloSpec{exts: []ext{rawExt(43, 3, 3, 4, 3)}}.message(), ErrMalformed},
		{"versions_overrun", helloSpec{exts: []ext{rawExt(43, 4, 3, 4)}}.message(), ErrMalformed},
		{"groups_odd", helloSpec{exts: []ext{rawExt(10, 0, 1, 0x1d)}}.message(), ErrMalformed},
		{"groups_trailing_bytes", helloSpec{exts: []ext{rawExt(10, 0, 2, 0, 0x1d, 0)}}.message(), ErrMalformed},
		{"points_overrun", helloSpec{exts: []ext{rawExt(11, 2, 0)}}.message(), ErrMalformed},
		{"sigalgs_odd", helloSpec{exts: []ext{rawExt(13, 0, 3, 4, 3, 8)}}.message(), ErrMalformed},
		{"sigalgs_empty_payload", helloSpec{exts: []ext{rawExt(13)}}.message(), ErrMalformed},
	}
}()

func TestParseErrors(t *testing.T) {
	tests := parseErrorCases
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseClientHello(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if h != nil {
				t.Errorf("got a hello with the error: %+v", h)
			}
		})
	}
}

// TestParseAllocs pins the allocations of the raw path: the parse allocates the hello
// and its lists (7 for a Chrome hello), the fingerprint one string.
func TestParseAllocs(t *testing.T) {
	in := records(chromeSpec().message())
	if n := vigiltest.AllocsPerRun(100, func() { _, _ = ParseClientHello(in) }); n > 7 {
		t.Errorf("ParseClientHello: %v allocations, want at most 7", n)
	}
	h := mustParse(t, in)
	if n := vigiltest.AllocsPerRun(100, func() { _ = h.Fingerprint() }); n > 1 {
		t.Errorf("Fingerprint: %v allocations, want at most 1", n)
	}
	chi := stdlibHello(in, nil)
	if n := vigiltest.AllocsPerRun(100, func() { _ = FromClientHelloInfo(chi) }); n > 1 {
		t.Errorf("FromClientHelloInfo: %v allocations, want at most 1", n)
	}
}

// sizesOf returns record sizes of n bytes each, enough for total bytes.
func sizesOf(n, total int) []int {
	sizes := make([]int, total/n+1)
	for i := range sizes {
		sizes[i] = n
	}
	return sizes
}

// diffCHI compares a parsed hello with the ClientHelloInfo crypto/tls made of the same
// bytes, field by field. SupportedVersions is compared only when the extension is
// present, since crypto/tls derives a list from the legacy version otherwise.
func diffCHI(h *ClientHello, chi *tls.ClientHelloInfo) string {
	got := &tls.ClientHelloInfo{
		CipherSuites:      h.CipherSuites,
		ServerName:        h.ServerName,
		SupportedCurves:   h.SupportedCurves,
		SupportedPoints:   h.SupportedPoints,
		SignatureSchemes:  h.SignatureSchemes,
		SupportedProtos:   h.SupportedProtos,
		SupportedVersions: h.SupportedVersions,
		Extensions:        h.Extensions,
	}
	want := &tls.ClientHelloInfo{
		CipherSuites:      chi.CipherSuites,
		ServerName:        chi.ServerName,
		SupportedCurves:   chi.SupportedCurves,
		SupportedPoints:   chi.SupportedPoints,
		SignatureSchemes:  chi.SignatureSchemes,
		SupportedProtos:   chi.SupportedProtos,
		SupportedVersions: chi.SupportedVersions,
		Extensions:        chi.Extensions,
	}
	if !slices.Contains(h.Extensions, extSupportedVersions) {
		got.SupportedVersions, want.SupportedVersions = nil, nil
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(tls.ClientHelloInfo{}))
}

// TestParseMatchesCryptoTLS parses hellos written by crypto/tls clients and compares
// every field with what the crypto/tls server reads from the same bytes.
func TestParseMatchesCryptoTLS(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
	}{
		{"defaults", &tls.Config{ServerName: "example.com"}},
		{"alpn", &tls.Config{ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}}},
		{"ip_literal_no_sni", &tls.Config{ServerName: "192.0.2.1"}},
		{"tls12_only", &tls.Config{ServerName: "example.com", MaxVersion: tls.VersionTLS12}},
		{"tls13_only", &tls.Config{ServerName: "example.com", MinVersion: tls.VersionTLS13}},
		{"curve_preferences", &tls.Config{ServerName: "example.com", CurvePreferences: []tls.CurveID{tls.CurveP384}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := clientHelloOf(t, tc.cfg)
			chi := stdlibHello(wire, nil)
			if chi == nil {
				t.Fatal("crypto/tls rejected its own client's hello")
			}
			h := mustParse(t, wire)
			if diff := diffCHI(h, chi); diff != "" {
				t.Errorf("(-crypto/tls +ParseClientHello):\n%s", diff)
			}
			if (h.ServerName == "") != (tc.name == "ip_literal_no_sni") {
				t.Errorf("server name %q", h.ServerName)
			}
		})
	}
}

// TestHellosCryptoTLSRefuses checks the package doc's claim: hellos that crypto/tls
// refuses to parse never reach GetConfigForClient, but ParseClientHello reads them.
func TestHellosCryptoTLSRefuses(t *testing.T) {
	tests := []struct {
		name string
		exts []ext
	}{
		{"duplicate_extension", []ext{sniExt("a.example"), emptyExt(0x0017), emptyExt(0x0017)}},
		{"server_name_trailing_dot", []ext{sniExt("a.example.")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := records(helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: tc.exts}.message())
			if stdlibHello(wire, nil) != nil {
				t.Error("crypto/tls accepted the hello")
			}
			if _, ok := JA4B(mustParse(t, wire).Fingerprint().JA4); !ok {
				t.Error("no JA4")
			}
		})
	}
}
