package memstore

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"
)

// Ban kinds: what a [Ban] targets.
const (
	KindIP   = "ip"   // one address
	KindCIDR = "cidr" // every address in a prefix
	KindDNA  = "dna"  // one request-DNA id, from any address
)

// maxDNALen bounds a DNA ban's Value.
const maxDNALen = 256

// dnaShards is the number of copy-on-write maps DNA bans are spread over, so that
// adding one copies about 1/dnaShards of them. A power of two.
const dnaShards = 64

// Ban is one ban: a target and how long it lasts. It is a plain value, safe to copy and
// share. The zero value is not a valid ban ([Bans.Add] rejects its empty Kind).
type Ban struct {
	// Kind is what the ban targets: KindIP, KindCIDR or KindDNA.
	Kind string
	// Value is the target in canonical form: for KindIP, netip.Addr.String() of the
	// address with IPv4-mapped IPv6 unmapped ("192.0.2.7", "2001:db8::1"); for KindCIDR,
	// netip.Prefix.Masked().String(), unmapped the same way ("10.0.0.0/8"); for KindDNA,
	// the DNA id.
	Value string
	// Reason says why, for example "honeypot", "manual" or "deny".
	Reason string
	// Until is when the ban ends; it is active before Until. The zero value means
	// permanent.
	Until time.Time
	// Strikes is how many times this target has been banned, for escalating durations.
	// It is informational: Bans stores it and does not count. Once an expired ban is
	// dropped its Strikes are gone, so a caller that escalates keeps its own count (a
	// long-window counter in [Store], for example).
	Strikes int
}

// Active reports whether the ban is in force at now.
func (b Ban) Active(now time.Time) bool {
	return b.Until.IsZero() || now.Before(b.Until)
}

// Bans is a table of bans by IP address, CIDR prefix and request-DNA id.
//
// Lookups are lock-free and do not allocate: they read an immutable snapshot through an
// atomic pointer. Writers (Add, Remove, Sweep) are serialised by a mutex and publish a
// new snapshot; IP and CIDR bans live in bart tables updated copy-on-write, and DNA bans
// in 64 small copy-on-write maps. A write copies the trie nodes on its path (or one
// small map), not the table: about 10 µs and 10–20 KB with 10,000 bans held. Sweep
// rebuilds the table when something has expired.
//
// Expired bans never match. Lookup drops the expired bans it comes across when no
// writer is busy; [Bans.Sweep] drops all of them. Nothing else bounds the table: the
// caller decides what to ban.
//
// The zero value is an empty table ready to use. A Bans is safe for concurrent use and
// must not be copied after first use.
type Bans struct {
	mu   sync.Mutex // held by writers
	snap atomic.Pointer[banSnapshot]
}

// banSnapshot is one immutable state of a Bans. Nothing in it is modified after it is
// published.
type banSnapshot struct {
	seed  maphash.Seed              // for dna; fixed at the first write
	ips   *bart.Table[Ban]          // KindIP bans as /32 and /128 prefixes
	cidrs *bart.Table[Ban]          // KindCIDR bans
	dna   [dnaShards]map[string]Ban // KindDNA bans by Value; nil maps are empty
	n     int                       // bans held, expired ones included
}

// NewBans returns an empty table. It is the same as new(Bans).
func NewBans() *Bans { return new(Bans) }

// Add validates ban, puts its Value in canonical form and stores it, replacing the ban
// on the same target if there is one. A Strikes below 1 is stored as 1.
//
// Values are parsed as follows. KindIP: an address without zone; an IPv4-mapped IPv6
// address is stored as IPv4. KindCIDR: a prefix ("10.1.0.0/16"), masked to its network
// address; an IPv4-mapped prefix of length 96 or more is stored as IPv4
// ("::ffff:10.0.0.0/104" as "10.0.0.0/8"), while shorter IPv6 prefixes never match
// IPv4 clients. KindDNA: 1 to 256 bytes of printable ASCII without spaces. Surrounding
// white space is ignored.
func (b *Bans) Add(ban Ban) error {
	target, err := parseTarget(ban.Kind, ban.Value)
	if err != nil {
		return err
	}
	ban.Value = target.value
	ban.Strikes = max(ban.Strikes, 1)

	b.mu.Lock()
	defer b.mu.Unlock()
	next := b.load().clone()
	var existed bool
	switch ban.Kind {
	case KindIP:
		_, existed = next.ips.Get(target.prefix)
		next.ips = next.ips.InsertPersist(target.prefix, ban)
	case KindCIDR:
		_, existed = next.cidrs.Get(target.prefix)
		next.cidrs = next.cidrs.InsertPersist(target.prefix, ban)
	case KindDNA:
		i := next.dnaShard(ban.Value)
		_, existed = next.dna[i][ban.Value]
		m := make(map[string]Ban, len(next.dna[i])+1)
		maps.Copy(m, next.dna[i])
		m[ban.Value] = ban
		next.dna[i] = m
	}
	if !existed {
		next.n++
	}
	b.snap.Store(next)
	return nil
}

// Remove removes the ban on the target named by kind and value, which are read as in
// [Bans.Add]. It reports whether there was one, expired or not.
func (b *Bans) Remove(kind, value string) bool {
	target, err := parseTarget(kind, value)
	if err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	next, ok := b.load().without(kind, target.prefix, target.value)
	if ok {
		b.snap.Store(next)
	}
	return ok
}

// Lookup returns the ban in force at now that matches a request from ip with request
// DNA dna, and whether there is one. It tries, in order: a ban on exactly ip; the most
// specific active CIDR ban covering ip; a ban on dna. An invalid ip or an empty dna is
// skipped. ip is unmapped from IPv4-mapped IPv6 first, and a zone is ignored.
//
// Expired bans do not match: under an expired CIDR ban, a less specific active one
// still does. Lookup drops the expired bans it comes across if no writer holds the
// table; that is the only time it allocates.
func (b *Bans) Lookup(ip netip.Addr, dna string, now time.Time) (Ban, bool) {
	return b.LookupClock(ip, dna, func() time.Time { return now })
}

// LookupClock is Lookup with the time taken from clock, which it calls at most once and
// only when a ban names ip, a prefix covering it, or dna: a request that no ban names,
// the common case, costs no clock read.
func (b *Bans) LookupClock(ip netip.Addr, dna string, clock func() time.Time) (Ban, bool) {
	s := b.snap.Load()
	if s == nil {
		return Ban{}, false
	}
	now := lazyTime{clock: clock}
	if ip.IsValid() {
		ip = ip.Unmap()
		if ban, ok := s.ips.Lookup(ip); ok {
			if ban.Active(now.get()) {
				return ban, true
			}
			b.prune(now.get(), KindIP, netip.PrefixFrom(ip, ip.BitLen()), "")
		}
		if ban, ok := s.cidrs.Lookup(ip); ok {
			if ban.Active(now.get()) {
				return ban, true
			}
			if ban, ok := b.coveringCIDR(s, ip, now.get()); ok {
				return ban, true
			}
		}
	}
	if dna != "" {
		if ban, ok := s.dna[s.dnaShard(dna)][dna]; ok {
			if ban.Active(now.get()) {
				return ban, true
			}
			b.prune(now.get(), KindDNA, netip.Prefix{}, dna)
		}
	}
	return Ban{}, false
}

// lazyTime reads its clock on first use and keeps the answer.
type lazyTime struct {
	clock func() time.Time
	t     time.Time
	read  bool
}

func (l *lazyTime) get() time.Time {
	if !l.read {
		l.t, l.read = l.clock(), true
	}
	return l.t
}

// coveringCIDR is Lookup's slow path, taken when the most specific CIDR ban covering ip
// has expired: it returns the most specific active one and drops the expired ones.
func (b *Bans) coveringCIDR(s *banSnapshot, ip netip.Addr, now time.Time) (Ban, bool) {
	for pfx, ban := range s.cidrs.Supernets(netip.PrefixFrom(ip, ip.BitLen())) {
		if ban.Active(now) {
			return ban, true
		}
		b.prune(now, KindCIDR, pfx, "")
	}
	return Ban{}, false
}

// prune drops the ban on one target if it is still expired at now, unless a writer
// holds the table: Lookup must not wait.
func (b *Bans) prune(now time.Time, kind string, pfx netip.Prefix, dna string) {
	if !b.mu.TryLock() {
		return
	}
	defer b.mu.Unlock()
	cur := b.load()
	var ban Ban
	var ok bool
	switch kind {
	case KindIP:
		ban, ok = cur.ips.Get(pfx)
	case KindCIDR:
		ban, ok = cur.cidrs.Get(pfx)
	case KindDNA:
		ban, ok = cur.dna[cur.dnaShard(dna)][dna]
	}
	if !ok || ban.Active(now) { // replaced meanwhile
		return
	}
	if next, ok := cur.without(kind, pfx, dna); ok {
		b.snap.Store(next)
	}
}

// List returns the bans in force at now: IP bans by address, then CIDR bans by prefix,
// then DNA bans by id.
func (b *Bans) List(now time.Time) []Ban {
	s := b.snap.Load()
	if s == nil {
		return nil
	}
	var out []Ban
	for _, ban := range s.ips.AllSorted() {
		if ban.Active(now) {
			out = append(out, ban)
		}
	}
	for _, ban := range s.cidrs.AllSorted() {
		if ban.Active(now) {
			out = append(out, ban)
		}
	}
	start := len(out)
	for _, m := range s.dna {
		for _, ban := range m {
			if ban.Active(now) {
				out = append(out, ban)
			}
		}
	}
	slices.SortFunc(out[start:], func(a, b Ban) int { return cmp.Compare(a.Value, b.Value) })
	return out
}

// Len returns the number of bans held, including expired ones not dropped yet.
func (b *Bans) Len() int {
	if s := b.snap.Load(); s != nil {
		return s.n
	}
	return 0
}

// Sweep drops every ban expired at now and returns how many it dropped. The owner calls
// it periodically; bans that expire and are never looked up again stay until then.
func (b *Bans) Sweep(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.snap.Load()
	if cur == nil || !cur.anyExpired(now) {
		return 0
	}
	next := &banSnapshot{seed: cur.seed, ips: new(bart.Table[Ban]), cidrs: new(bart.Table[Ban])}
	for pfx, ban := range cur.ips.All() {
		if ban.Active(now) {
			next.ips.Insert(pfx, ban)
		}
	}
	for pfx, ban := range cur.cidrs.All() {
		if ban.Active(now) {
			next.cidrs.Insert(pfx, ban)
		}
	}
	next.n = next.ips.Size() + next.cidrs.Size()
	for i, m := range cur.dna {
		next.dna[i] = m // shared unless something in it expired
		for _, ban := range m {
			if !ban.Active(now) {
				next.dna[i] = maps.Clone(m)
				maps.DeleteFunc(next.dna[i], func(_ string, ban Ban) bool { return !ban.Active(now) })
				break
			}
		}
		next.n += len(next.dna[i])
	}
	b.snap.Store(next)
	return cur.n - next.n
}

// anyExpired reports whether s holds a ban that is over at now.
func (s *banSnapshot) anyExpired(now time.Time) bool {
	for _, ban := range s.ips.All() {
		if !ban.Active(now) {
			return true
		}
	}
	for _, ban := range s.cidrs.All() {
		if !ban.Active(now) {
			return true
		}
	}
	for _, m := range s.dna {
		for _, ban := range m {
			if !ban.Active(now) {
				return true
			}
		}
	}
	return false
}

// load returns the current snapshot, creating the empty one on first use. It is called
// with b.mu held.
func (b *Bans) load() *banSnapshot {
	if s := b.snap.Load(); s != nil {
		return s
	}
	s := &banSnapshot{seed: maphash.MakeSeed(), ips: new(bart.Table[Ban]), cidrs: new(bart.Table[Ban])}
	b.snap.Store(s)
	return s
}

// clone returns a shallow copy of s, to be changed before it is published.
func (s *banSnapshot) clone() *banSnapshot {
	c := *s
	return &c
}

func (s *banSnapshot) dnaShard(dna string) int {
	return int(maphash.String(s.seed, dna) & (dnaShards - 1))
}

// without returns a copy of s without the ban on the target, and whether there was one.
func (s *banSnapshot) without(kind string, pfx netip.Prefix, dna string) (*banSnapshot, bool) {
	next := s.clone()
	switch kind {
	case KindIP:
		if _, ok := s.ips.Get(pfx); !ok {
			return s, false
		}
		next.ips = s.ips.DeletePersist(pfx)
	case KindCIDR:
		if _, ok := s.cidrs.Get(pfx); !ok {
			return s, false
		}
		next.cidrs = s.cidrs.DeletePersist(pfx)
	case KindDNA:
		i := s.dnaShard(dna)
		if _, ok := s.dna[i][dna]; !ok {
			return s, false
		}
		m := maps.Clone(s.dna[i])
		delete(m, dna)
		next.dna[i] = m
	default:
		return s, false
	}
	next.n--
	return next, true
}

// target is a parsed ban target: prefix for KindIP and KindCIDR, and the canonical
// Value.
type target struct {
	prefix netip.Prefix
	value  string
}

func parseTarget(kind, value string) (target, error) {
	v := strings.TrimSpace(value)
	switch kind {
	case KindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return target{}, fmt.Errorf("memstore: ip ban: %w", err)
		}
		if a.Zone() != "" {
			return target{}, fmt.Errorf("memstore: ip ban %q: IPv6 zone not allowed", value)
		}
		a = a.Unmap()
		return target{prefix: netip.PrefixFrom(a, a.BitLen()), value: a.String()}, nil
	case KindCIDR:
		if !strings.Contains(v, "/") {
			return target{}, fmt.Errorf("memstore: cidr ban %q: not a prefix (use kind %q for one address)", value, KindIP)
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return target{}, fmt.Errorf("memstore: cidr ban: %w", err)
		}
		p = p.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return target{prefix: p, value: p.String()}, nil
	case KindDNA:
		if v == "" || len(v) > maxDNALen {
			return target{}, fmt.Errorf("memstore: dna ban: id must be 1 to %d bytes", maxDNALen)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c > '~' {
				return target{}, fmt.Errorf("memstore: dna ban %q: byte %#x at %d is not printable ASCII", value, c, i)
			}
		}
		return target{value: v}, nil
	}
	return target{}, fmt.Errorf("memstore: ban kind %q: want %q, %q or %q", kind, KindIP, KindCIDR, KindDNA)
}
