// Command vigil is Vigil's one binary: the reverse proxy, the configuration checker and
// the demo. Run "vigil help" for the commands; package internal/cli implements them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigilhq/vigil/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1) // Run has printed err
	}
}
