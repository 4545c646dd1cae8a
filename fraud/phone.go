package fraud

import (
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/vigilhq/vigil/internal/phonecheck"
)

// PhoneReport is what AnalyzePhone found about one number. It is a plain value that
// the caller owns; it serialises to JSON with snake_case names. (It is defined in an
// internal package so that the middleware can carry it in Verdict.Enrichment without
// linking the numbering-plan metadata.)
type PhoneReport = phonecheck.Report

// PhoneAnalyzer analyses phone numbers with AnalyzePhone. It implements
// vigil.PhoneAnalyzer: set it as vigil.Config.Phones to check the phone numbers
// submitted to signup paths.
type PhoneAnalyzer struct {
	// DefaultRegion is the region of numbers written without "+" (ISO 3166-1, such as
	// "US"). Empty means the client IP's country: people write their own country's
	// numbers in national form. With neither, a number needs its "+".
	DefaultRegion string
}

// AnalyzePhone is AnalyzePhone with a's default region.
func (a PhoneAnalyzer) AnalyzePhone(number, ipCountry string) PhoneReport {
	region := a.DefaultRegion
	if region == "" {
		region = ipCountry
	}
	return AnalyzePhone(number, region, ipCountry)
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
	switch f := fictional(rep.E164); {
	case f.typ != "":
		// Numbers set aside for films and books: the plan has them (so their type is
		// known), but nobody answers them.
		rep.Valid, rep.Type = false, f.typ
		rep.Reasons = append(rep.Reasons, Signal{Code: "phone_fictional", Score: scorePhoneInvalid, Detail: "a " + strings.ReplaceAll(f.typ, "_", " ") + " number in a range " + f.who + " reserves for drama: nobody can answer it"})
	case !rep.Valid:
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

// fictionalRange is a block of numbers reserved for drama: every E.164 number of
// length n that starts with prefix.
type fictionalRange struct {
	prefix string
	n      int
	typ    string
	who    string
}

// fictionalRanges are the best-known drama ranges: Ofcom's (UK, "Telephone numbers
// for TV, radio and other drama", 2025 edition) and the North American plan's 555-0100
// to 555-0199 in every area code.
var fictionalRanges = []fictionalRange{
	{"+447700900", 13, "mobile", "Ofcom"},
	{"+442079460", 13, "fixed_line", "Ofcom"},
	{"+441134960", 13, "fixed_line", "Ofcom"},
	{"+441144960", 13, "fixed_line", "Ofcom"},
	{"+441154960", 13, "fixed_line", "Ofcom"},
	{"+441164960", 13, "fixed_line", "Ofcom"},
	{"+441174960", 13, "fixed_line", "Ofcom"},
	{"+441184960", 13, "fixed_line", "Ofcom"},
	{"+441214960", 13, "fixed_line", "Ofcom"},
	{"+441314960", 13, "fixed_line", "Ofcom"},
	{"+441414960", 13, "fixed_line", "Ofcom"},
	{"+441514960", 13, "fixed_line", "Ofcom"},
	{"+441614960", 13, "fixed_line", "Ofcom"},
	{"+441914980", 13, "fixed_line", "Ofcom"},
	{"+441632960", 13, "fixed_line", "Ofcom"},
	{"+442890496", 13, "fixed_line", "Ofcom"},
	{"+442920180", 13, "fixed_line", "Ofcom"},
	{"+448081570", 13, "toll_free", "Ofcom"},
	{"+449098790", 13, "premium_rate", "Ofcom"},
	{"+443069990", 13, "uan", "Ofcom"},
}

// fictional returns the drama range e164 is in; the zero value when none.
func fictional(e164 string) fictionalRange {
	for _, f := range fictionalRanges {
		if len(e164) == f.n && strings.HasPrefix(e164, f.prefix) {
			return f
		}
	}
	// NANP: +1 NPA 555 01XX.
	if len(e164) == 12 && strings.HasPrefix(e164, "+1") && e164[5:10] == "55501" {
		return fictionalRange{typ: "fixed_line_or_mobile", who: "the North American Numbering Plan"}
	}
	return fictionalRange{}
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
