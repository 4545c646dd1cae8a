package knownclients_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// golden is one client measured on loopback (fingerprinting.md §9.1 and §3.5). The
// values were copied from the reference document by hand, not from the table.
type golden struct {
	name   string
	family string // the family the evidence must map to
	ja4    string
	akamai string
	h1     []string // HTTP/1.1 header names as sent
	h2     []string // HTTP/2 regular header names as sent
}

var goldens = []golden{
	{
		name:   "headless_chromium_156",
		family: "headless-chrome",
		ja4:    "t13d1517h2_8daaf6152771_cb7bf5808d99",
		akamai: "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p",
		h1:     strings.Split("Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language", ","),
		h2:     strings.Split("sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,upgrade-insecure-requests,user-agent,accept,sec-fetch-site,sec-fetch-mode,sec-fetch-user,sec-fetch-dest,accept-encoding,accept-language,priority", ","),
	},
	{
		name:   "curl_7_88_1",
		family: "curl",
		ja4:    "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
		akamai: "3:100;4:33554432;2:0|33488897|0|m,p,s,a",
		h1:     []string{"Host", "User-Agent", "Accept"},
		h2:     []string{"user-agent", "accept"},
	},
	{
		name:   "go_1_26_net_http",
		family: "go",
		ja4:    "t13d1312h2_f57a46bbacb6_ab7e3b40a677",
		akamai: "2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s",
		h1:     []string{"Host", "User-Agent", "Accept-Encoding"},
		h2:     []string{"accept-encoding", "user-agent"},
	},
	{
		name:   "go_1_26_no_alpn_ip_literal",
		family: "go",
		ja4:    "t13i131000_f57a46bbacb6_ab7e3b40a677",
	},
	{
		name:   "python_requests_2_34_2",
		family: "python-requests",
		ja4:    "t13d1812h1_85036bcba153_b26ce05bbdd6",
		h1:     []string{"Host", "User-Agent", "Accept-Encoding", "Accept", "Connection"},
	},
	{
		name:   "python_urllib_3_11",
		family: "python-urllib",
		ja4:    "t13d181100_85036bcba153_d41ae481755e",
		h1:     []string{"Accept-Encoding", "Host", "User-Agent", "Connection"},
	},
	{
		name:   "node_20_undici",
		family: "node-undici",
		ja4:    "t13d5911h1_a33745022dd6_1f22a2ca17c4",
		h1:     []string{"host", "connection", "accept", "accept-language", "sec-fetch-mode", "user-agent", "accept-encoding"},
	},
	{
		name:   "node_20_https",
		family: "node-https",
		ja4:    "t13d591000_a33745022dd6_1f22a2ca17c4",
		h1:     []string{"Host", "Connection"},
	},
	{
		name:   "wget_1_21_3",
		family: "wget",
		ja4:    "t13d291300_723694b0fccc_899037bd0b8c",
		h1:     []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Connection"},
	},
}

// stack is the TLS stack of each golden family (fingerprinting.md §10).
var goldenStack = map[string]string{
	"headless-chrome": "boringssl", "curl": "openssl", "go": "go", "python-requests": "python-openssl",
	"python-urllib": "python-openssl", "node-undici": "node-openssl", "node-https": "node-openssl",
	"wget": "gnutls",
}

// families returns the families of ms, and the confidences they were found with.
func families(ms []knownclients.Match) (names []string, conf []knownclients.Confidence) {
	for _, m := range ms {
		names = append(names, m.Family)
		conf = append(conf, m.Confidence)
	}
	return names, conf
}

func contains(ms []knownclients.Match, family string) bool {
	for _, m := range ms {
		if m.Family == family {
			return true
		}
	}
	return false
}

// TestGoldenValues checks that every value measured on loopback maps to the family
// that produced it, with the confidence of its kind of evidence.
func TestGoldenValues(t *testing.T) {
	tb := knownclients.Default()
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			ms := tb.ByJA4(g.ja4)
			if !contains(ms, g.family) {
				t.Errorf("ByJA4(%s) = %v, want %s", g.ja4, ms, g.family)
			}
			for _, m := range ms {
				if m.Confidence != knownclients.ConfidenceJA4 || m.Stack != goldenStack[g.family] {
					t.Errorf("ByJA4(%s): %+v, want confidence ja4 and stack %s", g.ja4, m, goldenStack[g.family])
				}
			}
			b := g.ja4[11:23]
			if ms := tb.ByJA4B(b); !contains(ms, g.family) || ms[0].Stack != goldenStack[g.family] || ms[0].Confidence != knownclients.ConfidenceJA4B {
				t.Errorf("ByJA4B(%s) = %v, want %s on stack %s", b, ms, g.family, goldenStack[g.family])
			}
			if g.akamai != "" {
				ms := tb.ByH2(g.akamai, "")
				if !contains(ms, g.family) || ms[0].Confidence != knownclients.ConfidenceH2 {
					t.Errorf("ByH2(%s) = %v, want %s with confidence h2", g.akamai, ms, g.family)
				}
			}
			for proto, names := range map[string][]string{"h1": g.h1, "h2": g.h2} {
				if names == nil {
					continue
				}
				ms := tb.ByHeaderOrder(proto, names)
				if !contains(ms, g.family) || ms[0].Confidence != knownclients.ConfidenceHeaderExact {
					t.Errorf("ByHeaderOrder(%s, %q) = %v, want %s exactly", proto, names, ms, g.family)
				}
			}
		})
	}
}

// TestGoldenFamiliesAreDistinct checks that each library's exact evidence maps to that
// library alone: JA4 and header order separate python-requests from urllib, which share
// a stack, and Go from curl.
func TestGoldenFamiliesAreDistinct(t *testing.T) {
	tb := knownclients.Default()
	for _, g := range goldens {
		if g.family == "headless-chrome" {
			continue // shares everything with the chrome group, tested below
		}
		t.Run(g.name, func(t *testing.T) {
			got, _ := families(tb.ByJA4(g.ja4))
			if diff := cmp.Diff([]string{g.family}, got); diff != "" {
				t.Errorf("ByJA4 families (-want +got):\n%s", diff)
			}
			if g.h1 != nil {
				got, _ := families(tb.ByHeaderOrder("h1", g.h1))
				if diff := cmp.Diff([]string{g.family}, got); diff != "" {
					t.Errorf("ByHeaderOrder h1 families (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestChromiumGroup checks that Chrome's evidence names every Chromium-based family,
// Chrome first, and that each keeps its own kind.
func TestChromiumGroup(t *testing.T) {
	tb := knownclients.Default()
	ms := tb.ByJA4("t13d1517h2_8daaf6152771_cb7bf5808d99")
	type fk struct {
		Family, Group string
		Kind          knownclients.Kind
	}
	var got []fk
	for _, m := range ms {
		got = append(got, fk{m.Family, m.Group, m.Kind})
	}
	want := []fk{
		{"chrome", "chrome", knownclients.KindBrowser},
		{"edge", "chrome", knownclients.KindBrowser},
		{"opera", "chrome", knownclients.KindBrowser},
		{"brave", "chrome", knownclients.KindBrowser},
		{"headless-chrome", "chrome", knownclients.KindAutomation},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ByJA4 (-want +got):\n%s", diff)
	}
}

// TestReferenceStacks checks the TLS stacks of fingerprinting.md §10 ("TLS stack by
// JA4_b") and the Chrome JA4 values it lists over time.
func TestReferenceStacks(t *testing.T) {
	tb := knownclients.Default()
	stacks := []struct {
		ja4b, stack, family string
	}{
		{"8daaf6152771", "boringssl", "chrome"},
		{"5b57614c22b0", "nss", "firefox"},
		{"a09f3c656075", "apple", "safari"},
		{"e8f1e7e78f70", "openssl", "curl"},
		{"f57a46bbacb6", "go", "go"},
		{"9dc949149365", "go", "go"}, // the FoxIO mapping's older Go row
		{"85036bcba153", "python-openssl", "python-requests"},
		{"a33745022dd6", "node-openssl", "node-undici"},
	}
	for _, s := range stacks {
		t.Run(s.stack+"_"+s.ja4b, func(t *testing.T) {
			ms := tb.ByJA4B(s.ja4b)
			if !contains(ms, s.family) {
				t.Errorf("ByJA4B(%s) = %v, want %s among them", s.ja4b, ms, s.family)
			}
			for _, m := range ms {
				if m.Stack != s.stack {
					t.Errorf("ByJA4B(%s): %s on stack %q, want %q", s.ja4b, m.Family, m.Stack, s.stack)
				}
			}
		})
	}
	for _, ja4 := range []string{
		"t13d1516h2_8daaf6152771_e5627efa2ab1", // JA4.md worked example
		"t13d1516h2_8daaf6152771_02713d6af862", // FoxIO README, fresh
		"t13d1517h2_8daaf6152771_b0da82dd1658", // PSK
		"t13d1517h2_8daaf6152771_b1ff8ab2d16f", // "no key"
		"t13d1516h2_8daaf6152771_d8a2da3f94cd", // Chrome 136
		"t13d1517h2_8daaf6152771_cb7bf5808d99", // Chromium 156
	} {
		if ms := tb.ByJA4(ja4); len(ms) == 0 || ms[0].Family != "chrome" {
			t.Errorf("ByJA4(%s) = %v, want chrome first", ja4, ms)
		}
	}
}
