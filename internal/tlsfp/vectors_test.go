package tlsfp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// This file checks the package against the third-party reference data in
// shared/data/fingerprints.jsonl (see shared/data/README.md): FoxIO's JA4 known-answer
// vectors, lwthiker/curl-impersonate's browser ClientHellos and FoxIO's JA4 labels.

// dataRow is one row of fingerprints.jsonl; each kind uses some of the fields.
type dataRow struct {
	Kind string `json:"kind"`
	// ja4-vector
	Pcap     string         `json:"pcap"`
	Index    int            `json:"index"`
	Expected map[string]any `json:"expected"`
	// curl-impersonate-signature
	Name    string  `json:"name"`
	Browser string  `json:"browser"`
	TLS     *sigTLS `json:"tls"`
	// ja4-mapping
	Application *string `json:"application"`
	Library     *string `json:"library"`
	JA4         string  `json:"ja4"`
}

// sigTLS is a curl-impersonate ClientHello description. Lists hold numbers or "GREASE".
type sigTLS struct {
	RecordVersion     string   `json:"record_version"`
	HandshakeVersion  string   `json:"handshake_version"`
	Ciphersuites      []any    `json:"ciphersuites"`
	Extensions        []string `json:"extensions"`
	SupportedGroups   []any    `json:"supported_groups"`
	ECPointFormats    []int    `json:"ec_point_formats"`
	ALPN              []string `json:"alpn_list"`
	SigHashAlgs       []int    `json:"sig_hash_algs"`
	SupportedVersions []string `json:"supported_versions"`
	ALPS              []string `json:"alps_alpn_list"`
}

func loadRows(t *testing.T, kind string) []dataRow {
	t.Helper()
	f, err := os.Open(vigiltest.SharedData(t, "fingerprints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []dataRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r dataRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == kind {
			rows = append(rows, r)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestJA4Vectors rebuilds a ClientHello from every JA4_ro value of FoxIO's reference
// output, encodes it as TLS records, and checks that parsing and fingerprinting the
// bytes reproduces the expected JA4, JA4_r, JA4_o and JA4_ro. GREASE values are added
// to the rebuilt hellos and must not matter. Where crypto/tls accepts the rebuilt hello,
// FromClientHelloInfo must agree too.
func TestJA4Vectors(t *testing.T) {
	rows := loadRows(t, "ja4-vector")
	if len(rows) != 150 {
		t.Errorf("%d ja4-vector rows, want 150", len(rows))
	}
	values, viaCHI := 0, 0
	for _, row := range rows {
		for n := 1; ; n++ {
			key := func(name string) string {
				s, _ := row.Expected[name+"."+strconv.Itoa(n)].(string)
				return s
			}
			ro := key("JA4_ro")
			if ro == "" {
				break
			}
			values++
			name := fmt.Sprintf("%s_%d_%d", strings.NewReplacer(".", "_", "-", "_").Replace(row.Pcap), row.Index, n)
			t.Run(name, func(t *testing.T) {
				domain, _ := row.Expected["domain"].(string)
				spec, err := helloFromJA4RO(ro, domain, values)
				if err != nil {
					t.Fatal(err)
				}
				wire := records(spec.message(), values%5*37) // 0: one record
				got := mustParse(t, wire).Fingerprint()
				want := Fingerprint{JA4: key("JA4"), JA4R: key("JA4_r"), JA4O: key("JA4_o"), JA4RO: ro}
				if diff := cmp.Diff(want, onlySet(got, want)); diff != "" {
					t.Errorf("(-FoxIO +tlsfp):\n%s", diff)
				}
				if chi := stdlibHello(wire, nil); chi != nil {
					viaCHI++
					fromCHI := FromClientHelloInfo(chi)
					fromCHI.JA3VersionAssumed = false // JA3 is not checked here
					if diff := cmp.Diff(want, onlySet(fromCHI, want)); diff != "" {
						t.Errorf("FromClientHelloInfo (-FoxIO +tlsfp):\n%s", diff)
					}
				}
			})
		}
	}
	if values != 160 {
		t.Errorf("%d JA4 values, want 160", values)
	}
	t.Logf("%d JA4 values checked, %d also through crypto/tls", values, viaCHI)
	if viaCHI < values {
		t.Errorf("crypto/tls accepted only %d of %d rebuilt hellos", viaCHI, values)
	}
}

// helloFromJA4RO builds a hello whose JA4_ro is ro: the version, SNI flag and ALPN
// characters of its a section, its ciphers and extensions in order, and its signature
// algorithms. Extensions get a minimal valid payload. GREASE goes in front of the
// ciphers and around the extensions, and into supported_groups and supported_versions.
func helloFromJA4RO(ro, domain string, seed int) (helloSpec, error) {
	parts := strings.Split(ro, "_")
	if len(parts) < 3 || len(parts) > 4 || len(parts[0]) != 10 {
		return helloSpec{}, fmt.Errorf("JA4_ro %q: not a_b_c[_d]", ro)
	}
	a := parts[0]
	ciphers, err := hexList(parts[1])
	if err != nil {
		return helloSpec{}, err
	}
	exts, err := hexList(parts[2])
	if err != nil {
		return helloSpec{}, err
	}
	var sigalgs []uint16
	if len(parts) == 4 {
		if sigalgs, err = hexList(parts[3]); err != nil {
			return helloSpec{}, err
		}
	}
	grease := uint16(seed%16)<<12 | uint16(seed%16)<<4 | 0x0a0a

	s := helloSpec{ciphers: append([]uint16{grease}, ciphers...)}
	var versions []uint16
	switch a[1:3] {
	case "13":
		s.version, versions = 0x0303, []uint16{grease, 0x0304, 0x0303}
	case "12":
		s.version, versions = 0x0303, []uint16{0x0303}
	case "11":
		s.version, versions = 0x0302, []uint16{0x0302}
	case "10":
		s.version, versions = 0x0301, []uint16{0x0301}
	default:
		return helloSpec{}, fmt.Errorf("JA4_ro %q: version %q not rebuilt", ro, a[1:3])
	}
	if a[1:3] == "13" && !slices.Contains(exts, extSupportedVersions) {
		return helloSpec{}, fmt.Errorf("JA4_ro %q: TLS 1.3 without supported_versions", ro)
	}
	if (a[3] == 'd') != slices.Contains(exts, extServerName) {
		return helloSpec{}, fmt.Errorf("JA4_ro %q: SNI flag and extension list disagree", ro)
	}
	var alpn []string
	switch code := a[8:10]; code {
	case "00":
		// No ALPN value: an empty list if the extension is there at all.
	case "99":
		// The one such vector comes from a non-ASCII ALPN value (the pcap is
		// tls-non-ascii-alpn); 0x99 gives "99" by the hex rule.
		alpn = []string{"\x99"}
	default:
		alpn = []string{code}
	}

	s.exts = append(s.exts, emptyExt(grease))
	for _, e := range exts {
		switch e {
		case extServerName:
			s.exts = append(s.exts, sniExt(domain))
		case extALPN:
			s.exts = append(s.exts, alpnExt(alpn...))
		case extSupportedGroups:
			s.exts = append(s.exts, groupsExt(grease, 0x001d, 0x0017))
		case extECPointFormats:
			s.exts = append(s.exts, pointsExt(0))
		case extSignatureAlgorithms:
			s.exts = append(s.exts, sigalgsExt(sigalgs...))
		case extSupportedVersions:
			s.exts = append(s.exts, versionsExt(versions...))
		default:
			s.exts = append(s.exts, payloadExt(e, grease))
		}
	}
	if len(s.exts) > 0 && s.exts[len(s.exts)-1].typ == 0x0029 {
		// pre_shared_key must stay last.
		s.exts = slices.Insert(s.exts, len(s.exts)-1, rawExt(grease^0x1010, 0))
	} else {
		s.exts = append(s.exts, rawExt(grease^0x1010, 0))
	}
	return s, nil
}

// payloadExt returns extension typ with a payload crypto/tls accepts, so that more
// rebuilt hellos also reach GetConfigForClient; unknown types get an empty one.
func payloadExt(typ, grease uint16) ext {
	switch typ {
	case 0x0005: // status_request: OCSP, no responder IDs or extensions
		return rawExt(typ, 1, 0, 0, 0, 0)
	case 0x001b: // compress_certificate: brotli
		return rawExt(typ, 2, 0, 2)
	case 0x002d: // psk_key_exchange_modes: psk_dhe_ke
		return rawExt(typ, 1, 1)
	case 0x0033:
		return keyShareExt(grease)
	case 0xff01: // renegotiation_info: empty renegotiated_connection
		return rawExt(typ, 0)
	case 0x0029: // pre_shared_key: one identity "x", one 32-byte binder
		id := []byte{0, 7, 0, 1, 'x', 0, 0, 0, 0}
		binders := append([]byte{0, 33, 32}, make([]byte, 32)...)
		return ext{typ, append(id, binders...)}
	}
	return emptyExt(typ)
}

func hexList(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	var out []uint16
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseUint(f, 16, 16)
		if err != nil || len(f) != 4 {
			return nil, fmt.Errorf("bad hex value %q", f)
		}
		out = append(out, uint16(v))
	}
	return out, nil
}

// extensionIDs maps curl-impersonate's extension names (tests/signature.py,
// TLSExtensionType) to IANA extension types.
var extensionIDs = map[string]uint16{
	"server_name":                            0,
	"status_request":                         5,
	"supported_groups":                       10,
	"ec_point_formats":                       11,
	"signature_algorithms":                   13,
	"application_layer_protocol_negotiation": 16,
	"signed_certificate_timestamp":           18,
	"padding":                                21,
	"extended_master_secret":                 23,
	"compress_certificate":                   27,
	"record_size_limit":                      28,
	"delegated_credentials":                  34,
	"session_ticket":                         35,
	"pre_shared_key":                         41,
	"supported_versions":                     43,
	"psk_key_exchange_modes":                 45,
	"keyshare":                               51,
	"application_settings":                   17513,
	"renegotiation_info":                     65281,
}

var tlsVersions = map[string]uint16{
	"TLS_VERSION_1_0": 0x0301, "TLS_VERSION_1_1": 0x0302,
	"TLS_VERSION_1_2": 0x0303, "TLS_VERSION_1_3": 0x0304,
}

// signatureWant is what a curl-impersonate build must fingerprint as. The values were
// worked out independently of this package: the sorted cipher lists hashed with
// Python's hashlib, and the JA3 strings written from the YAML and hashed with MD5. The
// family hashes agree with the FoxIO mapping and fingerprinting.md section 10, and the
// JA3 hashes with the values widely published for these browsers.
type signatureWant struct {
	ja4A, ja4B, ja4C, ja3Hash string // ja4C "" when no independent source pins it
}

var (
	// BoringSSL's 15 suites; with Chrome 98-116's extensions and sigalgs this is
	// exactly FoxIO's worked example in JA4.md.
	chromeWant = signatureWant{"t13d1516h2", "8daaf6152771", "e5627efa2ab1", "cd08e31494f9531f560d64c695473da9"}
	// NSS's 17 suites (FoxIO mapping: Firefox t13d1715h2_5b57614c22b0_...).
	firefoxWant = signatureWant{"t13d1715h2", "5b57614c22b0", "", "579ccef312d18482fc42e2b822ca2430"}
	// Safari 15.5: the FoxIO mapping's Safari row, t13d2014h2_a09f3c656075_14788d8d241b.
	safariWant = signatureWant{"t13d2014h2", "a09f3c656075", "14788d8d241b", "773906b0efdefa24a7f2b8eb6985bf37"}
)

var signatureWants = map[string]signatureWant{
	"chrome_98.0.4758.102_win10":           chromeWant,
	"chrome_99.0.4844.51_win10":            chromeWant,
	"chrome_100.0.4896.127_win10":          chromeWant,
	"chrome_101.0.4951.67_win10":           chromeWant,
	"chrome_104.0.5112.81_win10":           chromeWant,
	"chrome_107.0.5304.107_win10":          chromeWant,
	"chrome_110.0.5481.177_win10":          chromeWant,
	"chrome_116.0.5845.180_win10":          chromeWant,
	"chrome_99.0.4844.73_android12-pixel6": chromeWant,
	"edge_98.0.1108.62_win10":              chromeWant,
	"edge_99.0.1150.30_win10":              chromeWant,
	"edge_101.0.1210.47_win10":             chromeWant,
	"firefox_95.0.2_win10":                 firefoxWant,
	"firefox_98.0_win10":                   firefoxWant,
	"firefox_100.0_win10":                  firefoxWant,
	"firefox_102.0_win10":                  firefoxWant,
	"firefox_109.0_win10":                  firefoxWant,
	"firefox_117.0.1_win10":                firefoxWant,
	// Firefox 91 ESR still offers TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000a): 18 suites,
	// so not the NSS family hash.
	"firefox_91.6.0esr_win10": {"t13d1815h2", "e8a523a41297", "", "6b5e0cfe988c723ee71faf54f8460684"},
	"safari_15.5_macos12.4":   safariWant,
	// Safari 15.3 offers six more CBC suites (003c, 003d, c023, c024, c027, c028) and
	// no compress_certificate: 26 suites, 13 extensions, not the Safari family hash.
	"safari_15.3_macos11.6.4": {"t13d2613h2", "2802a3db6c62", "", "656b9a2f4de6ed4909e157482860ab3d"},
}

// TestCurlImpersonateSignatures encodes every curl-impersonate browser hello and checks
// its JA4 and JA3 against signatureWants.
func TestCurlImpersonateSignatures(t *testing.T) {
	rows := loadRows(t, "curl-impersonate-signature")
	if len(rows) != len(signatureWants) {
		t.Errorf("%d signatures, want %d", len(rows), len(signatureWants))
	}
	for i, row := range rows {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(row.Name), func(t *testing.T) {
			want, ok := signatureWants[row.Name]
			if !ok {
				t.Fatalf("no expectation for %s", row.Name)
			}
			spec, recVersion, err := helloFromSignature(row.TLS, i)
			if err != nil {
				t.Fatal(err)
			}
			wire := records(spec.message())
			wire[1], wire[2] = byte(recVersion>>8), byte(recVersion)
			h := mustParse(t, wire)
			if h.RecordVersion != recVersion {
				t.Errorf("record version %#04x, want %#04x", h.RecordVersion, recVersion)
			}
			f := h.Fingerprint()
			a, rest, _ := strings.Cut(f.JA4, "_")
			b, c, _ := strings.Cut(rest, "_")
			if a != want.ja4A || b != want.ja4B || (want.ja4C != "" && c != want.ja4C) {
				t.Errorf("JA4 = %s, want %s_%s_%s (* any)", f.JA4, want.ja4A, want.ja4B, orStar(want.ja4C))
			}
			if gotB, _ := JA4B(f.JA4); gotB != want.ja4B {
				t.Errorf("JA4B = %q, want %q", gotB, want.ja4B)
			}
			if f.JA3Hash != want.ja3Hash {
				t.Errorf("JA3 %s = %s, want %s", f.JA3, f.JA3Hash, want.ja3Hash)
			}
			if chi := stdlibHello(wire, nil); chi == nil {
				t.Error("crypto/tls rejected the hello")
			} else if fromCHI := FromClientHelloInfo(chi); fromCHI.JA4 != f.JA4 || fromCHI.JA3 != f.JA3 {
				t.Errorf("FromClientHelloInfo: JA4 %s, JA3 %s; raw JA4 %s, JA3 %s", fromCHI.JA4, fromCHI.JA3, f.JA4, f.JA3)
			}
		})
	}
}

// helloFromSignature encodes a curl-impersonate description, with distinct GREASE
// values where it says "GREASE" and plausible payloads where it gives none.
func helloFromSignature(sig *sigTLS, seed int) (helloSpec, uint16, error) {
	greases := []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
		0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa}
	next := seed
	grease := func() uint16 { next++; return greases[next%len(greases)] }
	list := func(vals []any) ([]uint16, error) {
		var out []uint16
		for _, v := range vals {
			switch v := v.(type) {
			case string:
				if v != "GREASE" {
					return nil, fmt.Errorf("list value %q", v)
				}
				out = append(out, grease())
			case float64:
				out = append(out, uint16(v))
			default:
				return nil, fmt.Errorf("list value %v", v)
			}
		}
		return out, nil
	}
	recVersion, ok1 := tlsVersions[sig.RecordVersion]
	legacy, ok2 := tlsVersions[sig.HandshakeVersion]
	if !ok1 || !ok2 {
		return helloSpec{}, 0, fmt.Errorf("versions %q, %q", sig.RecordVersion, sig.HandshakeVersion)
	}
	ciphers, err := list(sig.Ciphersuites)
	if err != nil {
		return helloSpec{}, 0, err
	}
	groups, err := list(sig.SupportedGroups)
	if err != nil {
		return helloSpec{}, 0, err
	}
	var versions []uint16
	for _, v := range sig.SupportedVersions {
		if v == "GREASE" {
			versions = append(versions, grease())
		} else if x, ok := tlsVersions[v]; ok {
			versions = append(versions, x)
		} else {
			return helloSpec{}, 0, fmt.Errorf("supported version %q", v)
		}
	}
	var sigalgs []uint16
	for _, v := range sig.SigHashAlgs {
		sigalgs = append(sigalgs, uint16(v))
	}
	s := helloSpec{version: legacy, ciphers: ciphers, sessionID: make([]byte, 32)}
	for _, name := range sig.Extensions {
		if name == "GREASE" {
			s.exts = append(s.exts, emptyExt(grease()))
			continue
		}
		id, ok := extensionIDs[name]
		if !ok {
			return helloSpec{}, 0, fmt.Errorf("unknown extension name %q", name)
		}
		var e ext
		switch id {
		case extServerName:
			e = sniExt("example.com")
		case extSupportedGroups:
			e = groupsExt(groups...)
		case extECPointFormats:
			var pf []byte
			for _, p := range sig.ECPointFormats {
				pf = append(pf, byte(p))
			}
			e = pointsExt(pf...)
		case extALPN:
			e = alpnExt(sig.ALPN...)
		case extSignatureAlgorithms:
			e = sigalgsExt(sigalgs...)
		case extSupportedVersions:
			e = versionsExt(versions...)
		case 51:
			e = keyShareExt(grease())
		case 17513:
			e = alpnExt(sig.ALPS...)
			e.typ = id
		case 5:
			e = rawExt(id, 1, 0, 0, 0, 0)
		case 27:
			e = rawExt(id, 2, 0, 2)
		case 28:
			e = rawExt(id, 0x40, 0x01)
		case 34:
			e = ext{id, u16vec(0x0403, 0x0503, 0x0603, 0x0203)}
		case 45:
			e = rawExt(id, 1, 1)
		case 65281:
			e = rawExt(id, 0)
		case 21:
			e = paddingExt(100)
		default:
			e = emptyExt(id)
		}
		s.exts = append(s.exts, e)
	}
	return s, recVersion, nil
}

// TestJA4Mapping checks FoxIO's labelled JA4 values: each is a well-formed JA4 whose
// cipher hash JA4B extracts, and the browsers carry their TLS library's cipher hash.
func TestJA4Mapping(t *testing.T) {
	rows := loadRows(t, "ja4-mapping")
	if len(rows) != 35 {
		t.Errorf("%d ja4-mapping rows, want 35", len(rows))
	}
	family := map[string]string{
		"Chromium Browser": "8daaf6152771", "Mozilla Firefox": "5b57614c22b0", "Safari": "a09f3c656075",
	}
	for _, row := range rows {
		t.Run(strconv.Itoa(row.Index), func(t *testing.T) {
			b, ok := JA4B(row.JA4)
			if !ok {
				t.Fatalf("JA4B(%q) not ok", row.JA4)
			}
			if row.Application == nil {
				return
			}
			want, isBrowser := family[*row.Application]
			if isBrowser && row.JA4[0] == 't' && b != want {
				t.Errorf("%s over TCP: cipher hash %s, want %s", *row.Application, b, want)
			}
		})
	}
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
