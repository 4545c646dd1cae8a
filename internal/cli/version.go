package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of vigil and of the Go toolchain that built it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			version, revision := "(unknown)", ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				version = bi.Main.Version
				var rev, at, dirty string
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						rev = s.Value
					case "vcs.time":
						at = s.Value
					case "vcs.modified":
						if s.Value == "true" {
							dirty = " (modified)"
						}
					}
				}
				if rev != "" {
					revision = rev + dirty
					if at != "" {
						revision += " " + at
					}
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, "vigil", version)
			fmt.Fprintln(w, "go", runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
			if revision != "" {
				fmt.Fprintln(w, "revision", revision)
			}
			return nil
		},
	}
}
