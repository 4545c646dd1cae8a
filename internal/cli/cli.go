// Package cli is the vigil command line: the commands, their flags and what they run.
// cmd/vigil is a thin main around Run, so every command can be run and tested in-process.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Run runs the vigil command line with args (without the program name), writing output to
// stdout and diagnostics, logs and errors to stderr. It returns when the command is done:
// for long-running commands (proxy, demo), when ctx ends and they have shut down, with nil.
// A non-nil error has already been printed to stderr; the caller only turns it into an
// exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, stdout, stderr, os.LookupEnv)
}

// run is Run with the environment given as a look-up function.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) error {
	root := newRoot(env)
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(stderr, err)
	}
	return err
}

// newRoot builds the command tree. env looks up VIGIL_* variables.
func newRoot(env func(string) (string, bool)) *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Application-layer security for HTTP services",
		Long: `Vigil decides per request whether to allow, rate-limit or block it, in front of any
HTTP service (vigil proxy) or inside a Go service (the vigil package).

Configuration comes from a file (--config vigil.yaml), VIGIL_* environment
variables and flags; flags win over the environment, which wins over the file.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err: err, usage: c.UseLine()}
	})
	root.AddCommand(newVersion(), newCheck(env), newProxy(env), newStudio(env), newReplay(env), newDemo(), newFingerprint(), newEmail(), newPhone())
	return root
}

// usageError is a mistake on the command line.
type usageError struct {
	err   error
	usage string
}

func (e usageError) Error() string { return e.err.Error() + "\nusage: " + e.usage }
func (e usageError) Unwrap() error { return e.err }

// printError writes err to w: its first line after "vigil: ", the others indented.
func printError(w io.Writer, err error) {
	lines := strings.Split(err.Error(), "\n")
	fmt.Fprintln(w, "vigil:", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintln(w, "  "+l)
	}
}

// problems wraps a configuration error that lists one problem per line.
func problems(what string, err error) error {
	n := strings.Count(err.Error(), "\n") + 1
	noun := "problems"
	if n == 1 {
		noun = "problem"
	}
	return fmt.Errorf("%s: %d %s:\n%w", what, n, noun, err)
}
