package demo

import (
	_ "embed"
	"fmt"
	"os"
)

// DemoCountries gives the simulated clients' address ranges made-up countries, so that
// the dashboard's map and country columns have something to show: the documentation
// ranges the simulator draws from belong to no country. It is the source of
// demo-country.mmdb (TestDemoCountryDB regenerates and checks it); only the demo
// loads that database.
var DemoCountries = map[string]string{
	// Visitors.
	"198.51.100.0/26":   "DE",
	"198.51.100.64/26":  "FR",
	"198.51.100.128/26": "GB",
	"198.51.100.192/26": "US",
	"2001:db8:b0::/48":  "NL",
	// Floods, then attackers.
	"203.0.113.0/26":     "VN",
	"203.0.113.64/26":    "CN",
	"203.0.113.128/26":   "RU",
	"203.0.113.192/26":   "BR",
	"2001:db8:bad::/48":  "IN",
	"2001:db8:f100::/48": "KR",
	// Good bots and the suspect scraper.
	"192.0.2.0/24":       "US",
	"2001:db8:600d::/48": "US",
}

//go:embed demo-country.mmdb
var demoCountryDB []byte

// writeCountryDB writes the demo's country database to a temporary file and returns
// its path, for vigil.GeoConfig.CountryDB, and a function that removes it.
func writeCountryDB() (path string, remove func(), err error) {
	f, err := os.CreateTemp("", "vigil-demo-country-*.mmdb")
	if err != nil {
		return "", nil, fmt.Errorf("demo: country database: %w", err)
	}
	remove = func() { os.Remove(f.Name()) }
	if _, err := f.Write(demoCountryDB); err != nil {
		f.Close()
		remove()
		return "", nil, fmt.Errorf("demo: country database: %w", err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, fmt.Errorf("demo: country database: %w", err)
	}
	return f.Name(), remove, nil
}
