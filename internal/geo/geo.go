// Package geo tells what is known about a client address from local data: its
// country, its autonomous system (number and organisation) and whether it belongs to a
// hosting or cloud network, where requests usually come from software rather than a
// person at a browser.
//
// # Data sources
//
//   - A country database in the MaxMind DB format ([Config.CountryDB]). Two record
//     layouts are read: MaxMind's GeoIP2/GeoLite2 Country and City
//     (country.iso_code, falling back to registered_country.iso_code) and the
//     ip-location-db layout (a top-level country_code). The demo default can be
//     geo-whois-asn-country.mmdb from the npm package
//     @ip-location-db/geo-whois-asn-country-mmdb (7.8 MB, IPv4 and IPv6), whose data
//     is the NRO's delegation statistics under CC BY 4.0: whoever ships it must
//     credit nro.net, whatever its package.json says. No database is vendored in this
//     repository; GeoLite2 needs a MaxMind account, so Vigil only reads a path.
//   - An ASN database in the MaxMind DB format ([Config.ASNDB]): GeoLite2-ASN or the
//     ip-location-db asn databases, which use the same fields
//     (autonomous_system_number, autonomous_system_organization).
//   - Published cloud ranges ([Config.CloudRanges]): AWS ip-ranges.json, Google
//     cloud.json and goog.json, Azure Service Tags, Oracle public_ip_ranges.json, or
//     text with one CIDR per line such as Cloudflare's ips-v4. The format is told
//     from the content.
//   - An embedded list of hosting ASNs (data/hosting_asns.txt, compiled from public
//     RIR and PeeringDB records; the file says what is left out and why), extended by
//     [Config.HostingASNs]. It needs an ASN database to mean anything.
//
// Lookups never touch the network: everything is read once by [Open].
//
// # Reading the databases
//
// Vigil reads the databases with github.com/oschwald/maxminddb-golang/v2 directly
// rather than through geoip2-golang: geoip2 decodes whole Country or ASN models
// (names in every language, continent, geoname IDs), while Vigil needs two or three
// fields and must accept layouts other than MaxMind's. A record is decoded once and
// kept in a small fixed-size cache keyed by its offset in the file, so a lookup
// whose record was seen before allocates nothing.
//
// Each database file is read into memory rather than memory-mapped, so that a file
// replaced or truncated under a running process cannot crash it and [DB.Close] is
// safe while lookups are still running on another goroutine (the guard swaps
// databases without stopping traffic).
//
// # Addresses
//
// IPv4-mapped IPv6 addresses are looked up as IPv4 and zones are ignored. Private,
// loopback, link-local, multicast, unspecified and shared (100.64.0.0/10) addresses
// are never looked up and get the zero [Info]: no public database knows them.
package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/gaissmai/bart"
)

// Info is what is known about an address. The zero value means nothing is known.
type Info struct {
	// Country is the ISO 3166-1 alpha-2 code in upper case, "" when unknown.
	Country string
	// ASN is the autonomous system number, 0 when unknown.
	ASN uint32
	// ASOrg is the autonomous system's organisation, "" when unknown.
	ASOrg string
	// Hosting is "" unless the address belongs to a hosting network, and then says
	// why: "cloud:aws", "cloud:gcp", "cloud:google" (goog.json), "cloud:azure" or
	// "cloud:oracle" for a published cloud range, "list:<file base name>" for a
	// range from a plain CIDR list, "asn:<number>" for a hosting ASN. A published
	// range wins over an ASN.
	Hosting string
}

// Config names the data to load. Every field's zero value means "none"; the zero
// Config loads nothing and gives a DB that knows nothing.
type Config struct {
	// CountryDB is the path of a MaxMind-format country database ("" for none):
	// GeoIP2/GeoLite2 Country or City, or an ip-location-db country database.
	// An IPv4-only database answers for IPv4 addresses only.
	CountryDB string
	// ASNDB is the path of a MaxMind-format ASN database ("" for none): GeoLite2-ASN
	// or an ip-location-db asn database.
	ASNDB string
	// CloudRanges are paths of files of published cloud ranges, in any of the
	// formats named in the package doc.
	CloudRanges []string
	// HostingASNs are ASNs counted as hosting networks in addition to the embedded
	// list. Setting them without ASNDB is an error.
	HostingASNs []uint32
}

// DB answers lookups from the data loaded by [Open]. It is immutable after Open and
// safe for concurrent use. A nil *DB knows nothing: Lookup returns the zero Info.
type DB struct {
	country *mmdb[countryValue] // nil when no country database
	asn     *mmdb[asnValue]     // nil when no ASN database
	cloud   *bart.Table[string] // nil when no cloud ranges; values are Info.Hosting labels
	hosting map[uint32]string   // hosting ASN → Info.Hosting label ("asn:16509")
	closed  atomic.Bool
	faults  atomic.Uint64
}

// Open loads the data cfg names. Every named file must exist and be well-formed: a
// file that is missing, unreadable or not in a recognised format is an error naming
// the file, never skipped.
func Open(cfg Config) (*DB, error) {
	if len(cfg.HostingASNs) > 0 && cfg.ASNDB == "" {
		return nil, errors.New("geo: hosting ASNs are configured but there is no ASN database to map addresses to ASNs")
	}
	db := &DB{}
	if cfg.CountryDB != "" {
		r, err := openCountry(cfg.CountryDB)
		if err != nil {
			return nil, err
		}
		db.country = r
	}
	if cfg.ASNDB != "" {
		r, err := openASN(cfg.ASNDB)
		if err != nil {
			return nil, err
		}
		db.asn = r
		hosting, err := parseHostingASNs(embeddedHostingASNs)
		if err != nil {
			return nil, fmt.Errorf("geo: embedded data/hosting_asns.txt: %w", err)
		}
		for _, n := range cfg.HostingASNs {
			if n == 0 {
				return nil, errors.New("geo: hosting ASN 0 is not an AS number")
			}
			hosting[n] = ""
		}
		db.hosting = make(map[uint32]string, len(hosting))
		for n := range hosting {
			db.hosting[n] = "asn:" + strconv.FormatUint(uint64(n), 10)
		}
	}
	if len(cfg.CloudRanges) > 0 {
		t := new(bart.Table[string])
		for _, path := range cfg.CloudRanges {
			label, pfxs, err := readRanges(path)
			if err != nil {
				return nil, err
			}
			for _, p := range pfxs {
				t.Insert(p, label)
			}
		}
		db.cloud = t
	}
	return db, nil
}

// Enabled reports whether anything was loaded: a country or ASN database or cloud
// ranges. A DB that is not enabled returns the zero Info for every address, so a
// caller can keep a nil *DB instead and skip the call.
func (db *DB) Enabled() bool {
	return db != nil && (db.country != nil || db.asn != nil || db.cloud != nil)
}

// Lookup returns what is known about ip. It never blocks, never touches the network,
// and allocates nothing once the database records it meets are cached. A nil DB, a
// closed DB, an invalid address and a non-public address (see the package doc) give
// the zero Info.
func (db *DB) Lookup(ip netip.Addr) Info {
	if db == nil {
		return Info{}
	}
	ip = ip.Unmap().WithZone("")
	if !public(ip) || db.closed.Load() {
		return Info{}
	}
	var info Info
	if db.country != nil {
		v, err := db.country.lookup(ip)
		if err != nil {
			db.faults.Add(1)
		}
		info.Country = v.code
	}
	if db.asn != nil {
		v, err := db.asn.lookup(ip)
		if err != nil {
			db.faults.Add(1)
		}
		info.ASN, info.ASOrg = v.number, v.org
		if v.number != 0 {
			info.Hosting = db.hosting[v.number]
		}
	}
	if db.cloud != nil {
		if label, ok := db.cloud.Lookup(ip); ok {
			info.Hosting = label
		}
	}
	return info
}

// Faults counts failed reads of a database during lookups, which only a damaged
// file causes. The part of the Info that could not be read is reported as unknown;
// a rising count means the database file should be replaced.
func (db *DB) Faults() uint64 {
	if db == nil {
		return 0
	}
	return db.faults.Load()
}

// Close ends the DB's use: later lookups return the zero Info. It is safe to call
// while lookups are running on other goroutines, and more than once. The memory is
// released when the DB is no longer referenced.
func (db *DB) Close() error {
	if db != nil {
		db.closed.Store(true)
	}
	return nil
}

// public reports whether ip is a valid address that public databases can know:
// not private, loopback, link-local, multicast, unspecified or shared (RFC 6598).
func public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	if ip.Is4() {
		a := ip.As4()
		if a[0] == 100 && a[1]&0xc0 == 64 { // 100.64.0.0/10, carrier-grade NAT
			return false
		}
		if a[0] == 0 || a == [4]byte{255, 255, 255, 255} { // "this network", broadcast
			return false
		}
	}
	return true
}

// listLabel is the Info.Hosting label of a plain CIDR list read from path.
func listLabel(path string) string {
	return "list:" + filepath.Base(path)
}
