package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest document Parse accepts, in bytes.
const MaxSize = 4 << 20

// Parse reads a policy from a YAML or JSON document (JSON when the first byte that is not
// white space is "{") and validates it. Parsing is strict: an unknown key, a value of the
// wrong type or a second document is an error, and errors name their line ("line 7:
// unknown field \"treshold\""). All decoding errors are reported together, then, if there
// are none, all of Validate's. An empty document is the zero Policy.
func Parse(data []byte) (Policy, error) {
	if len(data) > MaxSize {
		return Policy{}, fmt.Errorf("policy is %d bytes, more than the limit of %d", len(data), MaxSize)
	}
	var (
		p   Policy
		err error
	)
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		p, err = parseJSON(data)
	} else {
		p, err = parseYAML(data)
	}
	if err != nil {
		return Policy{}, err
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func parseYAML(data []byte) (Policy, error) {
	p, err := decodeYAML(data)
	if err != nil {
		return Policy{}, yamlError(err)
	}
	return p, nil
}

func decodeYAML(data []byte) (Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if err == io.EOF {
			return Policy{}, nil // empty document, or only comments
		}
		return Policy{}, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return Policy{}, err
		}
		return Policy{}, fmt.Errorf("line %d: a policy is one YAML document, found another", extra.Line)
	}
	return p, nil
}

// yamlError rewrites a yaml error into one error per problem, each starting with its
// line, in words that do not mention Go types.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	errs := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		if head, rest, ok := strings.Cut(e, ": field "); ok && strings.Contains(rest, " not found in type ") {
			name, _, _ := strings.Cut(rest, " not found in type ")
			e = fmt.Sprintf("%s: unknown field %q", head, name)
		} else if i := strings.LastIndex(e, " into "); i >= 0 && strings.Contains(e, ": cannot unmarshal ") {
			e = e[:i] + " into " + goTypeWords(e[i+len(" into "):])
		}
		errs = append(errs, errors.New(e))
	}
	return errors.Join(errs...)
}

// goTypeWords describes a Go type named in a yaml error in words a policy author knows.
func goTypeWords(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "string", t == "policy.Mode", t == "policy.Action":
		return "a string"
	case strings.HasPrefix(t, "policy."):
		return "a mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	}
	return t
}

func parseJSON(data []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&p)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return Policy{}, fmt.Errorf("%s: data after the policy object", position(data, dec.InputOffset()))
		}
		return p, nil
	}
	// encoding/json stops at the first problem and does not say where an unknown
	// field is. JSON documents are YAML documents too (save for rare escapes), so when
	// the YAML decoder finds field or type errors, report those: all of them, by line.
	var te *yaml.TypeError
	if _, yerr := decodeYAML(data); errors.As(yerr, &te) {
		return Policy{}, yamlError(yerr)
	}
	var se *json.SyntaxError
	var ue *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return Policy{}, fmt.Errorf("%s: %s", position(data, se.Offset), strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &ue):
		return Policy{}, fmt.Errorf("%s: %s: cannot use a JSON %s here", position(data, ue.Offset), ue.Field, ue.Value)
	}
	return Policy{}, errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// position returns "line L" for a byte offset into data.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	return fmt.Sprintf("line %d", 1+bytes.Count(data[:off], []byte("\n")))
}

// YAML returns p as a YAML document with two-space indentation, fields in declaration
// order and zero fields left out. Parse reads it back to an equal policy.
func (p Policy) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// JSON returns p as an indented JSON document with the same field names as YAML and zero
// fields left out. Parse reads it back to an equal policy.
func (p Policy) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
