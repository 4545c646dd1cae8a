// Command server is the target of the load harness (bench/load/run.sh): it answers every
// request with the same small 200 response, on bare net/http or, with -guard, behind a
// Vigil guard with the default configuration (every detector on, memory store).
//
// With -tls it serves HTTPS with a self-signed certificate through a plain
// http.Server; with -capture it serves HTTPS through a fingerprint.Server instead, which
// observes every connection (raw ClientHello, HTTP/1 header order) for the guard. The
// two measure the cost of capture ("vigil proxy with TLS" against the same without).
//
// The one departure from the default configuration: wrk sends every request from
// 127.0.0.1, so the default per-IP limit (600 a minute) would answer almost all of them
// 429 and the harness would measure 429s. The guarded server raises the per-IP limit to
// 100 million a second instead of turning it off, so every request still takes its
// rate-limit step.
//
// Usage:
//
//	server [-addr 127.0.0.1:8088] [-guard [-exclude PATTERN] [-disable DETECTORS]] [-spin DURATION] [-tls | -capture] [-redis URL [-redis-mode M]] [-cpuprofile FILE] [-memprofile FILE]
//
// With -exclude the guard's policy excludes the paths matching PATTERN (policy
// ExcludePaths): requests to them pass through the guard's handler, get a request ID
// and their response headers, but skip every check. Set beside -guard alone (see
// ab.sh) it splits the guard's cost into what any middleware of its shape pays and
// what its checks add.
//
// With -disable the guard's policy gets one route over every path that turns the named
// detectors off (policy Route.Disable), so a run with "-disable
// bot,behaviour,fingerprint,attack" measures the guard's pipeline without its
// detectors: client IP, request ID, header set, DNA, bans, rules and rate limits.
//
// With -spin D the handler first computes for about D (register arithmetic, no memory):
// beside the bare server it shows what D of plain computation per request costs the
// ratio.
//
// With -redis the guard keeps its state in Redis through redisstore (local-first by
// default), under a key prefix of its own that it removes on exit.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/bench/load/loadtarget"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/policy"
	"github.com/vigilhq/vigil/redisstore"
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

// run serves until ctx ends, then shuts down within five seconds.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8088", "address to listen on")
	guard := fs.Bool("guard", false, "put a Vigil guard (default configuration, per-IP limit raised) in front of the handler")
	exclude := fs.String("exclude", "", "with -guard, exclude the paths matching this `pattern` from every check")
	disable := fs.String("disable", "", "with -guard, turn these `detectors` (comma-separated: bot, behaviour, fingerprint, attack, …) off on every path")
	spin := fs.Duration("spin", 0, "burn this much CPU in the handler before it answers (calibrates what pure computation costs the ratio)")
	useTLS := fs.Bool("tls", false, "serve HTTPS (self-signed) through a plain http.Server")
	capture := fs.Bool("capture", false, "serve HTTPS (self-signed) through a fingerprint.Server that observes every connection")
	redisURL := fs.String("redis", "", "keep the guard's state in Redis at this `URL` (with -guard)")
	redisMode := fs.String("redis-mode", "local-first", "redisstore mode: local-first or exact")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile (what is live, and what was allocated) at exit to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := loadtarget.StartCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *memprofile != "" {
		defer func() {
			f, err := os.Create(*memprofile)
			if err != nil {
				fmt.Fprintln(stderr, "server:", err)
				return
			}
			defer f.Close()
			runtime.GC() // the live heap as of the last collection, up to date
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(stderr, "server:", err)
			}
		}()
	}
	var store vigil.Store
	if *redisURL != "" {
		client, err := redisstore.ParseURL(*redisURL)
		if err != nil {
			return err
		}
		defer client.Close()
		prefix := fmt.Sprintf("vigil-load-%d:", os.Getpid())
		rs, err := redisstore.New(client, redisstore.Config{Mode: redisstore.Mode(*redisMode), KeyPrefix: prefix})
		if err != nil {
			return err
		}
		rctx, stopRedis := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rs.Run(rctx) }()
		defer func() {
			stopRedis()
			<-done
			// Leave nothing behind in a shared Redis.
			iter := client.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
			for iter.Next(context.Background()) {
				client.Del(context.Background(), iter.Val())
			}
		}()
		store = rs
	}
	if (*exclude != "" || *disable != "") && !*guard {
		return fmt.Errorf("-exclude and -disable need -guard")
	}
	o := options{guard: *guard, store: store, exclude: *exclude, spin: *spin}
	if *disable != "" {
		o.disable = strings.Split(*disable, ",")
	}
	h, err := handler(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	var server loadtarget.Server = srv
	if *useTLS || *capture {
		cert, err := selfsigned.Certificate()
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		if *capture {
			server = &fingerprint.Server{HTTP: srv}
		} else {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	fmt.Fprintf(stdout, "listening on %s, guard %v, tls %v, capture %v\n", ln.Addr(), *guard, *useTLS || *capture, *capture)
	return loadtarget.Serve(ctx, server, ln)
}

// options are the handler's flags.
type options struct {
	guard   bool
	store   vigil.Store   // the guard's store; nil for memory
	exclude string        // a path pattern the guard's policy excludes
	disable []string      // detectors the guard's policy turns off on every path
	spin    time.Duration // CPU the handler burns before answering
}

// handler returns the fixed-response handler, behind a guard when o.guard is set.
func handler(o options) (http.Handler, error) {
	h := loadtarget.Handler()
	if o.spin > 0 {
		h = spinning(h, o.spin)
	}
	if !o.guard {
		return h, nil
	}
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 100_000_000, Period: policy.Duration(time.Second)}
	if o.exclude != "" {
		p.ExcludePaths = []string{o.exclude}
	}
	if len(o.disable) > 0 {
		p.Routes = append(p.Routes, policy.Route{Name: "load-disable", Paths: []string{"/**"}, Disable: o.disable})
	}
	g, err := vigil.New(vigil.Config{Policy: p, Store: o.store})
	if err != nil {
		return nil, err
	}
	return g.Handler(h), nil
}

// spinning returns next behind a loop that computes for about d per request: pure
// arithmetic on registers, touching no memory, so that a run of -spin D against the bare
// server shows what D of plain computation costs the ratio, beside what the guard's
// code (which also touches memory and evicts caches) costs. The loop is calibrated once,
// at start.
func spinning(next http.Handler, d time.Duration) http.Handler {
	const calibrate = 20_000_000
	start := time.Now()
	spinSink.Add(spinFor(calibrate))
	perIter := float64(time.Since(start)) / calibrate
	n := int(float64(d) / perIter)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spinSink.Add(spinFor(n))
		next.ServeHTTP(w, r)
	})
}

// spinSink keeps the compiler from removing the loop.
var spinSink atomic.Uint64

// spinFor runs n steps of a linear congruential generator.
func spinFor(n int) uint64 {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}
