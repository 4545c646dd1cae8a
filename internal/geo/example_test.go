package geo_test

import (
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/geo"
	"github.com/vigilhq/vigil/internal/geo/geotest"
)

var update = flag.Bool("update", false, "rewrite testdata/example-*.mmdb")

// The example databases: the country one in the ip-location-db layout, the ASN one
// in MaxMind's.
var (
	exampleCountries = map[string]string{"203.0.113.0/24": "FR", "198.51.100.0/24": "US", "2001:db8::/32": "JP"}
	exampleASNs      = map[string]geotest.ASNRecord{
		"203.0.113.0/24":  {Number: 64500, Org: "Example Broadband"},
		"198.51.100.0/24": {Number: 14061, Org: "DIGITALOCEAN-ASN"},
	}
)

// TestExampleDatabases keeps testdata/example-*.mmdb, which Example reads, in step
// with the maps above: -update rewrites them, and otherwise every network must look
// up as the maps say.
func TestExampleDatabases(t *testing.T) {
	country, asn := filepath.Join("testdata", "example-country.mmdb"), filepath.Join("testdata", "example-asn.mmdb")
	if *update {
		geotest.WriteCountryDBLayout(t, country, geotest.IPLocationDB, exampleCountries)
		geotest.WriteASNDB(t, asn, exampleASNs)
	}
	db, err := geo.Open(geo.Config{CountryDB: country, ASNDB: asn})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, cc := range exampleCountries {
		ip := netip.MustParsePrefix(cidr).Addr().Next()
		got := db.Lookup(ip)
		want := exampleASNs[cidr]
		if diff := cmp.Diff([]any{cc, want.Number, want.Org}, []any{got.Country, got.ASN, got.ASOrg}); diff != "" {
			t.Errorf("%s (-want +got):\n%s\nrun go test -run TestExampleDatabases -update", ip, diff)
		}
	}
}

func Example() {
	db, err := geo.Open(geo.Config{
		CountryDB:   "testdata/example-country.mmdb",
		ASNDB:       "testdata/example-asn.mmdb",
		CloudRanges: []string{"testdata/aws-ip-ranges.json"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	for _, s := range []string{"203.0.113.7", "198.51.100.7", "3.5.140.10", "2001:db8::1", "10.0.0.1"} {
		fmt.Printf("%s %+v\n", s, db.Lookup(netip.MustParseAddr(s)))
	}
	// Output:
	// 203.0.113.7 {Country:FR ASN:64500 ASOrg:Example Broadband Hosting:}
	// 198.51.100.7 {Country:US ASN:14061 ASOrg:DIGITALOCEAN-ASN Hosting:asn:14061}
	// 3.5.140.10 {Country: ASN:0 ASOrg: Hosting:cloud:aws}
	// 2001:db8::1 {Country:JP ASN:0 ASOrg: Hosting:}
	// 10.0.0.1 {Country: ASN:0 ASOrg: Hosting:}
}

func ExampleOpen_error() {
	_, err := geo.Open(geo.Config{CloudRanges: []string{"testdata/example-country.mmdb"}})
	fmt.Println(err)
	// Output:
	// geo: cloud ranges testdata/example-country.mmdb: line 1: not text (byte 0x00): want JSON or one CIDR per line
}

func ExampleDB_Lookup_nil() {
	var db *geo.DB // no geo data configured: keep a nil DB
	fmt.Printf("%+v %v\n", db.Lookup(netip.MustParseAddr("203.0.113.7")), db.Enabled())
	// Output: {Country: ASN:0 ASOrg: Hosting:} false
}
