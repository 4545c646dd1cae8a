package dna

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/fingerprint"

	"github.com/vigilhq/vigil/internal/headers"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

func request(h map[string]string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "https://example.test/", nil)
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

var chrome = map[string]string{
	"User-Agent":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
	"Accept":          "text/html,application/xhtml+xml",
	"Accept-Language": "en-GB,en;q=0.9",
	"Accept-Encoding": "gzip, deflate, br, zstd",
	"Sec-Ch-Ua":       `"Chromium";v="142"`,
	"Sec-Fetch-Mode":  "navigate",
	"Cookie":          "a=1",
}

func TestFromRequest(t *testing.T) {
	h := NewHasher()
	base := h.FromRequest(request(chrome), "chrome", "browser")

	t.Run("presence_vector", func(t *testing.T) {
		for _, name := range []string{"User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Sec-Ch-Ua", "Sec-Fetch-Mode", "Cookie"} {
			i := slices.Index(headers.Vocabulary(), name)
			if i < 0 || base.Presence&(1<<uint(i)) == 0 {
				t.Errorf("%s not in the presence vector %b", name, base.Presence)
			}
		}
		if got := popcount(base.Presence); got != 7 {
			t.Errorf("%d bits set, want 7", got)
		}
		if base.Extra != 0 || base.Family != "chrome" || base.Kind != "browser" || base.Source != "request" {
			t.Errorf("DNA %+v", base)
		}
	})
	t.Run("stable_across_values_that_do_not_shape", func(t *testing.T) {
		other := maps(chrome, "Cookie", "b=2")
		if got := h.FromRequest(request(other), "chrome", "browser").ID; got != base.ID {
			t.Errorf("a different cookie value changed the ID: %s vs %s", got, base.ID)
		}
	})
	t.Run("shaped_values_change_id", func(t *testing.T) {
		for _, name := range []string{"User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Sec-Ch-Ua", "Sec-Fetch-Mode"} {
			if got := h.FromRequest(request(maps(chrome, name, "x")), "chrome", "browser").ID; got == base.ID {
				t.Errorf("changing %s kept the ID", name)
			}
		}
	})
	t.Run("presence_changes_id", func(t *testing.T) {
		withDNT := maps(chrome, "Dnt", "1")
		if got := h.FromRequest(request(withDNT), "chrome", "browser").ID; got == base.ID {
			t.Error("adding DNT kept the ID")
		}
		extra := h.FromRequest(request(maps(chrome, "X-Custom", "1")), "chrome", "browser")
		if extra.Extra != 1 || extra.ID == base.ID {
			t.Errorf("an unknown header: extra %d, ID changed %v", extra.Extra, extra.ID != base.ID)
		}
	})
	t.Run("id_format", func(t *testing.T) {
		if len(base.ID) != 19 || base.ID[:3] != "d1-" {
			t.Errorf("ID %q", base.ID)
		}
	})
}

func TestFromRequestAllocs(t *testing.T) {
	h := NewHasher()
	r := request(chrome)
	if n := vigiltest.AllocsPerRun(100, func() { h.FromRequest(r, "chrome", "browser") }); n > 0 {
		t.Errorf("%.0f allocs for a profile seen before, want 0 (its ID is cached)", n)
	}
}

func BenchmarkFromRequest(b *testing.B) {
	h := NewHasher()
	r := request(chrome)
	b.ReportAllocs()
	for b.Loop() {
		h.FromRequest(r, "chrome", "browser")
	}
}

func maps(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func popcount(x uint64) (n int) {
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// TestShapedNames pins which headers' values shape the ID.
func TestShapedNames(t *testing.T) {
	for _, n := range []headers.Name{headers.UserAgent, headers.Accept, headers.AcceptEncoding, headers.AcceptLanguage, headers.SecChUa, headers.SecFetchMode} {
		if shaped&(1<<n) == 0 {
			t.Errorf("%s is not in the shaped set", n)
		}
	}
	if n := popcount(shaped); n != 6 {
		t.Errorf("shaped has %d bits, want 6", n)
	}
}

// TestFromRequestOrderIndependent: the ID must not depend on map iteration order, so the
// same request gives the same ID every time.
func TestFromRequestOrderIndependent(t *testing.T) {
	h := NewHasher()
	r := request(chrome)
	first := h.FromRequest(r, "", "").ID
	for range 50 {
		if got := h.FromRequest(r, "", "").ID; got != first {
			t.Fatalf("ID changed between calls: %s vs %s", got, first)
		}
	}
	// Two values of one header in the other order are a different profile.
	a, b := request(chrome), request(chrome)
	a.Header["Accept-Language"] = []string{"en", "de"}
	b.Header["Accept-Language"] = []string{"de", "en"}
	if h.FromRequest(a, "", "").ID == h.FromRequest(b, "", "").ID {
		t.Error("value order within a header did not change the ID")
	}
}

// IDs are the same in every process: two Hashers (two random cache seeds) agree.
func TestIDIsStableAcrossHashers(t *testing.T) {
	a, b := NewHasher(), NewHasher()
	r := request(chrome)
	if x, y := a.FromRequest(r, "chrome", "browser").ID, b.FromRequest(r, "chrome", "browser").ID; x != y {
		t.Fatalf("IDs differ between hashers: %s vs %s", x, y)
	}
}

// TestIDFollowsTheDocumentedRecord recomputes an ID from the canonical record written
// out by hand as docs/dna.md specifies it.
func TestIDFollowsTheDocumentedRecord(t *testing.T) {
	r := request(map[string]string{"User-Agent": "curl/8.5.0", "Accept": "*/*"})
	var hs headers.Set
	hs.Read(r.Header)
	in := &Input{Protocol: "h1", TLS: &fingerprint.TLS{JA4: "t13d3112h1_e8f1e7e78f70_b26ce05bbdd6"}}
	got := NewHasher().DNA(&hs, []string{"Host", "User-Agent", "Accept"}, in)
	record := "vigil-dna1\n" +
		"o=hdna1:h1:T:-:Host,User-Agent,Accept\n" +
		"v=100001+0\n" + // Accept (bit 0) and User-Agent (bit 20)
		"h=Accept:\"*/*\"\n" +
		"h=User-Agent:\"curl/8.5.0\"\n" +
		"t=t13d31h1_e8f1e7e78f70\n"
	sum := sha256.Sum256([]byte(record))
	if want := "d1-" + hex.EncodeToString(sum[:8]); got.ID != want {
		t.Errorf("ID = %s, want %s from the record\n%s", got.ID, want, record)
	}
	hsum := sha256.Sum256([]byte("hdna1:h1:T:-:Host,User-Agent,Accept"))
	if want := "ho1-" + hex.EncodeToString(hsum[:6]); got.HDNAID != want {
		t.Errorf("HDNAID = %s, want %s", got.HDNAID, want)
	}
	if got.Protocol != "h1" || got.HDNA != "hdna1:h1:T:-:Host,User-Agent,Accept" || len(got.HeaderOrder) != 3 || got.Source != "request" {
		t.Errorf("DNA %+v", got)
	}
}

func TestOrderTLSAndH2ShapeTheID(t *testing.T) {
	h := NewHasher()
	r := request(chrome)
	var hs headers.Set
	hs.Read(r.Header)
	base := h.DNA(&hs, nil, &Input{})
	if base.HeaderOrder != nil || base.HDNA != "" || base.Protocol != "" {
		t.Errorf("order reported without a tap: %+v", base)
	}
	seen := map[string]string{base.ID: "request only"}
	type input struct {
		order []string
		in    Input
	}
	for name, tc := range map[string]input{
		"h1_order":       {[]string{"Host", "User-Agent"}, Input{Protocol: "h1"}},
		"h1_other_order": {[]string{"User-Agent", "Host"}, Input{Protocol: "h1"}},
		"h1_other_case":  {[]string{"host", "user-agent"}, Input{Protocol: "h1"}},
		"h2_order":       {[]string{"user-agent"}, Input{Protocol: "h2", Pseudo: "m,a,s,p"}},
		"h2_pseudo":      {[]string{"user-agent"}, Input{Protocol: "h2", Pseudo: "m,p,s,a"}},
		"tls":            {nil, Input{TLS: &fingerprint.TLS{JA4: "t13d1516h2_8daaf6152771_02713d6af862"}}},
		"tls_other":      {nil, Input{TLS: &fingerprint.TLS{JA4: "t13d1812h1_85036bcba153_b26ce05bbdd6"}}},
		"h2":             {nil, Input{H2: &fingerprint.H2{Akamai: "1:65536;2:0|15663105|0|m,a,s,p"}}},
	} {
		in := &tc.in
		d := h.DNA(&hs, tc.order, in)
		if other, ok := seen[d.ID]; ok {
			t.Errorf("%s has the same ID as %s: %s", name, other, d.ID)
		}
		seen[d.ID] = name
		if again := h.DNA(&hs, tc.order, in); again.ID != d.ID || again.HDNA != d.HDNA {
			t.Errorf("%s: a second look-up gave %+v, first %+v", name, again, d)
		}
	}
	// Resumption changes the extension count and JA4_c, not the stable part.
	fresh := h.DNA(&hs, nil, &Input{TLS: &fingerprint.TLS{JA4: "t13d1516h2_8daaf6152771_02713d6af862"}})
	resumed := h.DNA(&hs, nil, &Input{TLS: &fingerprint.TLS{JA4: "t13d1517h2_8daaf6152771_b0da82dd1658"}})
	if fresh.ID != resumed.ID {
		t.Errorf("a resumed handshake changed the ID: %s vs %s", fresh.ID, resumed.ID)
	}
	// A GREASE setting does not.
	a := h.DNA(&hs, nil, &Input{H2: &fingerprint.H2{Akamai: "1:65536;2:0;4:6291456|15663105|0|m,a,s,p"}})
	b := h.DNA(&hs, nil, &Input{H2: &fingerprint.H2{Akamai: "1:65536;2:0;31386:73;4:6291456|15663105|0|m,a,s,p"}})
	if a.ID != b.ID {
		t.Errorf("a GREASE setting changed the ID: %s vs %s", a.ID, b.ID)
	}
}

func TestCaseStyle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proto string
		names []string
		want  byte
	}{
		{"chrome_h1", "h1", []string{"Host", "Connection", "sec-ch-ua", "sec-ch-ua-mobile", "User-Agent", "Sec-Fetch-Site"}, 'c'},
		{"curl", "h1", []string{"Host", "User-Agent", "Accept"}, 'T'},
		{"undici", "h1", []string{"host", "connection", "accept", "sec-fetch-mode"}, 'l'},
		{"mixed", "h1", []string{"Host", "user-agent", "X-API-KEY"}, 'm'},
		{"go_canonical_hints", "h1", []string{"Host", "Sec-Ch-Ua"}, 'T'},
		{"h2", "h2", []string{"user-agent"}, 'l'},
		{"digits", "h1", []string{"X-1", "Host"}, 'T'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CaseStyle(tc.proto, tc.names); got != tc.want {
				t.Errorf("CaseStyle(%s, %q) = %c, want %c", tc.proto, tc.names, got, tc.want)
			}
		})
	}
}

func TestStableJA4(t *testing.T) {
	for in, want := range map[string]string{
		"t13d1516h2_8daaf6152771_02713d6af862": "t13d15h2_8daaf6152771",
		"t13i131000_f57a46bbacb6_ab7e3b40a677": "t13i1300_f57a46bbacb6",
		"short":                                "short",
	} {
		if got := StableJA4(in); got != want {
			t.Errorf("StableJA4(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDNADoesNotAllocateWhenCached(t *testing.T) {
	h := NewHasher()
	var hs headers.Set
	hs.Read(request(chrome).Header)
	in := &Input{Protocol: "h1"}
	order := []string{"Host", "User-Agent", "Accept"}
	h.DNA(&hs, order, in)
	if n := vigiltest.AllocsPerRun(100, func() { h.DNA(&hs, order, in) }); n != 0 {
		t.Errorf("DNA allocates %v times for a cached profile, want 0", n)
	}
}
