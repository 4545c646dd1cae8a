package replay

import (
	"strings"
	"testing"
)

// FuzzReadCombined: any input either parses into records whose raw request starts
// with a request line, or fails with an error naming its line; it never panics.
func FuzzReadCombined(f *testing.F) {
	f.Add(`203.0.113.7 - - [21/Nov/2026:10:00:00 +0100] "GET /a?b=1 HTTP/1.1" 404 512 "https://ref.example/" "Mozilla/5.0 \"q\""`)
	f.Add(`2001:db8::9 - bob [21/Nov/2026:10:00:01 +0000] "POST /login HTTP/2.0" 401 0 "-" "-"`)
	f.Add(`198.51.100.1 - - [21/Nov/2026:10:00:02 +0000] "GET / HTTP/1.0" 200 10`)
	f.Add(`1.2.3.4 - - [x] "" 200`)
	f.Fuzz(func(t *testing.T, in string) {
		err := ReadCombined(strings.NewReader(in), func(r Record) error {
			if !r.Client.IsValid() || r.Time.IsZero() || r.Status < 100 || r.Status > 999 {
				t.Fatalf("record without client, time or status: %+v", r)
			}
			if !strings.HasSuffix(string(r.Raw), "\r\n\r\n") {
				t.Fatalf("raw request does not end its headers: %q", r.Raw)
			}
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "line ") {
			t.Fatalf("error without a line: %v", err)
		}
	})
}

// FuzzReadJSONL: any input either parses or fails with an error naming its line.
func FuzzReadJSONL(f *testing.F) {
	f.Add(`{"method":"GET","path":"/a","query":"x=1","headers":[["User-Agent","t"]],"id":"r1","label":"attack"}`)
	f.Add(`{"method":"POST","path":"/b","body":"hi","client":"192.0.2.5","time":"2026-11-21T10:00:00Z"}`)
	f.Fuzz(func(t *testing.T, in string) {
		err := ReadJSONL(strings.NewReader(in), func(r Record) error {
			if len(r.Raw) == 0 || r.Line < 1 {
				t.Fatalf("record %+v", r)
			}
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "line ") && !strings.HasPrefix(err.Error(), "reading") {
			t.Fatalf("error without a line: %v", err)
		}
	})
}
