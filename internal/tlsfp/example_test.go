package tlsfp_test

import (
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	"github.com/vigilhq/vigil/internal/tlsfp"
)

// A TLS 1.0 ClientHello in one record, as read from the wire: the first example hello
// of the JA3 README (salesforce/ja3), whose JA3 hash the README gives.
func ExampleParseClientHello() {
	wire, _ := hex.DecodeString("160301006b0100006703011111111111111111111111111111111111111111111111111111111111111111" +
		"000018002f00350005000ac009c00ac013c01400320038001300040100002600000010000e00000b6578616d" +
		"706c652e636f6d000a00080006001700180019000b00020100")
	h, err := tlsfp.ParseClientHello(wire)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := h.Fingerprint()
	fmt.Println(h.ServerName, h.Records)
	fmt.Println(f.JA4)
	fmt.Println(f.JA3)
	fmt.Println(f.JA3Hash)
	// Output:
	// example.com 1
	// t10d120300_d94e65cdb899_33a13ba74d1c
	// 769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0
	// ada70206e40642a3e4461f35503241d5
}

// A server wraps each accepted connection in a Tee below crypto/tls. In
// GetConfigForClient the whole hello has been read, so both fingerprints are there: the
// exact one from the raw bytes and the one from the ClientHelloInfo.
func ExampleTee() {
	clientConn, serverConn := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := tls.Client(clientConn, &tls.Config{ServerName: "shop.example", NextProtos: []string{"h2", "http/1.1"}})
		_ = c.Handshake() // fails: this example's server has no certificate
		clientConn.Close()
	}()

	tee := tlsfp.NewTee(serverConn, 0)
	cfg := &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		fromInfo := tlsfp.FromClientHelloInfo(chi)
		hello, err := tee.Hello()
		if err != nil {
			return nil, err
		}
		raw := hello.Fingerprint()
		fmt.Println(hello.ServerName, hello.SupportedProtos, hello.Records)
		fmt.Println("same JA4:", raw.JA4 == fromInfo.JA4)
		fmt.Println("JA3 version assumed:", raw.JA3VersionAssumed, fromInfo.JA3VersionAssumed)
		return nil, errors.New("no certificate")
	}}
	_ = tls.Server(tee, cfg).Handshake()
	serverConn.Close()
	<-done
	// Output:
	// shop.example [h2 http/1.1] 1
	// same JA4: true
	// JA3 version assumed: false true
}

// Known-client tables match on the cipher hash, which names the TLS library.
func ExampleJA4B() {
	for _, ja4 := range []string{
		"t13d1516h2_8daaf6152771_02713d6af862", // Chromium (FoxIO mapping)
		"t13d1715h2_5b57614c22b0_7121afd63204", // Firefox
		"not a fingerprint",
	} {
		fmt.Println(tlsfp.JA4B(ja4))
	}
	// Output:
	// 8daaf6152771 true
	// 5b57614c22b0 true
	//  false
}
