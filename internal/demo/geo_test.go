package demo

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/internal/geo"
	"github.com/vigilhq/vigil/internal/geo/geotest"
)

// TestDemoCountryDB holds demo-country.mmdb to DemoCountries: every range's first and
// last address get its country. VIGIL_UPDATE_DEMO_GEO=1 writes the file anew from the
// table first.
func TestDemoCountryDB(t *testing.T) {
	if os.Getenv("VIGIL_UPDATE_DEMO_GEO") != "" {
		geotest.WriteCountryDB(t, "demo-country.mmdb", DemoCountries)
		b, err := os.ReadFile("demo-country.mmdb")
		if err != nil {
			t.Fatal(err)
		}
		demoCountryDB = b
	}
	path, remove, err := writeCountryDB()
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	db, err := geo.Open(geo.Config{CountryDB: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for cidr, want := range DemoCountries {
		p := netip.MustParsePrefix(cidr)
		last := p.Addr()
		for a := p.Addr(); p.Contains(a) && a.IsValid(); a = a.Next() {
			last = a
			if p.Addr().Is6() {
				break // an IPv6 /48 is too long to walk; its first address is checked
			}
		}
		for _, a := range []netip.Addr{p.Addr(), last} {
			if got := db.Lookup(a).Country; got != want {
				t.Errorf("%v (in %s): country %q, want %q", a, cidr, got, want)
			}
		}
	}
	if got := db.Lookup(netip.MustParseAddr("127.0.0.1")).Country; got != "" {
		t.Errorf("loopback has country %q, want none", got)
	}
	if _, err := os.Stat(filepath.Clean(path)); err != nil {
		t.Errorf("the database file went away before remove: %v", err)
	}
}
