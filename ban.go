package vigil

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// maxBanDNALen is the longest DNA ID a ban names; every Store accepts it.
const maxBanDNALen = 256

// Ban places b through the guard's Store, replacing any ban on the same target: from
// the next request on, a client it covers is blocked as banned. With a shared store
// (package redisstore) the ban holds for every guard on that store. It is for
// operators and control planes (package agent applies Studio's bans with it); the
// guard's own bans, after a honeypot hit for example, do not go through it.
//
// b.Kind must be BanIP (an address, without a zone), BanCIDR (a prefix; host bits are
// cleared) or BanDNA (a DNA ID: 1–256 bytes of printable ASCII without spaces);
// surrounding white space is ignored and the value is kept in canonical form. An empty
// b.Reason becomes "operator"; a zero b.Until bans for good, and an Until in the past
// is an error. Strikes is kept as given: it is informational.
//
// Ban records an EventBan to Config.Events whose verdict carries the signal
// "operator_ban" with the reason as its detail, so that operator bans can be told
// from the guard's own. It does not refuse a ban on a trusted proxy, as the guard's
// own bans do, but logs a warning: a request that reaches the guard from the proxy
// without a forwarded address would then be blocked.
func (g *Guard) Ban(ctx context.Context, b Ban) error {
	v, pfx, err := banTarget(b.Kind, b.Value)
	if err != nil {
		return fmt.Errorf("vigil: ban: %w", err)
	}
	now := g.cfg.Clock()
	if !b.Until.IsZero() && !now.Before(b.Until) {
		return fmt.Errorf("vigil: ban %s %s: until %s is in the past", b.Kind, v, b.Until.UTC().Format(time.RFC3339))
	}
	b.Value = v
	if b.Reason == "" {
		b.Reason = "operator"
	}
	if pfx.IsValid() && g.ips.TrustedIn(pfx) {
		g.log.Warn("banning a trusted proxy", "kind", b.Kind, "target", b.Value, "reason", b.Reason)
	}
	if err := g.store.Ban(ctx, b); err != nil {
		return fmt.Errorf("vigil: ban %s %s: %w", b.Kind, b.Value, err)
	}
	until := "never"
	if !b.Until.IsZero() {
		until = b.Until.UTC().Format(time.RFC3339)
	}
	g.log.Info("client banned by an operator", "kind", b.Kind, "target", b.Value, "reason", b.Reason, "until", until)
	if g.cfg.Events != nil {
		verdict := Verdict{Action: ActionBlock, WouldBe: ActionBlock, Score: 100,
			Signals: []Signal{{Detector: "operator", Code: "operator_ban", Score: 100, Detail: b.Reason}}}
		if b.Kind == BanIP {
			verdict.ClientIP = pfx.Addr()
		}
		g.cfg.Events.Record(Event{Kind: EventBan, Time: now, Verdict: verdict, Ban: &b})
	}
	return nil
}

// Unban lifts the ban on the target kind and value name, read as Ban reads them,
// whoever placed it, and reports whether there was one. With a shared store it is
// lifted for every guard on that store. A kind or value that Ban would refuse is an
// error.
func (g *Guard) Unban(ctx context.Context, kind BanKind, value string) (bool, error) {
	v, _, err := banTarget(kind, value)
	if err != nil {
		return false, fmt.Errorf("vigil: unban: %w", err)
	}
	lifted, err := g.store.Unban(ctx, kind, v)
	if err != nil {
		return false, fmt.Errorf("vigil: unban %s %s: %w", kind, v, err)
	}
	if lifted {
		g.log.Info("ban lifted by an operator", "kind", kind, "target", v)
	}
	return lifted, nil
}

// banTarget checks a ban's kind and value and returns the value in the canonical
// form the stores keep and, for an address or a prefix, the prefix it covers. An
// IPv4-mapped address, or a mapped prefix of length 96 or more, is read as IPv4.
func banTarget(kind BanKind, value string) (string, netip.Prefix, error) {
	s := strings.TrimSpace(value)
	switch kind {
	case BanIP:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("ip %q is not an address", value)
		}
		if a.Zone() != "" {
			return "", netip.Prefix{}, fmt.Errorf("ip %q has a zone", value)
		}
		a = a.Unmap()
		return a.String(), netip.PrefixFrom(a, a.BitLen()), nil
	case BanCIDR:
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("cidr %q is not a prefix such as 192.0.2.0/24", value)
		}
		p = p.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.String(), p, nil
	case BanDNA:
		if s == "" || len(s) > maxBanDNALen {
			return "", netip.Prefix{}, fmt.Errorf("dna ID must be 1 to %d bytes", maxBanDNALen)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c > '~' {
				return "", netip.Prefix{}, fmt.Errorf("dna ID %q: byte %d is not printable ASCII", value, i)
			}
		}
		return s, netip.Prefix{}, nil
	case "":
		return "", netip.Prefix{}, errors.New("kind missing; want ip, cidr or dna")
	default:
		return "", netip.Prefix{}, fmt.Errorf("kind %q is not ip, cidr or dna", kind)
	}
}
