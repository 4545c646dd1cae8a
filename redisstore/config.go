package redisstore

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// Mode says how a Store decides rate limits.
type Mode string

// The modes.
const (
	// ModeLocalFirst decides from local state and syncs with Redis in the background;
	// a key that admits more than its local quota between two syncs takes its next
	// admissions to Redis. Over-admission is bounded (see the package documentation).
	ModeLocalFirst Mode = "local-first"
	// ModeExact takes every rate-limit step and every counter addition in Redis, one
	// script call each: no over-admission, one round trip per check.
	ModeExact Mode = "exact"
)

// Defaults of the Config fields whose zero value means a setting.
const (
	DefaultKeyPrefix       = "vigil:"
	DefaultSyncInterval    = 5 * time.Millisecond
	DefaultLocalShare      = 0.02
	DefaultOpTimeout       = 50 * time.Millisecond
	DefaultBreakerFailures = 3
	DefaultBreakerCooldown = time.Second
	DefaultMaxKeys         = 1 << 20
)

// Config configures a Store. The zero value is a working configuration: local-first
// mode, keys under "vigil:", a sync every 5 ms, a local quota of 2 % of each limit's
// burst, 50 ms for any Redis call a request waits on, the breaker opening after 3
// failures in a row and probing every second, a million local keys, no events and logs
// discarded. A Config is plain data; New reads it once.
type Config struct {
	// Mode is ModeLocalFirst (the default, also for "") or ModeExact.
	Mode Mode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// KeyPrefix starts every Redis key and the ban channel, so that several deployments
	// can share one Redis. It must not contain braces. Empty means "vigil:".
	KeyPrefix string `json:"key_prefix,omitempty" yaml:"key_prefix,omitempty"`
	// SyncInterval is how often the local-first mode writes what it admitted and
	// counted to Redis and reads back the shared state. Zero means 5 ms.
	SyncInterval time.Duration `json:"sync_interval,omitempty" yaml:"sync_interval,omitempty"`
	// LocalShare is the fraction of a limit's burst one instance may admit for one key
	// between two syncs without asking Redis, in local-first mode. The per-key quota
	// is Q = max(1, ⌊LocalShare × Burst⌋, ⌊2 × SyncInterval / interval⌋) requests, at
	// most Burst (interval = Period/Rate), and N instances over-admit at most N × Q.
	// Zero means 0.02. 1 or more turns the quota off: every decision is local, and N
	// instances starting on an idle key may admit N × Burst before they sync.
	LocalShare float64 `json:"local_share,omitempty" yaml:"local_share,omitempty"`
	// OpTimeout bounds every Redis call: the ones a request waits on (an exact-mode
	// check, a local-first key over its quota, Ban, Unban) and each sync batch. Zero
	// means 50 ms.
	OpTimeout time.Duration `json:"op_timeout,omitempty" yaml:"op_timeout,omitempty"`
	// BreakerFailures is how many failed Redis calls in a row open the circuit breaker.
	// While it is open, every decision is local and nothing waits on Redis. Zero means
	// 3.
	BreakerFailures int `json:"breaker_failures,omitempty" yaml:"breaker_failures,omitempty"`
	// BreakerCooldown is how long the breaker stays open before one call probes Redis
	// again. Zero means 1 s.
	BreakerCooldown time.Duration `json:"breaker_cooldown,omitempty" yaml:"breaker_cooldown,omitempty"`
	// MaxKeys bounds the local rate-limit and counter keys. When full, expired keys go
	// first, then the ones closest to expiring; evicting a key forgives that client
	// locally (Redis still holds its shared state). Zero means 1<<20, about 120 MB at
	// most.
	MaxKeys int `json:"max_keys,omitempty" yaml:"max_keys,omitempty"`

	// Logger receives a line when Redis becomes unreachable and when it is back, and
	// for failures that lose nothing but are worth knowing. Nil discards them.
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Events receives an EventError each time the Store loses Redis and starts
	// deciding from local state (FailedOpen set). Nil sends none.
	Events vigil.EventSink `json:"-" yaml:"-"`
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	switch c.Mode {
	case "":
		c.Mode = ModeLocalFirst
	case ModeLocalFirst, ModeExact:
	default:
		return c, fmt.Errorf("redisstore: mode %q: want %q or %q", c.Mode, ModeLocalFirst, ModeExact)
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		return c, fmt.Errorf("redisstore: key prefix %q contains a brace, which would break hash tags", c.KeyPrefix)
	}
	var errs []error
	positive := func(name string, d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			errs = append(errs, fmt.Errorf("redisstore: %s %v is negative", name, *d))
		}
	}
	positive("sync interval", &c.SyncInterval, DefaultSyncInterval)
	positive("op timeout", &c.OpTimeout, DefaultOpTimeout)
	positive("breaker cooldown", &c.BreakerCooldown, DefaultBreakerCooldown)
	switch {
	case math.IsNaN(c.LocalShare) || c.LocalShare < 0:
		errs = append(errs, fmt.Errorf("redisstore: local share %v is not a fraction", c.LocalShare))
	case c.LocalShare == 0:
		c.LocalShare = DefaultLocalShare
	}
	switch {
	case c.BreakerFailures < 0:
		errs = append(errs, fmt.Errorf("redisstore: breaker failures %d is negative", c.BreakerFailures))
	case c.BreakerFailures == 0:
		c.BreakerFailures = DefaultBreakerFailures
	}
	switch {
	case c.MaxKeys < 0:
		errs = append(errs, fmt.Errorf("redisstore: max keys %d is negative", c.MaxKeys))
	case c.MaxKeys == 0:
		c.MaxKeys = DefaultMaxKeys
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, errors.Join(errs...)
}

// Stats are a Store's counters since New, for metrics. Counts only grow.
type Stats struct {
	// Mode is the configured mode.
	Mode Mode
	// Degraded reports that the breaker is open: decisions are local and nothing
	// waits on Redis.
	Degraded bool
	// Outages counts the times Redis was lost (the breaker opened); Recoveries the
	// times it came back and the local state was synced again.
	Outages, Recoveries uint64
	// Syncs counts sync rounds that reached Redis; SyncErrors those that failed;
	// SyncedKeys the key updates they carried.
	Syncs, SyncErrors, SyncedKeys uint64
	// RemoteSteps counts rate-limit steps and counter additions taken in Redis on the
	// request path (every check in exact mode; keys over their local quota in
	// local-first mode). Spills counts local-first checks over their key's quota,
	// sent to Redis unless the breaker was open.
	RemoteSteps, Spills uint64
	// Fallbacks counts decisions taken locally that would have gone to Redis, because
	// the breaker was open or the call failed.
	Fallbacks uint64
	// BanMessages counts ban changes received from other instances (and this one)
	// over pub/sub; BanLoads the times the whole ban set was loaded.
	BanMessages, BanLoads uint64
	// BanQueue is the number of ban changes waiting for Redis; BansDropped counts
	// changes not queued because the queue was full (they hold locally only).
	BanQueue    int
	BansDropped uint64
	// LocalKeys is the number of local rate-limit and counter keys; Evictions counts
	// live ones evicted to stay within MaxKeys. LocalBans is the number of bans held.
	LocalKeys int
	Evictions uint64
	LocalBans int
}
