package formscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A candidate is one field as a reference parser from the standard library sees it.
type candidate struct {
	name, value string
	depth       int
}

// pick applies the package's ranking to candidates in document order, written
// independently of rank and better: depth, then exact before case-insensitive, then
// the order of names; among equals the last (lastWins) or the first.
func pick(cands []candidate, groups [][]string, lastWins bool) []string {
	out := make([]string, len(groups))
	for g, names := range groups {
		type key struct{ depth, fold, pos int }
		var best *key
		for _, c := range cands {
			if c.value == "" {
				continue
			}
			var k *key
			for i, n := range names {
				if c.name == n {
					k = &key{c.depth, 0, i}
					break
				}
			}
			if k == nil {
				for i, n := range names {
					if strings.EqualFold(c.name, n) {
						k = &key{c.depth, 1, i}
						break
					}
				}
			}
			if k == nil {
				continue
			}
			less := best == nil || *k != *best && (k.depth < best.depth || k.depth == best.depth &&
				(k.fold < best.fold || k.fold == best.fold && k.pos < best.pos))
			if less || lastWins && *k == *best {
				best, out[g] = k, c.value
			}
		}
	}
	return out
}

// jsonCandidates walks body with encoding/json's streaming decoder. ok is false
// when encoding/json rejects the body or its top level is not an object.
func jsonCandidates(body []byte) (cands []candidate, ok bool) {
	if json.Unmarshal(body, new(any)) != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var walk func(depth int) error
	walk = func(depth int) error {
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			vt, err := dec.Token()
			if err != nil {
				return err
			}
			switch v := vt.(type) {
			case string:
				cands = append(cands, candidate{kt.(string), v, depth})
			case json.Number:
				cands = append(cands, candidate{kt.(string), v.String(), depth})
			case json.Delim:
				if v == '{' && depth == 0 {
					if err := walk(1); err != nil {
						return err
					}
					continue
				}
				for open := 1; open > 0; {
					t, err := dec.Token()
					if err != nil {
						return err
					}
					switch t {
					case json.Delim('{'), json.Delim('['):
						open++
					case json.Delim('}'), json.Delim(']'):
						open--
					}
				}
			}
		}
		_, err := dec.Token() // '}'
		return err
	}
	return cands, walk(0) == nil
}

// formCandidates splits body as net/url.ParseQuery does, keeping the order.
func formCandidates(body string) []candidate {
	var cands []candidate
	for _, pair := range strings.Split(body, "&") {
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil {
			cands = append(cands, candidate{k, v, 0})
		}
	}
	return cands
}

// multipartCandidates reads the value parts of body in order, as ReadForm keeps
// them, until the end or the first error.
func multipartCandidates(body []byte, boundary string) []candidate {
	var cands []candidate
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for range maxParts {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FormName() == "" || p.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(p)
		if err != nil {
			break
		}
		cands = append(cands, candidate{p.FormName(), string(v), 0})
	}
	return cands
}

func addFindSeeds(f *testing.F, kind kind) {
	for _, tc := range findCases {
		if kindOf(tc.ct) == kind {
			f.Add(tc.body)
		}
	}
}

// FuzzFindJSON checks Find on JSON against encoding/json's token stream: the same
// values, or nothing where encoding/json rejects the body.
func FuzzFindJSON(f *testing.F) {
	addFindSeeds(f, kindJSON)
	f.Add(`{"a":{"b":{"email":"x"}},"e-mail":"y","x":[{"tel":1}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		got := Find(ctJSON, []byte(body), allGroups...)
		want := make([]string, len(allGroups))
		if cands, ok := jsonCandidates([]byte(body)); ok {
			want = pick(cands, allGroups, true)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Find(%q) (-encoding/json +got):\n%s", body, diff)
		}
	})
}

// FuzzFindForm checks Find on urlencoded bodies against net/url: the same pairs,
// and for exact names the first non-empty value net/url.ParseQuery keeps.
func FuzzFindForm(f *testing.F) {
	addFindSeeds(f, kindForm)
	f.Fuzz(func(t *testing.T, body string) {
		got := Find(ctForm, []byte(body), allGroups...)
		want := pick(formCandidates(body), allGroups, false)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Find(%q) (-net/url +got):\n%s", body, diff)
		}
		// The first non-empty "email" is an exact match of the best name.
		q, _ := url.ParseQuery(body)
		for _, v := range q["email"] {
			if v != "" {
				if v != got[0] {
					t.Fatalf("Find(%q): e-mail %q, ParseQuery's first email %q", body, got[0], v)
				}
				break
			}
		}
	})
}

// FuzzFindMultipart checks Find on multipart bodies against mime/multipart: the
// value parts in order, which, when ReadForm accepts the body, are exactly the
// values ReadForm keeps.
func FuzzFindMultipart(f *testing.F) {
	addFindSeeds(f, kindMultipart)
	f.Fuzz(func(t *testing.T, body string) {
		got := Find(ctMultipart, []byte(body), allGroups...)
		cands := multipartCandidates([]byte(body), "XyZ")
		if diff := cmp.Diff(pick(cands, allGroups, false), got); diff != "" {
			t.Fatalf("Find(%q) (-mime/multipart +got):\n%s", body, diff)
		}
		form, err := multipart.NewReader(strings.NewReader(body), "XyZ").ReadForm(1 << 20)
		if err != nil {
			return
		}
		defer form.RemoveAll()
		values := map[string][]string{}
		for _, c := range cands {
			values[c.name] = append(values[c.name], c.value)
		}
		if diff := cmp.Diff(form.Value, values); len(cands) < maxParts && diff != "" {
			t.Fatalf("value parts of %q (-ReadForm +walk):\n%s", body, diff)
		}
	})
}

// FuzzRead checks that whatever Read reads, r.Body then delivers the original
// bytes and the original's error, and that ok and body tell the truth.
func FuzzRead(f *testing.F) {
	for _, tc := range readCases {
		f.Add([]byte(tc.body), tc.max, uint8(tc.chunk), int16(tc.failAt), tc.length >= 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int64, chunk uint8, failAt int16, declare bool) {
		max %= 1 << 16
		src := &source{data: data, chunk: int(chunk), failAt: int(failAt)}
		if src.failAt < 0 {
			src.failAt = -1
		}
		r := httptest.NewRequest("POST", "/", nil)
		r.Body, r.ContentLength = src, -1
		if declare {
			r.ContentLength = int64(len(data))
		}
		body, ok, err := Read(r, max)
		if max < 0 {
			max = 0 // as Read treats it
		}
		fails := src.failAt >= 0 && src.failAt < len(data)
		fits := int64(len(data)) <= max
		switch {
		case ok && (!fits || fails || err != nil || !bytes.Equal(body, data)):
			t.Fatalf("Read: ok with body %q, err %v; original %q, max %d, failAt %d", body, err, data, max, failAt)
		case !ok && body != nil:
			t.Fatalf("Read: body %q with ok false", body)
		case !ok && fits && !fails:
			t.Fatalf("Read: not ok for %d bytes, max %d", len(data), max)
		case err != nil && !errors.Is(err, errSource):
			t.Fatalf("Read: err %v", err)
		case (err != nil) != (fails && int64(src.failAt) <= max && !(declare && !fits)):
			t.Fatalf("Read: err %v; %d bytes failing at %d, max %d", err, len(data), failAt, max)
		}
		checkReplay(t, r, src, string(data), src.failAt)
	})
}
