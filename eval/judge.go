package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/bench/peers/crs"
	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
	"github.com/vigilhq/vigil/internal/replay"
)

// judges runs request rows through Vigil and, when it has one, the peer.
type judges struct {
	peer    *peer // nil: Vigil only
	workers int   // the peer's concurrency
}

// verdicts is what the judges decided about a list of requests, index by index.
type verdicts struct {
	vigil []replay.Result
	peer  []bool // nil without a peer
}

// run replays raws through a fresh guard made from cfg, in order, each request as a
// client of its own, and through the peer on workers goroutines at the same time. The
// results do not depend on scheduling: the guard sees the requests in order, and the
// peer keeps no state between requests.
func (j *judges) run(ctx context.Context, cfg vigil.Config, raws [][]byte) (verdicts, error) {
	var out verdicts
	rn, err := replay.NewRunner(cfg, replay.Start)
	if err != nil {
		return out, err
	}
	var wg sync.WaitGroup
	if j.peer != nil {
		out.peer = make([]bool, len(raws))
		next := make(chan int)
		for range max(j.workers, 1) {
			wg.Go(func() {
				for i := range next {
					out.peer[i] = j.peer.blocks(raws[i])
				}
			})
		}
		wg.Go(func() {
			defer close(next)
			for i := range raws {
				select {
				case next <- i:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	out.vigil = make([]replay.Result, len(raws))
	for i, raw := range raws {
		if i%1024 == 0 && ctx.Err() != nil {
			break
		}
		rec := replay.Record{Line: i + 1, Raw: raw}
		out.vigil[i] = rn.Run(&rec)
		out.vigil[i].Record = nil // the raw bytes stay with the caller
	}
	wg.Wait()
	return out, ctx.Err()
}

// peer is OWASP Coraza v3 with the Core Rule Set, set up as bench/peers sets it up
// (paranoia level 1, SecRuleEngine On), in front of a handler that answers 200.
type peer struct{ h http.Handler }

func newPeer() (*peer, error) {
	waf, err := crs.WAF()
	if err != nil {
		return nil, err
	}
	return peerOf(waf), nil
}

func peerOf(waf coraza.WAF) *peer {
	return &peer{h: txhttp.WrapHandler(waf, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))}
}

// blocks reports whether the peer stops raw: net/http's server refuses it before any
// handler runs, or Coraza answers 403.
func (p *peer) blocks(raw []byte) bool {
	req, why := crseval.ParseRaw(raw)
	if why != "" {
		return true
	}
	req.RemoteAddr = "192.0.2.1:40000"
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, req)
	return w.Code == http.StatusForbidden
}

// caught is the counting rule for Vigil: net/http's server refused the request, or
// the guard blocked or challenged it (replay.Result.Caught).
func caught(r *replay.Result) bool { return r.Caught() }
