package knownclients

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// FormatVersion is the data format version this package reads, the top-level
// "version" field of the data.
const FormatVersion = 1

//go:embed data/knownclients.json
var embedded []byte

//go:embed data/NOTICE
var notice string

// Notice returns the third-party notices of the embedded data (data/NOTICE), for
// products that must reproduce them with a binary distribution.
func Notice() string { return notice }

// Default returns the table embedded in the binary (data/knownclients.json). It is
// parsed once, on the first call; every call returns the same *Table.
func Default() *Table { return defaultTable() }

var defaultTable = sync.OnceValue(func() *Table {
	t, err := Parse(embedded)
	if err != nil {
		// The embedded data is checked by the package tests.
		panic("knownclients: embedded data: " + err.Error())
	}
	return t
})

// A Kind says what sort of client a family is.
type Kind string

// The kinds of client families.
const (
	KindBrowser    Kind = "browser"    // an interactive web browser
	KindLibrary    Kind = "library"    // an HTTP library or command-line tool
	KindCrawler    Kind = "crawler"    // a search-engine or other declared crawler
	KindAutomation Kind = "automation" // a browser driven by a program (headless Chrome)
)

func (k Kind) valid() bool {
	switch k {
	case KindBrowser, KindLibrary, KindCrawler, KindAutomation:
		return true
	}
	return false
}

// A Table is a parsed, indexed known-clients table. It is immutable: [Table.Merge]
// returns a new Table. A Table is safe for concurrent use. The zero Table (and a nil
// *Table) is empty: every lookup finds nothing and [Table.Compare] returns
// [VerdictUnknown].
type Table struct {
	revision string
	stacks   []stackDoc  // in data order, for Merge
	families []familyDoc // in data order, for Merge
	index
}

// Revision returns the data revision, the top-level "revision" field. A merged table's
// revision is the base revision, "+" and the overlay's.
func (t *Table) Revision() string {
	if t == nil {
		return ""
	}
	return t.revision
}

// The JSON documents. Each level is decoded separately with unknown fields disallowed,
// so that an error can say where it is.

type fileDoc struct {
	Version  *int              `json:"version"`
	Revision string            `json:"revision"`
	Stacks   []json.RawMessage `json:"stacks"`
	Families []json.RawMessage `json:"families"`
}

type valueDoc struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

type stackDoc struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Source      string     `json:"source"`
	Extend      bool       `json:"extend,omitempty"`
	JA4B        []valueDoc `json:"ja4b,omitempty"`
}

type familyDoc struct {
	Name        string            `json:"name"`
	Kind        Kind              `json:"kind,omitempty"`
	Description string            `json:"description,omitempty"`
	Source      string            `json:"source"`
	Extend      bool              `json:"extend,omitempty"`
	Like        string            `json:"like,omitempty"`
	Stacks      []string          `json:"stacks,omitempty"`
	ALPN        []string          `json:"alpn,omitempty"`
	Platforms   map[string]string `json:"platforms,omitempty"`
	JA4         []valueDoc        `json:"ja4,omitempty"`
	H2          []h2Doc           `json:"h2,omitempty"`
	Headers     []headersDoc      `json:"headers,omitempty"`
}

type h2Doc struct {
	Akamai   string `json:"akamai,omitempty"`
	Settings string `json:"settings,omitempty"`
	Pseudo   string `json:"pseudo,omitempty"`
	Source   string `json:"source"`
}

type headersDoc struct {
	Proto    string      `json:"proto"`
	Request  RequestKind `json:"request"`
	Case     CaseStyle   `json:"case"`
	Binding  bool        `json:"binding"`
	Names    []string    `json:"names"`
	Optional []string    `json:"optional,omitempty"`
	Source   string      `json:"source"`
}

// Parse reads a complete table: the JSON format of data/knownclients.json (see the
// package documentation). Parsing is strict: an unknown field, a missing or unsupported
// version, a malformed value, an evidence entry without a source, a duplicate name or
// a reference to a stack or family that is not defined is an error that says where it
// is. The "extend" field is only valid in an overlay given to [Table.Merge].
func Parse(data []byte) (*Table, error) {
	doc, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("knownclients: %w", err)
	}
	for _, s := range doc.stacks {
		if s.Extend {
			return nil, fmt.Errorf("knownclients: stack %q: extend is only valid in an overlay given to Merge", s.Name)
		}
	}
	for _, f := range doc.families {
		if f.Extend {
			return nil, fmt.Errorf("knownclients: family %q: extend is only valid in an overlay given to Merge", f.Name)
		}
	}
	t, err := build(doc.revision, doc.stacks, doc.families)
	if err != nil {
		return nil, fmt.Errorf("knownclients: %w", err)
	}
	return t, nil
}

// Merge returns a new table: t with the overlay laid over it. The overlay has the
// format of a complete table, is parsed as strictly, and may refer to t's stacks and
// families. A stack or family in the overlay replaces the one of the same name in t
// as a whole, or is added when t has none. With "extend": true it is added to t's
// entry instead: an extending stack adds JA4_b values; an extending family adds JA4,
// HTTP/2 and header entries and may not set kind, like, stacks, alpn or platforms.
// The merged table is validated as a whole. t is not modified.
func (t *Table) Merge(overlay []byte) (*Table, error) {
	doc, err := decode(overlay)
	if err != nil {
		return nil, fmt.Errorf("knownclients: overlay: %w", err)
	}
	var base Table
	if t != nil {
		base = Table{revision: t.revision, stacks: t.stacks, families: t.families}
	}
	stacks := append([]stackDoc(nil), base.stacks...)
	for _, s := range doc.stacks {
		i := indexOf(stacks, func(x stackDoc) bool { return x.Name == s.Name })
		switch {
		case s.Extend && i < 0:
			return nil, fmt.Errorf("knownclients: overlay: stack %q extends a stack the table does not have", s.Name)
		case s.Extend:
			if s.Description != "" {
				return nil, fmt.Errorf("knownclients: overlay: stack %q: an extending stack may only add ja4b values", s.Name)
			}
			ext := stacks[i]
			ext.JA4B = append(append([]valueDoc(nil), ext.JA4B...), s.JA4B...)
			stacks[i] = ext
		case i < 0:
			stacks = append(stacks, s)
		default:
			stacks[i] = s
		}
	}
	families := append([]familyDoc(nil), base.families...)
	for _, f := range doc.families {
		i := indexOf(families, func(x familyDoc) bool { return x.Name == f.Name })
		switch {
		case f.Extend && i < 0:
			return nil, fmt.Errorf("knownclients: overlay: family %q extends a family the table does not have", f.Name)
		case f.Extend:
			if f.Kind != "" || f.Like != "" || f.Stacks != nil || f.ALPN != nil || f.Platforms != nil || f.Description != "" {
				return nil, fmt.Errorf("knownclients: overlay: family %q: an extending family may only add ja4, h2 and headers entries; replace the family to change anything else", f.Name)
			}
			ext := families[i]
			ext.JA4 = append(append([]valueDoc(nil), ext.JA4...), f.JA4...)
			ext.H2 = append(append([]h2Doc(nil), ext.H2...), f.H2...)
			ext.Headers = append(append([]headersDoc(nil), ext.Headers...), f.Headers...)
			families[i] = ext
		case i < 0:
			families = append(families, f)
		default:
			families[i] = f
		}
	}
	for i := range stacks {
		stacks[i].Extend = false
	}
	for i := range families {
		families[i].Extend = false
	}
	rev := base.revision
	if doc.revision != "" {
		rev += "+" + doc.revision
	}
	merged, err := build(rev, stacks, families)
	if err != nil {
		return nil, fmt.Errorf("knownclients: merge: %w", err)
	}
	return merged, nil
}

func indexOf[T any](s []T, f func(T) bool) int {
	for i, x := range s {
		if f(x) {
			return i
		}
	}
	return -1
}

type decoded struct {
	revision string
	stacks   []stackDoc
	families []familyDoc
}

// decode reads the JSON document strictly. It checks the syntax, unknown fields and
// the version; build checks the values.
func decode(data []byte) (decoded, error) {
	var f fileDoc
	if err := strictUnmarshal(data, &f); err != nil {
		return decoded{}, err
	}
	switch {
	case f.Version == nil:
		return decoded{}, errors.New(`missing "version"`)
	case *f.Version != FormatVersion:
		return decoded{}, fmt.Errorf("unsupported version %d (this build reads version %d)", *f.Version, FormatVersion)
	}
	d := decoded{revision: f.Revision}
	for i, raw := range f.Stacks {
		var s stackDoc
		if err := strictUnmarshal(raw, &s); err != nil {
			return decoded{}, fmt.Errorf("stacks[%d]: %w", i, err)
		}
		d.stacks = append(d.stacks, s)
	}
	for i, raw := range f.Families {
		var fam familyDoc
		if err := strictUnmarshal(raw, &fam); err != nil {
			return decoded{}, fmt.Errorf("families[%d]%s: %w", i, nameHint(raw), err)
		}
		d.families = append(d.families, fam)
	}
	return d, nil
}

// nameHint returns ` ("name")` for an object with a string name field, to locate an
// error in a family that did not decode.
func nameHint(raw json.RawMessage) string {
	var n struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &n) != nil || n.Name == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", n.Name)
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the top-level value")
	}
	return nil
}
