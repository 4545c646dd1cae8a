package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Verification is the state of a crawler claim from one IP. The zero value is
// NotApplicable.
type Verification uint8

// Verification states.
const (
	// NotApplicable: the class claims no operator, the operator cannot be checked by
	// DNS (OpenAI, DuckDuckGo), or the IP is invalid.
	NotApplicable Verification = iota
	// Pending: no result yet; a look-up is running or will start on a later call.
	Pending
	// Verified: the IP's PTR name is in the operator's domains and resolves back to it.
	Verified
	// Failed: the IP does not belong to the operator it claims.
	Failed
)

// String returns the lower-case name of v, or "verification(N)" for a value out of range.
func (v Verification) String() string {
	switch v {
	case NotApplicable:
		return "not_applicable"
	case Pending:
		return "pending"
	case Verified:
		return "verified"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("verification(%d)", uint8(v))
}

// maxPTRNames bounds the PTR names checked per IP.
const maxPTRNames = 4

type vkey struct {
	ip    netip.Addr
	claim uint8
}

type ventry struct {
	state Verification
	until time.Time
}

// Verify returns the cached verification of the crawler claim c.Claimed from ip, starting
// a look-up in the background when none is cached. It never blocks on the network: the
// first call for an IP returns Pending, and so does every call while the look-up runs or
// while MaxPending look-ups are already running (a later call then starts it). Results
// are cached for VerifyTTL in a cache bounded by CacheSize with random eviction. A
// look-up that DNS could not answer (timeout, server failure) stays Pending and is
// retried after a minute, so a DNS outage does not mark a genuine crawler Failed.
//
// Verified means that a PTR name of ip ends, at a dot boundary, in one of the operator's
// domains and that a forward look-up of that name returns ip. ip should be the client IP
// as the guard determined it (trusted proxies only); IPv4-mapped IPv6 addresses are
// unmapped.
func (d *Detector) Verify(ip netip.Addr, c Class) Verification {
	cl, ok := d.claims[c.Claimed]
	if !ok || len(cl.domains) == 0 || !ip.IsValid() {
		return NotApplicable
	}
	k := vkey{ip.Unmap().WithZone(""), cl.idx}
	now := time.Now()
	d.vmu.Lock()
	defer d.vmu.Unlock()
	if e, ok := d.vres[k]; ok {
		if now.Before(e.until) {
			return e.state
		}
		delete(d.vres, k)
	}
	if _, ok := d.vpending[k]; ok || len(d.vpending) >= d.maxPending {
		return Pending
	}
	d.vpending[k] = struct{}{}
	go d.verify(k, cl.domains)
	return Pending
}

// verify runs one verification and records its result. It ends when the resolver
// returns, which a Resolver must do when its context ends (VerifyTimeout).
func (d *Detector) verify(k vkey, domains []string) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	state := d.check(ctx, k.ip, domains)
	cancel()
	ttl := d.ttl
	if state == Pending {
		ttl = min(retryAfter, d.ttl)
	}
	d.vmu.Lock()
	defer d.vmu.Unlock()
	delete(d.vpending, k)
	if len(d.vres) >= d.vcap {
		for old := range d.vres {
			delete(d.vres, old)
			break
		}
	}
	d.vres[k] = ventry{state: state, until: time.Now().Add(ttl)}
}

// check returns Verified, Failed, or Pending when DNS gave no answer either way.
func (d *Detector) check(ctx context.Context, ip netip.Addr, domains []string) Verification {
	names, err := d.resolver.LookupAddr(ctx, ip.String())
	if err != nil {
		if notFound(err) {
			return Failed
		}
		return Pending
	}
	unanswered := false
	for _, name := range names[:min(len(names), maxPTRNames)] {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if !inDomains(name, domains) {
			continue
		}
		addrs, err := d.resolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			unanswered = unanswered || !notFound(err)
			continue
		}
		for _, a := range addrs {
			if a.Unmap().WithZone("") == ip {
				return Verified
			}
		}
	}
	if unanswered {
		return Pending
	}
	return Failed
}

// notFound reports an authoritative "no such name or record".
func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// inDomains reports whether name is one of domains or a subdomain of one.
func inDomains(name string, domains []string) bool {
	for _, dom := range domains {
		if name == dom || strings.HasSuffix(name, dom) && name[len(name)-len(dom)-1] == '.' {
			return true
		}
	}
	return false
}
