package vigil_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vigilhq/vigil"
)

// A guard in front of a handler: ordinary requests pass, a request for a bait path is
// blocked and bans the client.
func ExampleGuard_Handler() {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	h := g.Handler(app)

	for _, path := range []string{"/", "/.env", "/"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = "203.0.113.9:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(path, w.Code, w.Header().Get("X-Vigil-Action"))
	}
	// Output:
	// / 200 allow
	// /.env 403 block
	// / 403 block
}

// A handler reads the guard's verdict from the request context.
func ExampleVerdictFrom() {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := vigil.VerdictFrom(r.Context())
		fmt.Println("client:", v.ClientIP, "action:", v.Action, "client kind:", v.Enrichment.ClientKind)
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "203.0.113.9:40000"
	r.Header.Set("User-Agent", "curl/8.5.0")
	g.Handler(app).ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// client: 203.0.113.9 action: allow client kind: library
}

// Check decides without answering, for code that wants to act on the verdict itself.
func ExampleGuard_Check() {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/search?q=1'%20OR%20'1'='1", nil)
	r.RemoteAddr = "203.0.113.9:40000"
	v := g.Check(r)
	fmt.Println(v.Action, v.Score >= 80, v.Signals[len(v.Signals)-1].Code)
	// Output:
	// block true sqli
}

// An operator bans a network and a client profile (DNA) through the store the guard
// uses. The DNA ban follows the client when it changes address.
func ExampleMemoryStore_Ban() {
	store := vigil.NewMemoryStore(vigil.MemoryStoreConfig{})
	g, err := vigil.New(vigil.Config{Store: store})
	if err != nil {
		panic(err)
	}
	get := func(ip string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = ip + ":40000"
		r.Header.Set("User-Agent", "python-requests/2.32.3")
		r.Header.Set("Accept", "*/*")
		return r
	}
	ctx := context.Background()
	until := time.Now().Add(time.Hour)

	_ = store.Ban(ctx, vigil.Ban{Kind: vigil.BanCIDR, Value: "198.51.100.0/24", Reason: "manual", Until: until})
	fmt.Println("banned network:", g.Check(get("198.51.100.20")).Action)

	dna := g.Check(get("203.0.113.1")).DNA.ID
	_ = store.Ban(ctx, vigil.Ban{Kind: vigil.BanDNA, Value: dna, Reason: "manual", Until: until})
	fmt.Println("same profile, new address:", g.Check(get("192.0.2.200")).Action)
	// Output:
	// banned network: block
	// same profile, new address: block
}
