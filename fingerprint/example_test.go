package fingerprint_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/selfsigned"
)

// A DNA's presence vector has one bit per header of the vocabulary. In middleware mode
// the DNA comes from the request alone, so header order is unknown there.
func ExampleVocabulary() {
	// The DNA of a request that carried Accept and User-Agent, as a guard reports it.
	d := fingerprint.DNA{Family: "curl", Kind: "library", Source: "request", Presence: 1<<0 | 1<<20}
	var present []string
	for i, name := range fingerprint.Vocabulary() {
		if d.Presence&(1<<uint(i)) != 0 {
			present = append(present, name)
		}
	}
	fmt.Println(d.Family, d.Kind, d.Source, present)
	// Output:
	// curl library request [Accept User-Agent]
}

// A Server terminates TLS itself and observes every connection: the handler finds the
// request's header order, as sent, and the ClientHello's fingerprint.
func ExampleServer() {
	cert, _ := selfsigned.Certificate()
	srv := &fingerprint.Server{HTTP: &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			order, o := fingerprint.FromContext(r.Context()).Observe(r, nil)
			fmt.Fprintln(w, o.Protocol, order, o.TLS.Exact, len(o.TLS.JA4))
		}),
	}}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(true)
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Print(string(body))
	// Output:
	// h1 [Host User-Agent Accept-Encoding] true 36
}

// Behind a load balancer that terminates TLS, an Instrument-ed server on a wrapped
// listener still sees each plaintext HTTP/1 request's header order and case.
func ExampleWrapListener() {
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		order, _ := fingerprint.FromContext(r.Context()).Observe(r, nil)
		fmt.Fprintln(w, order)
	})}
	_ = fingerprint.Instrument(srv)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(fingerprint.WrapListener(ln))
	defer srv.Close()

	c, _ := net.Dial("tcp", ln.Addr().String())
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nhost: example.test\r\nUser-Agent: demo\r\nx-trace: 1\r\nConnection: close\r\n\r\n")
	res, _ := http.ReadResponse(bufio.NewReader(c), nil)
	body, _ := io.ReadAll(res.Body)
	fmt.Print(string(body))
	// Output:
	// [host User-Agent x-trace Connection]
}
