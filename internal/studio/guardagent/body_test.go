package guardagent

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// statusOf returns the HTTP status ErrorReply would answer for err, 0 for nil.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	return ErrorReply(err).Status
}

func TestReadBody(t *testing.T) {
	json := []byte(`{"a":1}`)
	zipped := gz(t, json)
	big := bytes.Repeat([]byte("a"), MaxBodySize)
	bomb := gz(t, append(bytes.Repeat([]byte(" "), MaxBodySize), '1'))
	corrupt := bytes.Clone(zipped)
	corrupt[len(corrupt)-5] ^= 0xff // CRC-32
	tests := []struct {
		name     string
		body     []byte
		encoding string
		status   int
		json     []byte
		gzip     bool
	}{
		{name: "plain", body: json, json: json},
		{name: "identity", body: json, encoding: "identity", json: json},
		{name: "gzip", body: zipped, encoding: "gzip", json: json, gzip: true},
		{name: "gzip_any_case_and_space", body: zipped, encoding: " GZip ", json: json, gzip: true},
		{name: "x_gzip", body: zipped, encoding: "x-gzip", json: json, gzip: true},
		{name: "exactly_the_cap", body: big, json: big},
		{name: "gzip_exactly_the_cap", body: gz(t, big), encoding: "gzip", json: big, gzip: true},
		{name: "over_the_cap_as_sent", body: append(bytes.Clone(big), 'a'), status: http.StatusRequestEntityTooLarge},
		{name: "gzip_bomb_over_the_cap_decompressed", body: bomb, encoding: "gzip", status: http.StatusRequestEntityTooLarge},
		{name: "truncated_gzip", body: zipped[:len(zipped)-6], encoding: "gzip", status: http.StatusBadRequest},
		{name: "gzip_header_only", body: zipped[:10], encoding: "gzip", status: http.StatusBadRequest},
		{name: "bad_crc", body: corrupt, encoding: "gzip", status: http.StatusBadRequest},
		{name: "trailing_garbage", body: append(bytes.Clone(zipped), "junk"...), encoding: "gzip", status: http.StatusBadRequest},
		{name: "not_gzip", body: json, encoding: "gzip", status: http.StatusBadRequest},
		{name: "empty_gzip", body: nil, encoding: "gzip", status: http.StatusBadRequest},
		{name: "brotli", body: json, encoding: "br", status: http.StatusBadRequest},
		{name: "stacked", body: zipped, encoding: "gzip, gzip", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadBody(bytes.NewReader(tt.body), tt.encoding)
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(b.JSON, tt.json) || !bytes.Equal(b.Wire, tt.body) || b.Gzip != tt.gzip {
				t.Errorf("got JSON %d bytes, wire %d bytes, gzip %v", len(b.JSON), len(b.Wire), b.Gzip)
			}
		})
	}
}

func TestReadBodyMessages(t *testing.T) {
	_, err := ReadBody(bytes.NewReader(make([]byte, MaxBodySize+1)), "")
	r := ErrorReply(err)
	if string(r.Body) != `{"detail":"Payload too large"}` {
		t.Errorf("413 body %s", r.Body)
	}
}

func TestReadBodyReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ReadBody(io.MultiReader(strings.NewReader("{"), iotest.ErrReader(boom)), "")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error wrapped", err)
	}
	if r := ErrorReply(err); r.Status != http.StatusInternalServerError || bytes.Contains(r.Body, []byte("reset")) {
		t.Errorf("reply %d %s: internal error text must not reach the client", r.Status, r.Body)
	}
}
