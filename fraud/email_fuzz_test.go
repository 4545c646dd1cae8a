package fraud_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigilhq/vigil/fraud"
)

// FuzzAnalyzeEmail feeds arbitrary strings to the parser and checks, whatever the
// input:
//
//   - AnalyzeEmail, CanonicalEmail and DetectEmailAbuse never panic;
//   - AnalyzeEmail (offline) and CanonicalEmail agree on validity and canonical form;
//   - canonicalisation is idempotent: a canonical form is valid and is its own
//     canonical form;
//   - a valid report respects the length limits and has a lower-case ASCII domain;
//   - differential against net/mail: an address accepted here, written without a
//     trailing dot, is accepted by mail.ParseAddress, which returns the same local part
//     for an unquoted one.
func FuzzAnalyzeEmail(f *testing.F) {
	for _, tc := range canonicalCases {
		f.Add(tc.in)
	}
	for _, tc := range abuseCases {
		for _, e := range tc.emails {
			f.Add(e)
		}
	}
	// Characters whose lower case is longer, or decomposes, and IDNA mappings.
	for _, s := range []string{"İ@x.com", "ȺȺ@x.com", "\"İ x\"@x.com", "a@ß.de", "a@xn--zca.de", "a@İ.com",
		"a@💩.la", "x@" + strings.Repeat("b", 63) + ".fastmail.com", strings.Repeat("Ⱥ", 32) + "@x.com"} {
		f.Add(s)
	}
	a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := a.AnalyzeEmail(context.Background(), in)
		c, ok := fraud.CanonicalEmail(in)
		if ok != r.Valid || c != r.Canonical {
			t.Fatalf("CanonicalEmail = %q, %v; AnalyzeEmail = %q, %v", c, ok, r.Canonical, r.Valid)
		}
		fraud.DetectEmailAbuse([]string{in, c, in + "1", c})
		if !r.Valid {
			if r.Invalid == "" || r.RiskScore != 100 {
				t.Fatalf("invalid without a code or score: %+v", r)
			}
			return
		}
		c2, ok2 := fraud.CanonicalEmail(c)
		if !ok2 || c2 != c {
			t.Fatalf("canonical %q of %q is not a fixed point: %q, %v", c, in, c2, ok2)
		}
		if r.Domain != strings.ToLower(r.Domain) || !isASCII(r.Domain) || len(r.Domain) > 253 {
			t.Fatalf("domain %q is not lower-case ASCII within 253 octets", r.Domain)
		}
		if len(r.Local) > 64 || len(r.Local)+1+len(r.Domain) > 254 || r.RiskScore < 0 || r.RiskScore > 100 {
			t.Fatalf("limits broken: %+v", r)
		}
		trimmed := strings.TrimSpace(in)
		domain := trimmed[strings.LastIndexByte(trimmed, '@')+1:]
		if strings.HasSuffix(domain, ".") || !utf8.ValidString(domain) || !isASCII(domain) {
			return
		}
		m, err := mail.ParseAddress(trimmed)
		if err != nil {
			t.Fatalf("accepted %q, which net/mail refuses: %v", trimmed, err)
		}
		if !strings.HasPrefix(r.Local, `"`) && m.Address != r.Local+"@"+domain {
			t.Fatalf("net/mail reads %q as %q, this package as %q@%q", trimmed, m.Address, r.Local, domain)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
