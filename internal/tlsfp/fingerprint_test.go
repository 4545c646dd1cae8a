package tlsfp

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The spec's worked example (FoxIO technical_details/JA4.md), in original order.
var (
	specCiphers = []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
		0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	specSigalgs = []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
)

// specExts returns the spec's extensions 001b,0000,0033,0010,4469,0017,002d,000d,0005,
// 0023,0012,002b,ff01,000b,000a,0015 with plausible payloads and the given sigalgs.
func specExts(sigalgs ...uint16) []ext {
	return []ext{
		rawExt(0x001b, 2, 0, 2), sniExt("example.com"), keyShareExt(0x0a0a),
		alpnExt("h2", "http/1.1"), rawExt(0x4469, 0, 3, 2, 'h', '2'), emptyExt(0x0017),
		rawExt(0x002d, 1, 1), sigalgsExt(sigalgs...), rawExt(0x0005, 1, 0, 0, 0, 0),
		emptyExt(0x0023), emptyExt(0x0012), versionsExt(0x0304, 0x0303), rawExt(0xff01, 0),
		pointsExt(0), groupsExt(0x001d, 0x0017, 0x0018), paddingExt(10),
	}
}

// fingerprintCases are hellos with fingerprints known independently of this package:
// the JA4 and JA3 specifications' own examples, or values worked out by hand with
// Python's hashlib over strings built from the definitions (noted per case).
var fingerprintCases = []struct {
	name string
	spec helloSpec
	want Fingerprint
}{
	{
		name: "ja4_spec_worked_example",
		spec: helloSpec{version: 0x0303, ciphers: specCiphers, exts: specExts(specSigalgs...)},
		want: Fingerprint{
			// JA4, JA4_r, JA4_o and JA4_ro as printed in JA4.md.
			JA4:   "t13d1516h2_8daaf6152771_e5627efa2ab1",
			JA4R:  "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
			JA4O:  "t13d1516h2_acb858a92679_18f69afefd3d",
			JA4RO: "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601",
			// JA3 strings written from the lists above; hashes by hashlib.md5.
			JA3:      "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0",
			JA3Hash:  "c000e2caf3a25423f9de6c8a4b12a975",
			JA3N:     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-5-10-11-13-16-18-21-23-27-35-43-45-51-17513-65281,29-23-24,0",
			JA3NHash: "aa56c057ad164ec4fdcb7a5a283be9fc",
		},
	},
	{
		// JA4.md: the same extensions without signature algorithms hash to
		// 6d807ffa2a79, and the string has no trailing "_". An empty
		// signature_algorithms list gives that (crypto/tls would reject it).
		name: "ja4_spec_no_signature_algorithms",
		spec: helloSpec{version: 0x0303, ciphers: specCiphers, exts: specExts()},
		want: Fingerprint{
			JA4:  "t13d1516h2_8daaf6152771_6d807ffa2a79",
			JA4R: "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01",
		},
	},
	{
		// salesforce/ja3 README.
		name: "ja3_readme_tls10_with_extensions",
		spec: helloSpec{
			version: 0x0301,
			ciphers: []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
			exts:    []ext{sniExt("example.com"), groupsExt(23, 24, 25), pointsExt(0)},
		},
		want: Fingerprint{
			JA3:      "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
			JA3Hash:  "ada70206e40642a3e4461f35503241d5",
			JA3N:     "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
			JA3NHash: "ada70206e40642a3e4461f35503241d5",
		},
	},
	{
		// salesforce/ja3 README: empty fields are kept.
		name: "ja3_readme_no_extensions",
		spec: helloSpec{
			version:    0x0301,
			ciphers:    []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99},
			noExtBlock: true,
		},
		want: Fingerprint{
			JA3:      "769,4-5-10-9-100-98-3-6-19-18-99,,,",
			JA3Hash:  "de350869b8c85de67a350c8d186f11e6",
			JA3N:     "769,4-5-10-9-100-98-3-6-19-18-99,,,",
			JA3NHash: "de350869b8c85de67a350c8d186f11e6",
			// b by hashlib.sha256 of "0003,0004,0005,0006,0009,000a,0012,0013,0062,0063,0064".
			JA4:   "t10i110000_3609b414f052_000000000000",
			JA4RO: "t10i110000_0004,0005,000a,0009,0064,0062,0003,0006,0013,0012,0063_",
		},
	},
	{
		// 100 ciphers (0x0001-0x0064) and 100 extensions (0x1000-0x1063): both counts
		// cap at 99. Hashes by hashlib.sha256 of the comma-joined hex lists.
		name: "counts_capped_at_99",
		spec: func() helloSpec {
			s := helloSpec{version: 0x0303}
			for i := range 100 {
				s.ciphers = append(s.ciphers, uint16(1+i))
				s.exts = append(s.exts, emptyExt(uint16(0x1000+i)))
			}
			return s
		}(),
		want: Fingerprint{JA4: "t12i999900_23fcf16c6918_0fa24da5b043"},
	},
	{
		// No ciphers: b is zeros, and JA4_r's cipher list is empty.
		name: "no_ciphers",
		spec: helloSpec{version: 0x0303, exts: []ext{groupsExt(0x001d)}},
		want: Fingerprint{
			JA4:  "t12i000100_000000000000_a8f3e973773c",
			JA4R: "t12i000100__000a",
		},
	},
	{
		// Only SNI and ALPN: the sorted list is empty, so c is zeros in JA4 and, as
		// in FoxIO's reference output (tls-sni vectors t10d230100), in JA4_o too.
		name: "only_sni_and_alpn",
		spec: helloSpec{version: 0x0301, ciphers: []uint16{0x0035, 0x002f},
			exts: []ext{sniExt("a.example"), alpnExt("h2")}},
		want: Fingerprint{
			JA4:   "t10d0202h2_f54dd463d39b_000000000000",
			JA4R:  "t10d0202h2_002f,0035_",
			JA4O:  "t10d0202h2_35b31f069399_000000000000",
			JA4RO: "t10d0202h2_0035,002f_0000,0010",
		},
	},
	{
		// supported_versions with GREASE only: its highest non-GREASE value does not
		// exist, so the version is unknown rather than the legacy one.
		name: "supported_versions_only_grease",
		spec: helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []ext{versionsExt(0x7a7a)}},
		want: Fingerprint{JA4RO: "t00i010100_1301_002b"},
	},
}

func TestFingerprintKnownAnswers(t *testing.T) {
	for _, tc := range fingerprintCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseClientHello(records(tc.spec.message()))
			if err != nil {
				t.Fatal(err)
			}
			got := h.Fingerprint()
			if diff := cmp.Diff(tc.want, onlySet(got, tc.want)); diff != "" {
				t.Errorf("fingerprint mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// onlySet returns got with the string fields that want leaves empty cleared, so that a
// case can pin only the fingerprints it knows.
func onlySet(got, want Fingerprint) Fingerprint {
	keep := func(g, w string) string {
		if w == "" {
			return ""
		}
		return g
	}
	return Fingerprint{
		JA4: keep(got.JA4, want.JA4), JA4R: keep(got.JA4R, want.JA4R),
		JA4O: keep(got.JA4O, want.JA4O), JA4RO: keep(got.JA4RO, want.JA4RO),
		JA3: keep(got.JA3, want.JA3), JA3Hash: keep(got.JA3Hash, want.JA3Hash),
		JA3N: keep(got.JA3N, want.JA3N), JA3NHash: keep(got.JA3NHash, want.JA3NHash),
		JA3VersionAssumed: got.JA3VersionAssumed,
	}
}

// TestGREASEIgnored adds GREASE values to every list of the worked example, including a
// supported_versions GREASE above 0x0304, and expects the same fingerprints.
func TestGREASEIgnored(t *testing.T) {
	plain := helloSpec{version: 0x0303, ciphers: specCiphers, exts: specExts(specSigalgs...)}
	greased := plain
	greased.ciphers = append([]uint16{0xdada}, specCiphers...)
	greased.ciphers = append(greased.ciphers, 0x0a0a)
	greased.exts = []ext{emptyExt(0x1a1a)}
	for _, e := range specExts(append(specSigalgs[:4:4], append([]uint16{0x2a2a}, specSigalgs[4:]...)...)...) {
		switch e.typ {
		case extSupportedVersions:
			e = versionsExt(0xfafa, 0x0304, 0x0303)
		case extSupportedGroups:
			e = groupsExt(0x9a9a, 0x001d, 0x0017, 0x0018)
		}
		greased.exts = append(greased.exts, e)
	}
	greased.exts = append(greased.exts, rawExt(0xeaea, 0))

	want := mustParse(t, records(plain.message())).Fingerprint()
	got := mustParse(t, records(greased.message())).Fingerprint()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GREASE changed the fingerprint (-plain +greased):\n%s", diff)
	}
	if want.JA4 != "t13d1516h2_8daaf6152771_e5627efa2ab1" {
		t.Errorf("JA4 = %s, want the spec example", want.JA4)
	}
}

func mustParse(t testing.TB, b []byte) *ClientHello {
	t.Helper()
	h, err := ParseClientHello(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestALPNCode checks the ALPN characters, with the examples of JA4.md.
func TestALPNCode(t *testing.T) {
	tests := []struct {
		name  string
		proto string
		want  string
	}{
		{"h2", "h2", "h2"},
		{"http_1_1", "http/1.1", "h1"},
		{"one_character", "h", "hh"},
		{"one_digit", "3", "33"},
		{"empty", "", "00"},
		{"byte_ab", "\xab", "ab"},
		{"byte_20", "\x20", "20"},
		{"bytes_ab_cd", "\xab\xcd", "ad"},
		{"bytes_20_61", "\x20\x61", "21"},
		{"bytes_30_ab", "\x30\xab", "3b"},
		{"bytes_61_20", "\x61\x20", "60"},
		{"bytes_30_31_ab_cd", "\x30\x31\xab\xcd", "3d"},
		{"bytes_30_ab_cd_31", "\x30\xab\xcd\x31", "01"},
		{"non_ascii_first", "\x99", "99"},
		{"upper_case", "HTTP/1.1", "H1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := alpnCode(tc.proto)
			if got := string([]byte{a, b}); got != tc.want {
				t.Errorf("alpnCode(%q) = %q, want %q", tc.proto, got, tc.want)
			}
			// And through a whole hello: characters 9 and 10 of JA4.
			s := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []ext{alpnExt(tc.proto)}}
			if got := mustParse(t, s.message()).Fingerprint().JA4[8:10]; got != tc.want {
				t.Errorf("JA4 ALPN for %q = %q, want %q", tc.proto, got, tc.want)
			}
		})
	}
}

func TestALPNAbsentOrEmpty(t *testing.T) {
	tests := []struct {
		name string
		exts []ext
	}{
		{"no_alpn_extension", nil},
		{"empty_protocol_list", []ext{{extALPN, []byte{0, 0}}}},
		{"empty_first_value", []ext{alpnExt("", "h2")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: tc.exts}
			if got := mustParse(t, s.message()).Fingerprint().JA4[8:10]; got != "00" {
				t.Errorf("ALPN characters = %q, want 00", got)
			}
		})
	}
}

func TestVersionCode(t *testing.T) {
	tests := []struct {
		v    uint16
		want string
	}{
		{0x0304, "13"}, {0x0303, "12"}, {0x0302, "11"}, {0x0301, "10"}, {0x0300, "s3"},
		{0x0002, "s2"}, {0xfeff, "d1"}, {0xfefd, "d2"}, {0xfefc, "d3"}, {0x0305, "00"},
		{0x7f1c, "00"}, {0, "00"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("v_%04x", tc.v), func(t *testing.T) {
			a, b := versionCode(tc.v)
			if got := string([]byte{a, b}); got != tc.want {
				t.Errorf("versionCode(%#04x) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

// TestVersionFromSupportedVersions checks that supported_versions decides the JA4
// version when present (its highest non-GREASE entry, wherever it is in the list) and
// that the legacy version decides it otherwise, while JA3 always shows the legacy one.
func TestVersionFromSupportedVersions(t *testing.T) {
	tests := []struct {
		name    string
		legacy  uint16
		exts    []ext
		wantJA4 string
		wantJA3 string
	}{
		{"tls13_listed_first", 0x0303, []ext{versionsExt(0x0304, 0x0303)}, "13", "771"},
		{"tls13_listed_last", 0x0303, []ext{versionsExt(0x0302, 0x0303, 0x0304)}, "13", "771"},
		{"grease_above_tls13", 0x0303, []ext{versionsExt(0xfafa, 0x0303)}, "12", "771"},
		{"no_extension_tls12", 0x0303, nil, "12", "771"},
		{"no_extension_tls10", 0x0301, nil, "10", "769"},
		{"no_extension_ssl3", 0x0300, nil, "s3", "768"},
		{"legacy_ignored_when_extension_present", 0x0301, []ext{versionsExt(0x0303)}, "12", "769"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := helloSpec{version: tc.legacy, ciphers: []uint16{0x1301}, exts: tc.exts}
			f := mustParse(t, s.message()).Fingerprint()
			if got := f.JA4[1:3]; got != tc.wantJA4 {
				t.Errorf("JA4 version = %q, want %q", got, tc.wantJA4)
			}
			if got, _, _ := strings.Cut(f.JA3, ","); got != tc.wantJA3 {
				t.Errorf("JA3 version = %q, want %q", got, tc.wantJA3)
			}
			if f.JA3VersionAssumed {
				t.Error("JA3VersionAssumed set for a raw hello")
			}
		})
	}
}

// TestFromClientHelloInfo covers the ClientHelloInfo path on hand-built values, in the
// style of exaring/ja4plus's tests: what crypto/tls fills in, and what it leaves out.
func TestFromClientHelloInfo(t *testing.T) {
	tests := []struct {
		name string
		chi  *tls.ClientHelloInfo
		want Fingerprint
		full bool // compare every field, not only those want sets
	}{
		{
			name: "nil",
			chi:  nil,
			want: Fingerprint{},
			full: true,
		},
		{
			name: "empty",
			chi:  &tls.ClientHelloInfo{},
			full: true,
			want: Fingerprint{
				JA4: "t00i000000_000000000000_000000000000", JA4R: "t00i000000__",
				JA4O: "t00i000000_000000000000_000000000000", JA4RO: "t00i000000__",
				JA3: "768,,,,", JA3Hash: md5hex("768,,,,"),
				JA3N: "768,,,,", JA3NHash: md5hex("768,,,,"),
				JA3VersionAssumed: true,
			},
		},
		{
			// The worked example as crypto/tls describes it, GREASE in every list.
			name: "grease_everywhere_with_supported_versions",
			chi: &tls.ClientHelloInfo{
				CipherSuites:      append([]uint16{0x0a0a}, specCiphers...),
				Extensions:        []uint16{0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x2a2a},
				SupportedVersions: []uint16{0x3a3a, 0x0304, 0x0303},
				SupportedCurves:   []tls.CurveID{0x4a4a, tls.X25519, tls.CurveP256, tls.CurveP384},
				SupportedPoints:   []uint8{0},
				SignatureSchemes:  sigs(specSigalgs...),
				SupportedProtos:   []string{"h2", "http/1.1"},
			},
			want: Fingerprint{
				JA4:               "t13d1516h2_8daaf6152771_e5627efa2ab1",
				JA4O:              "t13d1516h2_acb858a92679_18f69afefd3d",
				JA3Hash:           "c000e2caf3a25423f9de6c8a4b12a975",
				JA3NHash:          "aa56c057ad164ec4fdcb7a5a283be9fc",
				JA3VersionAssumed: true,
			},
		},
		{
			// Without supported_versions crypto/tls lists the versions up to the
			// legacy one, so the legacy version is known exactly.
			name: "tls12_without_supported_versions",
			chi: &tls.ClientHelloInfo{
				CipherSuites:      []uint16{0xc02f},
				Extensions:        []uint16{0x000d},
				SupportedVersions: []uint16{0x0303, 0x0302, 0x0301},
				SignatureSchemes:  sigs(0x0804),
			},
			want: Fingerprint{
				JA4R: "t12i010100_c02f_000d_0804",
				JA3:  "771,49199,13,,",
			},
		},
		{
			// 0x00 0x78: the first byte is not alphanumeric, so the characters
			// come from the hex "0078".
			name: "non_alphanumeric_alpn",
			chi: &tls.ClientHelloInfo{
				Extensions:        []uint16{0x0010},
				SupportedVersions: []uint16{0x0303},
				SupportedProtos:   []string{"\x00x"},
			},
			want: Fingerprint{JA4RO: "t12i000108__0010"},
		},
		{
			name: "one_character_alpn",
			chi: &tls.ClientHelloInfo{
				Extensions:        []uint16{0x0010},
				SupportedVersions: []uint16{0x0303},
				SupportedProtos:   []string{"x", "h2"},
			},
			want: Fingerprint{JA4RO: "t12i0001xx__0010"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromClientHelloInfo(tc.chi)
			if !tc.full {
				got = onlySet(got, tc.want)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sigs(vs ...uint16) []tls.SignatureScheme {
	out := make([]tls.SignatureScheme, len(vs))
	for i, v := range vs {
		out[i] = tls.SignatureScheme(v)
	}
	return out
}

func TestJA4B(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"chrome", "t13d1516h2_8daaf6152771_e5627efa2ab1", "8daaf6152771", true},
		{"ja4_o", "t13d1516h2_acb858a92679_18f69afefd3d", "acb858a92679", true},
		{"zeros", "t10d230100_6a57a6f57151_000000000000", "6a57a6f57151", true},
		{"empty", "", "", false},
		{"raw_form", "t12i000100__000a", "", false},
		{"upper_case_hex", "t13d1516h2_8DAAF6152771_e5627efa2ab1", "", false},
		{"non_hex_c", "t13d1516h2_8daaf6152771_e5627efa2abz", "", false},
		{"short_a", "t13d1516h_8daaf6152771_e5627efa2ab1x", "", false},
		{"trailing", "t13d1516h2_8daaf6152771_e5627efa2ab1 ", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := JA4B(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("JA4B(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestRawAndClientHelloInfoAgree runs every hand-built hello that crypto/tls accepts
// through both paths: JA4 must agree, and JA3 too whenever its version is not assumed.
func TestRawAndClientHelloInfoAgree(t *testing.T) {
	specs := map[string]helloSpec{"chrome": chromeSpec()}
	for _, tc := range fingerprintCases {
		specs[tc.name] = tc.spec
	}
	accepted := 0
	for name, s := range specs {
		t.Run(name, func(t *testing.T) {
			wire := records(s.message())
			chi := stdlibHello(wire, nil)
			if chi == nil {
				t.Skip("crypto/tls rejects this hello")
			}
			accepted++
			raw := mustParse(t, wire).Fingerprint()
			fromCHI := FromClientHelloInfo(chi)
			if diff := cmp.Diff(raw.JA4RO, fromCHI.JA4RO); diff != "" {
				t.Errorf("JA4_ro (-raw +chi):\n%s", diff)
			}
			if raw.JA4 != fromCHI.JA4 || raw.JA4O != fromCHI.JA4O || raw.JA4R != fromCHI.JA4R {
				t.Errorf("JA4 differs: raw %+v, chi %+v", raw, fromCHI)
			}
			if !fromCHI.JA3VersionAssumed && (raw.JA3 != fromCHI.JA3 || raw.JA3N != fromCHI.JA3N) {
				t.Errorf("JA3 differs without an assumed version: raw %q, chi %q", raw.JA3, fromCHI.JA3)
			}
			if fromCHI.JA3VersionAssumed && s.version == 0x0303 && raw.JA3 != fromCHI.JA3 {
				t.Errorf("JA3 differs for legacy version 0x0303: raw %q, chi %q", raw.JA3, fromCHI.JA3)
			}
		})
	}
	if accepted < 4 {
		t.Errorf("crypto/tls accepted only %d hellos; the comparison proves little", accepted)
	}
}
