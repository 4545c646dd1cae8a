package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/config"
	"github.com/vigilhq/vigil/internal/replay"
	"github.com/vigilhq/vigil/policy"
)

func newReplay(env func(string) (string, bool)) *cobra.Command {
	var file, format, mode string
	cmd := &cobra.Command{
		Use:   "replay [--config FILE] [--format jsonl|combined] [--mode block|monitor] FILE",
		Short: "Run recorded requests through the guard offline and print what it would have done",
		Long: `Replay runs recorded requests through the guard, offline and in order, and prints
one JSON line per request on standard output (line, client, method, path, action,
would_be, score, signals; refused for a request net/http's server would have answered
itself) and a summary on standard error: the decisions, the most frequent signals and,
for labelled records, the share of attacks caught and of benign requests caught (false
positives).

FILE ("-" for standard input) is JSONL, one request per line as in the shared reference
data (method, path, query, headers as [name, value] pairs, body; optional client,
time, label), or, with --format combined, a web server's combined access log.

The guard is configured by --config and VIGIL_* variables as vigil proxy's is, and runs
on the records' clock with its in-memory store. It makes no network calls: crawler
claims stay unverified and e-mail domains are judged without DNS. Combined logs carry
only the User-Agent and Referer headers, so the header-consistency signal
(ua_inconsistent) counts with weight 0 there.

` + envHelp(),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "jsonl" && format != "combined" {
				return usageError{err: fmt.Errorf("--format %q: want jsonl or combined", format), usage: cmd.UseLine()}
			}
			c, err := config.LoadGuard(file, config.Env(env)...)
			if err != nil {
				what := "configuration"
				if file != "" {
					what = file
				}
				return problems(what, err)
			}
			gc := c.Guard
			gc.Offline = true
			gc.Store, gc.Events = nil, nil // the records' own in-memory state
			switch mode {
			case "":
			case string(policy.ModeBlock), string(policy.ModeMonitor):
				gc.Policy.Mode = policy.Mode(mode)
			default:
				return usageError{err: fmt.Errorf("--mode %q: want block or monitor", mode), usage: cmd.UseLine()}
			}
			if format == "combined" {
				w := maps.Clone(gc.Policy.Weights)
				if w == nil {
					w = map[string]float64{}
				}
				w["ua_inconsistent"] = 0
				gc.Policy.Weights = w
			}
			rn, err := replay.NewRunner(gc, time.Now())
			if err != nil {
				return err
			}
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(out)
			var sum replay.Summary
			each := func(rec replay.Record) error {
				res := rn.Run(&rec)
				sum.Add(&res)
				return enc.Encode(res.Line())
			}
			read := replay.ReadJSONL
			if format == "combined" {
				read = replay.ReadCombined
			}
			rerr := read(in, each)
			if err := out.Flush(); err != nil {
				return err
			}
			if rerr != nil {
				var pe *os.PathError
				if errors.As(rerr, &pe) {
					return rerr
				}
				return fmt.Errorf("%s: %w", args[0], rerr)
			}
			sum.Print(cmd.ErrOrStderr())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "configuration `file` (vigil.yaml), as for vigil proxy")
	cmd.Flags().StringVar(&format, "format", "jsonl", "record format: jsonl or combined")
	cmd.Flags().StringVar(&mode, "mode", "", "override the policy's mode: block or monitor")
	return cmd
}
