package policy

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration that reads and writes as a Go duration string, such as
// "90s", "15m" or "1h30m", in both YAML and JSON. The zero value is a zero duration,
// whose meaning each field documents.
type Duration time.Duration

// String returns d in Go duration syntax without zero trailing units: "1h", not "1h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with String's format.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: it accepts what time.ParseDuration
// accepts, and an empty text as zero.
func (d *Duration) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a Go duration such as \"90s\" or \"1h30m\"", text)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler so that a bad duration in a YAML document is
// reported with its line, together with the document's other errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalScalar(n, d.UnmarshalText)
}

// unmarshalScalar feeds a YAML scalar to a text unmarshaler and turns its error into a
// *yaml.TypeError carrying the line, which the decoder collects instead of stopping.
func unmarshalScalar(n *yaml.Node, unmarshal func([]byte) error) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a single value, not a list or mapping", n.Line)}}
	}
	if n.ShortTag() == "!!null" {
		return nil
	}
	if err := unmarshal([]byte(n.Value)); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	return nil
}
