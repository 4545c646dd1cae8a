package knownclients

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// index holds what build precomputes so that lookups allocate nothing: every lookup
// returns a slice built here.
type index struct {
	fams        map[string]*family
	stackByJA4B map[string]string // JA4_b → stack name
	ja4         map[string][]Match
	ja4b        map[string][]Match
	h2Both      map[string][]Match // "S|WU|PS"
	h2Settings  map[string][]Match // "S|WU"
	h2Pseudo    map[string][]Match // "m,a,s,p"
	templates   [numProtos][]*pubTemplate
}

// family is a validated family with its inherited fields resolved.
type family struct {
	name      string
	kind      Kind
	desc      string
	like      string
	stacks    []string
	stackText string // stacks joined with " or ", for reasons
	alpn      []string
	alpnText  string
	platforms map[string]string
	g         *group
	order     int
}

func (f *family) primaryStack() string {
	if len(f.stacks) == 0 {
		return ""
	}
	return f.stacks[0]
}

func (f *family) usesStack(s string) bool { return slices.Contains(f.stacks, s) }

// group is the evidence shared by a family and every family like it.
type group struct {
	root       string
	pseudo     []string
	pseudoText string
	settings   []string
	templates  [numProtos][]*template
}

type proto uint8

const (
	protoH1 proto = iota
	protoH2
	numProtos
)

func parseProto(s string) (proto, bool) {
	switch s {
	case "h1":
		return protoH1, true
	case "h2":
		return protoH2, true
	}
	return 0, false
}

func (p proto) String() string {
	if p == protoH2 {
		return "h2"
	}
	return "h1"
}

// pubTemplate is a header template as lookups see it: identical templates of several
// families are one entry with the matches of all of them.
type pubTemplate struct {
	*template
	exact    []Match
	tolerant []Match
}

// build validates the documents and computes the indexes.
func build(revision string, stacks []stackDoc, families []familyDoc) (*Table, error) {
	t := &Table{revision: revision, stacks: stacks, families: families}
	if err := t.buildIndex(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Table) buildIndex() error {
	ix := &t.index
	ix.fams = make(map[string]*family, len(t.families))
	ix.stackByJA4B = make(map[string]string)
	stackJA4B := make(map[string][]string, len(t.stacks))
	for _, s := range t.stacks {
		if err := checkName(s.Name); err != nil {
			return fmt.Errorf("stack %q: %w", s.Name, err)
		}
		if _, dup := stackJA4B[s.Name]; dup {
			return fmt.Errorf("stack %q: defined twice", s.Name)
		}
		if s.Source == "" {
			return fmt.Errorf("stack %q: missing source", s.Name)
		}
		values := []string{}
		for _, v := range s.JA4B {
			if !isHex12(v.Value) {
				return fmt.Errorf("stack %q: ja4b %q: want 12 lowercase hex digits", s.Name, v.Value)
			}
			if v.Source == "" {
				return fmt.Errorf("stack %q: ja4b %q: missing source", s.Name, v.Value)
			}
			if other, dup := ix.stackByJA4B[v.Value]; dup {
				return fmt.Errorf("stack %q: ja4b %q is already stack %q's (a cipher hash identifies one stack)", s.Name, v.Value, other)
			}
			ix.stackByJA4B[v.Value] = s.Name
			values = append(values, v.Value)
		}
		stackJA4B[s.Name] = values
	}

	docs := make(map[string]*familyDoc, len(t.families))
	for i := range t.families {
		d := &t.families[i]
		if err := checkName(d.Name); err != nil {
			return fmt.Errorf("family %q: %w", d.Name, err)
		}
		if _, dup := docs[d.Name]; dup {
			return fmt.Errorf("family %q: defined twice", d.Name)
		}
		docs[d.Name] = d
	}
	// First pass: the family's own fields.
	for i := range t.families {
		d := &t.families[i]
		f := &family{name: d.Name, kind: d.Kind, desc: d.Description, like: d.Like, order: i}
		if !d.Kind.valid() {
			return fmt.Errorf("family %q: kind %q: want browser, library, crawler or automation", d.Name, d.Kind)
		}
		if d.Source == "" {
			return fmt.Errorf("family %q: missing source", d.Name)
		}
		if d.Like != "" {
			if _, ok := docs[d.Like]; !ok || d.Like == d.Name {
				return fmt.Errorf("family %q: like %q: no such other family", d.Name, d.Like)
			}
		}
		for _, s := range d.Stacks {
			if _, ok := stackJA4B[s]; !ok {
				return fmt.Errorf("family %q: stack %q is not defined", d.Name, s)
			}
		}
		for _, a := range d.ALPN {
			if !isALPNCode(a) {
				return fmt.Errorf("family %q: alpn %q: want the two characters JA4 shows, such as h2", d.Name, a)
			}
		}
		for os, target := range d.Platforms {
			if err := checkName(os); err != nil {
				return fmt.Errorf("family %q: platform %q: %w", d.Name, os, err)
			}
			if _, ok := docs[target]; !ok {
				return fmt.Errorf("family %q: platform %q: family %q is not defined", d.Name, os, target)
			}
		}
		ix.fams[d.Name] = f
	}
	// Second pass: resolve like chains, inherit fields, form groups.
	groups := map[string]*group{}
	for i := range t.families {
		d := &t.families[i]
		f := ix.fams[d.Name]
		chain := []string{d.Name}
		root := d
		for root.Like != "" {
			if slices.Contains(chain, root.Like) {
				return fmt.Errorf("family %q: like chain %s → %s is a cycle", d.Name, strings.Join(chain, " → "), root.Like)
			}
			chain = append(chain, root.Like)
			root = docs[root.Like]
		}
		for _, name := range chain { // nearest first
			a := docs[name]
			if f.stacks == nil && a.Stacks != nil {
				f.stacks = a.Stacks
			}
			if f.alpn == nil && a.ALPN != nil {
				f.alpn = a.ALPN
			}
			if f.platforms == nil && a.Platforms != nil {
				f.platforms = a.Platforms
			}
		}
		f.stackText = strings.Join(f.stacks, " or ")
		f.alpnText = strings.Join(f.alpn, " or ")
		g := groups[root.Name]
		if g == nil {
			g = &group{root: root.Name}
			groups[root.Name] = g
		}
		f.g = g
	}
	// members[name]: the family and every family whose like chain passes through it,
	// in data order; evidence owned by name matches all of them.
	members := make(map[string][]*family, len(t.families))
	for i := range t.families {
		d := &t.families[i]
		f := ix.fams[d.Name]
		for a := d; ; a = docs[a.Like] {
			members[a.Name] = append(members[a.Name], f)
			if a.Like == "" {
				break
			}
		}
	}
	for name, ms := range members {
		// The owner first, then the others in data order.
		slices.SortStableFunc(ms, func(a, b *family) int {
			switch {
			case a.name == name:
				return -1
			case b.name == name:
				return 1
			}
			return a.order - b.order
		})
	}

	ix.ja4 = map[string][]Match{}
	ix.ja4b = map[string][]Match{}
	ix.h2Both = map[string][]Match{}
	ix.h2Settings = map[string][]Match{}
	ix.h2Pseudo = map[string][]Match{}
	pub := map[string]*pubTemplate{}

	for i := range t.families {
		d := &t.families[i]
		f := ix.fams[d.Name]
		ms := members[d.Name]
		seen := map[string]bool{}
		for _, v := range d.JA4 {
			if !isJA4(v.Value) {
				return fmt.Errorf("family %q: ja4 %q: want a_b_c with a of 10 characters and b, c of 12 lowercase hex digits", d.Name, v.Value)
			}
			if v.Source == "" {
				return fmt.Errorf("family %q: ja4 %q: missing source", d.Name, v.Value)
			}
			if seen[v.Value] {
				return fmt.Errorf("family %q: ja4 %q listed twice", d.Name, v.Value)
			}
			seen[v.Value] = true
			b := v.Value[11:23]
			stack, ok := ix.stackByJA4B[b]
			if !ok || !f.usesStack(stack) {
				return fmt.Errorf("family %q: ja4 %q: cipher hash %s is not a ja4b of the family's stacks (%s)", d.Name, v.Value, b, f.stackText)
			}
			for _, m := range ms {
				ix.ja4[v.Value] = append(ix.ja4[v.Value], m.match(ConfidenceJA4, stack, "", v.Source))
			}
		}
		for j, h := range d.H2 {
			settings, pseudo, err := h.parse()
			if err != nil {
				return fmt.Errorf("family %q: h2[%d]: %w", d.Name, j, err)
			}
			if h.Source == "" {
				return fmt.Errorf("family %q: h2[%d]: missing source", d.Name, j)
			}
			g := f.g
			if pseudo != "" && !slices.Contains(g.pseudo, pseudo) {
				g.pseudo = append(g.pseudo, pseudo)
			}
			if settings != "" && !slices.Contains(g.settings, settings) {
				g.settings = append(g.settings, settings)
			}
			for _, m := range ms {
				if pseudo != "" {
					addMatch(ix.h2Pseudo, pseudo, m.match(ConfidenceH2Pseudo, m.primaryStack(), "", h.Source))
				}
				if settings != "" {
					addMatch(ix.h2Settings, settings, m.match(ConfidenceH2Settings, m.primaryStack(), "", h.Source))
				}
				if settings != "" && pseudo != "" {
					addMatch(ix.h2Both, settings+"|"+pseudo, m.match(ConfidenceH2, m.primaryStack(), "", h.Source))
				}
			}
		}
		for j, h := range d.Headers {
			tm, err := h.template(d.Name)
			if err != nil {
				return fmt.Errorf("family %q: headers[%d]: %w", d.Name, j, err)
			}
			f.g.templates[tm.proto] = append(f.g.templates[tm.proto], tm)
			key := tm.key()
			p := pub[key]
			if p == nil {
				p = &pubTemplate{template: tm}
				pub[key] = p
				ix.templates[tm.proto] = append(ix.templates[tm.proto], p)
			}
			for _, m := range ms {
				p.exact = addUnique(p.exact, m.match(ConfidenceHeaderExact, m.primaryStack(), tm.request, h.Source))
				p.tolerant = addUnique(p.tolerant, m.match(ConfidenceHeaderTolerant, m.primaryStack(), tm.request, h.Source))
			}
		}
	}
	for _, g := range groups {
		g.pseudoText = strings.Join(g.pseudo, " or ")
	}
	for i := range t.families {
		f := ix.fams[t.families[i].Name]
		for _, s := range t.stacks {
			if !f.usesStack(s.Name) {
				continue
			}
			for _, v := range s.JA4B {
				ix.ja4b[v.Value] = append(ix.ja4b[v.Value], f.match(ConfidenceJA4B, s.Name, "", v.Source))
			}
		}
	}
	return nil
}

func (f *family) match(c Confidence, stack string, req RequestKind, source string) Match {
	return Match{Family: f.name, Group: f.g.root, Kind: f.kind, Stack: stack, Confidence: c, Request: req, Source: source}
}

// addMatch appends m to idx[key] unless a match for the same family is there already.
func addMatch(idx map[string][]Match, key string, m Match) {
	idx[key] = addUnique(idx[key], m)
}

func addUnique(ms []Match, m Match) []Match {
	for _, x := range ms {
		if x.Family == m.Family {
			return ms
		}
	}
	return append(ms, m)
}

// parse checks an h2 entry and returns its SETTINGS key ("S|WU", GREASE removed, ""
// when unknown) and pseudo-header order.
func (h h2Doc) parse() (settings, pseudo string, err error) {
	switch {
	case h.Akamai != "":
		if h.Settings != "" {
			return "", "", errors.New("set akamai or settings, not both")
		}
		s, wu, _, ps, ok := splitAkamai(h.Akamai)
		if !ok || !validAkamai(h.Akamai) {
			return "", "", fmt.Errorf("akamai %q: want S|WU|P|PS", h.Akamai)
		}
		if h.Pseudo != "" && h.Pseudo != ps {
			return "", "", fmt.Errorf("pseudo %q differs from the akamai string's %q", h.Pseudo, ps)
		}
		return string(appendSettingsKey(nil, s, wu)), ps, nil
	case h.Settings != "":
		s, wu, ok := strings.Cut(h.Settings, "|")
		if !ok || !validSettings(s) || !validWU(wu) {
			return "", "", fmt.Errorf("settings %q: want S|WU, such as 1:65536;4:131072|12517377", h.Settings)
		}
		if h.Pseudo != "" && !validPseudo(h.Pseudo) {
			return "", "", fmt.Errorf("pseudo %q: want letters of m, a, s, p joined by commas", h.Pseudo)
		}
		return string(appendSettingsKey(nil, s, wu)), h.Pseudo, nil
	case h.Pseudo != "":
		if !validPseudo(h.Pseudo) {
			return "", "", fmt.Errorf("pseudo %q: want letters of m, a, s, p joined by commas", h.Pseudo)
		}
		return "", h.Pseudo, nil
	}
	return "", "", errors.New("set akamai, settings or pseudo")
}

// template checks a headers entry and returns its template.
func (h headersDoc) template(owner string) (*template, error) {
	p, ok := parseProto(h.Proto)
	if !ok {
		return nil, fmt.Errorf("proto %q: want h1 or h2", h.Proto)
	}
	switch h.Request {
	case RequestNavigation, RequestOther, RequestAny:
	default:
		return nil, fmt.Errorf("request %q: want navigation, other or any", h.Request)
	}
	if h.Source == "" {
		return nil, errors.New("missing source")
	}
	if len(h.Names) == 0 {
		return nil, errors.New("no names")
	}
	tm := &template{
		proto: p, request: h.Request, binding: h.Binding, owner: owner,
		names:    h.Names,
		lower:    make([]string, len(h.Names)),
		optional: make([]bool, len(h.Names)),
	}
	for i, n := range h.Names {
		if !isToken(n) {
			return nil, fmt.Errorf("name %q is not an HTTP field name", n)
		}
		if p == protoH2 && n != strings.ToLower(n) {
			return nil, fmt.Errorf("name %q: HTTP/2 names are lowercase", n)
		}
		tm.lower[i] = strings.ToLower(n)
		if slices.Contains(tm.lower[:i], tm.lower[i]) {
			return nil, fmt.Errorf("name %q listed twice", n)
		}
	}
	for _, o := range h.Optional {
		i := slices.Index(h.Names, o)
		if i < 0 {
			return nil, fmt.Errorf("optional %q is not one of the names (spelling included)", o)
		}
		tm.optional[i] = true
	}
	for _, o := range tm.optional {
		if !o {
			tm.nCore++
		}
	}
	if tm.nCore == 0 {
		return nil, errors.New("every name is optional")
	}
	tm.maxObs = min(len(tm.names)+MaxInserted, 2*len(tm.names))
	if got := CaseOf(h.Names); h.Case != got {
		return nil, fmt.Errorf("case %q: the names are %q", h.Case, got)
	}
	tm.caseStyle = h.Case
	return tm, nil
}

func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || (c == '-' || c == '.') && i > 0) {
			return errors.New("a name is lowercase letters, digits, '-' and '.'")
		}
	}
	return nil
}

func isHex12(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isALPNCode(s string) bool { return len(s) == 2 && isAlnum(s[0]) && isAlnum(s[1]) }

// ja4B returns the b part of a well-formed JA4 (a_b_c, a of 10 characters, b and c of 12
// lowercase hex digits).
func ja4B(s string) (string, bool) {
	if len(s) != 36 || s[10] != '_' || s[23] != '_' || !isHex12(s[11:23]) || !isHex12(s[24:]) {
		return "", false
	}
	return s[11:23], true
}

// isJA4 reports whether s is a JA4 value: a = protocol, version, SNI, two counts and
// the ALPN code.
func isJA4(s string) bool {
	if _, ok := ja4B(s); !ok {
		return false
	}
	switch s[0] {
	case 't', 'q', 'd':
	default:
		return false
	}
	switch s[1:3] {
	case "13", "12", "11", "10", "s3", "s2", "d1", "d2", "d3", "00":
	default:
		return false
	}
	if s[3] != 'd' && s[3] != 'i' {
		return false
	}
	for i := 4; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return isALPNCode(s[8:10])
}

// isToken reports whether s is an HTTP field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func validPseudo(s string) bool {
	if len(s) < 1 || len(s) > 7 || len(s)%2 != 1 {
		return false
	}
	var seen [4]bool
	for i := 0; i < len(s); i++ {
		if i%2 == 1 {
			if s[i] != ',' {
				return false
			}
			continue
		}
		k := strings.IndexByte("masp", s[i])
		if k < 0 || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

func validSettings(s string) bool {
	if s == "" {
		return true
	}
	for pair := range strings.SplitSeq(s, ";") {
		id, v, ok := strings.Cut(pair, ":")
		if !ok || !isUint(id, 16) || !isUint(v, 32) {
			return false
		}
	}
	return true
}

func validWU(s string) bool { return s == "00" || isUint(s, 31) && s != "0" }

func isUint(s string, bits int) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, bits)
	return err == nil
}

func validAkamai(s string) bool {
	settings, wu, prio, ps, ok := splitAkamai(s)
	if !ok || !validSettings(settings) || !validWU(wu) || !validPseudo(ps) {
		return false
	}
	if prio == "0" {
		return true
	}
	for p := range strings.SplitSeq(prio, ",") {
		f := strings.Split(p, ":")
		if len(f) != 4 || !isUint(f[0], 31) || (f[1] != "0" && f[1] != "1") || !isUint(f[2], 31) || !isUint(f[3], 9) {
			return false
		}
	}
	return true
}
