package policy

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Document is a JSON document embedded in a policy, such as the known-clients overlay.
// In a YAML policy it is written as an ordinary YAML mapping. It holds canonical JSON
// (keys sorted, no spaces), so that equal documents compare equal whichever format they
// were read from. A nil Document is absent.
type Document []byte

// MarshalJSON returns the document.
func (d Document) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("null"), nil
	}
	return d, nil
}

// UnmarshalJSON stores the canonical form of b.
func (d *Document) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return d.set(v)
}

// MarshalYAML returns the document as YAML values.
func (d Document) MarshalYAML() (any, error) {
	if d == nil {
		return nil, nil
	}
	var v any
	err := json.Unmarshal(d, &v)
	return v, err
}

// UnmarshalYAML stores the canonical JSON form of the YAML value. Its errors carry
// the line, as the decoder's own do.
func (d *Document) UnmarshalYAML(n *yaml.Node) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	if err := d.set(v); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	return nil
}

func (d *Document) set(v any) error {
	if v == nil {
		*d = nil
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("expected a mapping (a document such as {version: 1, families: [...]})")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	*d = b
	return nil
}
