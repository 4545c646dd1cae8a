package h1tap_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/h1tap"
)

// A Tap fed the bytes of a request hands its head to the handler of that request.
// Names keep their order, case and duplicates, which http.Header does not.
func ExampleTap() {
	var tap h1tap.Tap
	tap.Feed([]byte("GET /search?q=go HTTP/1.1\r\nHost: example.com\r\nsec-ch-ua: \"Chromium\";v=\"142\"\r\n" +
		"User-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n"))

	// In a handler: tap.Pop(r.Method, r.RequestURI).
	h, ok := tap.Pop("GET", "/search?q=go")
	fmt.Println(ok, h.Status())
	for name := range h.Names() {
		fmt.Println(name)
	}
	fmt.Println(h.UserAgent())

	// The tap gives nothing it cannot vouch for: here, a request it never saw.
	h, ok = tap.Pop("GET", "/other")
	fmt.Println(ok, h.Status())
	// Output:
	// true ok
	// Host
	// sec-ch-ua
	// User-Agent
	// Accept
	// Mozilla/5.0
	// false mismatch
}

// tapListener wraps the connections it accepts in an h1tap.Conn.
type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return h1tap.NewConn(c), nil
}

// A server taps HTTP/1 by wrapping the connections it accepts (after TLS, if it
// terminates TLS itself) and carrying each connection's tap in the request context.
func ExampleNewConn() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		ConnContext:       h1tap.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, ok := h1tap.FromContext(r.Context()).Pop(r.Method, r.RequestURI)
			fmt.Fprintln(w, ok, h.AppendNames(nil))
		}),
	}
	go srv.Serve(tapListener{ln})
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nhost: example.com\r\nX-Zed: 1\r\nuser-agent: demo\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(strings.TrimSpace(string(body)))
	// Output: true [host X-Zed user-agent]
}
