package attack

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
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
		if _, err := s.Scan(nil, r); err != nil {
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
