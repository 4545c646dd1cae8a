// Package loadtarget is what every load-harness server has in common, so that the
// guard's target (bench/load/server) and the peers' (bench/peers/server) differ only
// in what stands in front of the handler: the fixed response, the CPU profile of a
// whole run, and serving until the run ends.
package loadtarget

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/vigilhq/vigil/internal/graceful"
)

// Body is the fixed response.
const Body = "ok: a small fixed response from the load target\n"

// Handler answers every request 200 with Body.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, Body)
	})
}

// StartCPUProfile profiles the process into the file path until stop is called. An
// empty path profiles nothing.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// Server is an http.Server or a fingerprint.Server.
type Server = graceful.Server

// Serve serves ln until ctx ends, then shuts srv down within five seconds (see
// graceful.Serve).
func Serve(ctx context.Context, srv Server, ln net.Listener) error {
	return graceful.Serve(ctx, srv, ln, 5*time.Second)
}
