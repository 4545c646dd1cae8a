// Package phonecheck holds the type of a phone number analysis, so that the middleware
// can carry one (Verdict.Enrichment.Phone) without linking the numbering-plan metadata
// that package fraud analyses numbers with. fraud.PhoneReport is this Report.
package phonecheck

import "github.com/vigilhq/vigil/internal/emailcheck"

// Report is what fraud.AnalyzePhone found about one number. It is a plain value that
// the caller owns; it serialises to JSON with snake_case names.
type Report struct {
	// Input is the number as given.
	Input string `json:"input"`
	// Valid reports a number that the numbering plan's metadata accepts.
	Valid bool `json:"valid"`
	// E164 is the number in E.164 form ("+447911123456"), when it parses.
	E164 string `json:"e164,omitempty"`
	// Region is the ISO 3166-1 code of the number's region: from the number itself when
	// valid (GG for a Guernsey +44 7911… mobile), else from its country calling code.
	Region string `json:"region,omitempty"`
	// Type is the number's type in lower snake case: "mobile", "fixed_line",
	// "fixed_line_or_mobile", "voip", "toll_free", "premium_rate", "shared_cost",
	// "personal_number", "pager", "uan", "voicemail" or "unknown". "voip" is reported
	// only where the metadata knows VoIP ranges (GB +44 56, FR +33 9, NL +31 85, …): US
	// and Canadian (+1) numbers come back "fixed_line_or_mobile" whatever they are, and
	// telling a Google Voice or Twilio number apart needs a paid carrier look-up. So a
	// number that is not "voip" may still be one.
	Type string `json:"type,omitempty"`
	// IPCountry is the country of the client's IP address the caller passed, and
	// CountryMismatch reports that it differs from Region.
	IPCountry       string `json:"ip_country,omitempty"`
	CountryMismatch bool   `json:"country_mismatch,omitempty"`
	// RiskScore is the sum of the Reasons' scores, at most 100.
	RiskScore int `json:"risk_score"`
	// Reasons explain the score, most important first.
	Reasons []emailcheck.Signal `json:"reasons"`
}
