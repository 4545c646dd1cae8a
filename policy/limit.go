package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limit is a rate limit: Rate requests per Period, with bursts of up to Burst requests.
// The zero value means "not set"; each field that holds a Limit says what that means.
//
// In YAML and JSON a Limit is one string, "<rate>/<period>" with an optional
// " burst <n>": "100/1m", "10/s burst 20", "5/90s". The period is a Go duration or one of
// the units "s", "m" and "h" alone, meaning one of them.
type Limit struct {
	// Rate is how many requests a client may make per Period, at least 1.
	Rate int
	// Period is the time over which Rate is counted, from 1ms to 24h.
	Period Duration
	// Burst is how many requests may arrive at once, at least 1 when set. Zero means
	// Rate: a client may spend a whole period's allowance at once.
	Burst int
}

// IsZero reports whether l is the zero Limit, which means "not set".
func (l Limit) IsZero() bool { return l == Limit{} }

// String returns l in its text form, or "" for the zero Limit.
func (l Limit) String() string {
	if l.IsZero() {
		return ""
	}
	s := strconv.Itoa(l.Rate) + "/" + l.Period.String()
	if l.Burst != 0 {
		s += " burst " + strconv.Itoa(l.Burst)
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with String's format.
func (l Limit) MarshalText() ([]byte, error) {
	return []byte(l.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler for the text form; an empty text is
// the zero Limit. It checks the syntax; Policy.Validate checks the ranges.
func (l *Limit) UnmarshalText(text []byte) error {
	v, err := parseLimit(string(text))
	if err != nil {
		return fmt.Errorf("invalid rate limit %q: %w (write it as \"100/1m\" or \"10/s burst 20\")", text, err)
	}
	*l = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler so that a bad limit in a YAML document is
// reported with its line, together with the document's other errors.
func (l *Limit) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalScalar(n, l.UnmarshalText)
}

func parseLimit(s string) (Limit, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Limit{}, nil
	}
	if len(f) != 1 && (len(f) != 3 || f[1] != "burst") {
		return Limit{}, errors.New(`expected "<rate>/<period>" and an optional "burst <n>"`)
	}
	rate, period, ok := strings.Cut(f[0], "/")
	if !ok {
		return Limit{}, errors.New(`missing "/<period>"`)
	}
	var l Limit
	var err error
	if l.Rate, err = parseCount(rate); err != nil {
		return Limit{}, fmt.Errorf("rate: %w", err)
	}
	switch period {
	case "s":
		l.Period = Duration(time.Second)
	case "m":
		l.Period = Duration(time.Minute)
	case "h":
		l.Period = Duration(time.Hour)
	default:
		d, err := time.ParseDuration(period)
		if err != nil {
			return Limit{}, fmt.Errorf("period %q is not a duration", period)
		}
		l.Period = Duration(d)
	}
	if len(f) == 3 {
		if l.Burst, err = parseCount(f[2]); err != nil {
			return Limit{}, fmt.Errorf("burst: %w", err)
		}
	}
	return l, nil
}

// parseCount parses a decimal count of at most nine digits, without sign.
func parseCount(s string) (int, error) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a whole number below one billion", s)
	}
	return strconv.Atoi(s)
}
