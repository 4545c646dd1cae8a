package guardagent

import (
	"errors"
	"time"
)

// timeLayouts are the datetime forms the clients send (§8.1), in the order tried.
var timeLayouts = [...]string{
	// guard-agent-go: RFC 3339, "2026-05-01T12:34:56Z".
	time.RFC3339Nano,
	// Python plain endpoints: str(datetime) through json.dumps(default=str),
	// "2026-05-01 12:34:56.123456+00:00", with no fraction when microseconds are 0.
	"2006-01-02 15:04:05.999999999Z07:00",
	// Python encrypted path: datetime.isoformat(), "2026-05-01T12:34:56.123456+00:00".
	"2006-01-02T15:04:05.999999999Z07:00",
}

// naiveLayouts are the same Python forms without a UTC offset, which str() and
// isoformat() write for a naive datetime. guard-core and the agents stamp events with
// datetime.now(timezone.utc), but SecurityEvent is public API and pydantic keeps a naive
// datetime naive, so an application that builds its own events may send one. Studio
// reads them as UTC rather than dropping the whole batch (a 422 is a permanent drop).
var naiveLayouts = [...]string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// ParseTime parses a timestamp in any of the forms guard-agent clients send (§8.1):
// RFC 3339 as guard-agent-go writes it, Python's str(datetime) with a space separator
// and Python's isoformat(), each with or without fractional seconds. A Python timestamp
// without a UTC offset (a naive datetime) is taken as UTC. The result is in UTC.
//
// Go's time.RFC3339 alone rejects the space-separated form, which is what every Python
// client sends on the plain endpoints.
func ParseTime(s string) (time.Time, error) {
	if len(s) < len("2006-01-02 15:04:05") || len(s) > 64 {
		return time.Time{}, errors.New("not a datetime")
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, layout := range naiveLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a datetime in a form guard-agent clients send")
}
