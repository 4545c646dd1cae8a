package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		cluster bool
		addrs   []string
		tls     bool
		db      int
		dial    time.Duration
		retries int
	}{
		{"host_port", "127.0.0.1:6379", false, []string{"127.0.0.1:6379"}, false, 0, time.Second, 1},
		{"redis_url", "redis://user:pw@cache.internal:6380/2", false, []string{"cache.internal:6380"}, false, 2, time.Second, 1},
		{"tls", "rediss://cache.internal:6380", false, []string{"cache.internal:6380"}, true, 0, time.Second, 1},
		{"options_win", "redis://cache:6379?dial_timeout=3s&max_retries=4", false, []string{"cache:6379"}, false, 0, 3 * time.Second, 4},
		{"default_port", "redis://cache", false, []string{"cache:6379"}, false, 0, time.Second, 1},
		{"cluster_list", "10.0.0.1:7000,10.0.0.2:7000, 10.0.0.3:7000", true, []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, false, 0, time.Second, 1},
		{"cluster_list_tls", "rediss://u:p@a:7000,rediss://b:7000", true, []string{"a:7000", "b:7000"}, true, 0, time.Second, 1},
		{"cluster_list_options", "redis://a:7000?dial_timeout=2s,b:7000", true, []string{"a:7000", "b:7000"}, false, 0, 2 * time.Second, 1},
		{"cluster_addr_option", "redis://a:7000?addr=b:7000", true, []string{"a:7000", "b:7000"}, false, 0, time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var (
				addrs   []string
				tls     bool
				db      int
				dial    time.Duration
				retries int
			)
			switch c := c.(type) {
			case *redis.Client:
				o := c.Options()
				addrs, tls, db, dial, retries = []string{o.Addr}, o.TLSConfig != nil, o.DB, o.DialTimeout, o.MaxRetries
			case *redis.ClusterClient:
				o := c.Options()
				addrs, tls, dial, retries = o.Addrs, o.TLSConfig != nil, o.DialTimeout, o.MaxRetries
			}
			_, isCluster := c.(*redis.ClusterClient)
			if isCluster != tc.cluster || !slices.Equal(addrs, tc.addrs) || tls != tc.tls || db != tc.db || dial != tc.dial || retries != tc.retries {
				t.Errorf("cluster %v addrs %v tls %v db %d dial %v retries %d; want %v %v %v %d %v %d",
					isCluster, addrs, tls, db, dial, retries, tc.cluster, tc.addrs, tc.tls, tc.db, tc.dial, tc.retries)
			}
		})
	}
	sentinel, err := ParseURL("redis://10.0.0.1:26379?master_name=mymaster&addr=10.0.0.2:26379")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sentinel.(*redis.Client); !ok {
		t.Errorf("sentinel URL gave %T", sentinel)
	}
	sentinel.Close()

	for _, bad := range []string{"", "cache", "http://cache:6379", "redis://a:1,rediss://b:2", "a:1,b", "a:1,redis://u@b:2/3", "redis://a:1/x/y"} {
		if c, err := ParseURL(bad); err == nil {
			c.Close()
			t.Errorf("ParseURL(%q) accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("ParseURL(%q): %v, want a redisstore error", bad, err)
		}
	}
}
