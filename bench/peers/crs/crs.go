// Package crs builds the Coraza WAF that the peers' server and the detection report
// (eval/) share: the embedded OWASP Core Rule Set as its project recommends.
package crs

import (
	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
)

// WAF returns a Coraza WAF running CRS v4 as recommended (coraza.conf-recommended,
// crs-setup.conf.example, every rule file; paranoia level 1), blocking
// (SecRuleEngine On).
func WAF() (coraza.WAF, error) {
	return coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(`
Include @coraza.conf-recommended
SecRuleEngine On
Include @crs-setup.conf.example
Include @owasp_crs/*.conf
`))
}
