package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/fraud"
)

func newPhone() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phone",
		Short: "Check phone numbers for signup fraud",
	}
	var asJSON bool
	var ipCountry, region string
	check := &cobra.Command{
		Use:   "check [--json] [--ip-country CC] [--region CC] NUMBER...",
		Short: "Analyse numbers offline: validity, E.164, region, type, country mismatch",
		Long: `Check analyses each number with libphonenumber's numbering-plan metadata, offline:
whether it is valid, its E.164 form, its region and type (mobile, fixed line, VoIP,
premium rate, ...), and whether its region differs from --ip-country, the country of
the client's IP address. VoIP is known only where the metadata has VoIP ranges: US and
Canadian numbers cannot be told VoIP offline.`,
		Example: `  vigil phone check --json +447700900123
  vigil phone check --ip-country US +33912345678`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			for _, n := range args {
				r := fraud.AnalyzePhone(n, region, ipCountry)
				if asJSON {
					if err := enc.Encode(r); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(out, "%s: valid %v, %s, region %s, type %s, risk %d\n", r.Input, r.Valid, r.E164, r.Region, r.Type, r.RiskScore)
				for _, s := range r.Reasons {
					fmt.Fprintf(out, "  %s (%d): %s\n", s.Code, s.Score, s.Detail)
				}
			}
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "one JSON object per number")
	check.Flags().StringVar(&ipCountry, "ip-country", "", "ISO country `code` of the client's IP, to compare with the number's region")
	check.Flags().StringVar(&region, "region", "", "ISO country `code` for numbers written without +")
	cmd.AddCommand(check)
	return cmd
}
