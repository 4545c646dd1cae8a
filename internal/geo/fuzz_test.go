package geo

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseRanges feeds arbitrary files to the cloud range parser: it must not
// panic, and what it accepts must be usable as it is: at least one prefix, each
// valid, masked and, for IPv4, in IPv4 form, with a label of a known kind.
func FuzzParseRanges(f *testing.F) {
	for _, tc := range rangeCases {
		_, data := tc.input(f)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		label, pfxs, err := parseRanges("list:fuzz", data)
		if err != nil {
			if label != "" || pfxs != nil {
				t.Fatalf("error %v with label %q and %d prefixes", err, label, len(pfxs))
			}
			return
		}
		switch label {
		case "cloud:aws", "cloud:gcp", "cloud:google", "cloud:azure", "cloud:oracle", "list:fuzz":
		default:
			t.Fatalf("label %q", label)
		}
		if len(pfxs) == 0 {
			t.Fatal("no error and no prefixes")
		}
		for _, p := range pfxs {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || (p.Addr().Is4In6() && p.Bits() >= 96) {
				t.Fatalf("prefix %v (valid %v) is not in canonical form", p, p.IsValid())
			}
		}
		if isJSON := bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("{")); isJSON != (label != "list:fuzz") {
			t.Fatalf("label %q for input that is JSON = %v", label, isJSON)
		}
	})
}

// FuzzParseRangesTextLine checks the text format against the standard library: a
// file of one line is accepted exactly when netip accepts the line, less its
// comment, as a prefix or a zone-free address, and the prefix returned covers it.
func FuzzParseRangesTextLine(f *testing.F) {
	for _, s := range []string{
		"192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "::ffff:203.0.113.0/120", "::ffff:0:0/80",
		"10.1.2.3/8 # unmasked", "fe80::1%eth0", "192.0.2.0/33", "", "# comment", " 1.2.3.4 ", "1.2.3.4/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") || strings.HasPrefix(line, "\xef\xbb\xbf") || strings.HasPrefix(strings.TrimLeft(line, " \t"), "{") {
			return // one line of text only
		}
		pfxs, err := parseRangesText([]byte(line))

		text, _, _ := strings.Cut(line, "#")
		text = strings.TrimSpace(text)
		var want netip.Prefix
		if strings.Contains(text, "/") {
			want, _ = netip.ParsePrefix(text)
		} else if a, err := netip.ParseAddr(text); err == nil && a.Zone() == "" {
			want = netip.PrefixFrom(a, a.BitLen())
		}
		if len(text) > 4000 {
			return // longer than a line may be; rejected whatever it holds
		}
		if want.IsValid() != (err == nil) {
			t.Fatalf("parseRangesText(%q) error = %v; netip says valid = %v", line, err, want.IsValid())
		}
		if err != nil {
			return
		}
		if len(pfxs) != 1 {
			t.Fatalf("parseRangesText(%q) = %d prefixes, want 1", line, len(pfxs))
		}
		got, first := pfxs[0], want.Masked().Addr()
		if first.Is4In6() && want.Bits() >= 96 {
			first = first.Unmap()
		}
		if !got.Contains(first) {
			t.Fatalf("parseRangesText(%q) = %v, which does not contain %v", line, got, first)
		}
	})
}
