package cli

import (
	"github.com/spf13/cobra"
)

func newCheck(env func(string) (string, bool)) *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "check --config FILE [flags]",
		Short: "Validate a configuration and print it with every default filled in",
		Long: `Check loads the configuration exactly as vigil proxy would (the file, then VIGIL_*
environment variables, then flags) and builds the guard and the proxy without starting
them. A valid configuration is printed as YAML with every default written out; otherwise
every problem is printed with its line in the file, or the variable or flag it came
from, and the exit status is 1.

` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.load(cmd, env)
			if err != nil {
				return err
			}
			out, err := c.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cf.register(cmd)
	_ = cmd.MarkFlagRequired("config") // the flag exists: registered just above
	return cmd
}
