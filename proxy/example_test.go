package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/proxy"
)

// A guard in front of a service in another process: ordinary requests reach it, a request
// for a bait path does not, and the client that sent it stays banned.
func Example() {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from the app, client", r.Header.Get("X-Forwarded-For"))
	}))
	defer app.Close()

	g, err := vigil.New(vigil.Config{})
	if err != nil {
		panic(err)
	}
	p, err := proxy.New(g, proxy.Config{Upstream: app.URL})
	if err != nil {
		panic(err)
	}
	defer p.CloseIdleConnections()
	front := httptest.NewServer(p)
	defer front.Close()

	for _, path := range []string{"/", "/.env", "/", "/healthz"} {
		res, err := http.Get(front.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			body = []byte(res.Header.Get("Content-Type"))
		}
		fmt.Printf("%-8s %d %-5s %s\n", path, res.StatusCode, res.Header.Get("X-Vigil-Action"), strings.TrimSpace(string(body)))
	}
	// Output:
	// /        200 allow hello from the app, client 127.0.0.1
	// /.env    403 block application/problem+json
	// /        403 block application/problem+json
	// /healthz 200       ok
}
