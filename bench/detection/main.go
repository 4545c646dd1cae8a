// Command detection measures the attack scanner on the shared reference data: the
// detection rate on the OWASP CRS regression attack rows (overall, per paranoia level
// and per family), the false-positive rate on the benign ground-truth rows, and, with
// -payloads, the detection rate per payload category.
//
//	go run ./bench/detection [-data ../shared/data/requests.jsonl] [-payloads ../shared/data/payloads.jsonl] [-v]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/vigilhq/vigil/internal/detect/attack/crseval"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := crseval.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "detection:", err)
		os.Exit(1)
	}
}
