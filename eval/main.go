// Command eval writes Vigil's detection report, docs/detection.md, from the shared
// reference data (../shared/data), with OWASP Coraza v3 and the Core Rule Set on the
// same requests for comparison:
//
//	cd eval && go run . [-data ../../shared/data] [-out ../docs] [-jsonl rows.jsonl] [-v]
//
// It measures six row groups: the OWASP CRS regression requests (attack rows caught per
// paranoia level and family, false positives on the benign ground truth), attack
// payloads per category injected into a query parameter and into a JSON body, scanner
// probe paths per label and list, bot detection per User-Agent category with false
// positives on browsers, client-family accuracy on browser TLS and HTTP/2 signatures,
// and disposable e-mail domains with their allowlist.
//
// Request rows run through internal/replay, the engine of `vigil replay`: each row's
// bytes are parsed by net/http's parser, and a row net/http's server would refuse is
// caught by both detectors; the others go through the guard's full Handler, offline, on
// a fixed clock, each as a client of its own, under replay.DetectionConfig (attack
// rows: the signals that judge the client weighed 0) or the default policy (User-Agent
// rows). A row is caught when the guard blocks or challenges it; Coraza catches it when
// it answers 403. Bot rows count when Vigil classifies the client as a non-browser.
// The same bytes go through Coraza + CRS at paranoia level 1 (bench/peers/crs).
//
// The report lists every row where Coraza does better than Vigil, with the numbers,
// and draws its charts with gonum/plot into docs/img/detection-*.png. Nothing it
// measures depends on the clock, the network or map order, so a rerun gives the same
// numbers. It is a module of its own so that Vigil's module depends on neither Coraza
// nor gonum.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}
