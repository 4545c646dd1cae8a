package h2tap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// akamaiVectors are Akamai strings from fingerprinting.md §3.4 and §3.5; the hashes are
// the pairs quoted in sleeyax/burp-awesome-tls#138.
var akamaiVectors = []struct {
	name, akamai, hash string
}{
	{"safari_vector", "3:100;4:10485760;2:0|1048510465|0|m,s,a,p", "64a832f547be33249bf4d33e8a46c5dc"},
	{"chromium_156", chromeAkamai, "52d84b11737d980aef856699f885ca86"},
	{"curl_7_88", "3:100;4:33554432;2:0|33488897|0|m,p,s,a", ""},
	{"go_1_26", goAkamai, ""},
	{"synthetic_priority", firefoxAkamai, ""},
	{"nothing_sent", "|00|0|", ""},
}

func TestAkamaiVectors(t *testing.T) {
	for _, v := range akamaiVectors {
		t.Run(v.name, func(t *testing.T) {
			fp, err := ParseAkamai(v.akamai)
			if err != nil {
				t.Fatal(err)
			}
			if got := fp.Akamai(); got != v.akamai {
				t.Errorf("Akamai() = %q, want %q", got, v.akamai)
			}
			if v.hash != "" && fp.AkamaiHash() != v.hash {
				t.Errorf("AkamaiHash() = %s, want %s", fp.AkamaiHash(), v.hash)
			}
		})
	}
}

// TestAkamaiFields checks the parts of the string against a Fingerprint built by hand.
func TestAkamaiFields(t *testing.T) {
	fp := Fingerprint{
		Settings:     []Setting{{1, 65536}, {4, 131072}, {5, 16384}},
		WindowUpdate: 12517377,
		Priorities: []Priority{
			{StreamID: 3, DependsOn: 0, Weight: 201}, {StreamID: 5, Weight: 101}, {StreamID: 7, Weight: 1},
			{StreamID: 9, DependsOn: 7, Weight: 1}, {StreamID: 11, DependsOn: 3, Weight: 1}, {StreamID: 13, Weight: 241},
		},
		Pseudo:          []string{":method", ":path", ":authority", ":scheme"},
		HeadersPriority: Priority{Exclusive: true, Weight: 256}, // not part of the string
	}
	if got := fp.Akamai(); got != firefoxAkamai {
		t.Errorf("Akamai() = %q, want %q", got, firefoxAkamai)
	}
	fp.Priorities[0].Exclusive = true
	if got := fp.Akamai(); !strings.Contains(got, "|3:1:0:201,") {
		t.Errorf("exclusive PRIORITY printed as %q", got)
	}
	parsed, err := ParseAkamai(firefoxAkamai)
	if err != nil {
		t.Fatal(err)
	}
	fp.Priorities[0].Exclusive = false
	fp.HeadersPriority = Priority{}
	if diff := cmp.Diff(fp, parsed); diff != "" {
		t.Errorf("ParseAkamai (-want +got):\n%s", diff)
	}
}

func TestParseAkamaiRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"1:2|00|0",
		"1:2|00|0|m|x",
		"1|00|0|m",
		"01:2|00|0|m",
		"1:02|00|0|m",
		"65536:1|00|0|m",
		"1:4294967296|00|0|m",
		"1:2;|00|0|m",
		"1:2|0|0|m",
		"1:2|000|0|m",
		"1:2|+5|0|m",
		"1:2|00||m",
		"1:2|00|3:2:0:1|m",
		"1:2|00|3:0:0:0|m",
		"1:2|00|3:0:0:257|m",
		"1:2|00|3:0:0|m",
		"1:2|00|0|M",
		"1:2|00|0|m,",
		"1:2|00|0|ma",
	} {
		if fp, err := ParseAkamai(s); err == nil {
			t.Errorf("ParseAkamai(%q) = %+v, want an error", s, fp)
		}
	}
}

func TestSettingsEqual(t *testing.T) {
	chrome, err := ParseAkamai(chromeAkamai)
	if err != nil {
		t.Fatal(err)
	}
	greased := []Setting{{1, 65536}, {2, 0}, {0x7a9a, 3127563}, {4, 6291456}, {6, 262144}, {0x1a2a, 0}}
	for _, tc := range []struct {
		name string
		a, b []Setting
		want bool
	}{
		{"same", chrome.Settings, chrome.Settings, true},
		{"grease_ignored", greased, chrome.Settings, true},
		{"grease_ignored_reversed", chrome.Settings, greased, true},
		{"both_empty", nil, []Setting{{0xaaaa, 1}}, true},
		{"value_differs", chrome.Settings, []Setting{{1, 65536}, {2, 1}, {4, 6291456}, {6, 262144}}, false},
		{"order_differs", chrome.Settings, []Setting{{2, 0}, {1, 65536}, {4, 6291456}, {6, 262144}}, false},
		{"missing_one", chrome.Settings, chrome.Settings[:3], false},
		{"unknown_id_not_grease", chrome.Settings, append(chrome.Settings[:4:4], Setting{8, 1}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SettingsEqual(tc.a, tc.b); got != tc.want {
				t.Errorf("SettingsEqual(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestIsGREASE(t *testing.T) {
	for id, want := range map[uint16]bool{
		0x0a0a: true, 0x7a9a: true, 0xfafa: true, 0x1a2a: true,
		1: false, 9: false, 0x0a0b: false, 0xa0a0: false, 0x7a9b: false,
	} {
		if got := IsGREASE(id); got != want {
			t.Errorf("IsGREASE(%#04x) = %v, want %v", id, got, want)
		}
	}
}

// FuzzParseAkamai checks that ParseAkamai accepts exactly the strings Akamai prints:
// whatever it parses prints back unchanged, and never panics.
func FuzzParseAkamai(f *testing.F) {
	for _, v := range akamaiVectors {
		f.Add(v.akamai)
	}
	for _, tc := range tapCases {
		if tc.akamai != "" {
			f.Add(tc.akamai)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := ParseAkamai(s)
		if err != nil {
			return
		}
		if got := fp.Akamai(); got != s {
			t.Fatalf("ParseAkamai(%q).Akamai() = %q", s, got)
		}
		again, err := ParseAkamai(fp.Akamai())
		if err != nil || !cmp.Equal(fp, again, cmpopts.EquateEmpty()) {
			t.Fatalf("second parse of %q: %+v, %v", s, again, err)
		}
	})
}
