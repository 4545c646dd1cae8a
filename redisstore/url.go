package redisstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client defaults that ParseURL applies where the URL sets nothing. Every call a
// Store makes is also bounded by Config.OpTimeout, so these matter for other users of
// the client and for connections being set up.
const (
	DefaultDialTimeout  = time.Second
	DefaultReadTimeout  = time.Second
	DefaultWriteTimeout = time.Second
	DefaultPoolTimeout  = time.Second
	DefaultMaxRetries   = 1
)

// ParseURL returns a client for the Redis deployment s names, for a --redis flag:
//
//   - "redis://[user:password@]host:port[/db]" or "host:port": one server; "rediss://"
//     for TLS; "unix:///path/redis.sock" for a Unix socket;
//   - "host1:port1,host2:port2,…" (each element may carry the same redis:// or rediss://
//     scheme and the first one credentials and options): a Redis Cluster, found from
//     these seed nodes; so is a redis:// URL with "addr=host:port" options;
//   - "redis://host:port?master_name=name[&addr=host:port…]": Sentinel, the addresses
//     being the sentinels'.
//
// Query options are go-redis's, in snake case (dial_timeout=2s, pool_size=20, …).
// Where the URL sets none, DialTimeout, ReadTimeout, WriteTimeout and PoolTimeout are 1 s
// and MaxRetries 1; PoolSize stays go-redis's 10 per GOMAXPROCS. The caller closes the
// client.
func ParseURL(s string) (redis.UniversalClient, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("redisstore: empty Redis URL")
	}
	if strings.Contains(s, ",") {
		return parseClusterList(s)
	}
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("redisstore: Redis address %q: want host:port or a redis:// URL", s)
		}
		s = "redis://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
		}
		defaults(q, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
		}
		defaults(q, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(s)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
	}
	defaults(q, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
	return redis.NewClient(o), nil
}

// parseClusterList parses a comma-separated list of Cluster seed nodes.
func parseClusterList(s string) (redis.UniversalClient, error) {
	parts := strings.Split(s, ",")
	first := strings.TrimSpace(parts[0])
	scheme := "redis"
	if i := strings.Index(first, "://"); i >= 0 {
		scheme = first[:i]
	} else {
		first = "redis://" + first
	}
	u, err := url.Parse(first)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
	}
	q := u.Query()
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if i := strings.Index(p, "://"); i >= 0 {
			if p[:i] != scheme {
				return nil, fmt.Errorf("redisstore: Redis URL %q: scheme %q differs from the first node's %q", s, p[:i], scheme)
			}
			p = p[i+3:]
		}
		if _, _, err := net.SplitHostPort(p); err != nil || strings.ContainsAny(p, "/?@") {
			return nil, fmt.Errorf("redisstore: Redis URL %q: node %q is not host:port", s, p)
		}
		q.Add("addr", p)
	}
	u.RawQuery = q.Encode()
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redisstore: Redis URL: %w", err)
	}
	defaults(u.Query(), &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries)
	return redis.NewClusterClient(o), nil
}

// defaults sets the client defaults the query q does not set.
func defaults(q url.Values, dial, read, write, pool *time.Duration, retries *int) {
	set := func(name string, d *time.Duration, v time.Duration) {
		if !q.Has(name) {
			*d = v
		}
	}
	set("dial_timeout", dial, DefaultDialTimeout)
	set("read_timeout", read, DefaultReadTimeout)
	set("write_timeout", write, DefaultWriteTimeout)
	set("pool_timeout", pool, DefaultPoolTimeout)
	if !q.Has("max_retries") {
		*retries = DefaultMaxRetries
	}
}
