package tlsfp

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// handshakeResult is what the server side of a test handshake saw.
type handshakeResult struct {
	raw     Fingerprint  // from the Tee's bytes
	hello   *ClientHello // from the Tee
	fromCHI Fingerprint  // from GetConfigForClient's ClientHelloInfo
	echoed  string       // what the server read after the handshake
}

// serveOnce runs a TLS server over a Tee on c: it fingerprints the hello in
// GetConfigForClient, completes the handshake, reads one line and answers "pong\n".
// It leaves c open.
func serveOnce(t *testing.T, c net.Conn, cert tls.Certificate) (handshakeResult, error) {
	tee := NewTee(c, 0)
	var res handshakeResult
	var chiErr error
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
			res.fromCHI = FromClientHelloInfo(chi)
			// crypto/tls has read the whole hello through the Tee by now.
			if chi.Conn != tee {
				chiErr = errors.New("ClientHelloInfo.Conn is not the Tee")
			}
			res.hello, chiErr = tee.Hello()
			return nil, nil
		},
	}
	// The caller closes c; a tls.Conn.Close here would wait for the client to read
	// its close_notify on a net.Pipe.
	srv := tls.Server(tee, cfg)
	if err := srv.Handshake(); err != nil {
		return res, err
	}
	if chiErr != nil {
		return res, chiErr
	}
	res.raw = res.hello.Fingerprint()
	buf := make([]byte, 64)
	n, err := srv.Read(buf)
	if err != nil {
		return res, err
	}
	res.echoed = string(buf[:n])
	_, err = srv.Write([]byte("pong\n"))
	return res, err
}

// clientOnce handshakes as a crypto/tls client, writes "ping\n" and reads the answer.
func clientOnce(c net.Conn, cfg *tls.Config) (string, error) {
	cl := tls.Client(c, cfg)
	defer cl.Close()
	if err := cl.Handshake(); err != nil {
		return "", err
	}
	if _, err := cl.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	buf := make([]byte, 64)
	n, err := cl.Read(buf)
	return string(buf[:n]), err
}

func clientConfig(t *testing.T, cert tls.Certificate, protos ...string) *tls.Config {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return &tls.Config{ServerName: "localhost", RootCAs: roots, NextProtos: protos}
}

// runHandshake connects a client and serveOnce over client and server ends of one
// connection, through relay if it is set, and returns what the server saw.
func runHandshake(t *testing.T, clientEnd, serverEnd net.Conn, cfg *tls.Config, cert tls.Certificate) handshakeResult {
	t.Helper()
	var wg sync.WaitGroup
	var answer string
	var clientErr error
	wg.Go(func() {
		answer, clientErr = clientOnce(clientEnd, cfg)
	})
	res, err := serveOnce(t, serverEnd, cert)
	serverEnd.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	if clientErr != nil {
		t.Fatalf("client: %v", clientErr)
	}
	if res.echoed != "ping\n" || answer != "pong\n" {
		t.Fatalf("application data: server read %q, client read %q", res.echoed, answer)
	}
	return res
}

// checkSameFingerprint compares the raw and ClientHelloInfo fingerprints of a Go
// client, which sends legacy version 0x0303, so that JA3 agrees as well.
func checkSameFingerprint(t *testing.T, res handshakeResult) {
	t.Helper()
	if !res.fromCHI.JA3VersionAssumed || res.raw.JA3VersionAssumed {
		t.Errorf("JA3VersionAssumed: chi %v, raw %v; want true, false", res.fromCHI.JA3VersionAssumed, res.raw.JA3VersionAssumed)
	}
	chi := res.fromCHI
	chi.JA3VersionAssumed = false
	if diff := cmp.Diff(res.raw, chi); diff != "" {
		t.Errorf("raw and ClientHelloInfo fingerprints differ (-raw +chi):\n%s", diff)
	}
}

// TestTeeHandshake runs real crypto/tls handshakes with the server over a Tee, over
// net.Pipe and over loopback TCP.
func TestTeeHandshake(t *testing.T) {
	cert := testCertificate(t)
	transports := []struct {
		name string
		dial func(t *testing.T) (client, server net.Conn)
	}{
		{"net_pipe", func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() }},
		{"loopback_tcp", loopbackPair},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c, s := tr.dial(t)
			res := runHandshake(t, c, s, clientConfig(t, cert, "h2", "http/1.1"), cert)
			checkSameFingerprint(t, res)
			if res.hello.Records != 1 || res.hello.ServerName != "localhost" {
				t.Errorf("hello: %d records, server name %q", res.hello.Records, res.hello.ServerName)
			}
			// Measured for the Go 1.26 net/http client (docs: fingerprinting.md
			// section 9.1), which offers h2 and http/1.1 as this client does.
			const goJA4 = "t13d1312h2_f57a46bbacb6_ab7e3b40a677"
			if res.raw.JA4 != goJA4 {
				t.Errorf("Go client JA4 = %s, want %s (crypto/tls defaults changed?)", res.raw.JA4, goJA4)
			}
		})
	}
}

func loopbackPair(t *testing.T) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		t.Fatal(a.err)
	}
	t.Cleanup(func() { client.Close(); a.c.Close() })
	return client, a.c
}

// TestTeeSplitRecords re-frames a real client's hello into several records by hand on
// its way to the server; the handshake still completes (record boundaries are not part
// of the transcript) and the Tee reassembles the hello.
func TestTeeSplitRecords(t *testing.T) {
	cert := testCertificate(t)
	tests := []struct {
		name  string
		sizes []int
	}{
		{"two_records", []int{200}},
		{"header_split", []int{1, 2, 1, 5}},
		{"many_small_records", []int{7, 1, 300, 3, 64, 64, 64, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, relayIn := net.Pipe()
			relayOut, server := net.Pipe()
			var wg sync.WaitGroup
			wg.Go(func() { reframeHello(t, relayIn, relayOut, tc.sizes) })
			res := runHandshake(t, client, server, clientConfig(t, cert, "h2"), cert)
			relayIn.Close()
			relayOut.Close()
			wg.Wait()
			checkSameFingerprint(t, res)
			if res.hello.Records < len(tc.sizes)+1 {
				t.Errorf("hello spanned %d records, want at least %d", res.hello.Records, len(tc.sizes)+1)
			}
		})
	}
}

// reframeHello relays between in (the client) and out (the server). It re-frames the
// client's first record, which holds the whole hello for a Go client, into records of
// the given payload sizes, and copies everything else unchanged.
func reframeHello(t *testing.T, in, out net.Conn, sizes []int) {
	hdr := make([]byte, recordHeaderLen)
	if _, err := io.ReadFull(in, hdr); err != nil {
		t.Errorf("relay: %v", err)
		return
	}
	payload := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(in, payload); err != nil {
		t.Errorf("relay: %v", err)
		return
	}
	if _, err := out.Write(records(payload, sizes...)); err != nil {
		t.Errorf("relay: %v", err)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(in, out); in.Close() })
	_, _ = io.Copy(out, in)
	out.Close()
	wg.Wait()
}

// TestTeeLargeHello makes a crypto/tls client send a ~62 KiB hello (240 ALPN values of
// 255 bytes), which it splits into 16 KiB records, and completes the handshake.
func TestTeeLargeHello(t *testing.T) {
	cert := testCertificate(t)
	protos := make([]string, 240)
	for i := range protos {
		protos[i] = strings.Repeat(string(rune('a'+i%26)), 255)
	}
	client, server := net.Pipe()
	res := runHandshake(t, client, server, clientConfig(t, cert, protos...), cert)
	checkSameFingerprint(t, res)
	if res.hello.Records < 4 || len(res.hello.SupportedProtos) != 240 {
		t.Errorf("hello spanned %d records with %d ALPN values; want at least 4 and 240", res.hello.Records, len(res.hello.SupportedProtos))
	}
}

// teeCases are byte streams read through a Tee in pieces; each says what Hello returns.
var teeCases = []struct {
	name    string
	in      func(t testing.TB) []byte
	max     int
	wantErr error // nil: Hello equals ParseClientHello of the stream
}{
	{"chrome_one_record", func(testing.TB) []byte { return records(chromeSpec().message()) }, 0, nil},
	{"chrome_split_records", func(testing.TB) []byte { return records(chromeSpec().message(), 1, 3, 50, 2) }, 0, nil},
	{"followed_by_data", func(testing.TB) []byte {
		return append(records(chromeSpec().message()), bytes.Repeat([]byte{0x17, 3, 3, 0, 4, 'd', 'a', 't', 'a'}, 100)...)
	}, 0, nil},
	{"largest_hello", func(t testing.TB) []byte { return records(largeSpec(t, MaxHelloBody).message()) }, 0, nil},
	{"hello_over_cap", func(testing.TB) []byte { return records(chromeSpec().message()) }, 100, ErrTooLarge},
	{"hello_over_64k", func(t testing.TB) []byte { return records(largeSpec(t, MaxHelloBody+1).message()) }, 0, ErrTooLarge},
	{"plain_http", func(testing.TB) []byte { return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }, 0, ErrMalformed},
	{"server_hello", func(testing.TB) []byte { return records([]byte{2, 0, 0, 1, 0}) }, 0, ErrMalformed},
	{"malformed_body", func(testing.TB) []byte { return records(handshake([]byte{3, 3})) }, 0, ErrMalformed},
	{"truncated", func(testing.TB) []byte { return records(chromeSpec().message())[:300] }, 0, ErrTruncated},
	{"empty_stream", func(testing.TB) []byte { return nil }, 0, ErrTruncated},
}

// TestTee reads each case through a Tee in chunks of several sizes and checks that the
// bytes pass unchanged and that Hello agrees with ParseClientHello.
func TestTee(t *testing.T) {
	for _, tc := range teeCases {
		for _, chunk := range []int{0, 1, 5, 7, 4096} {
			t.Run(tc.name+"/"+chunkName(chunk), func(t *testing.T) {
				in := tc.in(t)
				tee := NewTee(&pipeConn{r: bytes.NewReader(in), sizes: []int{chunk}}, tc.max)
				if _, err := tee.Hello(); !errors.Is(err, ErrTruncated) {
					t.Errorf("Hello before reading: err = %v, want ErrTruncated", err)
				}
				out, err := io.ReadAll(tee)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, in) {
					t.Fatalf("the Tee changed the stream: read %d bytes, sent %d", len(out), len(in))
				}
				got, err := tee.Hello()
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) || got != nil {
						t.Fatalf("Hello() = %v, %v; want nil, %v", got, err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(mustParse(t, in), got); diff != "" {
					t.Errorf("Hello differs from ParseClientHello (-parse +tee):\n%s", diff)
				}
				if tee.msg != nil {
					t.Error("the Tee kept its buffer after the hello")
				}
			})
		}
	}
}

func chunkName(n int) string {
	if n == 0 {
		return "whole"
	}
	return "chunks_of_" + strconv.Itoa(n)
}

// TestTeeHelloConcurrent polls Hello from another goroutine while a handshake reads
// through the Tee; run with -race.
func TestTeeHelloConcurrent(t *testing.T) {
	in := records(chromeSpec().message(), 10, 10, 10)
	tee := NewTee(&pipeConn{r: bytes.NewReader(in), sizes: []int{3}}, 0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if h, err := tee.Hello(); err == nil && h.ServerName != "www.example.com" {
				t.Errorf("server name %q", h.ServerName)
				return
			}
			time.Sleep(time.Microsecond)
		}
	})
	if _, err := io.Copy(io.Discard, tee); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if _, err := tee.Hello(); err != nil {
		t.Fatal(err)
	}
}

// TestTeeReadAllocs checks that reads after the hello cost no allocation.
func TestTeeReadAllocs(t *testing.T) {
	in := records(chromeSpec().message())
	r := bytes.NewReader(in)
	tee := NewTee(&pipeConn{r: r}, 0)
	if _, err := io.ReadAll(tee); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n := vigiltest.AllocsPerRun(100, func() {
		r.Reset(in)
		_, _ = tee.Read(buf)
	}); n != 0 {
		t.Errorf("Read after the hello: %v allocations, want 0", n)
	}
}
