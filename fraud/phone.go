package fraud

import (
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// PhoneReport is what AnalyzePhone found about one number. It is a plain value that
// the caller owns; it serialises to JSON with snake_case names.
type PhoneReport struct {
	// Input is the number as given.
	Input string `json:"input"`
	// Valid reports a number that the numbering plan's metadata accepts.
	Valid bool `json:"valid"`
	// E164 is the number in E.164 form ("+447911123456"), when it parses.
	E164 string `json:"e164,omitempty"`
	// Region is the ISO 3166-1 code of the number's region: from the number itself when
	// valid (GG for a Guernsey +44 7911… mobile), else from its country calling code.
	Region string `json:"region,omitempty"`
	// Type is the number's type in lower snake case: "mobile", "fixed_line",
	// "fixed_line_or_mobile", "voip", "toll_free", "premium_rate", "shared_cost",
	// "personal_number", "pager", "uan", "voicemail" or "unknown". "voip" is reported
	// only where the metadata knows VoIP ranges (GB +44 56, FR +33 9, NL +31 85, …): US
	// and Canadian (+1) numbers come back "fixed_line_or_mobile" whatever they are, and
	// telling a Google Voice or Twilio number apart needs a paid carrier look-up. So a
	// number that is not "voip" may still be one.
	Type string `json:"type,omitempty"`
	// IPCountry is the country of the client's IP address the caller passed, and
	// CountryMismatch reports that it differs from Region.
	IPCountry       string `json:"ip_country,omitempty"`
	CountryMismatch bool   `json:"country_mismatch,omitempty"`
	// RiskScore is the sum of the Reasons' scores, at most 100.
	RiskScore int `json:"risk_score"`
	// Reasons explain the score, most important first.
	Reasons []Signal `json:"reasons"`
}

// Phone signal scores (fraud reference §5: number-plan metadata only, so modest).
const (
	scorePhoneInvalid  = 60
	scorePhoneRiskType = 25
	scorePhoneMismatch = 20
)

// phoneType names a metadata number type in lower snake case.
func phoneType(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "fixed_line"
	case phonenumbers.MOBILE:
		return "mobile"
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return "fixed_line_or_mobile"
	case phonenumbers.TOLL_FREE:
		return "toll_free"
	case phonenumbers.PREMIUM_RATE:
		return "premium_rate"
	case phonenumbers.SHARED_COST:
		return "shared_cost"
	case phonenumbers.VOIP:
		return "voip"
	case phonenumbers.PERSONAL_NUMBER:
		return "personal_number"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "uan"
	case phonenumbers.VOICEMAIL:
		return "voicemail"
	}
	return "unknown"
}

// AnalyzePhone checks one phone number offline, with the numbering-plan metadata of
// github.com/nyaruka/phonenumbers: validity, E.164 form, region, type, and a mismatch
// with ipCountry (the client IP's ISO country code, "" when unknown). defaultRegion is
// the region of a number written without "+" ("" requires the "+").
func AnalyzePhone(number, defaultRegion, ipCountry string) PhoneReport {
	rep := PhoneReport{Input: number, IPCountry: strings.ToUpper(ipCountry), Reasons: []Signal{}}
	n, err := phonenumbers.Parse(number, strings.ToUpper(defaultRegion))
	if err != nil {
		rep.Type = "unknown"
		rep.Reasons = append(rep.Reasons, Signal{Code: "phone_unparseable", Score: scorePhoneInvalid, Detail: "not a phone number: " + err.Error()})
		rep.RiskScore = scorePhoneInvalid
		return rep
	}
	rep.E164 = phonenumbers.Format(n, phonenumbers.E164)
	rep.Valid = phonenumbers.IsValidNumber(n)
	if rep.Valid {
		rep.Region = phonenumbers.GetRegionCodeForNumber(n)
	} else {
		rep.Region = phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	}
	rep.Type = phoneType(phonenumbers.GetNumberType(n))
	if !rep.Valid {
		rep.Reasons = append(rep.Reasons, Signal{Code: "phone_invalid", Score: scorePhoneInvalid, Detail: "not a number of " + rep.Region + "'s numbering plan (unallocated, reserved for fiction or mistyped)"})
	}
	switch rep.Type {
	case "voip", "premium_rate", "shared_cost", "personal_number", "uan":
		rep.Reasons = append(rep.Reasons, Signal{Code: "phone_" + rep.Type, Score: scorePhoneRiskType, Detail: "a " + strings.ReplaceAll(rep.Type, "_", " ") + " number"})
	}
	if rep.IPCountry != "" && rep.Region != "" && rep.IPCountry != rep.Region {
		rep.CountryMismatch = true
		rep.Reasons = append(rep.Reasons, Signal{Code: "phone_country_mismatch", Score: scorePhoneMismatch, Detail: "the number is from " + rep.Region + ", the client's IP from " + rep.IPCountry})
	}
	for _, s := range rep.Reasons {
		rep.RiskScore += s.Score
	}
	rep.RiskScore = min(rep.RiskScore, 100)
	return rep
}

// PhoneEvent is one phone number an actor submitted (to receive an OTP, say).
type PhoneEvent struct {
	// Actor identifies who submitted it: a DNA, an IP, a session or an account.
	Actor string
	// Number is the number as submitted; events whose number does not parse are
	// skipped.
	Number string
	// Region is the default region for numbers without "+".
	Region string
	Time   time.Time
}

// PhoneCycling is a pattern DetectPhoneCycling found.
type PhoneCycling struct {
	// Key is the actor (for cycling) or the shared prefix (for adjacency).
	Key string `json:"key"`
	// Numbers are the distinct E.164 numbers involved, sorted.
	Numbers []string `json:"numbers"`
	Reason  Signal   `json:"reason"`
}

// DetectPhoneCycling finds, in events (any order), the fraud reference's §6.2 rules 1
// and 2: an actor cycling through numbers (≥ 3 distinct numbers within 1 h, or ≥ 5
// within 24 h) and adjacency clusters (≥ 3 numbers that differ only in their last two
// digits, within 1 h, whoever sent them: SMS pumping to a block of numbers). Rules that
// need OTP outcomes (unverified ratios) need the application's reports and are not
// here.
func DetectPhoneCycling(events []PhoneEvent) []PhoneCycling {
	type sub struct {
		e164 string
		t    time.Time
	}
	var subs []struct {
		actor string
		sub
	}
	for _, e := range events {
		n, err := phonenumbers.Parse(e.Number, strings.ToUpper(e.Region))
		if err != nil {
			continue
		}
		subs = append(subs, struct {
			actor string
			sub
		}{e.Actor, sub{phonenumbers.Format(n, phonenumbers.E164), e.Time}})
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].t.Before(subs[j].t) })
	// distinctWithin returns the most distinct numbers seen inside any window of d.
	distinctWithin := func(list []sub, d time.Duration) []string {
		var best []string
		for i := range list {
			seen := map[string]bool{}
			for j := i; j < len(list) && list[j].t.Sub(list[i].t) <= d; j++ {
				seen[list[j].e164] = true
			}
			if len(seen) > len(best) {
				best = best[:0]
				for k := range seen {
					best = append(best, k)
				}
			}
		}
		sort.Strings(best)
		return best
	}
	var out []PhoneCycling
	byActor := map[string][]sub{}
	var actors []string
	for _, s := range subs {
		if s.actor == "" {
			continue
		}
		if _, ok := byActor[s.actor]; !ok {
			actors = append(actors, s.actor)
		}
		byActor[s.actor] = append(byActor[s.actor], s.sub)
	}
	for _, a := range actors {
		if nums := distinctWithin(byActor[a], time.Hour); len(nums) >= 3 {
			out = append(out, PhoneCycling{Key: a, Numbers: nums, Reason: Signal{Code: "phone_cycling", Score: 80, Detail: "3 or more numbers from one actor within an hour"}})
		} else if nums := distinctWithin(byActor[a], 24*time.Hour); len(nums) >= 5 {
			out = append(out, PhoneCycling{Key: a, Numbers: nums, Reason: Signal{Code: "phone_cycling", Score: 60, Detail: "5 or more numbers from one actor within a day"}})
		}
	}
	byBlock := map[string][]sub{}
	var blocks []string
	for _, s := range subs {
		if len(s.e164) < 6 {
			continue
		}
		b := s.e164[:len(s.e164)-2]
		if _, ok := byBlock[b]; !ok {
			blocks = append(blocks, b)
		}
		byBlock[b] = append(byBlock[b], s.sub)
	}
	for _, b := range blocks {
		if nums := distinctWithin(byBlock[b], time.Hour); len(nums) >= 3 {
			out = append(out, PhoneCycling{Key: b + "xx", Numbers: nums, Reason: Signal{Code: "phone_adjacent_block", Score: 80, Detail: "3 or more numbers of one block of 100 within an hour (SMS pumping)"}})
		}
	}
	return out
}
