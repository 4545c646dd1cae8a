package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// clientTag returns the hash tag of a Store key: the part that names the client, so that
// every key of one client lands in one Redis Cluster slot.
//
// The guard's keys end with the client: "rl:ip:203.0.113.7", "rl:route:3:login:
// 2001:db8:1:2::/64", "rl:rule:2:api:ip:203.0.113.7", "strikes:203.0.113.7". The tag is
// the longest suffix that follows a ':' and is an address or a masked prefix in
// canonical form (what netip prints). Failing that, it is the "dna:<id>" suffix of a DNA
// key ("rl:dna:<id>", "rl:rule:4:x:dna:<id>"). Failing that, the whole key is its own
// tag. A tag holding a brace, which would end a Redis hash tag early, is replaced by a
// digest of itself.
//
// The tag only decides which keys share a slot; every instance derives the same tag
// from the same key, and the key itself follows the tag in full, so two Store keys never
// map to one Redis key whatever their tags.
func clientTag(key string) string {
	dna := ""
	for i := 0; i < len(key); i++ {
		if key[i] != ':' {
			continue
		}
		rest := key[i+1:]
		if canonicalAddr(rest) {
			return rest
		}
		if dna == "" && len(rest) > 4 && strings.HasPrefix(rest, "dna:") && !strings.Contains(rest[4:], ":") {
			dna = rest
		}
	}
	tag := key
	if dna != "" {
		tag = dna
	}
	if strings.ContainsAny(tag, "{}") || tag == "" {
		sum := sha256.Sum256([]byte(tag))
		return "#" + hex.EncodeToString(sum[:8])
	}
	return tag
}

// canonicalAddr reports whether s is an IP address, or a prefix masked to its length,
// written the way netip writes it.
func canonicalAddr(s string) bool {
	if s == "" || len(s) > len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128") {
		return false
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		return err == nil && p == p.Masked() && p.String() == s
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == "" && a.String() == s
}

// keys builds the Redis keys of one Store. See the package documentation for the
// layout.
type keys struct {
	prefix string // Config.KeyPrefix, without braces
}

// rate returns the Redis key of the rate-limit (GCRA) state of key.
func (k keys) rate(tag, key string) string {
	return k.prefix + "{" + tag + "}:r:" + key
}

// counter returns the Redis key of the counter key in the window ending at end (Unix
// nanoseconds).
func (k keys) counter(tag string, end int64, key string) string {
	return k.prefix + "{" + tag + "}:c:" + strconv.FormatInt(end, 10) + ":" + key
}

// banTag is the hash tag every ban key shares, so that a ban, the index and the publish
// are one script call on one node.
const banTag = "{bans}"

// ban returns the Redis key of the ban on member ("<kind>:<value>").
func (k keys) ban(member string) string { return k.banPrefix() + member }

// banPrefix is what ban keys start with.
func (k keys) banPrefix() string { return k.prefix + banTag + ":b:" }

// banIndex returns the key of the sorted set of ban members by expiry (Unix ms).
func (k keys) banIndex() string { return k.prefix + banTag + ":i" }

// channel returns the pub/sub channel ban changes are published on.
func (k keys) channel() string { return k.prefix + "bans" }

// banMember returns the index member of a ban target.
func banMember(kind, value string) string { return kind + ":" + value }
