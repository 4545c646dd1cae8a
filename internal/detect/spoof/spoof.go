// Package spoof compares what a client claims to be (its User-Agent) with what its
// connection shows (TLS ClientHello, HTTP/2 preface, header order and case), and
// reports a client whose layers contradict each other.
//
// The comparison itself is knownclients.Table.Compare. This package turns its
// assessment into findings, with the legitimate mismatches in mind:
//
//   - Every iOS browser uses Safari's network stack, and Chromium forks and headless
//     Chrome share Chrome's: the table knows both, so they agree.
//   - A TLS-intercepting proxy or antivirus re-originates TLS (and sometimes HTTP/2)
//     but forwards the browser's headers. When the TLS or HTTP/2 layer disagrees while
//     the header order agrees with the claimed browser, the finding is the moderate
//     fingerprint_mismatch, not spoofed_client.
//   - Behind a trusted proxy or CDN the connection's fingerprints are the
//     intermediary's: the caller passes only what the client's own connection showed
//     (or what the trusted proxy forwarded).
//   - Unknown evidence, a family the table does not know, or a client that claims
//     nothing is never a contradiction.
//
// Findings (detector "fingerprint"):
//
//	spoofed_client        90  TLS or HTTP/2 contradicts the claimed family, and the
//	                          header order does not vouch for it
//	fingerprint_mismatch  35  TLS or HTTP/2 contradicts it, the header order agrees
//	                          (interception likely)
//	header_order_mismatch 30  only the header order or case contradicts it
package spoof

import (
	"strings"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// Finding codes and scores.
const (
	CodeSpoofed        = "spoofed_client"
	CodeMismatch       = "fingerprint_mismatch"
	CodeHeaderMismatch = "header_order_mismatch"

	scoreSpoofed        = 90
	scoreMismatch       = 35
	scoreHeaderMismatch = 30

	detectorName = "fingerprint"
)

// Claim is what the request says it is.
type Claim struct {
	// Family is the client family its User-Agent names, as the bot classifier
	// names it ("chrome", "curl", "go-http-client", …).
	Family string
	// OS is "ios" for an iOS or iPadOS User-Agent, else "".
	OS string
	// Navigation reports a top-level navigation (Sec-Fetch-Mode: navigate), whose
	// header order browsers keep stable.
	Navigation bool
}

// tableName maps the bot classifier's family names to the known-clients table's
// where they differ.
func tableName(family string) string {
	switch family {
	case "go-http-client":
		return "go"
	case "undici":
		return "node-undici"
	}
	return family
}

// Check appends to dst what the comparison of claim with the observed DNA finds,
// and returns it. It allocates only when it reports a finding. table may be nil (no
// comparison).
func Check(dst []detect.Finding, table *knownclients.Table, claim Claim, d *fingerprint.DNA) []detect.Finding {
	if claim.Family == "" || (d.TLS == nil && d.H2 == nil && d.HeaderOrder == nil) {
		return dst
	}
	family := tableName(claim.Family)
	ev := knownclients.Evidence{Proto: d.Protocol, HeaderNames: d.HeaderOrder}
	if d.TLS != nil {
		ev.JA4 = d.TLS.JA4
	}
	if d.H2 != nil {
		ev.Akamai = d.H2.Akamai
	}
	if claim.Navigation {
		ev.RequestKind = knownclients.RequestNavigation
	}
	a := table.Compare(knownclients.Claim{Family: family, OS: claim.OS}, ev)
	if a.Verdict != knownclients.VerdictInconsistent && a.Verdict != knownclients.VerdictSuspicious {
		return dst
	}
	network := a.Layers[knownclients.LayerTLS].Status == knownclients.StatusDisagree ||
		a.Layers[knownclients.LayerH2].Status == knownclients.StatusDisagree
	headers := a.Layers[knownclients.LayerHeaders].Status
	code, score := CodeHeaderMismatch, scoreHeaderMismatch
	switch {
	case network && headers == knownclients.StatusAgree:
		code, score = CodeMismatch, scoreMismatch
	case network:
		code, score = CodeSpoofed, scoreSpoofed
	}
	detail := "claims " + claim.Family + ": " + strings.Join(a.Reasons(), "; ")
	if code == CodeMismatch {
		detail += " (the headers agree: a TLS-intercepting proxy would look like this)"
	}
	return append(dst, detect.Finding{Detector: detectorName, Code: code, Score: score, Detail: detail})
}
