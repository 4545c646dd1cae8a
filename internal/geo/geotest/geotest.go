// Package geotest writes tiny MaxMind-format databases for tests, in the layouts
// that package geo reads, so that tests of geo and of its users (the guard, the CLI)
// need no downloaded database. It is built on github.com/maxmind/mmdbwriter and must
// be imported only from _test.go files, which keeps the writer out of every binary;
// a test in this package checks that.
//
// Reserved networks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)
// may be used: the databases are written with reserved networks included.
package geotest

import (
	"bytes"
	"cmp"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Layout is a record layout.
type Layout int

const (
	// MaxMind is the layout of MaxMind's GeoIP2/GeoLite2 databases: a country record
	// is {"country": {"iso_code", "names"}, "registered_country": {...}}, an ASN
	// record {"autonomous_system_number", "autonomous_system_organization"}.
	MaxMind Layout = iota
	// IPLocationDB is the layout of the ip-location-db databases on npm
	// (@ip-location-db/*-mmdb): a country record is {"country_code"}; an ASN record
	// has the same fields as MaxMind's.
	IPLocationDB
)

// ASNRecord is an autonomous system's number and organisation.
type ASNRecord struct {
	Number uint32
	Org    string
}

// Options are the database-wide settings of [WriteRecords].
type Options struct {
	// DatabaseType is the metadata's database type, e.g. "GeoLite2-Country".
	DatabaseType string
	// IPVersion is 4 for an IPv4-only database; 0 or 6 gives an IPv6 database, which
	// holds IPv4 too.
	IPVersion int
}

// WriteCountryDB writes a country database in the MaxMind layout to path, mapping
// each CIDR of nets to a country code ("203.0.113.0/24" → "FR"); where CIDRs
// overlap, the more specific one wins. It fails t on any error.
func WriteCountryDB(t testing.TB, path string, nets map[string]string) {
	t.Helper()
	WriteCountryDBLayout(t, path, MaxMind, nets)
}

// WriteCountryDBLayout is [WriteCountryDB] in the given layout.
func WriteCountryDBLayout(t testing.TB, path string, layout Layout, nets map[string]string) {
	t.Helper()
	records := make(map[string]mmdbtype.Map, len(nets))
	opts := Options{DatabaseType: "GeoLite2-Country"}
	for cidr, cc := range nets {
		switch layout {
		case MaxMind:
			country := mmdbtype.Map{
				"iso_code": mmdbtype.String(cc),
				"names":    mmdbtype.Map{"en": mmdbtype.String("Country " + cc)},
			}
			records[cidr] = mmdbtype.Map{"country": country, "registered_country": country}
		case IPLocationDB:
			opts.DatabaseType = "country ipvAll"
			records[cidr] = mmdbtype.Map{"country_code": mmdbtype.String(cc)}
		default:
			t.Fatalf("geotest: unknown layout %d", layout)
		}
	}
	WriteRecords(t, path, opts, records)
}

// WriteASNDB writes an ASN database in the MaxMind layout to path.
func WriteASNDB(t testing.TB, path string, nets map[string]ASNRecord) {
	t.Helper()
	WriteASNDBLayout(t, path, MaxMind, nets)
}

// WriteASNDBLayout is [WriteASNDB] in the given layout. The layouts differ only in
// the database type; an empty Org is left out of the record.
func WriteASNDBLayout(t testing.TB, path string, layout Layout, nets map[string]ASNRecord) {
	t.Helper()
	opts := Options{DatabaseType: "GeoLite2-ASN"}
	switch layout {
	case MaxMind:
	case IPLocationDB:
		opts.DatabaseType = "asn ipvAll"
	default:
		t.Fatalf("geotest: unknown layout %d", layout)
	}
	records := make(map[string]mmdbtype.Map, len(nets))
	for cidr, r := range nets {
		m := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(r.Number)}
		if r.Org != "" {
			m["autonomous_system_organization"] = mmdbtype.String(r.Org)
		}
		records[cidr] = m
	}
	WriteRecords(t, path, opts, records)
}

// WriteRecords writes a database with the given records, one per CIDR, to path;
// where CIDRs overlap, the more specific one wins. Use
// it for layouts the other helpers do not write (a record with only
// registered_country, a damaged field type).
func WriteRecords(t testing.TB, path string, opts Options, records map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            opts.DatabaseType,
		IPVersion:               opts.IPVersion,
		RecordSize:              24,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		t.Fatalf("geotest: %v", err)
	}
	// Insert wider networks first, so that a more specific one overrides the part of
	// a wider one it covers whatever the map's order.
	nets := make([]*net.IPNet, 0, len(records))
	recs := make(map[*net.IPNet]mmdbtype.Map, len(records))
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatalf("geotest: %v", err)
		}
		nets = append(nets, network)
		recs[network] = rec
	}
	slices.SortFunc(nets, func(a, b *net.IPNet) int {
		ab, _ := a.Mask.Size()
		bb, _ := b.Mask.Size()
		return cmp.Or(cmp.Compare(ab, bb), bytes.Compare(a.IP, b.IP))
	})
	for _, network := range nets {
		if err := tree.Insert(network, recs[network]); err != nil {
			t.Fatalf("geotest: insert %s: %v", network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("geotest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatalf("geotest: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("geotest: %v", err)
	}
}
