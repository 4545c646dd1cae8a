package knownclients

// A Confidence ranks the evidence a [Match] rests on: higher is stronger. The values
// are fixed so that they can be compared and logged; only their order carries meaning.
type Confidence uint8

// The confidences of each kind of match, strongest first.
const (
	ConfidenceJA4            Confidence = 90 // the exact JA4 value
	ConfidenceJA4B           Confidence = 70 // the JA4_b cipher hash: the TLS stack
	ConfidenceH2             Confidence = 50 // HTTP/2 SETTINGS, WINDOW_UPDATE and pseudo-header order
	ConfidenceH2Settings     Confidence = 45 // HTTP/2 SETTINGS and WINDOW_UPDATE only
	ConfidenceH2Pseudo       Confidence = 40 // HTTP/2 pseudo-header order only
	ConfidenceHeaderExact    Confidence = 30 // a header-order template, exactly
	ConfidenceHeaderTolerant Confidence = 20 // a header-order template, within the tolerance
)

// String returns the name of the evidence: "ja4", "ja4b", "h2", "h2-settings",
// "h2-pseudo", "headers-exact", "headers-tolerant", or "none" for 0.
func (c Confidence) String() string {
	switch c {
	case ConfidenceJA4:
		return "ja4"
	case ConfidenceJA4B:
		return "ja4b"
	case ConfidenceH2:
		return "h2"
	case ConfidenceH2Settings:
		return "h2-settings"
	case ConfidenceH2Pseudo:
		return "h2-pseudo"
	case ConfidenceHeaderExact:
		return "headers-exact"
	case ConfidenceHeaderTolerant:
		return "headers-tolerant"
	case 0:
		return "none"
	}
	return "unknown"
}

// A Match is one family that a piece of evidence points to. It is a plain value.
type Match struct {
	// Family is the family's name, such as "chrome" or "edge".
	Family string
	// Group is the family whose fingerprints Family shares, at the end of its "like"
	// chain ("chrome" for edge and headless-chrome); Family itself when it has none.
	Group string
	// Kind is the family's kind.
	Kind Kind
	// Stack is the TLS stack: the one the JA4 or JA4_b belongs to for TLS matches,
	// the family's first stack for the others, "" when the family has none.
	Stack string
	// Confidence says which evidence matched (see the constants).
	Confidence Confidence
	// Request is the request kind of the matched header template; "" for other
	// evidence.
	Request RequestKind
	// Source says where the matched value came from.
	Source string
}

// A Family describes one client family of a table. The slices and the map are shared
// with the table: do not modify them.
type Family struct {
	// Name is the family's name.
	Name string
	// Kind is the family's kind.
	Kind Kind
	// Description is a one-line description.
	Description string
	// Group is the family whose fingerprints this one shares (see [Match.Group]).
	Group string
	// Stacks are the TLS stacks the family uses, its own or inherited through "like";
	// empty when unknown.
	Stacks []string
	// ALPN lists the JA4 ALPN codes ("h2") the family always offers first over TLS;
	// empty when it varies or is unknown.
	ALPN []string
	// Platforms maps an operating system to the family whose fingerprints this family
	// shows there, such as "ios" → "safari".
	Platforms map[string]string
}

// Family returns the family with the given name.
func (t *Table) Family(name string) (Family, bool) {
	if t == nil {
		return Family{}, false
	}
	f, ok := t.fams[name]
	if !ok {
		return Family{}, false
	}
	return Family{
		Name: f.name, Kind: f.kind, Description: f.desc, Group: f.g.root,
		Stacks: f.stacks, ALPN: f.alpn, Platforms: f.platforms,
	}, true
}

// Families returns the names of the table's families in data order.
func (t *Table) Families() []string {
	if t == nil {
		return nil
	}
	names := make([]string, len(t.families))
	for i, f := range t.families {
		names[i] = f.Name
	}
	return names
}

// ByJA4 returns the families whose data lists the exact JA4 value ja4, such as
// "t13d1516h2_8daaf6152771_02713d6af862", with [ConfidenceJA4]: the owner of the value
// first, then the families like it. It returns nil for a value the table does not
// list. The returned slice is shared: do not modify it. It allocates nothing.
func (t *Table) ByJA4(ja4 string) []Match {
	if t == nil {
		return nil
	}
	return t.ja4[ja4]
}

// ByJA4B returns every family that uses the TLS stack whose cipher hash is ja4b (the b
// part of a JA4, 12 hex digits such as "8daaf6152771"), with [ConfidenceJA4B], in data
// order. The returned slice is shared: do not modify it. It allocates nothing.
func (t *Table) ByJA4B(ja4b string) []Match {
	if t == nil {
		return nil
	}
	return t.ja4b[ja4b]
}

// ByH2 returns the families whose HTTP/2 data matches an Akamai string (S|WU|P|PS in
// Vigil's convention) and a pseudo-header order such as "m,a,s,p". Either may be empty;
// an empty pseudo is taken from akamai. GREASE-shaped SETTINGS ids are ignored and the
// PRIORITY field is not compared.
//
// It returns the families whose SETTINGS and WINDOW_UPDATE and pseudo-header order
// both match ([ConfidenceH2]); if there are none, those whose SETTINGS and
// WINDOW_UPDATE match ([ConfidenceH2Settings]); if there are none, those whose
// pseudo-header order matches ([ConfidenceH2Pseudo]); else nil. The returned slice is
// shared: do not modify it. It allocates nothing for Akamai strings up to 256 bytes.
func (t *Table) ByH2(akamai, pseudo string) []Match {
	if t == nil {
		return nil
	}
	var buf [256]byte
	var ms []Match
	var settings []byte
	settingsOK := false
	if akamai != "" {
		if _, ps, key, ok := parseH2Key(akamai, buf[:]); ok {
			if pseudo == "" {
				pseudo = ps
			}
			settings, settingsOK = key, true
		}
	}
	if settingsOK && pseudo != "" {
		n := len(settings)
		both := append(append(settings, '|'), pseudo...)
		if ms = t.h2Both[string(both)]; ms != nil {
			return ms
		}
		settings = both[:n]
	}
	if settingsOK {
		if ms = t.h2Settings[string(settings)]; ms != nil {
			return ms
		}
	}
	return t.h2Pseudo[pseudo]
}

// ByHeaderOrder returns the families whose header templates for proto ("h1" or "h2")
// match names, the header names in wire order and as sent (HTTP/2 pseudo-headers are
// ignored). If a template matches exactly, it returns that template's families with
// [ConfidenceHeaderExact]. Otherwise it returns the families of the templates that
// match tolerantly at the lowest cost (see the package documentation), with
// [ConfidenceHeaderTolerant]. Each match's Request says which requests the template
// describes. It returns nil when nothing matches or proto is not "h1" or "h2".
//
// The returned slice is shared unless several templates tie: do not modify it. It
// allocates nothing unless templates of different families tie.
func (t *Table) ByHeaderOrder(proto string, names []string) []Match {
	if t == nil || len(names) == 0 {
		return nil
	}
	p, ok := parseProto(proto)
	if !ok {
		return nil
	}
	nObs := regularCount(p, names)
	for _, tm := range t.templates[p] {
		if tm.equal(names, nObs) {
			return tm.exact
		}
	}
	var best *pubTemplate
	bestCost, tie := 0, false
	for _, tm := range t.templates[p] {
		cost, ok := tm.match(names, nObs)
		switch {
		case !ok || cost == 0:
			continue // cost 0 is an exact match, which the first loop would have found
		case best == nil || cost < bestCost:
			best, bestCost, tie = tm, cost, false
		case cost == bestCost:
			tie = true
		}
	}
	if best == nil {
		return nil
	}
	if !tie {
		return best.tolerant
	}
	var ms []Match
	for _, tm := range t.templates[p] {
		if cost, ok := tm.match(names, nObs); ok && cost == bestCost {
			for _, m := range tm.tolerant {
				ms = addUnique(ms, m)
			}
		}
	}
	return ms
}
