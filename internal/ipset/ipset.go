// Package ipset is an immutable set of IP addresses and CIDR prefixes with fast
// longest-prefix lookups, for allow lists, deny lists and trusted proxies.
//
// A [Set] is built once by [Parse] from configuration text and never changes
// afterwards, so it is safe for concurrent use without locking; to change a list,
// parse a new Set and swap the pointer (for example with atomic.Pointer).
//
// IPv4 and IPv6 are kept apart, with one exception: IPv4-mapped IPv6 addresses
// (::ffff:192.0.2.7) are converted to plain IPv4, both in entries and in queries, so
// a dual-stack listener that reports IPv4 clients as ::ffff:a.b.c.d still matches
// IPv4 entries. An IPv6 prefix such as ::/0 therefore never matches an IPv4
// address, mapped or not. IPv6 zones (fe80::1%eth0) are ignored in queries and
// rejected in entries.
//
// Lookups do not allocate. The set is backed by a bart.Lite routing table.
package ipset

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
)

// Set is an immutable set of IP prefixes. Single addresses are stored as /32 or
// /128 prefixes.
//
// The zero value and a nil *Set are empty sets: every method works on them and
// Contains reports false. A Set is never modified after [Parse] returns it, so it
// is safe for concurrent use by multiple goroutines.
type Set struct {
	// table is nil for an empty set. It is written only by Parse.
	table *bart.Lite
}

// Parse builds a Set from entries, each either a CIDR prefix ("10.0.0.0/8",
// "2001:db8::/32") or a single address ("192.0.2.7", "2001:db8::1"). Surrounding
// white space is ignored.
//
// Prefixes are masked to their network address, so "10.1.2.3/8" is stored as
// 10.0.0.0/8. IPv4-mapped IPv6 entries are stored as IPv4: "::ffff:1.2.3.4" as
// 1.2.3.4/32 and "::ffff:10.0.0.0/104" as 10.0.0.0/8. Duplicate entries are stored
// once.
//
// An empty or nil entries slice gives an empty set. An entry that is empty, does not
// parse, or carries an IPv6 zone makes Parse return a nil Set and an error naming
// the entry's index and text; no partial set is returned.
func Parse(entries []string) (*Set, error) {
	s := new(Set)
	if len(entries) == 0 {
		return s, nil
	}
	t := new(bart.Lite)
	for i, raw := range entries {
		p, err := parseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("ipset: entry %d %q: %w", i, raw, err)
		}
		t.Insert(p)
	}
	s.table = t
	return s, nil
}

// parseEntry turns one entry into a canonical prefix: masked, IPv4-mapped
// converted to IPv4, no zone.
func parseEntry(raw string) (netip.Prefix, error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return netip.Prefix{}, errors.New("empty entry")
	}
	var p netip.Prefix
	if strings.Contains(text, "/") {
		var err error
		if p, err = netip.ParsePrefix(text); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(text)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("IPv6 zone not allowed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// Contains reports whether ip lies in any prefix of the set. An IPv4-mapped ip is
// looked up as IPv4 and a zone is ignored. An invalid ip is in no set.
func (s *Set) Contains(ip netip.Addr) bool {
	if s == nil || s.table == nil {
		return false
	}
	return s.table.Contains(ip.Unmap())
}

// Lookup returns the most specific prefix of the set that contains ip, and whether
// there is one. ip is treated as in [Set.Contains].
func (s *Set) Lookup(ip netip.Addr) (netip.Prefix, bool) {
	if s == nil || s.table == nil {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	// PrefixFrom drops the zone; an invalid ip gives an invalid prefix, which bart
	// reports as not found.
	return s.table.LookupPrefixLPM(netip.PrefixFrom(ip, ip.BitLen()))
}

// Overlaps reports whether pfx and the set share any address: pfx lies inside an entry
// or an entry lies inside pfx. It is nil-safe; an invalid pfx overlaps nothing.
func (s *Set) Overlaps(pfx netip.Prefix) bool {
	if s == nil || s.table == nil || !pfx.IsValid() {
		return false
	}
	pfx = pfx.Masked()
	if s.table.LookupPrefix(pfx) {
		return true
	}
	for range s.table.Subnets(pfx) {
		return true
	}
	return false
}

// Len returns the number of distinct prefixes in the set, after masking and
// unmapping.
func (s *Set) Len() int {
	if s == nil || s.table == nil {
		return 0
	}
	return s.table.Size()
}
