package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/memstore"
)

// maxBanQueue bounds the ban changes waiting for Redis.
const maxBanQueue = 1 << 16

// banLoadTimeout bounds loading the whole ban set.
const banLoadTimeout = 5 * time.Second

// canonical validates a ban target as internal/memstore does and returns its
// canonical Value, the form memstore stores: an unmapped address without zone, a
// masked prefix (IPv4-mapped prefixes of length 96 or more as IPv4), or a DNA id of 1
// to 256 printable ASCII bytes; surrounding spaces trimmed.
func canonical(kind, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch kind {
	case memstore.KindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", err
		}
		if a.Zone() != "" {
			return "", errors.New("IPv6 zone not allowed")
		}
		return a.Unmap().String(), nil
	case memstore.KindCIDR:
		if !strings.Contains(v, "/") {
			return "", fmt.Errorf("not a prefix (use kind %q for one address)", vigil.BanIP)
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", err
		}
		p = p.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.String(), nil
	case memstore.KindDNA:
		if v == "" || len(v) > 256 {
			return "", errors.New("id must be 1 to 256 bytes")
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c > '~' {
				return "", fmt.Errorf("byte %#x at %d is not printable ASCII", c, i)
			}
		}
		return v, nil
	}
	return "", fmt.Errorf("ban kind %q: want %q, %q or %q", kind, vigil.BanIP, vigil.BanCIDR, vigil.BanDNA)
}

// banMessage is what the ban channel carries: a ban placed or a target unbanned.
type banMessage struct {
	Op    string     `json:"op"` // "ban" or "unban"
	Ban   *vigil.Ban `json:"ban,omitempty"`
	Kind  string     `json:"kind,omitempty"`
	Value string     `json:"value,omitempty"`
}

// banOp is a ban change to write to Redis.
type banOp struct {
	ban   *vigil.Ban // nil for an unban
	kind  string
	value string
}

// banQueue holds, by target, the latest ban change not yet known to be in Redis: the
// change a Ban or Unban call is writing, or one that failed and waits for the next
// sync. A reload of the ban set from Redis leaves these targets alone, so that it never
// drops a ban placed here that Redis does not hold yet.
type banQueue struct {
	mu      sync.Mutex
	ops     map[string]*banOp
	dropped uint64
}

// put records op as the latest change of its target. It returns false, recording
// nothing, when the queue is full.
func (q *banQueue) put(member string, op *banOp) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ops == nil {
		q.ops = make(map[string]*banOp)
	}
	if _, ok := q.ops[member]; !ok && len(q.ops) >= maxBanQueue {
		q.dropped++
		return false
	}
	q.ops[member] = op
	return true
}

// done removes op once it is in Redis, unless a later change replaced it.
func (q *banQueue) done(member string, op *banOp) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ops[member] == op {
		delete(q.ops, member)
	}
}

// has reports whether member has a change waiting.
func (q *banQueue) has(member string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.ops[member]
	return ok
}

// snapshot returns the waiting changes.
func (q *banQueue) snapshot() map[string]*banOp {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ops) == 0 {
		return nil
	}
	m := make(map[string]*banOp, len(q.ops))
	for k, v := range q.ops {
		m[k] = v
	}
	return m
}

func (q *banQueue) stats() (n int, dropped uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ops), q.dropped
}

// pushBanOp writes one ban change to Redis and publishes it.
func (s *Store) pushBanOp(ctx context.Context, member string, op *banOp) (existed bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.OpTimeout)
	defer cancel()
	keys := []string{s.keys.ban(member), s.keys.banIndex()}
	if op.ban == nil {
		msg, err := json.Marshal(banMessage{Op: "unban", Kind: op.kind, Value: op.value})
		if err != nil {
			return false, err
		}
		n, err := unbanScript.Run(ctx, s.client, keys, member, s.keys.channel(), msg).Int64()
		return n > 0, err
	}
	data, err := json.Marshal(op.ban)
	if err != nil {
		return false, err
	}
	msg, err := json.Marshal(banMessage{Op: "ban", Ban: op.ban})
	if err != nil {
		return false, err
	}
	until := ""
	if !op.ban.Until.IsZero() {
		until = strconv.FormatInt(ceilMilli(op.ban.Until), 10)
	}
	err = banScript.Run(ctx, s.client, keys, member, data, until, s.keys.channel(), msg, strconv.FormatInt(time.Now().UnixMilli(), 10)).Err()
	return false, err
}

// ceilMilli returns t in Unix milliseconds, rounded up.
func ceilMilli(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if ns%1e6 > 0 {
		ms++
	}
	return ms
}

// flushBans writes the waiting ban changes to Redis. It stops at the first failure.
func (s *Store) flushBans(ctx context.Context) error {
	for member, op := range s.queue.snapshot() {
		if _, err := s.pushBanOp(ctx, member, op); err != nil {
			return err
		}
		s.queue.done(member, op)
	}
	return nil
}

// applyMessage applies one message from the ban channel to the local ban set.
func (s *Store) applyMessage(payload string, now time.Time) {
	var m banMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.cfg.Logger.Warn("redisstore: malformed ban message", "err", err)
		return
	}
	s.stats.banMessages.Add(1)
	switch {
	case m.Op == "ban" && m.Ban != nil:
		b := memBan(*m.Ban)
		if !b.Active(now) {
			return
		}
		if err := s.bans.Add(b); err != nil {
			s.cfg.Logger.Warn("redisstore: invalid ban in message", "err", err)
		}
	case m.Op == "unban":
		s.bans.Remove(m.Kind, m.Value)
	}
}

// loadBans replaces the local ban set with the one in Redis, keeping the targets whose
// change has not reached Redis yet.
func (s *Store) loadBans(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, banLoadTimeout)
	defer cancel()
	now := time.Now()
	vals, err := loadScript.Run(ctx, s.client, []string{s.keys.banIndex()}, now.UnixMilli(), s.keys.banPrefix()).StringSlice()
	if err != nil {
		return fmt.Errorf("load bans: %w", err)
	}
	want := make(map[string]memstore.Ban, len(vals))
	for _, v := range vals {
		var b vigil.Ban
		if err := json.Unmarshal([]byte(v), &b); err != nil {
			s.cfg.Logger.Warn("redisstore: malformed ban in Redis", "err", err)
			continue
		}
		mb := memBan(b)
		if mb.Active(now) {
			want[banMember(mb.Kind, mb.Value)] = mb
		}
	}
	for _, b := range s.bans.List(now) {
		member := banMember(b.Kind, b.Value)
		if _, ok := want[member]; !ok && !s.queue.has(member) {
			s.bans.Remove(b.Kind, b.Value)
		}
	}
	for member, b := range want {
		if s.queue.has(member) {
			continue
		}
		if err := s.bans.Add(b); err != nil {
			s.cfg.Logger.Warn("redisstore: invalid ban in Redis", "err", err)
		}
	}
	s.stats.banLoads.Add(1)
	return nil
}

func memBan(b vigil.Ban) memstore.Ban {
	return memstore.Ban{Kind: string(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until, Strikes: b.Strikes}
}

func fromMemBan(b memstore.Ban) vigil.Ban {
	return vigil.Ban{Kind: vigil.BanKind(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until, Strikes: b.Strikes}
}
