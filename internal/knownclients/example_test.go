package knownclients_test

import (
	"fmt"

	"github.com/vigilhq/vigil/internal/knownclients"
)

// A JA4 names the families that send it: Chromium-based browsers all share Chrome's.
func ExampleTable_ByJA4() {
	tb := knownclients.Default()
	for _, m := range tb.ByJA4("t13d1516h2_8daaf6152771_02713d6af862") {
		fmt.Println(m.Family, m.Kind, m.Stack, m.Confidence)
	}
	// A resumed handshake has another JA4; its cipher hash still names the stack.
	fmt.Println(tb.ByJA4("t13d1517h2_8daaf6152771_0123456789ab") == nil, tb.ByJA4B("8daaf6152771")[0].Stack)
	// Output:
	// chrome browser boringssl ja4
	// edge browser boringssl ja4
	// opera browser boringssl ja4
	// brave browser boringssl ja4
	// headless-chrome automation boringssl ja4
	// true boringssl
}

// curl with a Chrome User-Agent: every layer says curl.
func ExampleTable_Compare() {
	tb := knownclients.Default()
	a := tb.Compare(
		knownclients.Claim{Family: "chrome", OS: "windows"},
		knownclients.Evidence{
			JA4:         "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
			Akamai:      "3:100;4:33554432;2:0|33488897|0|m,p,s,a",
			Proto:       "h2",
			HeaderNames: []string{":method", ":path", ":scheme", ":authority", "user-agent", "accept"},
		},
	)
	fmt.Println(a.Verdict, a.Score)
	for _, r := range a.Reasons() {
		fmt.Println(r)
	}
	// Output:
	// inconsistent 6
	// tls: JA4_b e8f1e7e78f70 is the openssl stack; chrome uses boringssl
	// h2: SETTINGS 3:100;4:33554432;2:0 are curl's, not chrome's
	// headers: names are exactly curl's template
}

// Chrome on iOS (CriOS) must use WebKit networking, so it shows Safari's fingerprints.
func ExampleTable_Compare_ios() {
	tb := knownclients.Default()
	a := tb.Compare(
		knownclients.Claim{Family: "chrome", OS: "ios"},
		knownclients.Evidence{JA4: "t13d2014h2_a09f3c656075_14788d8d241b", PseudoOrder: "m,s,p,a"},
	)
	fmt.Println(a.Verdict, a.Expected)
	for _, r := range a.Reasons() {
		fmt.Println(r)
	}
	// Output:
	// consistent safari
	// tls: JA4 t13d2014h2_a09f3c656075_14788d8d241b is a known safari value
	// h2: pseudo-header order m,s,p,a is safari's
}

// A policy overlay adds a new Chrome release's JA4 without a new binary.
func ExampleTable_Merge() {
	overlay := []byte(`{
	  "version": 1,
	  "revision": "policy-42",
	  "families": [{
	    "name": "chrome", "extend": true, "source": "policy",
	    "ja4": [{"value": "t13d1516h2_8daaf6152771_806a8c22fdea", "source": "policy example: measured by the operator"}]
	  }]
	}`)
	tb, err := knownclients.Default().Merge(overlay)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tb.Revision())
	fmt.Println(tb.ByJA4("t13d1516h2_8daaf6152771_806a8c22fdea")[0].Source)
	// Output:
	// 2026-11-21.1+policy-42
	// policy example: measured by the operator
}
