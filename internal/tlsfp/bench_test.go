package tlsfp

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkRawHello measures the per-handshake cost of the raw path: parse a hello
// and compute every fingerprint (JA4, JA4_r, JA4_o, JA4_ro, JA3, JA3N and hashes).
func BenchmarkRawHello(b *testing.B) {
	for _, tc := range parseCases {
		in := tc.in()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				h, err := ParseClientHello(in)
				if err != nil {
					b.Fatal(err)
				}
				_ = h.Fingerprint()
			}
		})
	}
}

// BenchmarkClientHelloInfo measures FromClientHelloInfo on the Chrome hello as
// crypto/tls describes it.
func BenchmarkClientHelloInfo(b *testing.B) {
	chi := stdlibHello(records(chromeSpec().message()), nil)
	if chi == nil {
		b.Fatal("crypto/tls rejected the hello")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = FromClientHelloInfo(chi)
	}
}

// BenchmarkTee measures recording a Chrome hello through a Tee, as one connection does,
// with the reads crypto/tls makes (a 5-byte header, then the record).
func BenchmarkTee(b *testing.B) {
	in := records(chromeSpec().message())
	r := bytes.NewReader(in)
	conn := &pipeConn{r: r}
	buf := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		tee := NewTee(conn, 0)
		if _, err := io.ReadFull(tee, buf[:recordHeaderLen]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(tee, buf[:len(in)-recordHeaderLen]); err != nil {
			b.Fatal(err)
		}
		if _, err := tee.Hello(); err != nil {
			b.Fatal(err)
		}
	}
}
