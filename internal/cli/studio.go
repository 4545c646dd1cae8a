package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/studio"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// storageFlags are the flags that name Studio's database, shared by every studio
// command.
type storageFlags struct {
	data, database, pepperFile string
}

func (f *storageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "vigil-data", "directory of the embedded SQLite database (created if missing)")
	cmd.Flags().StringVar(&f.database, "database", "", "a PostgreSQL URL (postgres://…) instead of --data; also VIGIL_STUDIO_DATABASE")
	cmd.Flags().StringVar(&f.pepperFile, "pepper-file", "", "file holding the secret (≥ 32 bytes) API keys are hashed with; default <data>/pepper, created on first start; required with --database (also VIGIL_STUDIO_PEPPER_FILE)")
}

// open opens the store the flags name, creating the data directory and its pepper
// on first use.
func (f *storageFlags) open(ctx context.Context, cmd *cobra.Command, env func(string) (string, bool)) (*store.Store, error) {
	database := f.database
	if v, ok := env("VIGIL_STUDIO_DATABASE"); ok && !cmd.Flags().Changed("database") {
		database = v
	}
	pepperFile := f.pepperFile
	if v, ok := env("VIGIL_STUDIO_PEPPER_FILE"); ok && !cmd.Flags().Changed("pepper-file") {
		pepperFile = v
	}
	dsn := database
	if database != "" {
		if cmd.Flags().Changed("data") {
			return nil, usageError{err: errors.New("give --data or --database, not both"), usage: cmd.UseLine()}
		}
		if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
			return nil, usageError{err: errors.New("--database must be a postgres:// URL; for SQLite use --data DIR"), usage: cmd.UseLine()}
		}
		if pepperFile == "" {
			return nil, usageError{err: errors.New("--database needs --pepper-file: every Studio replica must hash keys with the same secret, kept out of the database"), usage: cmd.UseLine()}
		}
	} else {
		if err := os.MkdirAll(f.data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		dsn = filepath.Join(f.data, "studio.db")
		if pepperFile == "" {
			pepperFile = filepath.Join(f.data, "pepper")
			if err := ensurePepper(pepperFile); err != nil {
				return nil, err
			}
		}
	}
	pepper, err := os.ReadFile(pepperFile)
	if err != nil {
		return nil, fmt.Errorf("pepper: %w", err)
	}
	pepper = []byte(strings.TrimSpace(string(pepper)))
	st, err := store.Open(ctx, dsn, store.Options{Pepper: pepper})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// ensurePepper writes a new random pepper to path unless the file exists.
func ensurePepper(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	p, err := randomString(48)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("pepper: %w", err)
	}
	if _, err := f.WriteString(p + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("pepper: %w", err)
	}
	return f.Close()
}

// randomString returns n random characters from [A-Za-z0-9].
func randomString(n int) (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

func newStudio(env func(string) (string, bool)) *cobra.Command {
	var (
		sf                            storageFlags
		listen, metricsListen, pwFile string
		secure                        bool
		trusted                       []string
		retentionAge                  time.Duration
		retentionEvents               int64
		shutdownTimeout               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "studio [--listen ADDR] [--data DIR | --database postgres://…] [flags]",
		Short: "Run Studio, the control plane agents report to",
		Long: `Studio stores what every Vigil agent (and every guard-agent client) reports, answers
queries about it, and pushes bans and policy back to the agents within a second.

The database is embedded SQLite under --data (default ./vigil-data), or PostgreSQL
with --database, which several Studio replicas may share. On first start Studio creates
the schema, an "admin" user (password from --admin-password-file, else generated and
printed once), a "default" project and its ingest key (printed once).

Agents connect with: vigil proxy --studio http://ADDR --studio-key <ingest key>.
Admin API calls use "Authorization: Bearer <admin key>" (vigil studio key create
--scope admin); the dashboard uses sessions (POST /v1/login).

` + envHelp(),
		Example: `  vigil studio --listen 127.0.0.1:7070
  vigil studio --database postgres://studio@db/vigil --pepper-file /run/secrets/pepper
  vigil studio key create --project default --scope admin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v, ok := env("VIGIL_STUDIO_LISTEN"); ok && !cmd.Flags().Changed("listen") {
				listen = v
			}
			ctx := cmd.Context()
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			st, err := sf.open(ctx, cmd, env)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := firstStart(ctx, st, pwFile, cmd.OutOrStdout()); err != nil {
				return err
			}
			srv, err := studio.New(studio.Config{
				Store: st, Logger: log, Secure: secure, TrustedProxies: trusted,
				Retention: store.Retention{MaxAge: retentionAge, MaxEventsPerProject: retentionEvents},
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			if metricsListen != "" {
				mln, err := net.Listen("tcp", metricsListen)
				if err != nil {
					_ = ln.Close()
					return fmt.Errorf("--metrics-listen: %w", err)
				}
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", srv.MetricsHandler())
				msrv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
				go func() { _ = msrv.Serve(mln) }()
				defer msrv.Close()
				log.Info("metrics listening", "addr", mln.Addr().String(), "path", "/metrics")
			}
			log.Info("vigil studio listening", "addr", ln.Addr().String(), "engine", st.Engine())
			fmt.Fprintf(cmd.OutOrStdout(), "Studio listening on http://%s\n", ln.Addr())
			err = serve(ctx, ln, nil, srv.Handler(), log, shutdownTimeout, srv.Run)
			log.Info("vigil studio stopped")
			return err
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:7070", "address to serve on (also VIGIL_STUDIO_LISTEN)")
	f.StringVar(&metricsListen, "metrics-listen", "", "serve Prometheus /metrics on this separate, private address")
	f.StringVar(&pwFile, "admin-password-file", "", "on first start, the admin user's password (else one is generated and printed)")
	f.BoolVar(&secure, "secure-cookies", false, "mark session cookies Secure (set when Studio is reached over HTTPS)")
	f.StringSliceVar(&trusted, "trusted-proxies", nil, "CIDRs of proxies whose X-Forwarded-For Studio's login limit believes")
	f.DurationVar(&retentionAge, "retention-age", 30*24*time.Hour, "delete events older than this (0 keeps them)")
	f.Int64Var(&retentionEvents, "retention-events", 0, "keep at most this many events per project (0: no limit)")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on shutdown")
	cmd.AddCommand(newStudioKey(env))
	return cmd
}

// firstStart creates the admin user, and the default project with its ingest key,
// when the database has no user or no project, and prints the secrets once.
func firstStart(ctx context.Context, st *store.Store, pwFile string, out io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		pw, generated := "", false
		if pwFile != "" {
			b, err := os.ReadFile(pwFile)
			if err != nil {
				return fmt.Errorf("--admin-password-file: %w", err)
			}
			pw = strings.TrimRight(string(b), "\r\n")
		} else {
			if pw, err = randomString(20); err != nil {
				return err
			}
			generated = true
		}
		_, err = st.CreateUser(ctx, "admin", pw, store.RoleAdmin)
		switch {
		case errors.Is(err, store.ErrExists): // another replica created it first
		case err != nil:
			return fmt.Errorf("admin user: %w", err)
		default:
			printAdmin(ctx, st, out, pw, generated)
		}
	}
	ps, err := st.Projects(ctx)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		p, err := st.CreateProject(ctx, "default")
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("default project: %w", err)
		}
		plain, _, err := st.CreateKey(ctx, p.ID, store.ScopeIngest)
		if err != nil {
			return fmt.Errorf("ingest key: %w", err)
		}
		_ = st.Audit(ctx, store.AuditEntry{Project: p.ID, Actor: "studio", Action: "project.create", Target: "project:default", Detail: "first start"})
		fmt.Fprintln(out, "Studio first start: created the project \"default\".")
		fmt.Fprintf(out, "  ingest key: %s   (shown once)\n", plain)
	}
	return nil
}

func printAdmin(ctx context.Context, st *store.Store, out io.Writer, pw string, generated bool) {
	_ = st.Audit(ctx, store.AuditEntry{Actor: "studio", Action: "user.create", Target: "user:admin", Detail: "first start"})
	fmt.Fprintln(out, "Studio first start: created the admin user.")
	fmt.Fprintln(out, "  user:     admin")
	if generated {
		fmt.Fprintf(out, "  password: %s   (shown once; change it with PATCH /v1/users/{id})\n", pw)
	} else {
		fmt.Fprintln(out, "  password: from --admin-password-file")
	}
}

func newStudioKey(env func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage Studio API keys"}
	var (
		sf             storageFlags
		project, scope string
	)
	create := &cobra.Command{
		Use:   "create --project NAME --scope ingest|admin [--data DIR | --database URL]",
		Short: "Create an API key and print it (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scope != string(store.ScopeIngest) && scope != string(store.ScopeAdmin) {
				return usageError{err: errors.New(`--scope must be "ingest" or "admin"`), usage: cmd.UseLine()}
			}
			ctx := cmd.Context()
			st, err := sf.open(ctx, cmd, env)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := st.ProjectByName(ctx, project)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no project %q", project)
			}
			if err != nil {
				return err
			}
			plain, k, err := st.CreateKey(ctx, p.ID, store.Scope(scope))
			if err != nil {
				return err
			}
			_ = st.Audit(ctx, store.AuditEntry{Project: p.ID, Actor: "cli", Action: "key.create", Target: "key:" + k.Prefix, Detail: "scope " + scope})
			fmt.Fprintln(cmd.OutOrStdout(), plain)
			return nil
		},
	}
	sf.register(create)
	create.Flags().StringVar(&project, "project", "default", "the project's name")
	create.Flags().StringVar(&scope, "scope", "ingest", "ingest (agents) or admin (the admin API)")
	cmd.AddCommand(create)
	return cmd
}
