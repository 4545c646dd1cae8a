// Package graceful serves a listener until a context ends, then shuts the server down
// within a grace period: the loop every Vigil command that serves and the load
// harness's servers share.
package graceful

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server is what Serve runs: an *http.Server or a *fingerprint.Server.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Serve serves ln with srv until ctx ends, then shuts srv down, waiting at most grace
// for requests in flight. It returns the error that stopped serving early, or
// Shutdown's error, or an error Serve returned during the shutdown other than
// http.ErrServerClosed; nil after a clean shutdown.
func Serve(ctx context.Context, srv Server, ln net.Listener, grace time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}
