package vigil

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/internal/memstore"
	"github.com/vigilhq/vigil/internal/ratelimit"
)

// Limit is a rate: Rate requests per Period, with Burst requests allowed at once. The
// algorithm is GCRA (the generic cell rate algorithm), the same in every Store.
type Limit struct {
	Rate   int           `json:"rate"`
	Period time.Duration `json:"period"`
	// Burst is how many requests may arrive at once. Zero means Rate.
	Burst int `json:"burst,omitempty"`
}

// Quota is the answer of one rate-limit step.
type Quota struct {
	// Allowed reports whether the request fits the limit. A denied request is not
	// counted, so a client that waits RetryAfter gets through.
	Allowed bool
	// Remaining is how many more requests the limit allows right now.
	Remaining int
	// RetryAfter is, when !Allowed, how long until one request would be allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the limit is full again.
	ResetAfter time.Duration
}

// BanKind says what a ban covers.
type BanKind string

// The ban kinds.
const (
	BanIP   BanKind = "ip"   // one address
	BanCIDR BanKind = "cidr" // a network prefix
	BanDNA  BanKind = "dna"  // every request whose DNA ID matches
)

// Ban keeps a client out until it expires.
type Ban struct {
	Kind BanKind `json:"kind"`
	// Value is the canonical address, prefix or DNA ID.
	Value string `json:"value"`
	// Reason says why: "honeypot", "manual", …
	Reason string `json:"reason"`
	// Until is when the ban ends; zero means never.
	Until time.Time `json:"until,omitzero"`
	// Strikes counts the bans this target received within the policy's ban window,
	// this one included. Repeat offenders get longer bans.
	Strikes int `json:"strikes,omitempty"`
}

// Store holds the guard's state: rate-limit windows, counters and bans. The default is
// MemoryStore; package redisstore shares state between instances.
//
// Implementations must be safe for concurrent use and must answer Allow and Banned without
// waiting on the network on the request path (a shared store keeps local copies and syncs
// in the background). A returned error makes the guard fail open (or closed, when
// Config.FailClosed is set) for that check and report the fault.
type Store interface {
	// Allow performs one rate-limit step of the given cost for key.
	Allow(ctx context.Context, key string, limit Limit, cost int) (Quota, error)
	// Add adds n to the counter key in the current fixed window of the given length and
	// returns the counter's new value.
	Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
	// Ban places or replaces a ban.
	Ban(ctx context.Context, b Ban) error
	// Unban lifts the ban on the given target and reports whether there was one.
	Unban(ctx context.Context, kind BanKind, value string) (bool, error)
	// Banned returns the active ban covering ip (an exact address or a covering prefix,
	// the most specific first) or, failing that, the DNA ID dna.
	Banned(ctx context.Context, ip netip.Addr, dna string) (Ban, bool, error)
	// Bans lists the active bans.
	Bans(ctx context.Context) ([]Ban, error)
}

// MemoryStoreConfig configures a MemoryStore.
type MemoryStoreConfig struct {
	// MaxKeys bounds the number of rate-limit and counter keys held. When full, expired
	// entries go first, then arbitrary ones; evicting a rate-limit entry forgives that
	// client, so a store under key spraying fails open, never grows. Zero means 1<<20
	// (about 100 MB at most).
	MaxKeys int `json:"max_keys,omitempty" yaml:"max_keys,omitempty"`
	// Clock tells the store the time: when limits refill, counters' windows end and
	// bans expire. Nil means time.Now (or the guard's Config.Clock, for the store a
	// guard makes itself).
	Clock func() time.Time `json:"-" yaml:"-"`
}

// MemoryStore is the default Store: bounded, sharded and held in process memory. Its state
// is lost on restart and not shared between instances. The zero value is not usable; use
// NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	now       func() time.Time
	counters  *memstore.Store
	bans      *memstore.Bans
	lastSweep atomic.Int64 // Unix nanoseconds of the last sweep of expired entries
}

// sweepEvery is how often expired bans and counters are swept. Sweeps are amortised over
// calls to Ban, so a MemoryStore needs no goroutine of its own.
const sweepEvery = time.Minute

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(cfg MemoryStoreConfig) *MemoryStore {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMemoryStoreMaxKeys
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &MemoryStore{
		now:      cfg.Clock,
		counters: memstore.New(memstore.Config{MaxKeys: cfg.MaxKeys}),
		bans:     memstore.NewBans(),
	}
}

// Allow implements Store.
func (s *MemoryStore) Allow(_ context.Context, key string, l Limit, cost int) (Quota, error) {
	r := s.counters.Allow(key, s.now(), ratelimit.Limit(l), cost)
	return quotaOf(r), nil
}

// allow is Allow for the guard's own requests, at cost 1 and at the time the guard
// read for the request. It does not retain key.
func (s *MemoryStore) allow(key string, now time.Time, l Limit) Quota {
	return quotaOf(s.counters.Allow(key, now, ratelimit.Limit(l), 1))
}

func quotaOf(r ratelimit.Result) Quota {
	return Quota{Allowed: r.Allowed, Remaining: r.Remaining, RetryAfter: r.RetryAfter, ResetAfter: r.ResetAfter}
}

// Add implements Store.
func (s *MemoryStore) Add(_ context.Context, key string, n int64, window time.Duration) (int64, error) {
	return s.counters.Add(key, s.now(), n, window), nil
}

// Ban implements Store.
func (s *MemoryStore) Ban(_ context.Context, b Ban) error {
	now := s.now()
	if last := s.lastSweep.Load(); now.UnixNano()-last > int64(sweepEvery) && s.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		s.bans.Sweep(now)
		s.counters.Sweep(now)
	}
	if err := s.bans.Add(memstore.Ban{Kind: string(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until, Strikes: b.Strikes}); err != nil {
		return fmt.Errorf("ban %s %q: %w", b.Kind, b.Value, err)
	}
	return nil
}

// Unban implements Store.
func (s *MemoryStore) Unban(_ context.Context, kind BanKind, value string) (bool, error) {
	return s.bans.Remove(string(kind), value), nil
}

// Banned implements Store.
func (s *MemoryStore) Banned(_ context.Context, ip netip.Addr, dna string) (Ban, bool, error) {
	b, ok := s.bans.LookupClock(ip, dna, s.now) // reads the clock only when a ban matches
	if !ok {
		return Ban{}, false, nil
	}
	return fromMemBan(b), true, nil
}

// Bans implements Store.
func (s *MemoryStore) Bans(context.Context) ([]Ban, error) {
	list := s.bans.List(s.now())
	out := make([]Ban, len(list))
	for i, b := range list {
		out[i] = fromMemBan(b)
	}
	return out, nil
}

func fromMemBan(b memstore.Ban) Ban {
	return Ban{Kind: BanKind(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until, Strikes: b.Strikes}
}
