package spoof

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// Measured on loopback (see the fingerprinting reference, §9.1).
const (
	ja4Curl     = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
	ja4CurlH1   = "t13d3112h1_e8f1e7e78f70_b26ce05bbdd6"
	ja4Chromium = "t13d1517h2_8daaf6152771_cb7bf5808d99"
	ja4Go       = "t13d1312h2_f57a46bbacb6_ab7e3b40a677"
	akamaiCurl  = "3:100;4:33554432;2:0|33488897|0|m,p,s,a"
	akamaiChrom = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p"
	akamaiGo    = "2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s"
)

var chromeH1Order = []string{"Host", "Connection", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform",
	"Upgrade-Insecure-Requests", "User-Agent", "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User",
	"Sec-Fetch-Dest", "Accept-Encoding", "Accept-Language"}

func TestCheck(t *testing.T) {
	table := knownclients.Default()
	for _, tc := range []struct {
		name  string
		claim Claim
		dna   fingerprint.DNA
		want  string // the finding's code, "" for none
	}{
		{"curl_posing_as_chrome_h1", Claim{Family: "chrome", Navigation: true},
			fingerprint.DNA{Protocol: "h1", HeaderOrder: []string{"Host", "User-Agent", "Accept"}, TLS: &fingerprint.TLS{JA4: ja4CurlH1}}, CodeSpoofed},
		{"curl_posing_as_chrome_h2", Claim{Family: "chrome"},
			fingerprint.DNA{Protocol: "h2", HeaderOrder: []string{"user-agent", "accept"}, TLS: &fingerprint.TLS{JA4: ja4Curl}, H2: &fingerprint.H2{Akamai: akamaiCurl}}, CodeSpoofed},
		{"go_posing_as_chrome_h2_only", Claim{Family: "chrome"},
			fingerprint.DNA{H2: &fingerprint.H2{Akamai: akamaiGo}}, CodeSpoofed},
		{"chrome_itself", Claim{Family: "chrome", Navigation: true},
			fingerprint.DNA{Protocol: "h2", TLS: &fingerprint.TLS{JA4: ja4Chromium}, H2: &fingerprint.H2{Akamai: akamaiChrom}}, ""},
		{"chrome_h1_navigation", Claim{Family: "chrome", Navigation: true},
			fingerprint.DNA{Protocol: "h1", HeaderOrder: chromeH1Order, TLS: &fingerprint.TLS{JA4: ja4Chromium}}, ""},
		{"edge_on_chrome_stack", Claim{Family: "edge"},
			fingerprint.DNA{TLS: &fingerprint.TLS{JA4: ja4Chromium}, H2: &fingerprint.H2{Akamai: akamaiChrom}}, ""},
		{"headless_chrome_is_not_spoofing", Claim{Family: "headless-chrome"},
			fingerprint.DNA{TLS: &fingerprint.TLS{JA4: ja4Chromium}, H2: &fingerprint.H2{Akamai: akamaiChrom}}, ""},
		{"interception_proxy", Claim{Family: "chrome", Navigation: true},
			fingerprint.DNA{Protocol: "h1", HeaderOrder: chromeH1Order, TLS: &fingerprint.TLS{JA4: ja4CurlH1}}, CodeMismatch},
		{"go_client_is_go", Claim{Family: "go-http-client"},
			fingerprint.DNA{TLS: &fingerprint.TLS{JA4: ja4Go}, H2: &fingerprint.H2{Akamai: akamaiGo}}, ""},
		{"curl_is_curl", Claim{Family: "curl"},
			fingerprint.DNA{Protocol: "h1", HeaderOrder: []string{"Host", "User-Agent", "Accept"}, TLS: &fingerprint.TLS{JA4: ja4CurlH1}}, ""},
		{"unknown_family", Claim{Family: "mj12bot"},
			fingerprint.DNA{TLS: &fingerprint.TLS{JA4: ja4Curl}}, ""},
		{"no_claim", Claim{},
			fingerprint.DNA{TLS: &fingerprint.TLS{JA4: ja4Curl}}, ""},
		{"no_evidence", Claim{Family: "chrome"}, fingerprint.DNA{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Check(nil, table, tc.claim, &tc.dna)
			got := ""
			if len(fs) > 0 {
				got = fs[0].Code
			}
			if len(fs) > 1 || got != tc.want {
				t.Fatalf("findings %+v, want %q", fs, tc.want)
			}
			if got != "" && (fs[0].Detector != "fingerprint" || !strings.HasPrefix(fs[0].Detail, "claims "+tc.claim.Family+": ")) {
				t.Errorf("finding %+v", fs[0])
			}
		})
	}
	// The scores put a spoofed client over the default block threshold (80) on its
	// own, and a likely interception well under it.
	d := fingerprint.DNA{Protocol: "h1", HeaderOrder: []string{"Host", "User-Agent", "Accept"}, TLS: &fingerprint.TLS{JA4: ja4CurlH1}}
	if fs := Check(nil, table, Claim{Family: "chrome"}, &d); len(fs) != 1 || fs[0].Score < 80 {
		t.Errorf("spoofed client: %+v", fs)
	}
	if fs := Check(nil, nil, Claim{Family: "chrome"}, &d); len(fs) != 0 {
		t.Errorf("nil table: %+v", fs)
	}
}

func TestCheckDoesNotAllocateForConsistentClients(t *testing.T) {
	table := knownclients.Default()
	d := fingerprint.DNA{Protocol: "h2", TLS: &fingerprint.TLS{JA4: ja4Chromium}, H2: &fingerprint.H2{Akamai: akamaiChrom}}
	buf := make([]detect.Finding, 0, 4)
	if n := vigiltest.AllocsPerRun(100, func() { Check(buf[:0], table, Claim{Family: "chrome"}, &d) }); n != 0 {
		t.Errorf("Check allocates %v times for a consistent client, want 0", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	table := knownclients.Default()
	d := fingerprint.DNA{Protocol: "h1", HeaderOrder: chromeH1Order, TLS: &fingerprint.TLS{JA4: ja4Chromium}}
	buf := make([]detect.Finding, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		Check(buf[:0], table, Claim{Family: "chrome", Navigation: true}, &d)
	}
}
