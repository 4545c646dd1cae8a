package geo

import (
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"
)

// cacheBits sizes each database's record cache: 1<<cacheBits slots. A country
// database has a few hundred distinct records and fits whole; an ASN database has
// tens of thousands, of which the cache keeps the most recently met in each slot.
const cacheBits = 12

// probeRecords is how many records Open decodes to check that a database has the
// layout it was named for.
const probeRecords = 256

// mmdb is a MaxMind DB reader that decodes each record once. The record cache is
// direct-mapped: slot = hash(record offset), each slot holding one decoded record
// behind an atomic pointer, so a hit costs one load and no lock, and the cache can
// never hold more than 1<<cacheBits records whatever addresses clients send.
type mmdb[V any] struct {
	path   string
	reader *maxminddb.Reader
	v4only bool
	decode func(maxminddb.Result) (V, error)
	slots  [1 << cacheBits]atomic.Pointer[cached[V]]
}

type cached[V any] struct {
	offset uintptr
	value  V
}

// open reads the database at path into memory and checks that the first records
// decode and that at least one of them carries data (known reports that), which
// catches a database of the wrong kind. It does not run maxminddb's Verify: that
// rejects the ip-location-db files (their metadata has an empty description) and
// walks the whole file.
func open[V any](path, kind string, decode func(maxminddb.Result) (V, error), known func(V) bool) (*mmdb[V], error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geo: %s database: %w", kind, err)
	}
	reader, err := maxminddb.OpenBytes(buf)
	if err != nil {
		return nil, fmt.Errorf("geo: %s database %s: not a MaxMind DB file: %w", kind, path, err)
	}
	m := &mmdb[V]{path: path, reader: reader, v4only: reader.Metadata.IPVersion == 4, decode: decode}
	n, found := 0, false
	for res := range reader.Networks() {
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("geo: %s database %s: %w", kind, path, err)
		}
		v, err := decode(res)
		if err != nil {
			return nil, fmt.Errorf("geo: %s database %s: record for %s: %w", kind, path, res.Prefix(), err)
		}
		found = found || known(v)
		if n++; n == probeRecords {
			break
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("geo: %s database %s holds no networks", kind, path)
	}
	if !found {
		return nil, fmt.Errorf("geo: %s database %s: none of its first %d records has %s data in a layout Vigil reads (database type %q)",
			kind, path, n, kind, reader.Metadata.DatabaseType)
	}
	return m, nil
}

// lookup returns the decoded record for ip, or the zero V when the database has
// none. An error means the file is damaged; the zero V comes with it.
func (m *mmdb[V]) lookup(ip netip.Addr) (V, error) {
	var zero V
	if m.v4only && ip.Is6() {
		return zero, nil
	}
	res := m.reader.Lookup(ip)
	if !res.Found() {
		return zero, res.Err()
	}
	off := res.Offset()
	slot := &m.slots[(uint64(off)*0x9e3779b97f4a7c15)>>(64-cacheBits)]
	if c := slot.Load(); c != nil && c.offset == off {
		return c.value, nil
	}
	v, err := m.decode(res)
	if err != nil {
		// Cache the failure as "unknown" too: a damaged record costs one decode per
		// eviction, not one per request.
		v = zero
	}
	slot.Store(&cached[V]{offset: off, value: v})
	return v, err
}

// countryValue is the decoded part of a country record.
type countryValue struct {
	code string // ISO 3166-1 alpha-2, upper case; "" unknown
}

// countryRecord holds the fields of both country layouts. Fields absent from a
// record stay empty; other fields are skipped.
type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	CountryCode string `maxminddb:"country_code"` // ip-location-db
}

func openCountry(path string) (*mmdb[countryValue], error) {
	return open(path, "country", decodeCountry, func(v countryValue) bool { return v.code != "" })
}

func decodeCountry(res maxminddb.Result) (countryValue, error) {
	var rec countryRecord
	if err := res.Decode(&rec); err != nil {
		return countryValue{}, err
	}
	for _, c := range [...]string{rec.Country.ISOCode, rec.CountryCode, rec.RegisteredCountry.ISOCode} {
		if code, ok := countryCode(c); ok {
			return countryValue{code: code}, nil
		}
	}
	return countryValue{}, nil
}

// countryCode returns s as an upper-case ISO 3166-1 alpha-2 code, or false when s is
// not two ASCII letters ("", "-", "ZZZ").
func countryCode(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	var b [2]byte
	for i := range 2 {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		b[i] = c
	}
	if b[0] == s[0] && b[1] == s[1] {
		return s, true
	}
	return string(b[:]), true
}

// asnValue is the decoded part of an ASN record.
type asnValue struct {
	number uint32
	org    string
}

// asnRecord holds the fields of the GeoLite2-ASN layout, which the ip-location-db
// asn databases share.
type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

func openASN(path string) (*mmdb[asnValue], error) {
	return open(path, "ASN", decodeASN, func(v asnValue) bool { return v.number != 0 })
}

func decodeASN(res maxminddb.Result) (asnValue, error) {
	var rec asnRecord
	if err := res.Decode(&rec); err != nil {
		return asnValue{}, err
	}
	return asnValue{number: rec.Number, org: rec.Org}, nil
}
