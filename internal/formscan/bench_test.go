package formscan

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// benchCases are the findCases the benchmarks and allocation ceilings use: a typical
// small signup body in each format.
var benchCases = []string{"json_signup", "json_nested", "form_signup", "multipart_fields"}

// findCase returns the findCases entry called name.
func findCase(tb testing.TB, name string) (ct string, body []byte) {
	for _, tc := range findCases {
		if tc.name == name {
			return tc.ct, []byte(tc.body)
		}
	}
	tb.Fatalf("no find case %q", name)
	return "", nil
}

// BenchmarkFind measures Find for one group (the e-mail) and for three.
func BenchmarkFind(b *testing.B) {
	for _, name := range benchCases {
		ct, body := findCase(b, name)
		b.Run(name+"/1_group", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Find(ct, body, emailFields)
			}
		})
		b.Run(name+"/3_groups", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Find(ct, body, allGroups...)
			}
		})
	}
}

// BenchmarkReadFind measures what the guard does on a signup request: Read, Find,
// and the application reading the restored body.
func BenchmarkReadFind(b *testing.B) {
	for _, name := range []string{"json_signup", "form_signup"} {
		ct, body := findCase(b, name)
		rd := bytes.NewReader(body)
		rc := &nopBody{rd}
		r, _ := http.NewRequest("POST", "/signup", nil)
		r.Header.Set("Content-Type", ct)
		b.Run(name+"/formscan", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body, r.ContentLength = rc, int64(len(body))
				buf, _, _ := Read(r, 64<<10)
				Find(ct, buf, emailFields)
				io.Copy(io.Discard, r.Body)
			}
		})
		b.Run(name+"/old", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body, r.ContentLength = rc, int64(len(body))
				oldFormField(r, emailFields, 64<<10)
				io.Copy(io.Discard, r.Body)
			}
		})
	}
}

// BenchmarkJSONDecoderWalk measures the alternative to Find's hand scanner: a walk
// over encoding/json's token stream (the fuzz reference).
func BenchmarkJSONDecoderWalk(b *testing.B) {
	_, body := findCase(b, "json_signup")
	b.ReportAllocs()
	for b.Loop() {
		cands, _ := jsonCandidates(body)
		pick(cands, [][]string{emailFields}, true)
	}
}

// TestFindAllocs is the allocation ceiling for the benchmark cases: the result
// slice and one string per value found (multipart is bounded by mime/multipart).
func TestFindAllocs(t *testing.T) {
	ceilings := map[string]float64{"json_signup": 2, "json_nested": 3, "form_signup": 2, "multipart_fields": 40}
	for _, name := range benchCases {
		ct, body := findCase(t, name)
		if n := vigiltest.AllocsPerRun(100, func() { Find(ct, body, allGroups...) }); n > ceilings[name] {
			t.Errorf("%s: Find made %v allocations, ceiling %v", name, n, ceilings[name])
		}
	}
	_, body := findCase(t, "json_signup")
	r, _ := http.NewRequest("POST", "/", nil)
	rd := bytes.NewReader(body)
	rc := &nopBody{rd}
	if n := vigiltest.AllocsPerRun(100, func() {
		rd.Reset(body)
		r.Body, r.ContentLength = rc, int64(len(body))
		Read(r, 1024)
	}); n > 2 {
		t.Errorf("Read made %v allocations, ceiling 2 (the buffer and the replay)", n)
	}
}

// oldFormField is guard.go's formField before this package, for comparison.
func oldFormField(r *http.Request, fields []string, max int64) string {
	if r.Body == nil || r.Body == http.NoBody {
		return ""
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	if err != nil || int64(len(buf)) > max {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var m map[string]json.RawMessage
		if json.Unmarshal(buf, &m) != nil {
			return ""
		}
		for _, f := range fields {
			var s string
			if raw, ok := m[f]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
				return s
			}
		}
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(buf))
		if err != nil {
			return ""
		}
		for _, f := range fields {
			if s := q.Get(f); s != "" {
				return s
			}
		}
	}
	return ""
}

// nopBody is a request body that is reset between runs; unlike io.NopCloser, storing
// it in r.Body does not allocate.
type nopBody struct{ *bytes.Reader }

func (nopBody) Close() error { return nil }

type readCloser struct {
	io.Reader
	io.Closer
}
