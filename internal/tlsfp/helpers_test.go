package tlsfp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// This file builds ClientHello bytes by hand for the tests, fuzz seeds and benchmarks.

// ext is one extension: its type and raw payload.
type ext struct {
	typ  uint16
	data []byte
}

// helloSpec describes a ClientHello to encode.
type helloSpec struct {
	version     uint16
	sessionID   []byte
	ciphers     []uint16
	compression []byte // nil means [0]
	exts        []ext
	noExtBlock  bool // omit the extensions block entirely (TLS 1.0 style)
}

// message encodes the spec as a handshake message, header included.
func (s helloSpec) message() []byte {
	body := make([]byte, 0, 512)
	body = be16append(body, s.version)
	body = append(body, bytes.Repeat([]byte{0x11}, 32)...)
	body = append(body, byte(len(s.sessionID)))
	body = append(body, s.sessionID...)
	body = be16append(body, uint16(2*len(s.ciphers)))
	for _, c := range s.ciphers {
		body = be16append(body, c)
	}
	comp := s.compression
	if comp == nil {
		comp = []byte{0}
	}
	body = append(body, byte(len(comp)))
	body = append(body, comp...)
	if !s.noExtBlock {
		var block []byte
		for _, e := range s.exts {
			block = be16append(block, e.typ)
			block = be16append(block, uint16(len(e.data)))
			block = append(block, e.data...)
		}
		body = be16append(body, uint16(len(block)))
		body = append(body, block...)
	}
	return handshake(body)
}

// handshake prefixes body with a client_hello handshake header.
func handshake(body []byte) []byte {
	n := len(body)
	return append([]byte{typeClientHello, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func be16append(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

// records wraps msg in handshake records (version 0x0301) whose payload sizes follow
// sizes in turn; the last record takes what is left. No sizes means one record per
// 16 KiB.
func records(msg []byte, sizes ...int) []byte {
	var out []byte
	for i := 0; len(msg) > 0; i++ {
		n := maxRecordPayload
		if i < len(sizes) && sizes[i] > 0 {
			n = sizes[i]
		}
		n = min(n, len(msg))
		out = append(out, recordTypeHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func u16vec(vals ...uint16) []byte {
	b := be16append(nil, uint16(2*len(vals)))
	for _, v := range vals {
		b = be16append(b, v)
	}
	return b
}

func sniExt(name string) ext {
	entry := append([]byte{0}, be16append(nil, uint16(len(name)))...)
	entry = append(entry, name...)
	return ext{extServerName, append(be16append(nil, uint16(len(entry))), entry...)}
}

func alpnExt(protos ...string) ext {
	var list []byte
	for _, p := range protos {
		list = append(list, byte(len(p)))
		list = append(list, p...)
	}
	return ext{extALPN, append(be16append(nil, uint16(len(list))), list...)}
}

func versionsExt(vs ...uint16) ext {
	b := []byte{byte(2 * len(vs))}
	for _, v := range vs {
		b = be16append(b, v)
	}
	return ext{extSupportedVersions, b}
}

func groupsExt(gs ...uint16) ext       { return ext{extSupportedGroups, u16vec(gs...)} }
func sigalgsExt(ss ...uint16) ext      { return ext{extSignatureAlgorithms, u16vec(ss...)} }
func pointsExt(ps ...byte) ext         { return ext{extECPointFormats, append([]byte{byte(len(ps))}, ps...)} }
func emptyExt(typ uint16) ext          { return ext{typ, nil} }
func paddingExt(n int) ext             { return ext{0x0015, make([]byte, n)} }
func rawExt(typ uint16, b ...byte) ext { return ext{typ, b} }

// keyShareExt offers one x25519 share with a fixed key.
func keyShareExt(grease uint16) ext {
	share := be16append(nil, grease)
	share = append(share, 0, 1, 0)
	share = be16append(share, 0x001d)
	share = be16append(share, 32)
	share = append(share, bytes.Repeat([]byte{0x42}, 32)...)
	return ext{0x0033, append(be16append(nil, uint16(len(share))), share...)}
}

// chromeSpec is a Chrome 98-116 hello as curl-impersonate records it (chrome.yaml), with
// GREASE values and BoringSSL's padding to 512 bytes. Its JA4 is the FoxIO worked
// example, t13d1516h2_8daaf6152771_e5627efa2ab1.
func chromeSpec() helloSpec {
	s := helloSpec{
		version:   tls.VersionTLS12,
		sessionID: bytes.Repeat([]byte{0x22}, 32),
		ciphers: []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
			0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		exts: []ext{
			emptyExt(0x2a2a),
			sniExt("www.example.com"),
			emptyExt(0x0017),
			rawExt(0xff01, 0),
			groupsExt(0x4a4a, 0x001d, 0x0017, 0x0018),
			pointsExt(0),
			emptyExt(0x0023),
			alpnExt("h2", "http/1.1"),
			rawExt(0x0005, 1, 0, 0, 0, 0),
			sigalgsExt(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
			emptyExt(0x0012),
			keyShareExt(0x4a4a),
			rawExt(0x002d, 1, 1),
			versionsExt(0x6a6a, 0x0304, 0x0303),
			rawExt(0x001b, 2, 0, 2),
			rawExt(0x4469, 0, 3, 2, 'h', '2'),
			rawExt(0xbaba, 0),
		},
	}
	// BoringSSL pads the hello body to at least 512 bytes.
	n := len(s.message()) - handshakeHeaderLen + 4
	s.exts = append(s.exts, paddingExt(max(1, 512-n)))
	return s
}

// pipeConn is a net.Conn whose reads come from r, in chunks of at most the next size in
// sizes (cycling; none means unlimited), and whose writes go to w.
type pipeConn struct {
	r     io.Reader
	w     io.Writer
	sizes []int
	i     int
}

func (c *pipeConn) Read(p []byte) (int, error) {
	if len(c.sizes) > 0 {
		n := c.sizes[c.i%len(c.sizes)]
		c.i++
		if n > 0 && n < len(p) {
			p = p[:n]
		}
	}
	return c.r.Read(p)
}

func (c *pipeConn) Write(p []byte) (int, error) {
	if c.w == nil {
		return len(p), nil
	}
	return c.w.Write(p)
}
func (c *pipeConn) Close() error                     { return nil }
func (c *pipeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

var errStop = errors.New("stop after the client hello")

// stdlibHello feeds wire bytes (records) to a crypto/tls server and returns the
// ClientHelloInfo its GetConfigForClient receives, or nil if crypto/tls rejected the
// hello before that. It runs synchronously: the callback ends the handshake.
func stdlibHello(wire []byte, wrap func(net.Conn) net.Conn) *tls.ClientHelloInfo {
	var got *tls.ClientHelloInfo
	cfg := &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		got = chi
		return nil, errStop
	}}
	var c net.Conn = &pipeConn{r: bytes.NewReader(wire)}
	if wrap != nil {
		c = wrap(c)
	}
	_ = tls.Server(c, cfg).Handshake()
	return got
}

// clientHelloOf returns the first flight a crypto/tls client with cfg writes.
func clientHelloOf(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	var out bytes.Buffer
	c := tls.Client(&pipeConn{r: bytes.NewReader(nil), w: &out}, cfg)
	_ = c.Handshake() // fails reading the server's reply; the hello is written
	if out.Len() == 0 {
		t.Fatal("the client wrote no hello")
	}
	return out.Bytes()
}

// testCertificate returns a self-signed ECDSA certificate for "localhost".
func testCertificate(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
