package vigil

import (
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/policy"
)

// GeoConfig names the local data the guard looks client IPs up in: MaxMind-format
// country and ASN databases (GeoLite2, GeoIP2 or the ip-location-db layouts) and
// published cloud ranges. Look-ups read memory only; nothing goes over the network. The
// results fill Verdict.Enrichment (Country, ASN, ASOrg, Hosting) and feed policy.Geo's
// country rules and the hosting_network finding. Files are read once, by New; a file
// that is missing or malformed is an error. The zero value loads nothing: countries and
// networks are unknown, and hosting networks are still recognised from nothing but the
// ASN, so not at all.
type GeoConfig struct {
	// CountryDB is the path of a country (or city) database. Empty loads none.
	CountryDB string `json:"country_db,omitempty" yaml:"country_db,omitempty"`
	// ASNDB is the path of an ASN database. With it, clients on the networks of
	// hosting providers (an embedded list of datacenter and cloud ASNs, plus
	// HostingASNs) get the hosting_network finding. Empty loads none.
	ASNDB string `json:"asn_db,omitempty" yaml:"asn_db,omitempty"`
	// CloudRanges are paths of published cloud address ranges, in the providers' own
	// formats (AWS ip-ranges.json, Google Cloud cloud.json, Azure Service Tags, Oracle
	// public_ip_ranges.json) or one CIDR prefix per line. Addresses in them are hosting
	// networks whatever the ASN database says. Empty loads none.
	CloudRanges []string `json:"cloud_ranges,omitempty" yaml:"cloud_ranges,omitempty"`
	// HostingASNs adds autonomous systems to the embedded list of hosting networks.
	HostingASNs []uint32 `json:"hosting_asns,omitempty" yaml:"hosting_asns,omitempty"`
}

// Findings of the geo step (detector "geo"); see policy.Geo.
const (
	codeCountryBlocked = "country_blocked"
	codeHosting        = "hosting_network"
	scoreHosting       = 30
)

// geoState is the compiled policy.Geo: upper-case country codes.
type geoState struct {
	allow, deny map[string]bool
}

func compileGeo(g policy.Geo) *geoState {
	if len(g.AllowCountries) == 0 && len(g.DenyCountries) == 0 {
		return nil
	}
	return &geoState{allow: upperSet(g.AllowCountries), deny: upperSet(g.DenyCountries)}
}

// lookupGeo fills the verdict's enrichment from the geo databases.
func (g *Guard) lookupGeo(v *Verdict) {
	info := g.geo.Lookup(v.ClientIP)
	v.Enrichment.Country, v.Enrichment.ASN, v.Enrichment.ASOrg, v.Enrichment.Hosting = info.Country, info.ASN, info.ASOrg, info.Hosting
}

// geoFindings applies the policy's country rules and scores hosting networks.
func geoFindings(fs []detect.Finding, st *state, v *Verdict) []detect.Finding {
	e := &v.Enrichment
	if c := e.Country; c != "" && st.geo != nil {
		switch {
		case st.geo.deny[c]:
			fs = append(fs, detect.Finding{Detector: "geo", Code: codeCountryBlocked, Score: 100, Detail: "country " + c + " is in geo.deny_countries"})
		case len(st.geo.allow) > 0 && !st.geo.allow[c]:
			fs = append(fs, detect.Finding{Detector: "geo", Code: codeCountryBlocked, Score: 100, Detail: "country " + c + " is not in geo.allow_countries"})
		}
	}
	if e.Hosting != "" && !e.BotVerified {
		detail := "hosting network (" + e.Hosting + ")"
		if e.ASN != 0 {
			detail = "hosting network AS" + strconv.FormatUint(uint64(e.ASN), 10) + " " + truncate(e.ASOrg, 48) + " (" + e.Hosting + ")"
		}
		fs = append(fs, detect.Finding{Detector: "geo", Code: codeHosting, Score: scoreHosting, Detail: detail})
	}
	return fs
}

func upperSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[strings.ToUpper(s)] = true
	}
	return m
}
