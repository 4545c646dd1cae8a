package memstore_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigilhq/vigil/internal/memstore"
	"github.com/vigilhq/vigil/internal/ratelimit"
)

func ExampleStore_Allow() {
	s := memstore.New(memstore.Config{}) // a million keys in 64 shards
	limit := ratelimit.Limit{Rate: 3, Period: time.Minute, Burst: 2}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	for range 3 {
		r := s.Allow("ip:192.0.2.7", now, limit, 1)
		fmt.Println(r.Allowed, r.Remaining, r.RetryAfter)
	}
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 20s
}

func ExampleStore_Add() {
	s := memstore.New(memstore.Config{})
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)

	// Count 404 responses per client in one-minute windows aligned to the minute.
	s.Add("404:192.0.2.7", now, 1, time.Minute)
	fmt.Println(s.Add("404:192.0.2.7", now.Add(29*time.Second), 1, time.Minute))
	fmt.Println(s.Get("404:192.0.2.7", now.Add(30*time.Second))) // 12:01:00, a new window
	// Output:
	// 2
	// 0
}

func ExampleBans() {
	bans := memstore.NewBans()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, b := range []memstore.Ban{
		{Kind: memstore.KindCIDR, Value: "203.0.113.77/24", Reason: "manual"},
		{Kind: memstore.KindIP, Value: "::ffff:198.51.100.9", Reason: "honeypot", Until: now.Add(time.Hour)},
	} {
		if err := bans.Add(b); err != nil {
			fmt.Println(err)
			return
		}
	}

	for _, ip := range []string{"203.0.113.5", "198.51.100.9", "192.0.2.1"} {
		if ban, ok := bans.Lookup(netip.MustParseAddr(ip), "", now); ok {
			fmt.Println(ip, "banned by", ban.Value, ban.Reason)
		} else {
			fmt.Println(ip, "not banned")
		}
	}
	// An hour later the honeypot ban is over.
	_, ok := bans.Lookup(netip.MustParseAddr("198.51.100.9"), "", now.Add(time.Hour))
	fmt.Println("after an hour:", ok)
	// Output:
	// 203.0.113.5 banned by 203.0.113.0/24 manual
	// 198.51.100.9 banned by 198.51.100.9 honeypot
	// 192.0.2.1 not banned
	// after an hour: false
}
