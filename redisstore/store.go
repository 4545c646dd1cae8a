package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/memstore"
	"github.com/vigilhq/vigil/internal/ratelimit"
)

// Store is a vigil.Store whose state is shared through Redis. Create it with New and
// run its background work with Run; the zero value is not usable. A Store is safe for
// concurrent use.
//
// Without Run, a Store still answers every call, but nothing is synced in local-first
// mode, no ban placed elsewhere arrives, and an open breaker closes only when a call
// probes Redis.
type Store struct {
	client redis.UniversalClient
	cfg    Config
	keys   keys
	exact  bool
	// oneNode reports a client of one server (standalone or Sentinel): a sync script
	// call may then carry keys of any hash tag.
	oneNode bool
	local   *table
	bans    *memstore.Bans
	queue   banQueue
	br      breaker

	running atomic.Bool
	// recovered wakes Run after the breaker closed, to resync; reload asks the
	// subscriber to load the ban set again. Both hold at most one signal.
	recovered chan struct{}
	reload    chan struct{}

	stats struct {
		outages, recoveries                 atomic.Uint64
		syncs, syncErrors, syncedKeys       atomic.Uint64
		remoteSteps, spills, fallbacks      atomic.Uint64
		banMessages, banLoads, stepMismatch atomic.Uint64
	}
}

var _ vigil.Store = (*Store)(nil)

// New returns a Store on client configured by cfg. It validates cfg and starts
// nothing: no goroutine, no connection. The caller keeps ownership of client and
// closes it after Run has returned.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		client:    client,
		cfg:       cfg,
		keys:      keys{prefix: cfg.KeyPrefix},
		exact:     cfg.Mode == ModeExact,
		oneNode:   isOneNode(client),
		local:     newTable(cfg.MaxKeys, keys{prefix: cfg.KeyPrefix}),
		bans:      memstore.NewBans(),
		recovered: make(chan struct{}, 1),
		reload:    make(chan struct{}, 1),
	}
	s.br.threshold = int32(min(cfg.BreakerFailures, math.MaxInt32))
	s.br.cooldown = cfg.BreakerCooldown
	return s, nil
}

// isOneNode reports whether c talks to one server, where keys of different slots may
// meet in one script call.
func isOneNode(c redis.UniversalClient) bool {
	_, ok := c.(*redis.Client)
	return ok
}

// params returns the emission interval t and the effective burst b of l, as
// ratelimit's unexported params does, and whether l is valid.
func params(l ratelimit.Limit) (t, b int64, ok bool) {
	if l.Rate <= 0 || l.Period <= 0 || l.Period > ratelimit.MaxPeriod || l.Burst < 0 || int64(l.Rate) > int64(l.Period) {
		return 0, 0, false
	}
	t = int64(l.Period) / int64(l.Rate)
	b = int64(l.Burst)
	if b == 0 {
		b = int64(l.Rate)
	}
	if b > int64(ratelimit.MaxPeriod)/t {
		return 0, 0, false
	}
	return t, b, true
}

// quota returns the local quota of a limit with interval t and burst b, in ns of
// unsynced cost: max(⌊LocalShare × b⌋ × t, t, 2 × SyncInterval), at most b × t; that is
// Q = max(1, ⌊LocalShare × b⌋, 2 × SyncInterval / t) requests, at most b. Zero means no
// quota. It divides nothing: it runs on every local-first check.
func (s *Store) quota(t, b int64) int64 {
	if s.cfg.LocalShare >= 1 {
		return 0
	}
	q := int64(s.cfg.LocalShare*float64(b)) * t // ≤ b × t
	return min(max(q, t, 2*int64(s.cfg.SyncInterval)), b*t)
}

// Allow implements vigil.Store. It never returns an error: when Redis cannot answer,
// the step is taken locally.
//
// In local-first mode the step is local unless the key has admitted more than its
// quota since the last sync; then it is taken in Redis (one script call, at most
// OpTimeout). In exact mode every step is taken in Redis, with Redis's clock.
func (s *Store) Allow(ctx context.Context, key string, l vigil.Limit, cost int) (vigil.Quota, error) {
	rl := ratelimit.Limit(l)
	now := time.Now()
	ns := now.UnixNano()
	t, b, ok := params(rl)
	if !ok {
		_, r := ratelimit.StepNano(math.MinInt64, ns, rl, cost) // denied, RetryAfter Never
		return quotaOf(r), nil
	}
	if s.exact {
		if s.br.allow(now) {
			e := s.local.rateEntry(key, ns)
			if r, ok := s.remoteStep(ctx, e, rl, cost, t, b, ""); ok {
				return quotaOf(r), nil
			}
		}
		s.stats.fallbacks.Add(1)
		r, _, _ := s.local.allow(key, ns, rl, cost, t, 0)
		return quotaOf(r), nil
	}
	r, e, spill := s.local.allow(key, ns, rl, cost, t, s.quota(t, b))
	if !spill {
		return quotaOf(r), nil
	}
	s.stats.spills.Add(1)
	if s.br.allow(now) {
		if r, ok := s.remoteStep(ctx, e, rl, cost, t, b, strconv.FormatInt(ns, 10)); ok {
			return quotaOf(r), nil
		}
	}
	s.stats.fallbacks.Add(1)
	r, _, _ = s.local.allow(key, ns, rl, cost, t, 0)
	return quotaOf(r), nil
}

// remoteStep takes one GCRA step for e in Redis, sending e's unsynced cost first. now
// is the step's time in Unix ns, or "" for Redis's clock. ok is false when Redis did
// not answer; e is then as before.
func (s *Store) remoteStep(ctx context.Context, e *entry, l ratelimit.Limit, cost int, t, b int64, now string) (r ratelimit.Result, ok bool) {
	sent, rkey := s.local.take(e)
	var ct, room int64
	if cost > 0 && int64(cost) <= b {
		ct = int64(cost) * t
		room = b*t - ct
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.OpTimeout)
	defer cancel()
	res, err := stepScript.Run(ctx, s.client, []string{rkey}, now, sent, ct, room).Slice()
	if err == nil {
		var st stepResult
		if st, err = parseStep(res); err == nil {
			s.redisOK()
			s.stats.remoteSteps.Add(1)
			_, r = ratelimit.StepNano(st.before, st.now, l, cost)
			if cost > 0 && r.Allowed != st.admitted {
				// Cannot happen while the script mirrors StepNano; Redis decided.
				s.stats.stepMismatch.Add(1)
				r.Allowed = st.admitted
			}
			s.local.mergeRate(e, sent, st.after, s.exact)
			return r, true
		}
	}
	s.local.unsend(e, sent)
	s.redisFailed(fmt.Errorf("rate-limit step: %w", err))
	return r, false
}

// stepResult is stepScript's answer, in Unix ns (math.MinInt64: no TAT).
type stepResult struct {
	before, now, after int64
	admitted           bool
}

func parseStep(res []any) (stepResult, error) {
	var st stepResult
	if len(res) != 4 {
		return st, fmt.Errorf("step script returned %d values, want 4", len(res))
	}
	var err error
	if st.before, err = parseTAT(res[0]); err != nil {
		return st, err
	}
	if st.now, err = parseTAT(res[1]); err != nil {
		return st, err
	}
	if st.after, err = parseTAT(res[3]); err != nil {
		return st, err
	}
	n, _ := res[2].(int64)
	st.admitted = n == 1
	return st, nil
}

// parseTAT parses a TAT the scripts return: a decimal string, empty for none.
func parseTAT(v any) (int64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("script returned %T, want a string", v)
	}
	if s == "" {
		return math.MinInt64, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func quotaOf(r ratelimit.Result) vigil.Quota {
	return vigil.Quota{Allowed: r.Allowed, Remaining: r.Remaining, RetryAfter: r.RetryAfter, ResetAfter: r.ResetAfter}
}

// Add implements vigil.Store. Windows are aligned to multiples of window since the
// Unix epoch, as in the memory store, so every instance counts in the same window. It
// never returns an error.
//
// In local-first mode the count returned is the shared count at the last sync plus
// what this instance added since: other instances' additions of the last sync
// interval are missing from it. In exact mode the addition is made in Redis and the
// shared count returned.
func (s *Store) Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, nil
	}
	now := time.Now()
	v, e := s.local.add(key, now.UnixNano(), n, int64(window))
	if !s.exact || e == nil {
		return v, nil
	}
	if !s.br.allow(now) {
		s.stats.fallbacks.Add(1)
		return v, nil
	}
	sent, end, rkey := s.local.takeCounter(e)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.OpTimeout)
	defer cancel()
	res, err := syncScript.Run(ctx, s.client, []string{rkey}, now.UnixNano(), "c", sent, ceilMilli(time.Unix(0, end))).StringSlice()
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("sync script returned %d values, want 1", len(res))
	}
	var total int64
	if err == nil {
		total, err = strconv.ParseInt(res[0], 10, 64)
	}
	if err != nil {
		s.local.unsendCounter(e, sent, end)
		s.redisFailed(fmt.Errorf("counter: %w", err))
		s.stats.fallbacks.Add(1)
		return v, nil
	}
	s.redisOK()
	s.stats.remoteSteps.Add(1)
	return s.local.mergeCounter(e, end, total), nil
}

// Ban implements vigil.Store. The ban is in force here at once. It is written to Redis
// (with the ban's expiry as the key's) and published to every instance within
// OpTimeout; when Redis cannot take it, it waits in a bounded queue and is written
// after Redis is back. Ban returns an error only for an invalid ban.
func (s *Store) Ban(ctx context.Context, b vigil.Ban) error {
	v, err := canonical(string(b.Kind), b.Value)
	if err != nil {
		return fmt.Errorf("ban %s %q: %w", b.Kind, b.Value, err)
	}
	orig := b
	b.Value, b.Strikes = v, max(b.Strikes, 1)
	member := banMember(string(b.Kind), v)
	op := &banOp{ban: &b}
	// Queued before it is in force here, so that a reload of the ban set running
	// meanwhile does not drop it.
	queued := s.queue.put(member, op)
	if err := s.bans.Add(memBan(orig)); err != nil {
		if queued {
			s.queue.done(member, op)
		}
		return fmt.Errorf("ban %s %q: %w", orig.Kind, orig.Value, err)
	}
	if !queued {
		return nil // held here only; counted in Stats.BansDropped
	}
	if !s.br.allow(time.Now()) {
		return nil
	}
	if _, err := s.pushBanOp(ctx, member, op); err != nil {
		s.redisFailed(fmt.Errorf("ban: %w", err))
		return nil
	}
	s.redisOK()
	s.queue.done(member, op)
	return nil
}

// Unban implements vigil.Store. It lifts the ban here at once and in Redis, publishing
// the change, as Ban does. It reports whether this instance or Redis held a ban on the
// target. An invalid target is reported as not banned.
func (s *Store) Unban(ctx context.Context, kind vigil.BanKind, value string) (bool, error) {
	v, err := canonical(string(kind), value)
	if err != nil {
		return false, nil
	}
	member := banMember(string(kind), v)
	op := &banOp{kind: string(kind), value: v}
	queued := s.queue.put(member, op) // before the removal, as in Ban
	here := s.bans.Remove(string(kind), v)
	if !queued || !s.br.allow(time.Now()) {
		return here, nil
	}
	there, err := s.pushBanOp(ctx, member, op)
	if err != nil {
		s.redisFailed(fmt.Errorf("unban: %w", err))
		return here, nil
	}
	s.redisOK()
	s.queue.done(member, op)
	return here || there, nil
}

// Banned implements vigil.Store. It answers from the local ban set, which pub/sub
// keeps current, and never waits on the network. It does not allocate.
func (s *Store) Banned(_ context.Context, ip netip.Addr, dna string) (vigil.Ban, bool, error) {
	b, ok := s.bans.LookupClock(ip, dna, time.Now)
	if !ok {
		return vigil.Ban{}, false, nil
	}
	return fromMemBan(b), true, nil
}

// Bans implements vigil.Store: the active bans of the local set, which mirrors the
// shared one.
func (s *Store) Bans(context.Context) ([]vigil.Ban, error) {
	list := s.bans.List(time.Now())
	out := make([]vigil.Ban, len(list))
	for i, b := range list {
		out[i] = fromMemBan(b)
	}
	return out, nil
}

// Stats returns the Store's counters. It locks each local shard briefly.
func (s *Store) Stats() Stats {
	queued, dropped := s.queue.stats()
	return Stats{
		Mode:        s.cfg.Mode,
		Degraded:    !s.br.ready(),
		Outages:     s.stats.outages.Load(),
		Recoveries:  s.stats.recoveries.Load(),
		Syncs:       s.stats.syncs.Load(),
		SyncErrors:  s.stats.syncErrors.Load(),
		SyncedKeys:  s.stats.syncedKeys.Load(),
		RemoteSteps: s.stats.remoteSteps.Load(),
		Spills:      s.stats.spills.Load(),
		Fallbacks:   s.stats.fallbacks.Load(),
		BanMessages: s.stats.banMessages.Load(),
		BanLoads:    s.stats.banLoads.Load(),
		BanQueue:    queued,
		BansDropped: dropped,
		LocalKeys:   s.local.len(),
		Evictions:   s.local.evictions(),
		LocalBans:   s.bans.Len(),
	}
}

// redisOK records a call that reached Redis. When it closes the breaker, the Store has
// recovered: Run resyncs.
func (s *Store) redisOK() {
	if !s.br.success() {
		return
	}
	s.stats.recoveries.Add(1)
	s.cfg.Logger.Info("redisstore: redis reachable again; resyncing shared state")
	select {
	case s.recovered <- struct{}{}:
	default:
	}
}

// redisFailed records a failed Redis call. When it opens the breaker, the fault is
// reported once: a log line, an EventError and Stats.Outages.
func (s *Store) redisFailed(err error) {
	now := time.Now()
	if !s.br.failure(now) {
		return
	}
	s.stats.outages.Add(1)
	err = fmt.Errorf("redisstore: redis unreachable, deciding from local state: %w", err)
	s.cfg.Logger.Error("redisstore: redis unreachable; deciding from local state until it is back", "err", err, "cooldown", s.cfg.BreakerCooldown.String())
	if s.cfg.Events != nil {
		s.cfg.Events.Record(vigil.Event{Kind: vigil.EventError, Time: now, Error: err.Error(), FailedOpen: true})
	}
}
