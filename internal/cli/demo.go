package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/demo"
)

func newDemo() *cobra.Command {
	var cfg demo.Config
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "Run a protected demo shop and a traffic simulator against it",
		Long: `Demo serves a small shop behind a Vigil guard and sends it simulated traffic: browser
visitors, scanners, injection attempts, a flood and attack tools. Every second it prints
what the guard did with each kind of request; on exit (Ctrl-C, or after --duration) it
prints a summary that names every request whose outcome was not the expected one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo.Run(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "`address` of the demo shop (port 0 picks a free one)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (default: run until interrupted)")
	fs.DurationVar(&cfg.Interval, "interval", 0, "time between two tables of counts (default 1s)")
	return cmd
}
