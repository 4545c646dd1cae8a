package emailcheck

import (
	"fmt"
	"testing"
	"time"
)

// TestDNSCacheBounded checks that the cache never holds more than its size, keeps
// entries that are read, and drops expired ones.
func TestDNSCacheBounded(t *testing.T) {
	var c dnsCache
	now := time.Unix(1_700_000_000, 0)
	const size = 10
	found := MXResult{Status: LookupFound, Hosts: []string{"mx.example"}}
	for i := range 100 {
		c.put(fmt.Sprintf("d%d.example", i), found, now.Add(time.Hour), size)
		// d0 is read after every insert, so it is always recent.
		if _, ok := c.get("d0.example", now); !ok {
			t.Fatalf("after %d inserts: d0.example, read every time, was evicted", i+1)
		}
		if n := c.len(); n > size {
			t.Fatalf("after %d inserts the cache holds %d entries, more than %d", i+1, n, size)
		}
	}
	if _, ok := c.get("d1.example", now); ok {
		t.Error("d1.example, never read, is still cached after 100 inserts")
	}
	if _, ok := c.get("d99.example", now); !ok {
		t.Error("d99.example, the last insert, is not cached")
	}
	if _, ok := c.get("d99.example", now.Add(time.Hour)); ok {
		t.Error("d99.example is returned at its expiry time")
	}
	if _, ok := c.get("d99.example", now); ok {
		t.Error("an expired entry is still cached after a read found it expired")
	}
}

// TestDNSCacheSizeOne checks the smallest bound.
func TestDNSCacheSizeOne(t *testing.T) {
	var c dnsCache
	now := time.Unix(1_700_000_000, 0)
	for i := range 5 {
		c.put(fmt.Sprintf("d%d.example", i), MXResult{Status: LookupNone}, now.Add(time.Minute), 1)
		if n := c.len(); n > 1 {
			t.Fatalf("size 1 cache holds %d entries", n)
		}
	}
	if _, ok := c.get("d4.example", now); !ok {
		t.Error("the last insert is not cached")
	}
}
