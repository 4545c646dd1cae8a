package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/memstore"
)

// tagCases are guard keys (see guard.go) and the tag each must get.
var tagCases = []struct {
	name, key, tag string
}{
	{"ip_limit", "rl:ip:203.0.113.7", "203.0.113.7"},
	{"strikes_ipv4", "strikes:203.0.113.7", "203.0.113.7"},
	{"ipv6_limit", "rl:ip:2001:db8:1:2::/64", "2001:db8:1:2::/64"},
	{"strikes_ipv6", "strikes:2001:db8:1:2::/64", "2001:db8:1:2::/64"},
	{"route_limit", "rl:route:3:login:203.0.113.7", "203.0.113.7"},
	{"route_hex_name_ipv6", "rl:route:3:beef:2001:db8:1:2::/64", "2001:db8:1:2::/64"},
	{"rule_ip", "rl:rule:2:api:ip:203.0.113.7", "203.0.113.7"},
	{"dna_limit", "rl:dna:t13d1516h2_8daaf6152771", "dna:t13d1516h2_8daaf6152771"},
	{"rule_dna", "rl:rule:4:x:dna:abc", "dna:abc"},
	{"rule_header_value", "rl:rule:1:api:2:token-123", "rl:rule:1:api:2:token-123"},
	{"ipv6_address", "strikes:2001:db8::1", "2001:db8::1"},
	{"not_canonical_ipv6", "x:2001:0db8::1", "x:2001:0db8::1"},
	{"unmasked_prefix", "x:10.1.2.3/8", "x:10.1.2.3/8"},
	{"plain", "stuffing", "stuffing"},
	{"brace", "rl:rule:1:a:2:}{", "#"}, // digest; checked by prefix
	{"empty", "", "#"},
}

func TestClientTag(t *testing.T) {
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			got := clientTag(tc.key)
			if tc.tag == "#" {
				if !strings.HasPrefix(got, "#") || strings.ContainsAny(got, "{}") || len(got) != 17 {
					t.Errorf("clientTag(%q) = %q, want a digest", tc.key, got)
				}
				return
			}
			if got != tc.tag {
				t.Errorf("clientTag(%q) = %q, want %q", tc.key, got, tc.tag)
			}
		})
	}
}

// TestKeysShareSlot checks that a client's keys, as Redis Cluster hashes them, are in
// one slot, and that the ban keys share the index's slot.
func TestKeysShareSlot(t *testing.T) {
	k := keys{prefix: DefaultKeyPrefix}
	for _, group := range [][]string{
		{"rl:ip:203.0.113.7", "rl:route:3:login:203.0.113.7", "rl:rule:2:api:ip:203.0.113.7", "strikes:203.0.113.7"},
		{"rl:ip:2001:db8:1:2::/64", "strikes:2001:db8:1:2::/64"},
	} {
		want := clusterSlot(k.rate(clientTag(group[0]), group[0]))
		for _, key := range group {
			if got := clusterSlot(k.rate(clientTag(key), key)); got != want {
				t.Errorf("%q in slot %d, %q in %d", key, got, group[0], want)
			}
			if got := clusterSlot(k.counter(clientTag(key), 1234, key)); got != want {
				t.Errorf("counter %q in slot %d, want %d", key, got, want)
			}
		}
	}
	if a, b := clusterSlot(k.ban("ip:192.0.2.1")), clusterSlot(k.banIndex()); a != b {
		t.Errorf("ban key in slot %d, index in %d", a, b)
	}
}

// clusterSlot is the Redis Cluster slot of key: CRC16 of its hash tag (the text
// between the first '{' and the next '}', when not empty) or of the whole key.
func clusterSlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is the CRC-16/XMODEM Redis Cluster uses.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// TestCRC16 checks crc16 against the value the Redis Cluster specification gives.
func TestCRC16(t *testing.T) {
	if got := crc16("123456789"); got != 0x31C3 {
		t.Errorf("crc16(123456789) = %#x, want 0x31c3", got)
	}
}

// TestCanonicalMatchesMemstore checks that canonical writes a target the way
// memstore.Bans stores it, so that a ban's Redis key and its local entry agree.
func TestCanonicalMatchesMemstore(t *testing.T) {
	for _, tc := range []struct{ kind, value string }{
		{"ip", "192.0.2.1"},
		{"ip", " 192.0.2.1 "},
		{"ip", "::ffff:192.0.2.1"},
		{"ip", "2001:DB8::0001"},
		{"cidr", "10.1.2.3/8"},
		{"cidr", "::ffff:10.0.0.0/104"},
		{"cidr", "2001:db8:1:2:3::/64"},
		{"dna", " t13d_abc "},
	} {
		got, err := canonical(tc.kind, tc.value)
		if err != nil {
			t.Errorf("canonical(%s, %q): %v", tc.kind, tc.value, err)
			continue
		}
		b := memstore.NewBans()
		if err := b.Add(memstore.Ban{Kind: tc.kind, Value: tc.value}); err != nil {
			t.Fatal(err)
		}
		if list := b.List(time.Now()); len(list) != 1 || list[0].Value != got {
			t.Errorf("canonical(%s, %q) = %q, memstore stores %+v", tc.kind, tc.value, got, list)
		}
	}
	// Whatever memstore rejects, canonical rejects.
	for _, tc := range []struct{ kind, value string }{
		{"user", "x"}, {"ip", "fe80::1%eth0"}, {"ip", "10.0.0.0/8"}, {"cidr", "10.0.0.1"},
		{"dna", ""}, {"dna", "a b"}, {"dna", strings.Repeat("a", 257)}, {"ip", "999.1.1.1"},
	} {
		_, err := canonical(tc.kind, tc.value)
		memErr := memstore.NewBans().Add(memstore.Ban{Kind: tc.kind, Value: tc.value})
		if err == nil || memErr == nil {
			t.Errorf("canonical(%s, %q): %v, memstore: %v; want both to reject it", tc.kind, tc.value, err, memErr)
		}
	}
}

// FuzzClientTag checks clientTag on any key, since keys carry client-chosen values
// (a rule keyed on a header): the tag is never empty and holds no brace, so it always
// forms a hash tag, and it is either a suffix of the key or a digest.
func FuzzClientTag(f *testing.F) {
	for _, tc := range tagCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		tag := clientTag(key)
		if tag == "" || strings.ContainsAny(tag, "{}") {
			t.Fatalf("clientTag(%q) = %q", key, tag)
		}
		if !strings.HasSuffix(key, tag) && !(strings.HasPrefix(tag, "#") && len(tag) == 17) {
			t.Fatalf("clientTag(%q) = %q: neither a suffix nor a digest", key, tag)
		}
		if got := clusterSlot(keys{prefix: "p:"}.rate(tag, key)); got != int(crc16(tag)%16384) {
			t.Fatalf("key of %q hashes on %d, not on its tag", key, got)
		}
	})
}

// FuzzCanonical checks canonical against memstore.Bans, which it mirrors: both accept
// the same targets, and canonical writes the Value memstore stores.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "10.1.2.3/8", "::ffff:10.0.0.0/104", "fe80::1%eth0", "t13d_abc", " x "} {
		for k := range uint8(3) {
			f.Add(k, s)
		}
	}
	kinds := []string{"ip", "cidr", "dna"}
	f.Fuzz(func(t *testing.T, k uint8, value string) {
		kind := kinds[int(k)%len(kinds)]
		got, err := canonical(kind, value)
		b := memstore.NewBans()
		memErr := b.Add(memstore.Ban{Kind: kind, Value: value})
		if (err == nil) != (memErr == nil) {
			t.Fatalf("canonical(%s, %q): %v; memstore: %v", kind, value, err, memErr)
		}
		if err != nil {
			return
		}
		if list := b.List(time.Now()); len(list) != 1 || list[0].Value != got {
			t.Fatalf("canonical(%s, %q) = %q, memstore stores %+v", kind, value, got, list)
		}
	})
}
