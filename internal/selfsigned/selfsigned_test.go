package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
)

func TestCertificateHandshakes(t *testing.T) {
	cert, err := Certificate()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- tls.Server(s, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake() }()
	if err := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "localhost"}).Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}
