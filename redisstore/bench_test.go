package redisstore

import (
	"context"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/vigilhq/vigil"
)

// benchKeys are the per-IP keys the benchmarks cycle through: many clients, as a
// guard sees them.
var benchKeys = func() []string {
	k := make([]string, 4096)
	for i := range k {
		k[i] = "rl:ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return k
}()

// benchLimit keeps every key busy (its TAT ahead of now, as for an active client)
// while admitting every request: 1,000 a second with a burst of a million. The
// benchmarks measure the allow path of a held key, not denials, spills or inserts.
var benchLimit = vigil.Limit{Rate: 1000, Period: time.Second, Burst: 1_000_000}

// benchStores returns the stores to compare: the memory store and, when a Redis is
// available, this package's store in both modes, running.
func benchStores(b *testing.B) []struct {
	name string
	s    vigil.Store
} {
	c := sharedRedis(b)
	prefix := testPrefix(b, c)
	return []struct {
		name string
		s    vigil.Store
	}{
		{"memory", vigil.NewMemoryStore(vigil.MemoryStoreConfig{})},
		{"local-first", runStore(b, c, Config{KeyPrefix: prefix})},
		{"exact", runStore(b, newClient(b, c), Config{KeyPrefix: prefix, Mode: ModeExact})},
		{"exact-autopipeline", runStore(b, autoPipeline(b, newClient(b, c)), Config{KeyPrefix: prefix, Mode: ModeExact})},
	}
}

// autoPipeline returns go-redis's experimental auto-pipelining client on c, which
// batches the script calls of concurrent checks into shared round trips.
func autoPipeline(b *testing.B, c redis.UniversalClient) redis.UniversalClient {
	ap, err := c.AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ap.Close() })
	return ap
}

// BenchmarkAllow compares one rate-limit check in the memory store and in this
// package's store, local-first (the budget: at least 90 % of the memory store's
// throughput) and exact (one round trip to Redis), on one goroutine and on all of
// them.
func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		b.Run("store="+st.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := st.s.Allow(ctx, benchKeys[i&4095], benchLimit, 1); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("store="+st.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32) // a server's many request goroutines
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)) * 997
				for pb.Next() {
					if _, err := st.s.Allow(ctx, benchKeys[i&4095], benchLimit, 1); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkBanned compares the ban look-up every request makes, with 1,000 bans held
// and the client not banned.
func BenchmarkBanned(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b)[:2] {
		for i := range 1000 {
			if err := st.s.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2." + strconv.Itoa(i%250) + "", Until: time.Now().Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
		ip := netip.MustParseAddr("198.51.100.7")
		b.Run("store="+st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, _ := st.s.Banned(ctx, ip, "t13d_abc"); ok {
					b.Fatal("banned")
				}
			}
		})
	}
}

// BenchmarkAdd compares one counter addition.
func BenchmarkAdd(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		b.Run("store="+st.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := st.s.Add(ctx, "strikes:"+benchKeys[i&4095][6:], 1, time.Minute); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkExactVsRedisRate puts exact mode's check beside github.com/go-redis/redis_rate,
// the GCRA limiter most Go services use on Redis, on the same Redis, the same keys and
// the same limit: one script call per check for both.
func BenchmarkExactVsRedisRate(b *testing.B) {
	ctx := context.Background()
	c := sharedRedis(b)
	prefix := testPrefix(b, c)
	exact := runStore(b, newClient(b, c), Config{KeyPrefix: prefix, Mode: ModeExact})
	limiter := redis_rate.NewLimiter(newClient(b, c))
	b.Cleanup(func() {
		// redis_rate's keys are "rate:" + ours; testPrefix removes only ours.
		iter := c.Scan(ctx, 0, "rate:"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	rrLimit := redis_rate.Limit{Rate: benchLimit.Rate, Period: benchLimit.Period, Burst: benchLimit.Burst}
	checks := []struct {
		name  string
		check func(key string) error
	}{
		{"vigil_exact", func(key string) error { _, err := exact.Allow(ctx, key, benchLimit, 1); return err }},
		{"redis_rate", func(key string) error {
			// redis_rate prefixes its keys with "rate:"; the test's prefix keeps them
			// apart from everyone else's.
			_, err := limiter.Allow(ctx, prefix+key, rrLimit)
			return err
		}},
	}
	for _, ch := range checks {
		b.Run(ch.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := ch.check(benchKeys[i&4095]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(ch.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)) * 997
				for pb.Next() {
					if err := ch.check(benchKeys[i&4095]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
