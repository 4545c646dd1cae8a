package emailcheck

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Resolver looks up the DNS records the deliverability check needs. *net.Resolver
// implements it; EmailConfig.Resolver defaults to net.DefaultResolver. Names are passed
// fully qualified, with a trailing dot, so no search domain is appended. A not-found
// answer (NXDOMAIN or no records of the type) must be a *net.DNSError with IsNotFound
// set, as net.Resolver returns it; every other error makes the result unknown.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// A LookupStatus is the outcome of a DNS look-up.
type LookupStatus string

// The outcomes of the MX look-up and of its A/AAAA fallback.
const (
	LookupSkipped LookupStatus = "skipped" // not looked up: the analyzer is offline or the address is invalid
	LookupFound   LookupStatus = "found"   // records exist
	LookupNone    LookupStatus = "none"    // the name does not exist or has no records of the type
	LookupNull    LookupStatus = "null"    // MX only: a null MX (RFC 7505), the domain accepts no mail
	LookupUnknown LookupStatus = "unknown" // the look-up failed or timed out; nothing is concluded
)

// MXResult is the deliverability of a domain: its MX records and, when it has none, its
// A/AAAA records (RFC 5321 §5.1: a domain without MX receives mail at its address
// records, the "implicit MX"). The zero MXResult has no status: nothing was asked.
type MXResult struct {
	// Status is the outcome of the MX look-up.
	Status LookupStatus `json:"status"`
	// Hosts are the MX hosts, most preferred first, without trailing dots, when Status is
	// LookupFound.
	Hosts []string `json:"hosts,omitempty"`
	// Fallback is the outcome of the A/AAAA look-up made when Status is LookupNone:
	// LookupFound (mail goes to the implicit MX), LookupNone or LookupUnknown. It is empty
	// otherwise.
	Fallback LookupStatus `json:"fallback,omitempty"`
	// Error says why a look-up is unknown: "timeout", "canceled", "temporary" (for
	// example SERVFAIL) or "error". It holds no resolver error text.
	Error string `json:"error,omitempty"`
}

// Defaults of the EmailConfig DNS settings.
const (
	DefaultLookupTimeout = 300 * time.Millisecond
	DefaultCacheSize     = 10000
	DefaultPositiveTTL   = 24 * time.Hour
	DefaultNegativeTTL   = time.Hour
	DefaultUnknownTTL    = time.Minute
)

// lookupDomain returns the deliverability of domain from the cache or, once for all the
// callers that ask at the same time, from the resolver. The look-up runs under its own
// timeout, detached from ctx so that a caller that gives up early does not spoil the
// answer for the others; its goroutine ends within that timeout. The caller waits at
// most until ctx ends.
func (a *EmailAnalyzer) lookupDomain(ctx context.Context, domain string) MXResult {
	if r, ok := a.cache.get(domain, a.clock()); ok {
		return r.clone()
	}
	ch := a.group.DoChan(domain, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout())
		defer cancel()
		r := a.resolve(lctx, domain)
		a.cache.put(domain, r, a.clock().Add(a.ttl(r)), a.cacheSize())
		return r, nil
	})
	select {
	case res := <-ch:
		return res.Val.(MXResult).clone()
	case <-ctx.Done():
		return MXResult{Status: LookupUnknown, Error: errorKind(ctx.Err())}
	}
}

// resolve looks domain up: MX, then A/AAAA when there is no MX.
func (a *EmailAnalyzer) resolve(ctx context.Context, domain string) MXResult {
	fqdn := domain + "."
	mxs, err := a.resolver().LookupMX(ctx, fqdn)
	// net.Resolver drops records with malformed host names and returns the rest with an
	// error; the rest still count.
	var hosts []*net.MX
	null := false
	for _, mx := range mxs {
		switch {
		case mx == nil:
		case mx.Host == "." || mx.Host == "":
			null = true
		default:
			hosts = append(hosts, mx)
		}
	}
	switch {
	case len(hosts) > 0:
		slices.SortStableFunc(hosts, func(x, y *net.MX) int {
			if x.Pref != y.Pref {
				return int(x.Pref) - int(y.Pref)
			}
			return strings.Compare(x.Host, y.Host)
		})
		r := MXResult{Status: LookupFound, Hosts: make([]string, len(hosts))}
		for i, mx := range hosts {
			r.Hosts[i] = strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		}
		return r
	case null:
		return MXResult{Status: LookupNull}
	case err != nil && !isNotFound(err):
		return MXResult{Status: LookupUnknown, Error: errorKind(err)}
	}
	ips, err := a.resolver().LookupIPAddr(ctx, fqdn)
	switch {
	case len(ips) > 0:
		return MXResult{Status: LookupNone, Fallback: LookupFound}
	case err != nil && !isNotFound(err):
		return MXResult{Status: LookupNone, Fallback: LookupUnknown, Error: errorKind(err)}
	}
	return MXResult{Status: LookupNone, Fallback: LookupNone}
}

// ttl is how long a result stays cached: positive answers long, negative ones less,
// failures briefly (so that a domain whose servers never answer costs one timeout per
// UnknownTTL, not one per address).
func (a *EmailAnalyzer) ttl(r MXResult) time.Duration {
	switch {
	case r.Status == LookupUnknown || r.Fallback == LookupUnknown:
		return a.unknownTTL()
	case r.Status == LookupFound || r.Fallback == LookupFound:
		return a.positiveTTL()
	}
	return a.negativeTTL()
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// errorKind names the kind of a look-up failure without the resolver's text, which
// carries the addresses of internal DNS servers.
func errorKind(err error) string {
	var de *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &de) && de.IsTimeout:
		return "timeout"
	case errors.As(err, &de) && de.IsTemporary:
		return "temporary"
	}
	return "error"
}

func (r MXResult) clone() MXResult {
	r.Hosts = slices.Clone(r.Hosts)
	return r
}

// dnsCache is a bounded map of look-up results with expiry times. It keeps two
// generations: entries go into the current one, and when it is full it becomes the old
// one and the previous old generation is dropped. A hit in the old generation moves the
// entry forward, so entries in use survive and the cache holds at most size entries.
// The zero dnsCache is empty and ready to use.
type dnsCache struct {
	mu       sync.Mutex
	cur, old map[string]cacheEntry
}

type cacheEntry struct {
	r       MXResult
	expires time.Time
}

func (c *dnsCache) get(domain string, now time.Time) (MXResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[domain]
	if !ok {
		if e, ok = c.old[domain]; ok {
			delete(c.old, domain)
			if now.Before(e.expires) {
				c.cur[domain] = e
			}
		}
	}
	if !ok || !now.Before(e.expires) {
		delete(c.cur, domain)
		return MXResult{}, false
	}
	return e.r, true
}

func (c *dnsCache) put(domain string, r MXResult, expires time.Time, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	half := max(size/2, 1)
	if _, ok := c.cur[domain]; !ok && len(c.cur) >= half {
		c.old, c.cur = c.cur, nil
		if 2*half > size { // size 1: no room for an old generation
			c.old = nil
		}
	}
	if c.cur == nil {
		c.cur = make(map[string]cacheEntry)
	}
	delete(c.old, domain)
	c.cur[domain] = cacheEntry{r, expires}
}

// len returns the number of entries held, expired or not.
func (c *dnsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
