package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/fraud"
)

func newEmail() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "email",
		Short: "Check e-mail addresses for signup fraud",
	}
	cmd.AddCommand(newEmailCheck(), newEmailClusters())
	return cmd
}

func newEmailCheck() *cobra.Command {
	var asJSON, offline bool
	cmd := &cobra.Command{
		Use:   "check [--json] [--offline] ADDRESS...",
		Short: "Analyse addresses: syntax, canonical form, disposable, free, role, MX",
		Long: `Check analyses each address as the signup protection does: its syntax, its
canonical form (the identity key: every spelling of one mailbox has the same one),
whether its domain is disposable, a free provider or a role account, whether the
domain accepts mail (MX, then A/AAAA; --offline skips DNS), and a risk score with
its reasons. Nothing leaves this machine but the DNS look-ups.`,
		Example: `  vigil email check x@mailinator.com
  vigil email check --json J.o.h.n+x@googlemail.com`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := fraud.NewEmailAnalyzer(fraud.EmailConfig{Offline: offline})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			for _, addr := range args {
				rep := a.AnalyzeEmail(cmd.Context(), addr)
				if asJSON {
					if err := enc.Encode(rep); err != nil {
						return err
					}
					continue
				}
				printEmailReport(out, rep)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per address")
	cmd.Flags().BoolVar(&offline, "offline", false, "no DNS look-ups")
	return cmd
}

func printEmailReport(w io.Writer, r fraud.EmailReport) {
	if !r.Valid {
		fmt.Fprintf(w, "%s: invalid (%s), risk %d\n", r.Input, r.Invalid, r.RiskScore)
		return
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{r.Disposable, "disposable"}, {r.Free, "free"}, {r.Role, "role"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	fmt.Fprintf(w, "%s: canonical %s, provider %s, mx %s, risk %d", r.Input, r.Canonical, r.Provider, r.MX.Status, r.RiskScore)
	if len(flags) > 0 {
		fmt.Fprintf(w, ", %s", strings.Join(flags, ", "))
	}
	fmt.Fprintln(w)
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "  %s (%d): %s\n", s.Code, s.Score, s.Detail)
	}
}

func newEmailClusters() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "clusters [--json] FILE",
		Short: "Group addresses that belong to one person or actor",
		Long: `Clusters reads addresses, one per line ("-" for standard input), and prints the
groups of them that are one person or actor: the same canonical mailbox, +tag and dot
variants, numbered series and the like, each with the rule that linked them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			var emails []string
			sc := bufio.NewScanner(in)
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
					emails = append(emails, l)
				}
			}
			if err := sc.Err(); err != nil {
				return err
			}
			if len(emails) == 0 {
				return errors.New("no addresses in " + args[0])
			}
			clusters := fraud.DetectEmailAbuse(emails)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				for _, c := range clusters {
					if err := enc.Encode(c); err != nil {
						return err
					}
				}
				return nil
			}
			for _, c := range clusters {
				fmt.Fprintf(out, "%s (%s, %d): %s\n", c.Key, c.Reason.Code, c.Reason.Score, strings.Join(c.Members, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per cluster")
	return cmd
}
