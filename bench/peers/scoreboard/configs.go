package main

import (
	"fmt"
	"strings"
)

// config is one row of the scoreboard: something in front of the same fixed-response
// handler, measured with the same request.
type config struct {
	Name  string // for -only, and the key of the row
	Label string // in the table and the charts
	What  string // one line on what runs
	// Baseline is the row this one's throughput is divided by, round by round; empty
	// for a baseline itself.
	Baseline string
	TLS      bool // wrk speaks HTTPS (tls.lua); otherwise HTTP (browser.lua)
	Redis    bool // needs Redis at $REDIS_URL
	Nginx    bool // needs nginx
	Vigil    bool // a Vigil row (the others are baselines or peers)
}

// configs are every row, in the order of the table and of each round.
var configs = []config{
	{Name: "bare", Label: "bare net/http", What: "the handler on net/http, nothing in front"},
	{Name: "guard-memory", Label: "Vigil guard, memory store", Baseline: "bare", Vigil: true,
		What: "vigil.Guard.Handler, default policy (every detector), in-memory state"},
	{Name: "guard-redis-local-first", Label: "Vigil guard, Redis local-first", Baseline: "bare", Vigil: true, Redis: true,
		What: "the guard with redisstore in local-first mode (counts synced in the background)"},
	{Name: "guard-redis-exact", Label: "Vigil guard, Redis exact", Baseline: "bare", Vigil: true, Redis: true,
		What: "the guard with redisstore in exact mode (a Redis round trip per request)"},
	{Name: "httprate", Label: "go-chi/httprate", Baseline: "bare",
		What: "httprate.LimitBy keyed by the TCP peer (IPv6 by /64) in front of the handler: rate limiting only"},
	{Name: "coraza", Label: "Coraza v3 + CRS v4", Baseline: "bare",
		What: "OWASP Coraza v3 with the Core Rule Set v4, paranoia level 1, blocking"},
	{Name: "vigil-proxy", Label: "vigil proxy", Baseline: "bare", Vigil: true,
		What: "`vigil proxy` (default configuration) to a bare upstream"},
	{Name: "nginx", Label: "nginx proxy_pass", Baseline: "bare", Nginx: true,
		What: "Debian's nginx, proxy_pass with keep-alive to the same bare upstream"},
	{Name: "bare-tls", Label: "bare net/http over TLS", TLS: true,
		What: "the handler on net/http behind crypto/tls"},
	{Name: "vigil-proxy-tls", Label: "vigil proxy over TLS", Baseline: "bare-tls", TLS: true, Vigil: true,
		What: "`vigil proxy` terminating TLS (with connection fingerprinting) to a plain bare upstream"},
	{Name: "nginx-tls", Label: "nginx proxy_pass over TLS", Baseline: "bare-tls", TLS: true, Nginx: true,
		What: "nginx terminating TLS, proxy_pass to the same plain bare upstream"},
}

// comparison pairs a Vigil row with the peer row that does comparable work.
type comparison struct {
	Vigil, Peer string
	Note        string // what differs in the work the two do, if anything
}

var comparisons = []comparison{
	{Vigil: "guard-memory", Peer: "httprate", Note: "httprate only limits the request rate; the guard also runs every detector"},
	{Vigil: "guard-memory", Peer: "coraza"},
	{Vigil: "vigil-proxy", Peer: "nginx", Note: "nginx only proxies; vigil proxy also runs the guard"},
	{Vigil: "vigil-proxy-tls", Peer: "nginx-tls", Note: "nginx only proxies; vigil proxy also runs the guard and fingerprints each connection"},
}

// selectConfigs returns the rows named in only (a comma-separated list; all when
// empty), in table order, adding the baselines they are measured against.
func selectConfigs(only string) ([]config, error) {
	if strings.TrimSpace(only) == "" {
		return configs, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		c, ok := configByName(n)
		if !ok {
			return nil, fmt.Errorf("-only: unknown configuration %q (have %s)", n, strings.Join(configNames(), ", "))
		}
		want[n] = true
		if c.Baseline != "" {
			want[c.Baseline] = true
		}
	}
	var out []config
	for _, c := range configs {
		if want[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

func configByName(name string) (config, bool) {
	for _, c := range configs {
		if c.Name == name {
			return c, true
		}
	}
	return config{}, false
}

func configNames() []string {
	var names []string
	for _, c := range configs {
		names = append(names, c.Name)
	}
	return names
}
