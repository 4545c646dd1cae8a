// Command server is the load harness's target for the peers Vigil is compared with
// (bench/load/run.sh PAIR=coraza or PAIR=httprate): the same small fixed 200 response
// as bench/load/server, behind OWASP Coraza v3 with the Core Rule Set, or behind
// go-chi/httprate. It lives in a module of its own (bench/peers) so that Vigil's module
// does not depend on its peers.
//
// Coraza runs CRS v4 as its project recommends (coraza.conf-recommended, then
// crs-setup.conf.example and every rule file; SecRuleEngine On, paranoia level 1,
// anomaly scoring with the default inbound threshold of 5), request bodies
// inspected. httprate limits by client IP with the limit raised out of reach, as the
// Vigil server does, so that every request still takes the limiter's step.
//
// Usage:
//
//	server [-addr 127.0.0.1:8088] -peer coraza|httprate|bare [-cpuprofile FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	txhttp "github.com/corazawaf/coraza/v3/http"
	"github.com/go-chi/httprate"

	"github.com/vigilhq/vigil/bench/load/loadtarget"
	"github.com/vigilhq/vigil/bench/peers/crs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8088", "address to listen on")
	peer := fs.String("peer", "bare", "what protects the handler: coraza, httprate or bare")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := loadtarget.StartCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	h, err := handler(*peer)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "listening on %s, peer %s\n", ln.Addr(), *peer)
	return loadtarget.Serve(ctx, srv, ln)
}

// handler returns the fixed-response handler behind the named peer.
func handler(peer string) (http.Handler, error) {
	h := loadtarget.Handler()
	switch peer {
	case "bare":
		return h, nil
	case "httprate":
		// Keyed as LimitByIP (deprecated in v0.16 for its implicit trust model)
		// keyed: the TCP peer, IPv6 by /64 — right here, with no proxy in front.
		return httprate.LimitBy(100_000_000, time.Second, keyByPeer)(h), nil
	case "coraza":
		waf, err := crs.WAF()
		if err != nil {
			return nil, err
		}
		return txhttp.WrapHandler(waf, h), nil
	}
	return nil, fmt.Errorf("-peer %q: want coraza, httprate or bare", peer)
}

// keyByPeer keys a request by its TCP peer's address, canonicalised by httprate
// (IPv6 by /64).
func keyByPeer(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "", err
	}
	return httprate.CanonicalizeIP(host), nil
}
