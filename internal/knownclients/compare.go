package knownclients

import "slices"

// A Claim is what a request says it is, as its User-Agent parser reads it.
type Claim struct {
	// Family is the claimed family's name in the table, such as "chrome" for a Chrome
	// or CriOS User-Agent, "headless-chrome" for HeadlessChrome, "curl" for curl/8.x.
	// Empty means no claim.
	Family string
	// OS is the claimed operating system in lowercase, such as "windows", "macos",
	// "android" or "ios". It selects the family's "platforms" entry: chrome on "ios"
	// is compared with safari's fingerprints. Empty means unknown.
	OS string
}

// Evidence is what Vigil observed about a request's connection. Every field is
// optional: the zero value of a field means "not observed", and unobserved or unknown
// evidence never counts as disagreement.
type Evidence struct {
	// JA4 is the TLS ClientHello's JA4.
	JA4 string
	// JA4B is the JA4_b cipher hash. When empty it is taken from JA4.
	JA4B string
	// Akamai is the HTTP/2 Akamai fingerprint string, S|WU|P|PS in Vigil's convention.
	Akamai string
	// PseudoOrder is the HTTP/2 pseudo-header order such as "m,a,s,p". When empty it
	// is taken from Akamai.
	PseudoOrder string
	// Proto is the protocol HeaderNames were read from: "h1" or "h2".
	Proto string
	// HeaderNames are the request's header names in wire order, spelled as sent
	// (from the tap, never from http.Header, whose order and case are lost).
	HeaderNames []string
	// RequestKind is what the caller knows about the request (from Sec-Fetch-Mode,
	// for example). Navigation templates are applied to the header order only when it
	// is RequestNavigation.
	RequestKind RequestKind
}

// A Layer is one layer of evidence that Compare checks.
type Layer uint8

// The layers, strongest first; they index [Assessment.Layers].
const (
	LayerTLS     Layer = iota // JA4 and JA4_b
	LayerH2                   // HTTP/2 SETTINGS and pseudo-header order
	LayerHeaders              // header order and case
	numLayers
)

// String returns "tls", "h2" or "headers".
func (l Layer) String() string {
	switch l {
	case LayerTLS:
		return "tls"
	case LayerH2:
		return "h2"
	case LayerHeaders:
		return "headers"
	}
	return "unknown"
}

// Weight returns the layer's weight in [Assessment.Score]: 3 for TLS, 2 for HTTP/2,
// 1 for headers.
func (l Layer) Weight() int {
	if l < numLayers {
		return int(numLayers - l)
	}
	return 0
}

// A Status is a layer's outcome.
type Status uint8

// The statuses. The zero value is StatusUnknown.
const (
	StatusUnknown  Status = iota // no evidence, or evidence the table does not know
	StatusAgree                  // the evidence is the claimed family's
	StatusDisagree               // the evidence is another family's, or contradicts the claimed one's
)

// String returns "unknown", "agree" or "disagree".
func (s Status) String() string {
	switch s {
	case StatusAgree:
		return "agree"
	case StatusDisagree:
		return "disagree"
	}
	return "unknown"
}

// A Verdict sums up an [Assessment].
type Verdict uint8

// The verdicts. The zero value is VerdictUnknown.
const (
	VerdictUnknown      Verdict = iota // no layer could be compared
	VerdictConsistent                  // no layer disagrees and at least one agrees
	VerdictSuspicious                  // only the header layer disagrees (score 1)
	VerdictInconsistent                // TLS or HTTP/2 disagree (score 2 or more)
)

// String returns "unknown", "consistent", "suspicious" or "inconsistent".
func (v Verdict) String() string {
	switch v {
	case VerdictConsistent:
		return "consistent"
	case VerdictSuspicious:
		return "suspicious"
	case VerdictInconsistent:
		return "inconsistent"
	}
	return "unknown"
}

// MarshalText returns the verdict's name, so that events carry "inconsistent".
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// A Rule names the check that decided a layer's status. Operators tune on them.
type Rule string

// The rules.
const (
	RuleNoEvidence     Rule = "no-evidence"     // nothing observed for this layer
	RuleNotInTable     Rule = "not-in-table"    // observed, but the table does not know the value
	RuleNoFamilyData   Rule = "no-family-data"  // the claimed family has no data for this layer
	RuleJA4            Rule = "ja4"             // the exact JA4 is the group's
	RuleJA4B           Rule = "ja4b"            // the JA4_b is (agree) or is not (disagree) a stack the family uses
	RuleALPN           Rule = "alpn"            // a browser's JA4 offers another first ALPN than it always does
	RuleH2             Rule = "h2"              // SETTINGS and pseudo-header order are the group's
	RuleH2Settings     Rule = "h2-settings"     // SETTINGS are (agree) or are only another family's (disagree)
	RuleH2Pseudo       Rule = "h2-pseudo"       // pseudo-header order is (agree) or is only another family's (disagree)
	RuleHeaderExact    Rule = "header-exact"    // a group template matches exactly
	RuleHeaderTolerant Rule = "header-tolerant" // a group template matches within the tolerance
	RuleHeaderCase     Rule = "header-case"     // a name the group's binding templates list is spelled differently
	RuleHeaderOrder    Rule = "header-order"    // the names contradict the order of every applicable binding template
	RuleHeaderOther    Rule = "header-other"    // the names are exactly another family's template
)

// A LayerResult is the outcome of one layer. It is a plain value; its strings come from
// the table or from the Evidence.
type LayerResult struct {
	Layer  Layer
	Status Status
	// Rule is the check that decided Status.
	Rule Rule
	// Confidence is the strength of the matched evidence when Status is StatusAgree.
	Confidence Confidence
	// Value is the observed value the rule looked at: a JA4, JA4_b, ALPN code,
	// SETTINGS, pseudo-header order or header name.
	Value string
	// Observed is the family or stack the value belongs to, when the table knows.
	Observed string
	// Expected is what the claimed family shows instead: its stacks, ALPN codes,
	// pseudo-header orders, or the spelling or neighbour of a header name.
	Expected string
}

// Reason returns the result as a sentence for operators, such as
// "tls: JA4_b e8f1e7e78f70 is the openssl stack (curl); chrome uses boringssl".
// family is the name the comparison used (Assessment.Expected).
func (r LayerResult) Reason(family string) string {
	p := r.Layer.String() + ": "
	switch r.Rule {
	case RuleNoEvidence:
		return p + "nothing observed"
	case RuleNotInTable:
		if r.Value == "" {
			return p + "the names match no template"
		}
		return p + r.Value + " is not in the table"
	case RuleNoFamilyData:
		return p + "the table has no " + r.Layer.String() + " data for " + family
	case RuleJA4:
		return p + "JA4 " + r.Value + " is a known " + family + " value"
	case RuleJA4B:
		if r.Status == StatusAgree {
			return p + "JA4_b " + r.Value + " is the " + r.Observed + " stack, which " + family + " uses"
		}
		return p + "JA4_b " + r.Value + " is the " + r.Observed + " stack; " + family + " uses " + r.Expected
	case RuleALPN:
		if r.Value == "00" {
			return p + "JA4 offers no ALPN; " + family + " always offers " + r.Expected
		}
		return p + "JA4 offers ALPN " + r.Value + " first; " + family + " always offers " + r.Expected
	case RuleH2:
		return p + "SETTINGS and pseudo-header order are " + family + "'s"
	case RuleH2Settings:
		if r.Status == StatusAgree {
			return p + "SETTINGS " + r.Value + " are " + family + "'s"
		}
		return p + "SETTINGS " + r.Value + " are " + r.Observed + "'s, not " + family + "'s"
	case RuleH2Pseudo:
		if r.Status == StatusAgree {
			return p + "pseudo-header order " + r.Value + " is " + family + "'s"
		}
		return p + "pseudo-header order " + r.Value + " is " + r.Observed + "'s; " + family + " sends " + r.Expected
	case RuleHeaderExact:
		return p + "names match a " + family + " template exactly"
	case RuleHeaderTolerant:
		return p + "names match a " + family + " template within the tolerance"
	case RuleHeaderCase:
		return p + r.Value + " is spelled " + r.Expected + " by " + family
	case RuleHeaderOrder:
		return p + r.Value + " comes before " + r.Expected + ", against every " + family + " template"
	case RuleHeaderOther:
		return p + "names are exactly " + r.Observed + "'s template"
	}
	return p + r.Status.String()
}

// An Assessment is the outcome of [Table.Compare]. It is a plain value.
type Assessment struct {
	Verdict Verdict
	// Score is the sum of the weights of the disagreeing layers (see [Layer.Weight]).
	Score int
	// Family is the claimed family, and Kind its kind ("" when the table does not
	// know it).
	Family string
	Kind   Kind
	// Expected is the family whose fingerprints were expected: the claimed family, or
	// the one its "platforms" entry names for the claimed OS (safari for chrome on
	// iOS).
	Expected string
	// Layers holds one result per layer, indexed by [Layer]: LayerTLS, LayerH2,
	// LayerHeaders.
	Layers [3]LayerResult
}

// Reasons returns one sentence per layer that agreed or disagreed, strongest layer
// first. It allocates; call it only when the reasons are wanted.
func (a Assessment) Reasons() []string {
	var rs []string
	for _, r := range a.Layers {
		if r.Status != StatusUnknown {
			rs = append(rs, r.Reason(a.Expected))
		}
	}
	return rs
}

// Compare checks the evidence against the claimed family, layer by layer, with the
// rules and weights described in the package documentation, and returns the verdict
// with the outcome of each layer. It is a pure function of the table, claim and
// evidence; it allocates nothing.
func (t *Table) Compare(c Claim, ev Evidence) Assessment {
	var a Assessment
	for l := range numLayers {
		a.Layers[l] = LayerResult{Layer: l, Rule: RuleNoEvidence}
	}
	a.Family = c.Family
	if t == nil || c.Family == "" {
		return a
	}
	f, ok := t.fams[c.Family]
	if !ok {
		return a
	}
	a.Kind = f.kind
	if c.OS != "" {
		if target, ok := f.platforms[c.OS]; ok {
			f = t.fams[target]
		}
	}
	a.Expected = f.name
	a.Layers[LayerTLS] = t.compareTLS(f, ev)
	a.Layers[LayerH2] = t.compareH2(f, ev)
	a.Layers[LayerHeaders] = t.compareHeaders(f, ev)
	agree := false
	for _, r := range a.Layers {
		switch r.Status {
		case StatusDisagree:
			a.Score += r.Layer.Weight()
		case StatusAgree:
			agree = true
		}
	}
	switch {
	case a.Score >= 2:
		a.Verdict = VerdictInconsistent
	case a.Score == 1:
		a.Verdict = VerdictSuspicious
	case agree:
		a.Verdict = VerdictConsistent
	}
	return a
}

func (t *Table) compareTLS(f *family, ev Evidence) LayerResult {
	b := ev.JA4B
	if ev.JA4 != "" {
		for _, m := range t.ja4[ev.JA4] {
			if m.Group == f.g.root {
				return LayerResult{Layer: LayerTLS, Status: StatusAgree, Rule: RuleJA4, Confidence: ConfidenceJA4, Value: ev.JA4, Observed: m.Family}
			}
		}
		jb, ok := ja4B(ev.JA4)
		if !ok {
			if b == "" {
				return LayerResult{Layer: LayerTLS, Rule: RuleNotInTable, Value: ev.JA4}
			}
		} else {
			if b == "" {
				b = jb
			}
			if len(f.alpn) > 0 && ev.JA4[0] == 't' && !slices.Contains(f.alpn, ev.JA4[8:10]) {
				return LayerResult{Layer: LayerTLS, Status: StatusDisagree, Rule: RuleALPN, Value: ev.JA4[8:10], Expected: f.alpnText}
			}
		}
	}
	if b == "" {
		return LayerResult{Layer: LayerTLS, Rule: RuleNoEvidence}
	}
	stack, ok := t.stackByJA4B[b]
	switch {
	case !ok:
		return LayerResult{Layer: LayerTLS, Rule: RuleNotInTable, Value: b}
	case len(f.stacks) == 0:
		return LayerResult{Layer: LayerTLS, Rule: RuleNoFamilyData, Value: b, Observed: stack}
	case f.usesStack(stack):
		return LayerResult{Layer: LayerTLS, Status: StatusAgree, Rule: RuleJA4B, Confidence: ConfidenceJA4B, Value: b, Observed: stack, Expected: f.stackText}
	}
	return LayerResult{Layer: LayerTLS, Status: StatusDisagree, Rule: RuleJA4B, Value: b, Observed: stack, Expected: f.stackText}
}

func (t *Table) compareH2(f *family, ev Evidence) LayerResult {
	pseudo := ev.PseudoOrder
	var buf [256]byte
	var key []byte // the SETTINGS key, nil when not observed
	var settings string
	if ev.Akamai != "" {
		s, ps, k, ok := parseH2Key(ev.Akamai, buf[:])
		switch {
		case ok:
			if pseudo == "" {
				pseudo = ps
			}
			settings, key = s, k
		case pseudo == "":
			return LayerResult{Layer: LayerH2, Rule: RuleNotInTable, Value: ev.Akamai}
		}
	}
	if key == nil && pseudo == "" {
		return LayerResult{Layer: LayerH2, Rule: RuleNoEvidence}
	}
	g := f.g
	if len(g.pseudo) == 0 && len(g.settings) == 0 {
		return LayerResult{Layer: LayerH2, Rule: RuleNoFamilyData}
	}
	// Each part disagrees when the table knows it only for other groups.
	var sStatus, pStatus Status
	var sOther, pOther string
	if key != nil {
		ms := t.h2Settings[string(key)]
		sStatus = StatusDisagree
		for _, m := range ms {
			if m.Group == g.root {
				sStatus = StatusAgree
				break
			}
		}
		switch {
		case len(ms) == 0:
			sStatus = StatusUnknown
		case sStatus == StatusDisagree:
			sOther = ms[0].Family
		}
	}
	if pseudo != "" {
		if slices.Contains(g.pseudo, pseudo) {
			pStatus = StatusAgree
		} else if ms := t.h2Pseudo[pseudo]; len(ms) > 0 {
			pStatus, pOther = StatusDisagree, ms[0].Family
		}
	}
	switch {
	case sStatus == StatusDisagree:
		return LayerResult{Layer: LayerH2, Status: StatusDisagree, Rule: RuleH2Settings, Value: settings, Observed: sOther}
	case pStatus == StatusDisagree:
		return LayerResult{Layer: LayerH2, Status: StatusDisagree, Rule: RuleH2Pseudo, Value: pseudo, Observed: pOther, Expected: g.pseudoText}
	case sStatus == StatusAgree && pStatus == StatusAgree:
		return LayerResult{Layer: LayerH2, Status: StatusAgree, Rule: RuleH2, Confidence: ConfidenceH2, Value: pseudo, Observed: f.name}
	case sStatus == StatusAgree:
		return LayerResult{Layer: LayerH2, Status: StatusAgree, Rule: RuleH2Settings, Confidence: ConfidenceH2Settings, Value: settings, Observed: f.name}
	case pStatus == StatusAgree:
		return LayerResult{Layer: LayerH2, Status: StatusAgree, Rule: RuleH2Pseudo, Confidence: ConfidenceH2Pseudo, Value: pseudo, Observed: f.name}
	}
	if pseudo != "" {
		return LayerResult{Layer: LayerH2, Rule: RuleNotInTable, Value: pseudo}
	}
	return LayerResult{Layer: LayerH2, Rule: RuleNotInTable, Value: settings}
}

func (t *Table) compareHeaders(f *family, ev Evidence) LayerResult {
	p, ok := parseProto(ev.Proto)
	if len(ev.HeaderNames) == 0 || !ok {
		return LayerResult{Layer: LayerHeaders, Rule: RuleNoEvidence}
	}
	names := ev.HeaderNames
	nObs := regularCount(p, names)
	tms := f.g.templates[p]
	if len(tms) == 0 {
		return LayerResult{Layer: LayerHeaders, Rule: RuleNoFamilyData}
	}
	// Agreement: a group template matches, whatever the request kind.
	for _, tm := range tms {
		if tm.equal(names, nObs) {
			return LayerResult{Layer: LayerHeaders, Status: StatusAgree, Rule: RuleHeaderExact, Confidence: ConfidenceHeaderExact, Observed: f.name}
		}
	}
	for _, tm := range tms {
		if _, ok := tm.match(names, nObs); ok {
			return LayerResult{Layer: LayerHeaders, Status: StatusAgree, Rule: RuleHeaderTolerant, Confidence: ConfidenceHeaderTolerant, Observed: f.name}
		}
	}
	// Case: a name the group's binding templates list, spelled otherwise.
	for _, tm := range tms {
		if !tm.binding {
			continue
		}
		if rule, name, want := tm.contradiction(names, true, false); rule != "" {
			return LayerResult{Layer: LayerHeaders, Status: StatusDisagree, Rule: rule, Value: name, Expected: want}
		}
	}
	// Order: every binding template that applies to the request kind is contradicted.
	var order LayerResult
	for _, tm := range tms {
		if !tm.binding || !tm.applies(ev.RequestKind) {
			continue
		}
		rule, name, want := tm.contradiction(names, false, true)
		if rule == "" {
			order = LayerResult{}
			break
		}
		if order.Rule == "" {
			order = LayerResult{Layer: LayerHeaders, Status: StatusDisagree, Rule: rule, Value: name, Expected: want}
		}
	}
	if order.Rule != "" {
		return order
	}
	// Another family's template, exactly.
	for _, tm := range t.templates[p] {
		if tm.equal(names, nObs) {
			return LayerResult{Layer: LayerHeaders, Status: StatusDisagree, Rule: RuleHeaderOther, Observed: tm.exact[0].Family}
		}
	}
	return LayerResult{Layer: LayerHeaders, Rule: RuleNotInTable}
}
