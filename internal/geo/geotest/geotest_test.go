package geotest_test

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/vigilhq/vigil/internal/geo/geotest"
)

// TestTestOnly checks that no package of the module links geotest, and so the
// database writer, outside its tests.
func TestTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "github.com/vigilhq/vigil/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/vigilhq/vigil/internal/geo/geotest" {
			pkgs = append(pkgs, pkg)
		}
	}
	out, err = exec.Command("go", append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/vigilhq/vigil/internal/geo/geotest" || strings.HasPrefix(pkg, "github.com/maxmind/mmdbwriter") {
			t.Fatalf("%s is linked by a non-test package; import internal/geo/geotest from _test.go files only", pkg)
		}
	}
}

// TestLayouts reads the written databases back with the reader, field by field, to
// check each layout against its published shape.
func TestLayouts(t *testing.T) {
	dir := t.TempDir()
	nets := map[string]string{"203.0.113.0/24": "FR", "203.0.113.128/25": "BE", "2001:db8::/32": "JP"}
	asns := map[string]geotest.ASNRecord{"203.0.113.0/24": {Number: 64500, Org: "Example"}, "2001:db8::/32": {Number: 64501}}
	for _, tc := range []struct {
		name     string
		write    func(path string)
		ip       string
		path     []any
		want     any
		wantType string
	}{
		{"maxmind_country", func(p string) { geotest.WriteCountryDB(t, p, nets) }, "203.0.113.1", []any{"country", "iso_code"}, "FR", "GeoLite2-Country"},
		{"maxmind_registered_country", func(p string) { geotest.WriteCountryDB(t, p, nets) }, "2001:db8::1", []any{"registered_country", "iso_code"}, "JP", "GeoLite2-Country"},
		{"more_specific_wins", func(p string) { geotest.WriteCountryDB(t, p, nets) }, "203.0.113.200", []any{"country", "iso_code"}, "BE", "GeoLite2-Country"},
		{"ip_location_db_country", func(p string) { geotest.WriteCountryDBLayout(t, p, geotest.IPLocationDB, nets) }, "203.0.113.1", []any{"country_code"}, "FR", "country ipvAll"},
		{"maxmind_asn_number", func(p string) { geotest.WriteASNDB(t, p, asns) }, "203.0.113.1", []any{"autonomous_system_number"}, uint64(64500), "GeoLite2-ASN"},
		{"maxmind_asn_org", func(p string) { geotest.WriteASNDB(t, p, asns) }, "203.0.113.1", []any{"autonomous_system_organization"}, "Example", "GeoLite2-ASN"},
		{"ip_location_db_asn", func(p string) { geotest.WriteASNDBLayout(t, p, geotest.IPLocationDB, asns) }, "2001:db8::1", []any{"autonomous_system_number"}, uint64(64501), "asn ipvAll"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".mmdb")
			tc.write(path)
			r, err := maxminddb.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Metadata.DatabaseType != tc.wantType {
				t.Errorf("database type %q, want %q", r.Metadata.DatabaseType, tc.wantType)
			}
			var got any
			if err := r.Lookup(netip.MustParseAddr(tc.ip)).DecodePath(&got, tc.path...); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s %v = %#v, want %#v", tc.ip, tc.path, got, tc.want)
			}
		})
	}
}
