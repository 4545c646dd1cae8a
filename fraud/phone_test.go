package fraud

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnalyzePhone(t *testing.T) {
	for _, tc := range []struct {
		name, number, region, ip string
		valid                    bool
		e164, wantRegion, typ    string
		mismatch                 bool
		codes                    []string
	}{
		{"gb_mobile", "+44 7911 123456", "", "", true, "+447911123456", "GG", "mobile", false, nil},
		{"gb_drama_range", "+447700900123", "", "", false, "+447700900123", "GB", "mobile", false, []string{"phone_fictional"}},
		{"gb_drama_london", "020 7946 0123", "GB", "", false, "+442079460123", "GB", "fixed_line", false, []string{"phone_fictional"}},
		{"us_555_01xx", "+1 202 555 0143", "", "", false, "+12025550143", "US", "fixed_line_or_mobile", false, []string{"phone_fictional"}},
		{"gb_voip", "+44 56 1234 5678", "", "GB", true, "+445612345678", "GB", "voip", false, []string{"phone_voip"}},
		{"fr_voip_mismatch", "+33 9 12 34 56 78", "", "US", true, "+33912345678", "FR", "voip", true, []string{"phone_voip", "phone_country_mismatch"}},
		{"us_cannot_tell_voip", "+1 202 456 1414", "", "US", true, "+12024561414", "US", "fixed_line_or_mobile", false, nil},
		{"national_with_default_region", "07911 123456", "gb", "", true, "+447911123456", "GG", "mobile", false, nil},
		{"garbage", "call me", "", "", false, "", "", "unknown", false, []string{"phone_unparseable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := AnalyzePhone(tc.number, tc.region, tc.ip)
			var codes []string
			for _, s := range r.Reasons {
				codes = append(codes, s.Code)
			}
			got := []any{r.Valid, r.E164, r.Region, r.Type, r.CountryMismatch, codes}
			want := []any{tc.valid, tc.e164, tc.wantRegion, tc.typ, tc.mismatch, tc.codes}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectPhoneCycling(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	ev := func(actor, number string, min int) PhoneEvent {
		return PhoneEvent{Actor: actor, Number: number, Time: t0.Add(time.Duration(min) * time.Minute)}
	}
	got := DetectPhoneCycling([]PhoneEvent{
		// One actor, three numbers in 40 minutes: cycling.
		ev("dna:bot", "+447911123456", 0), ev("dna:bot", "+447911654321", 20), ev("dna:bot", "+447700123456", 40),
		// A person correcting a typo: two numbers.
		ev("ip:1", "+447911000001", 0), ev("ip:1", "+447911000002", 5),
		// A block of adjacent numbers from different actors: SMS pumping.
		ev("a", "+12025550101", 0), ev("b", "+12025550117", 10), ev("c", "+12025550199", 30),
		// The same block over more than an hour: not a burst.
		ev("d", "+13105550101", 0), ev("e", "+13105550102", 90), ev("f", "+13105550103", 200),
	})
	var keys []string
	for _, c := range got {
		keys = append(keys, c.Reason.Code+" "+c.Key)
	}
	want := []string{"phone_cycling dna:bot", "phone_adjacent_block +120255501xx"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func ExampleAnalyzePhone() {
	r := AnalyzePhone("+33 9 12 34 56 78", "", "US")
	fmt.Println(r.Valid, r.E164, r.Region, r.Type, r.CountryMismatch, r.RiskScore)
	for _, s := range r.Reasons {
		fmt.Println(s.Code, s.Score)
	}
	// Output:
	// true +33912345678 FR voip true 45
	// phone_voip 25
	// phone_country_mismatch 20
}

// FuzzAnalyzePhone: any input gives a report without panicking, with a bounded score,
// and a number that parsed re-analyses to the same E.164 form.
func FuzzAnalyzePhone(f *testing.F) {
	for _, s := range []string{"+447911123456", "+447700900123", "07911 123456", "+1 202 555 0143", "call me", "", "+", "++44", "+999999999999999999999"} {
		f.Add(s, "GB", "US")
	}
	f.Fuzz(func(t *testing.T, number, region, ip string) {
		r := AnalyzePhone(number, region, ip)
		if r.RiskScore < 0 || r.RiskScore > 100 || r.Type == "" {
			t.Fatalf("report %+v", r)
		}
		if r.E164 != "" {
			if again := AnalyzePhone(r.E164, "", ip); again.E164 != r.E164 {
				t.Fatalf("%q → %q → %q", number, r.E164, again.E164)
			}
		}
	})
}
