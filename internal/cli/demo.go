package cli

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/demo"
)

func newDemo() *cobra.Command {
	var (
		cfg  demo.Config
		data string
	)
	cmd := &cobra.Command{
		Use:   "demo [--listen ADDR] [--data DIR] [flags]",
		Short: "Run a protected demo shop, Studio with its dashboard, and simulated traffic",
		Long: `Demo is a newcomer's first five minutes. It starts Studio (SQLite under --data) with its
dashboard, a small shop behind a Vigil guard whose agent reports every decision to
that Studio and takes bans and policy back from it, and a traffic simulator: browser
visitors, good bots, scanners walking honeypot paths, SQL injection, XSS and other
payloads, credential stuffers, signup fraudsters with disposable addresses, scrapers
that claim to be Chrome over real TLS with Go's TLS stack, attack tools, a flood, and a
slow price scraper for you to ban from the dashboard.

It prints the dashboard's URL and the admin credentials. The first start creates the
admin user with a generated password, kept in <data>/demo-admin-password (0600) so that
every later start on the same directory prints it again: this is a demo setup, not one
to expose. Every second it prints what the guard did with each kind of request; on exit
(Ctrl-C, or after --duration) it prints a summary that names every request whose
outcome was not the expected one.`,
		Example: `  vigil demo
  vigil demo --listen 127.0.0.1:9080 --studio-listen 127.0.0.1:9070 --data /tmp/vigil-demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			// Studio's database as `vigil studio --data` opens it (pepper included);
			// the demo reads no environment variables.
			sf := storageFlags{data: data}
			st, err := sf.open(ctx, cmd, func(string) (string, bool) { return "", false })
			if err != nil {
				return err
			}
			defer st.Close()
			cfg.Store, cfg.Data = st, data
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			return demo.Run(ctx, cfg, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "`address` of the demo shop over HTTP (port 0 picks a free one)")
	fs.StringVar(&cfg.TLSListen, "tls-listen", "127.0.0.1:8443", "`address` of the demo shop over HTTPS, self-signed (port 0 picks a free one)")
	fs.StringVar(&cfg.StudioListen, "studio-listen", "127.0.0.1:7070", "`address` of Studio and its dashboard (port 0 picks a free one)")
	fs.StringVar(&data, "data", "vigil-data", "`directory` of Studio's SQLite database and the demo's credentials (created if missing, reused later)")
	fs.IntVar(&cfg.Rate, "rate", 200, "most simulated requests per second")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (default: run until interrupted)")
	fs.DurationVar(&cfg.Interval, "interval", 0, "time between two tables of counts (default 1s)")
	return cmd
}
