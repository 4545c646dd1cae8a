package attack

import (
	"bytes"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/detect"
)

func FuzzScanValue(f *testing.F) {
	for _, tc := range benignValues {
		f.Add(tc.value)
	}
	for _, tc := range attackValues {
		f.Add(tc.value)
	}
	s := newScanner(f)
	f.Fuzz(func(t *testing.T, v string) {
		fs := s.ScanValue(nil, "query:q", v)
		for _, f := range fs {
			if f.Detector != Detector || f.Code == "" || f.Score < 0 || f.Score > 100 {
				t.Fatalf("ScanValue(%q): malformed finding %+v", v, f)
			}
			// The excerpt is bounded and escaped: one line, valid UTF-8.
			if strings.ContainsAny(f.Detail, "\r\n\x00") || !utf8.ValidString(f.Detail) {
				t.Fatalf("ScanValue(%q): unsafe Detail %q", v, f.Detail)
			}
			if len(f.Detail) > 160 {
				t.Fatalf("ScanValue(%q): Detail of %d bytes", v, len(f.Detail))
			}
		}
		// The scan is deterministic.
		if again := s.ScanValue(nil, "query:q", v); len(again) != len(fs) {
			t.Fatalf("ScanValue(%q) is not deterministic: %v then %v", v, fs, again)
		}
	})
}

func FuzzScanBody(f *testing.F) {
	for _, tc := range bodyCases {
		f.Add(tc.contentType, []byte(tc.body))
	}
	for _, tc := range attackValues {
		f.Add("application/json", []byte(`{"a":"`+strings.ReplaceAll(tc.value, `"`, `\"`)+`"}`))
	}
	s, err := New(Config{MaxBodyBytes: 512})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if _, err := s.ScanRequest(nil, r); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatalf("reading restored body: %v", err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("restored body differs: got %q, want %q", got, body)
		}
		if r.GetBody != nil {
			rc, err := r.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			again, _ := io.ReadAll(rc)
			if !bytes.Equal(again, body) {
				t.Fatalf("GetBody replays %q, want %q", again, body)
			}
		}
	})
}

// FuzzScanPadding checks that padding cannot turn a blocked request into an allowed
// one: many parameters and a long parameter before the attack, or a long run of
// filler in front of it in the same value (compared with a short run, since the
// filler is part of the value the application sees).
func FuzzScanPadding(f *testing.F) {
	f.Add(uint16(513), uint16(8200), "1' UNION SELECT username,password FROM users--")
	for _, tc := range attackValues {
		f.Add(uint16(1100), uint16(9000), tc.value)
	}
	s := newScanner(f)
	scan := func(target string) []detect.Finding {
		fs, _ := s.ScanRequest(nil, httptest.NewRequest("GET", target, nil))
		return fs
	}
	f.Fuzz(func(t *testing.T, params, filler uint16, payload string) {
		q := url.QueryEscape(payload)
		pad := strings.Repeat("a=b&", int(params)%4096) + "f=" + strings.Repeat("a", int(filler)%(3*WindowBytes)) + "&"
		if alone := scan("/?q=" + q); blocks(alone) {
			if fs := scan("/?" + pad + "q=" + q); !blocks(fs) {
				t.Errorf("payload %q blocks alone (%v) but not after %d parameters and a %d-byte one: %v", payload, alone, params, filler, fs)
			}
		}
		short := "/?q=" + strings.Repeat("a", 16) + "+" + q
		if alone := scan(short); blocks(alone) {
			if fs := scan("/?q=" + strings.Repeat("a", int(filler)%(3*WindowBytes)+16) + "+" + q); !blocks(fs) {
				t.Errorf("payload %q blocks after 16 bytes of filler (%v) but not after %d: %v", payload, alone, filler+16, fs)
			}
		}
	})
}
