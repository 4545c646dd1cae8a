package guardagent

import (
	"testing"
	"time"
)

var parseTimeTests = []struct {
	name string
	in   string
	want time.Time // zero: an error is expected
}{
	{name: "python_plain_fraction", in: "2026-05-01 12:34:56.123456+00:00", want: time.Date(2026, 5, 1, 12, 34, 56, 123456000, time.UTC)},
	{name: "python_plain_whole_second", in: "2026-05-01 12:34:56+00:00", want: time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)},
	{name: "python_plain_offset", in: "2026-05-01 14:34:56.5+02:00", want: time.Date(2026, 5, 1, 12, 34, 56, 500000000, time.UTC)},
	{name: "python_isoformat", in: "2026-05-01T12:34:56.123456+00:00", want: time.Date(2026, 5, 1, 12, 34, 56, 123456000, time.UTC)},
	{name: "python_isoformat_whole_second", in: "2026-05-01T12:34:56+00:00", want: time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)},
	{name: "python_isoformat_negative_offset", in: "2026-05-01T07:34:56-05:00", want: time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)},
	{name: "go_rfc3339", in: "2026-05-01T12:34:56Z", want: time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)},
	{name: "go_rfc3339_nano", in: "2026-05-01T12:34:56.987654321Z", want: time.Date(2026, 5, 1, 12, 34, 56, 987654321, time.UTC)},
	{name: "python_naive_space", in: "2026-05-01 12:34:56.000001", want: time.Date(2026, 5, 1, 12, 34, 56, 1000, time.UTC)},
	{name: "python_naive_isoformat", in: "2026-05-01T12:34:56", want: time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)},
	{name: "date_only", in: "2026-05-01"},
	{name: "epoch_number_as_string", in: "1777638896"},
	{name: "slashes", in: "2026/05/01 12:34:56+00:00"},
	{name: "month_13", in: "2026-13-01 12:34:56+00:00"},
	{name: "hour_25", in: "2026-05-01 25:34:56+00:00"},
	{name: "offset_without_colon", in: "2026-05-01 12:34:56+0000"},
	{name: "trailing_text", in: "2026-05-01 12:34:56+00:00 UTC"},
	{name: "empty", in: ""},
	{name: "lowercase_t_and_z", in: "2026-05-01t12:34:56z"},
	{name: "too_long", in: "2026-05-01 12:34:56." + "1234567890123456789012345678901234567890123456789" + "+00:00"},
}

func TestParseTime(t *testing.T) {
	for _, tt := range parseTimeTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("ParseTime(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseTime(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}
