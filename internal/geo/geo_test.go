package geo_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/vigilhq/vigil/internal/geo"
	"github.com/vigilhq/vigil/internal/geo/geotest"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// testCountries and testASNs are the tiny databases behind lookupCases.
var testCountries = map[string]string{
	"203.0.113.0/24":  "FR",
	"198.51.100.0/24": "US",
	"3.5.140.0/22":    "KR",
	"192.0.2.0/24":    "DE",
	"192.0.2.128/25":  "NL", // more specific than the /24
	"2001:db8::/32":   "JP",
	"8.8.8.0/24":      "US",
}

var testASNs = map[string]geotest.ASNRecord{
	"203.0.113.0/24":  {Number: 64500, Org: "Example Broadband"},
	"198.51.100.0/24": {Number: 14061, Org: "DIGITALOCEAN-ASN"},
	"3.5.140.0/22":    {Number: 16509, Org: "AMAZON-02"},
	"192.0.2.0/24":    {Number: 64501}, // no organisation
	"2001:db8::/32":   {Number: 24940, Org: "Hetzner Online GmbH"},
	"8.8.8.0/24":      {Number: 15169, Org: "GOOGLE"},
}

// lookupCases feed TestLookup and BenchmarkLookup. The expectations follow from
// testCountries, testASNs, testdata/aws-ip-ranges.json, testdata/scrapers.txt,
// Config.HostingASNs = [64501] and the embedded list (14061, 16509, 24940 listed;
// 15169 not).
var lookupCases = []struct {
	name string
	ip   string
	want geo.Info
}{
	{"residential_ipv4", "203.0.113.9", geo.Info{Country: "FR", ASN: 64500, ASOrg: "Example Broadband"}},
	{"hosting_asn", "198.51.100.20", geo.Info{Country: "US", ASN: 14061, ASOrg: "DIGITALOCEAN-ASN", Hosting: "asn:14061"}},
	{"cloud_range_wins_over_asn", "3.5.141.1", geo.Info{Country: "KR", ASN: 16509, ASOrg: "AMAZON-02", Hosting: "cloud:aws"}},
	{"extra_hosting_asn_from_config", "192.0.2.10", geo.Info{Country: "DE", ASN: 64501, Hosting: "list:scrapers.txt"}},
	{"more_specific_country", "192.0.2.200", geo.Info{Country: "NL", ASN: 64501, Hosting: "list:scrapers.txt"}},
	{"googlebot_asn_not_hosting", "8.8.8.8", geo.Info{Country: "US", ASN: 15169, ASOrg: "GOOGLE"}},
	{"ipv6", "2001:db8::1", geo.Info{Country: "JP", ASN: 24940, ASOrg: "Hetzner Online GmbH", Hosting: "asn:24940"}},
	{"ipv6_cloud_range", "2600:1f14::1", geo.Info{Hosting: "cloud:aws"}},
	{"ipv6_list_range", "2001:db8:1::5", geo.Info{Country: "JP", ASN: 24940, ASOrg: "Hetzner Online GmbH", Hosting: "list:scrapers.txt"}},
	{"mapped_ipv4", "::ffff:203.0.113.9", geo.Info{Country: "FR", ASN: 64500, ASOrg: "Example Broadband"}},
	{"zone_ignored", "2001:db8::1%eth0", geo.Info{Country: "JP", ASN: 24940, ASOrg: "Hetzner Online GmbH", Hosting: "asn:24940"}},
	{"unknown_public", "9.9.9.9", geo.Info{}},
	{"private", "10.1.2.3", geo.Info{}},
	{"loopback", "127.0.0.1", geo.Info{}},
	{"loopback_ipv6", "::1", geo.Info{}},
	{"link_local_metadata", "169.254.169.254", geo.Info{}},
	{"cgnat", "100.64.1.1", geo.Info{}},
	{"ula", "fd12:3456::1", geo.Info{}},
}

// openTest opens a DB over every kind of data in a temporary directory.
func openTest(t testing.TB) *geo.DB {
	t.Helper()
	dir := t.TempDir()
	country, asn := filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "asn.mmdb")
	geotest.WriteCountryDB(t, country, testCountries)
	geotest.WriteASNDB(t, asn, testASNs)
	db, err := geo.Open(geo.Config{
		CountryDB:   country,
		ASNDB:       asn,
		CloudRanges: []string{"testdata/aws-ip-ranges.json", "testdata/scrapers.txt"},
		HostingASNs: []uint32{64501},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLookup(t *testing.T) {
	db := openTest(t)
	if !db.Enabled() {
		t.Fatal("Enabled() = false")
	}
	for _, tc := range lookupCases {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			for range 2 { // the second lookup is served from the record cache
				if diff := cmp.Diff(tc.want, db.Lookup(ip)); diff != "" {
					t.Fatalf("Lookup(%s) (-want +got):\n%s", tc.ip, diff)
				}
			}
		})
	}
	if n := db.Faults(); n != 0 {
		t.Errorf("Faults() = %d", n)
	}
}

func TestLookupLayouts(t *testing.T) {
	dir := t.TempDir()
	nets := map[string]string{"203.0.113.0/24": "FR", "2001:db8::/32": "jp", "198.51.100.0/24": "-"}
	asns := map[string]geotest.ASNRecord{"203.0.113.0/24": {Number: 16276, Org: "OVH SAS"}}
	for _, layout := range []struct {
		name string
		l    geotest.Layout
	}{{"maxmind", geotest.MaxMind}, {"ip_location_db", geotest.IPLocationDB}} {
		t.Run(layout.name, func(t *testing.T) {
			country, asn := filepath.Join(dir, layout.name+"-country.mmdb"), filepath.Join(dir, layout.name+"-asn.mmdb")
			geotest.WriteCountryDBLayout(t, country, layout.l, nets)
			geotest.WriteASNDBLayout(t, asn, layout.l, asns)
			db, err := geo.Open(geo.Config{CountryDB: country, ASNDB: asn})
			if err != nil {
				t.Fatal(err)
			}
			for ip, want := range map[string]geo.Info{
				"203.0.113.1":  {Country: "FR", ASN: 16276, ASOrg: "OVH SAS", Hosting: "asn:16276"},
				"2001:db8::1":  {Country: "JP"}, // lower case in the file
				"198.51.100.1": {},              // "-" is not a country code
			} {
				if diff := cmp.Diff(want, db.Lookup(netip.MustParseAddr(ip))); diff != "" {
					t.Errorf("Lookup(%s) (-want +got):\n%s", ip, diff)
				}
			}
		})
	}
}

func TestLookupRegisteredCountryFallback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country.mmdb")
	geotest.WriteRecords(t, path, geotest.Options{DatabaseType: "GeoLite2-Country"}, map[string]mmdbtype.Map{
		// Anycast and satellite networks have no located country, only the
		// registration's.
		"203.0.113.0/24":  {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("SE")}},
		"198.51.100.0/24": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("CA")}, "registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}},
	})
	db, err := geo.Open(geo.Config{CountryDB: path})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{"203.0.113.1": "SE", "198.51.100.1": "CA"} {
		if got := db.Lookup(netip.MustParseAddr(ip)).Country; got != want {
			t.Errorf("Lookup(%s).Country = %q, want %q", ip, got, want)
		}
	}
}

func TestLookupIPv4OnlyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country-ipv4.mmdb")
	geotest.WriteRecords(t, path, geotest.Options{DatabaseType: "country ipv4", IPVersion: 4}, map[string]mmdbtype.Map{
		"203.0.113.0/24": {"country_code": mmdbtype.String("FR")},
	})
	db, err := geo.Open(geo.Config{CountryDB: path})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup(netip.MustParseAddr("::ffff:203.0.113.1")).Country; got != "FR" {
		t.Errorf("mapped IPv4: Country = %q, want FR", got)
	}
	if got := db.Lookup(netip.MustParseAddr("2001:db8::1")); got != (geo.Info{}) || db.Faults() != 0 {
		t.Errorf("IPv6 in an IPv4 database: %+v, %d faults; want nothing and no fault", got, db.Faults())
	}
}

func TestNilAndEmptyDB(t *testing.T) {
	var nilDB *geo.DB
	ip := netip.MustParseAddr("203.0.113.9")
	if nilDB.Enabled() || nilDB.Lookup(ip) != (geo.Info{}) || nilDB.Close() != nil || nilDB.Faults() != 0 {
		t.Error("a nil DB is not an empty one")
	}
	empty, err := geo.Open(geo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Enabled() || empty.Lookup(ip) != (geo.Info{}) {
		t.Error("Open(Config{}) knows something")
	}
	if n := vigiltest.AllocsPerRun(100, func() { nilDB.Lookup(ip); empty.Lookup(ip) }); n != 0 {
		t.Errorf("nil and empty lookups allocate %v times", n)
	}
}

func TestEnabled(t *testing.T) {
	db, err := geo.Open(geo.Config{CloudRanges: []string{"testdata/cloudflare-ips-v4"}})
	if err != nil {
		t.Fatal(err)
	}
	if !db.Enabled() {
		t.Error("cloud ranges alone: Enabled() = false")
	}
	if got := db.Lookup(netip.MustParseAddr("104.16.1.1")); got != (geo.Info{Hosting: "list:cloudflare-ips-v4"}) {
		t.Errorf("Lookup = %+v", got)
	}
}

func TestCloseDuringLookups(t *testing.T) {
	db := openTest(t)
	ip := netip.MustParseAddr("203.0.113.9")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				db.Lookup(ip)
			}
		})
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := db.Lookup(ip); got != (geo.Info{}) {
		t.Errorf("Lookup after Close = %+v, want nothing", got)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	country, asn := filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "asn.mmdb")
	geotest.WriteCountryDB(t, country, testCountries)
	geotest.WriteASNDB(t, asn, testASNs)
	notMMDB := filepath.Join(dir, "GeoLite2-Country.mmdb")
	if err := os.WriteFile(notMMDB, []byte("<html>404 Not Found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	geotest.WriteRecords(t, empty, geotest.Options{DatabaseType: "GeoLite2-Country"}, nil)
	wrongType := filepath.Join(dir, "wrong-type.mmdb")
	geotest.WriteRecords(t, wrongType, geotest.Options{DatabaseType: "GeoLite2-ASN"}, map[string]mmdbtype.Map{
		"203.0.113.0/24": {"autonomous_system_number": mmdbtype.String("AS64500")},
	})
	missing := filepath.Join(dir, "missing.mmdb")

	for _, tc := range []struct {
		name string
		cfg  geo.Config
		want string
	}{
		{"country_missing", geo.Config{CountryDB: missing}, "geo: country database: open " + missing + ": no such file or directory"},
		{"country_not_mmdb", geo.Config{CountryDB: notMMDB}, "geo: country database " + notMMDB + ": not a MaxMind DB file"},
		{"country_db_is_asn_db", geo.Config{CountryDB: asn}, "geo: country database " + asn + ": none of its first 6 records has country data"},
		{"country_db_empty", geo.Config{CountryDB: empty}, "geo: country database " + empty + " holds no networks"},
		{"asn_db_is_country_db", geo.Config{ASNDB: country}, "geo: ASN database " + country + ": none of its first 7 records has ASN data"},
		{"asn_number_is_string", geo.Config{ASNDB: wrongType}, "geo: ASN database " + wrongType + ": record for 203.0.113.0/24: "},
		{"hosting_asns_without_asn_db", geo.Config{CountryDB: country, HostingASNs: []uint32{64501}}, "geo: hosting ASNs are configured but there is no ASN database"},
		{"hosting_asn_zero", geo.Config{ASNDB: asn, HostingASNs: []uint32{0}}, "geo: hosting ASN 0 is not an AS number"},
		{"cloud_missing", geo.Config{CloudRanges: []string{"testdata/goog.json", missing}}, "geo: cloud ranges: open " + missing + ": no such file or directory"},
		{"cloud_mmdb_given", geo.Config{CloudRanges: []string{country}}, "geo: cloud ranges " + country + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := geo.Open(tc.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Open error = %v, want one starting %q", err, tc.want)
			}
			if db != nil {
				t.Error("Open returned a DB with an error")
			}
		})
	}
}

// maxLookupAllocs is the allocation ceiling of a lookup whose records are cached,
// with all three kinds of data loaded: the guard's allow path has a budget of 16.
const maxLookupAllocs = 0

func TestLookupAllocs(t *testing.T) {
	db := openTest(t)
	for _, tc := range lookupCases {
		ip := netip.MustParseAddr(tc.ip)
		db.Lookup(ip) // fill the record cache
		if n := vigiltest.AllocsPerRun(200, func() { db.Lookup(ip) }); n > maxLookupAllocs {
			t.Errorf("%s: Lookup allocates %v times, ceiling %d", tc.name, n, maxLookupAllocs)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	db := openTest(b)
	for _, tc := range lookupCases {
		ip := netip.MustParseAddr(tc.ip)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				db.Lookup(ip)
			}
		})
	}
}

// BenchmarkLookupRealDB measures a lookup in a real country database, such as
// geo-whois-asn-country.mmdb from the npm package
// @ip-location-db/geo-whois-asn-country-mmdb, named by VIGIL_GEO_COUNTRY_DB; it
// walks 4096 public addresses, so the record cache warms as it would in production.
func BenchmarkLookupRealDB(b *testing.B) {
	path := os.Getenv("VIGIL_GEO_COUNTRY_DB")
	if path == "" {
		b.Skip("VIGIL_GEO_COUNTRY_DB is not set")
	}
	db, err := geo.Open(geo.Config{CountryDB: path, CloudRanges: []string{"testdata/aws-ip-ranges.json"}})
	if err != nil {
		b.Fatal(err)
	}
	ips := make([]netip.Addr, 4096)
	for i := range ips {
		x := uint32(i) * 2654435761 // spread over the IPv4 space
		ips[i] = netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(ips[i&4095])
		i++
	}
}
