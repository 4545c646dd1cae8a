package tlsfp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedInputs returns wire inputs from the test tables: hand-built hellos, crypto/tls
// clients' hellos and the malformed inputs.
func seedInputs(f *testing.F) [][]byte {
	var in [][]byte
	for _, tc := range parseCases {
		in = append(in, tc.in())
	}
	for _, tc := range parseErrorCases {
		in = append(in, tc.in)
	}
	for _, tc := range fingerprintCases {
		in = append(in, tc.spec.message())
	}
	for _, tc := range teeCases {
		in = append(in, tc.in(f))
	}
	for _, cfg := range []*tls.Config{
		{ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "192.0.2.1", MaxVersion: tls.VersionTLS12},
	} {
		in = append(in, clientHelloOf(f, cfg))
	}
	return in
}

// FuzzParseClientHello checks that ParseClientHello never panics, that every error
// wraps one of its three sentinels, that a result is bounded by its input (each value
// it holds stands for distinct input bytes) and fingerprints to well-formed values, and,
// differentially, that whenever crypto/tls accepts a handshake message, ParseClientHello
// accepts it too and reads the same fields and the same JA4.
func FuzzParseClientHello(f *testing.F) {
	for _, in := range seedInputs(f) {
		f.Add(in)
		if len(in) > recordHeaderLen && in[0] == recordTypeHandshake {
			f.Add(in[recordHeaderLen:]) // the bare message, if it fits in one record
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseClientHello(data)
		if err != nil {
			if h != nil {
				t.Fatalf("hello and error %v", err)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
		} else {
			if n := encodedSize(h); n > len(data) {
				t.Fatalf("hello accounts for %d bytes of a %d-byte input", n, len(data))
			}
			checkFingerprint(t, h.Fingerprint())
		}

		// Differential: a bare handshake message, framed as crypto/tls's own client
		// would frame it.
		if len(data) == 0 || data[0] != typeClientHello {
			return
		}
		chi := stdlibHello(records(data), nil)
		if chi == nil {
			return
		}
		if err != nil {
			t.Fatalf("crypto/tls accepts the hello, ParseClientHello: %v", err)
		}
		if diff := diffCHI(h, chi); diff != "" {
			t.Fatalf("(-crypto/tls +ParseClientHello):\n%s", diff)
		}
		raw, fromCHI := h.Fingerprint(), FromClientHelloInfo(chi)
		if raw.JA4 != fromCHI.JA4 && !legacyVersionGap(h) {
			t.Fatalf("JA4: raw %s, ClientHelloInfo %s", raw.JA4, fromCHI.JA4)
		}
	})
}

// legacyVersionGap reports the documented case where FromClientHelloInfo cannot see
// the JA4 version: no supported_versions and a legacy version outside TLS 1.0-1.3.
func legacyVersionGap(h *ClientHello) bool {
	for _, e := range h.Extensions {
		if e == extSupportedVersions {
			return false
		}
	}
	return h.Version < tls.VersionTLS10 || h.Version > tls.VersionTLS13
}

// encodedSize is the least number of input bytes that the values of h stand for.
func encodedSize(h *ClientHello) int {
	n := 2*len(h.CipherSuites) + len(h.CompressionMethods) + 4*len(h.Extensions) +
		len(h.ServerName) + 2*len(h.SupportedVersions) + 2*len(h.SupportedCurves) +
		len(h.SupportedPoints) + 2*len(h.SignatureSchemes)
	for _, p := range h.SupportedProtos {
		n += 1 + len(p)
	}
	return n
}

// checkFingerprint checks the shape of every fingerprint.
func checkFingerprint(t *testing.T, f Fingerprint) {
	t.Helper()
	if _, ok := JA4B(f.JA4); !ok {
		t.Fatalf("malformed JA4 %q", f.JA4)
	}
	if _, ok := JA4B(f.JA4O); !ok {
		t.Fatalf("malformed JA4_o %q", f.JA4O)
	}
	if f.JA4R[:10] != f.JA4[:10] || f.JA4RO[:10] != f.JA4[:10] {
		t.Fatalf("a sections differ: %q %q %q", f.JA4, f.JA4R, f.JA4RO)
	}
	for _, h := range []string{f.JA3Hash, f.JA3NHash} {
		if len(h) != 32 || !isLowerHex(h) {
			t.Fatalf("malformed MD5 %q", h)
		}
	}
	if md5hex(f.JA3) != f.JA3Hash || md5hex(f.JA3N) != f.JA3NHash {
		t.Fatalf("JA3 hashes do not match their strings")
	}
	if len(f.JA3) != len(f.JA3N) {
		t.Fatalf("JA3 %q and JA3N %q differ in length", f.JA3, f.JA3N)
	}
}

// FuzzReassembly checks that a handshake message parses the same whether it comes
// bare, in one record, or split into records of fuzzed sizes, and that the errors
// agree in kind.
func FuzzReassembly(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in(), []byte{1, 2, 1, 100})
	}
	f.Add(chromeSpec().message(), []byte{1, 1, 1, 1, 1, 1, 1})
	f.Add(chromeSpec().message()[:40], []byte{3})
	f.Add(largeSpec(f, 20000).message(), []byte{255, 0, 7})
	f.Fuzz(func(t *testing.T, msg, sizes []byte) {
		if len(msg) > 0 && msg[0] == recordTypeHandshake {
			msg = msg[1:] // that first byte would make a bare message look like records
		}
		split := make([]int, len(sizes))
		for i, s := range sizes {
			split[i] = 1 + int(s)*64 // 1 to 16321 bytes; 0 in records means 16 KiB
		}
		whole, wholeErr := ParseClientHello(records(msg))
		parts, partsErr := ParseClientHello(records(msg, split...))
		if kind(wholeErr) != kind(partsErr) {
			t.Fatalf("one record: %v; split %v: %v", wholeErr, split, partsErr)
		}
		if wholeErr == nil {
			parts.Records, whole.Records = 0, 0
			if diff := cmp.Diff(whole, parts); diff != "" {
				t.Fatalf("split %v (-one record +split):\n%s", split, diff)
			}
		}
		if len(msg) == 0 || msg[0] != typeClientHello {
			return
		}
		bare, bareErr := ParseClientHello(msg)
		if kind(bareErr) != kind(wholeErr) {
			t.Fatalf("bare: %v; records: %v", bareErr, wholeErr)
		}
		if bareErr == nil {
			whole.RecordVersion = 0
			if diff := cmp.Diff(whole, bare); diff != "" {
				t.Fatalf("(-records +bare):\n%s", diff)
			}
		}
	})
}

// kind returns the sentinel err wraps, or err itself.
func kind(err error) error {
	for _, s := range []error{ErrTruncated, ErrTooLarge, ErrMalformed} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// FuzzTee reads a stream through a Tee with fuzzed read sizes. The bytes must pass
// unchanged, and Hello must agree with ParseClientHello over the whole stream.
func FuzzTee(f *testing.F) {
	for _, in := range seedInputs(f) {
		f.Add(in, []byte{0}, uint16(0))
		f.Add(in, []byte{1, 3, 200}, uint16(100))
	}
	f.Fuzz(func(t *testing.T, stream, sizes []byte, max uint16) {
		reads := make([]int, len(sizes))
		for i, s := range sizes {
			reads[i] = int(s) // 0: as much as the caller asks
		}
		tee := NewTee(&pipeConn{r: bytes.NewReader(stream), sizes: reads}, int(max))
		out, err := io.ReadAll(tee)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, stream) {
			t.Fatalf("the Tee changed the stream")
		}
		got, teeErr := tee.Hello()
		if teeErr == nil && got == nil || teeErr != nil && got != nil {
			t.Fatalf("Hello() = %v, %v", got, teeErr)
		}
		if len(stream) > 0 && stream[0] == typeClientHello {
			// ParseClientHello takes this for a bare message; the Tee reads records.
			if !errors.Is(teeErr, ErrMalformed) {
				t.Fatalf("bare message through the Tee: %v, want ErrMalformed", teeErr)
			}
			return
		}
		want, wantErr := ParseClientHello(stream)
		if head, ok := handshakeHeader(stream); ok && max > 0 {
			// The Tee checks its cap, which ParseClientHello does not have, as soon
			// as the handshake header is in.
			n, err := helloLen(head)
			if err == nil && n > int(max) {
				err = ErrTooLarge
			}
			if err != nil {
				if kind(teeErr) != kind(err) || got != nil {
					t.Fatalf("handshake header %x, cap %d: Tee: %v, want %v", head, max, teeErr, err)
				}
				return
			}
		}
		if kind(teeErr) != kind(wantErr) {
			t.Fatalf("Tee: %v; ParseClientHello: %v", teeErr, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-ParseClientHello +Tee):\n%s", diff)
		}
	})
}

// handshakeHeader returns the first four handshake bytes that the records at the start
// of stream carry, as far as the record headers are valid.
func handshakeHeader(stream []byte) ([]byte, bool) {
	var head []byte
	for len(head) < handshakeHeaderLen {
		if len(stream) < recordHeaderLen {
			return nil, false
		}
		n, err := checkRecordHeader(stream)
		if err != nil {
			return nil, false
		}
		payload := stream[recordHeaderLen:min(len(stream), recordHeaderLen+n)]
		head = append(head, payload[:min(len(payload), handshakeHeaderLen-len(head))]...)
		stream = stream[recordHeaderLen+len(payload):]
	}
	return head, true
}
