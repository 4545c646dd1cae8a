package dna

import (
	"net/http"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/internal/headers"
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
		if len(base.ID) < 4 || base.ID[:3] != "r1-" {
			t.Errorf("ID %q", base.ID)
		}
	})
}

func TestFromRequestAllocs(t *testing.T) {
	h := NewHasher()
	r := request(chrome)
	if n := testing.AllocsPerRun(100, func() { h.FromRequest(r, "chrome", "browser") }); n > 0 {
		t.Errorf("%.0f allocs for a profile seen before, want 0 (its ID is cached)", n)
	}
}

func TestIDStringCache(t *testing.T) {
	h := NewHasher()
	// Same slot, different IDs: each must come back as its own string, also after the
	// other evicted it.
	a, b := uint64(0xabc00), uint64(0xabc00+idCacheSize)
	for range 2 {
		if got := h.idString(a); got != "r1-abc00" {
			t.Errorf("idString(%#x) = %q, want r1-abc00", a, got)
		}
		if got := h.idString(b); got != "r1-abd00" {
			t.Errorf("idString(%#x) = %q, want r1-abd00", b, got)
		}
	}
	if got := h.idString(0); got != "r1-0" {
		t.Errorf("idString(0) = %q, want r1-0", got)
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
