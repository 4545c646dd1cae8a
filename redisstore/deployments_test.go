package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestCluster runs the integration tests against a Redis Cluster of three masters the
// test starts: bans (the ban keys, the index and the publish on one node, the
// subscribers on any), over-admission in both modes, counters, and the slots of the
// keys.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	c := startCluster(t)
	t.Run("slots", func(t *testing.T) {
		ctx := context.Background()
		k := keys{prefix: DefaultKeyPrefix}
		for _, key := range []string{
			k.rate(clientTag("rl:ip:203.0.113.7"), "rl:ip:203.0.113.7"),
			k.counter(clientTag("strikes:2001:db8::/64"), 1, "strikes:2001:db8::/64"),
			k.ban("dna:abc"), k.banIndex(),
		} {
			want, err := c.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := clusterSlot(key); int64(got) != want {
				t.Errorf("slot of %q: %d, CLUSTER KEYSLOT says %d", key, got, want)
			}
		}
		// The keys of the tests below spread over the three masters.
		masters := map[string]bool{}
		for _, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5", "203.0.113.9"} {
			n, err := c.MasterForKey(ctx, k.rate(ip, "rl:ip:"+ip))
			if err != nil {
				t.Fatal(err)
			}
			masters[n.Options().Addr] = true
		}
		t.Logf("the test keys live on %d masters", len(masters))
	})
	t.Run("bans", func(t *testing.T) { testBans(t, c, newClient(t, c), newClient(t, c)) })
	t.Run("over_admission_local_first", func(t *testing.T) {
		testOverAdmission(t, c, newClient(t, c), ModeLocalFirst, 105)
	})
	t.Run("over_admission_exact", func(t *testing.T) {
		testOverAdmission(t, c, newClient(t, c), ModeExact, 100)
	})
	t.Run("counters", func(t *testing.T) {
		testCounters(t, c, newClient(t, c), ModeLocalFirst)
		testCounters(t, c, newClient(t, c), ModeExact)
	})
}

// TestSentinel runs the ban and over-admission tests through Redis Sentinel: a master
// and a sentinel the test starts, and clients from a master_name URL.
func TestSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis Sentinel")
	}
	master := startServer(t)
	sentinel := startSentinel(t, master.Addr())
	client := func() redis.UniversalClient {
		c, err := ParseURL("redis://" + sentinel.Addr() + "?master_name=vigil")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := client()
	// The sentinel answers once it has looked at the master.
	if _, ok := waitFor(10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err() == nil
	}); !ok {
		t.Fatal("no master through the sentinel within 10 s")
	}
	t.Run("bans", func(t *testing.T) { testBans(t, c, client(), client()) })
	t.Run("over_admission_local_first", func(t *testing.T) {
		testOverAdmission(t, c, client(), ModeLocalFirst, 105)
	})
	t.Run("over_admission_exact", func(t *testing.T) {
		testOverAdmission(t, c, client(), ModeExact, 100)
	})
}
