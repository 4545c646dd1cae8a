// Package config is the configuration of `vigil proxy` and `vigil check`: the format of
// vigil.yaml, the VIGIL_* environment variables and command-line flags that override it,
// and validation that reports every problem at once, each with where it came from.
//
// A file looks like this; every key is optional except upstream:
//
//	listen: 127.0.0.1:8080            # address of the proxy
//	upstream: http://127.0.0.1:8000   # the protected service
//	preserve_host: false              # send the client's Host upstream
//	health_path: /healthz             # answered by the proxy itself
//	log_level: info                   # debug, info, warn or error
//	guard:                            # vigil.Config's serialisable fields
//	  trusted_proxies: [10.0.0.0/8]
//	  client_ip_header: ""
//	  trust_request_id: false
//	  max_body_bytes: 65536
//	  fail_closed: false
//	  offline: false                  # true: no DNS look-ups (crawler verification, e-mail MX)
//	  memory_store: {max_keys: 1048576}
//	  geo: {}                         # GeoIP files (vigil.GeoConfig): country_db, asn_db, cloud_ranges
//	  policy:                         # a policy.Policy
//	    mode: block
//	    block_threshold: 80
//	    rate_limit: {per_ip: 600/1m burst 100}
//
// The file is read strictly: an unknown key, a value of the wrong type and a duplicate key
// are errors naming their line. Settings apply in this order, later ones winning: the
// defaults, the file, the environment (see EnvVars), the command line.
package config

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/policy"
	"github.com/vigilhq/vigil/proxy"
	"github.com/vigilhq/vigil/redisstore"
)

// Defaults for fields whose zero value is not shown as such. The guard's values are those
// its documentation gives for a zero field; they are written out so that the effective
// configuration shows what runs.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultLogLevel     = "info"
	DefaultHealthPath   = "/healthz"
	DefaultMaxBodyBytes = vigil.DefaultMaxBodyBytes
	DefaultMaxKeys      = vigil.DefaultMemoryStoreMaxKeys
)

// Config is the content of vigil.yaml. The zero value is not valid (it has no upstream);
// Load returns a Config with every default written out. A Config is plain data.
type Config struct {
	// Listen is the proxy's address, host:port. Empty means DefaultListen, which is
	// reachable from this machine only; use ":8080" or "0.0.0.0:8080" to serve others.
	// Port 0 picks a free port.
	Listen string `yaml:"listen"`
	// MetricsListen, when set, is a second address (host:port) that serves Prometheus
	// metrics on /metrics: the guard's request totals and the agent's counters (see
	// agent.Agent.WritePrometheus). It needs studio, whose agent keeps the counters.
	// Keep it where only the monitoring system reaches it.
	MetricsListen string `yaml:"metrics_listen,omitempty"`
	// TLS makes the proxy terminate TLS itself. It then observes every connection
	// completely: the ClientHello (JA4, JA3), HTTP/2 settings and each request's
	// header order, which plain HTTP cannot show the guard. The zero value serves
	// plain HTTP.
	TLS TLS `yaml:"tls,omitempty"`
	// Proxy holds the upstream and the proxy's settings, at the top level of the file.
	Proxy proxy.Config `yaml:",inline"`
	// LogLevel is "debug", "info", "warn" or "error". Empty means "info", which shows
	// every decision to block, rate-limit or (in monitor mode) what would have been.
	LogLevel string `yaml:"log_level"`
	// Guard configures the guard. Its zero value is the default guard.
	Guard vigil.Config `yaml:"guard"`
	// RedisURL shares the guard's state — rate limits, counters and bans — with every
	// other instance through Redis: "redis://host:6379", "rediss://…" for TLS, or
	// "host1:port,host2:port,…" for a Cluster (see redisstore.ParseURL). Empty keeps
	// the state in this process's memory.
	RedisURL string `yaml:"redis_url,omitempty"`
	// Redis tunes the Redis store (mode, key prefix, sync interval, timeouts, circuit
	// breaker); see redisstore.Config. It applies only with RedisURL.
	Redis redisstore.Config `yaml:"redis,omitempty"`
	// Studio reports every decision to Studio and takes policy from it, through the
	// telemetry agent (package agent): endpoint (Studio's URL) and key (an ingest key)
	// turn it on; dir keeps the spool, so that events survive restarts and outages,
	// and the last good policy. Empty endpoint: no agent.
	Studio agent.Config `yaml:"studio,omitempty"`
}

// TLS is where the proxy's certificate comes from: a certificate and key file pair,
// or, for development only, a self-signed certificate made at start.
type TLS struct {
	// CertFile and KeyFile are PEM files, read at start. Both or neither.
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// SelfSigned makes a new self-signed certificate for localhost, 127.0.0.1 and ::1
	// at every start. Clients will not trust it: for development and tests.
	SelfSigned bool `yaml:"self_signed,omitempty"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" || t.SelfSigned }

// Certificate loads or makes the certificate t describes.
func (t TLS) Certificate() (tls.Certificate, error) {
	if t.SelfSigned {
		return selfsigned.Certificate()
	}
	return tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
}

func (t TLS) validate() (key string, err error) {
	switch {
	case t.SelfSigned && (t.CertFile != "" || t.KeyFile != ""):
		return "tls.self_signed", errors.New("cannot be combined with cert_file and key_file")
	case t.CertFile == "" && t.KeyFile != "":
		return "tls.cert_file", errors.New("missing: key_file is set")
	case t.KeyFile == "" && t.CertFile != "":
		return "tls.key_file", errors.New("missing: cert_file is set")
	case t.CertFile != "":
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			return "tls.cert_file", err
		}
	}
	return "", nil
}

// Override sets one setting from outside the file: from the environment or a flag.
type Override struct {
	// Key names the setting as a dotted path of file keys, for example "listen" or
	// "guard.policy.mode"; Keys lists those that can be overridden.
	Key string
	// Value is the setting's text. A list is comma-separated; an empty text is an
	// empty list.
	Value string
	// Source says where the value came from, for error messages: "VIGIL_MODE",
	// "--mode".
	Source string
}

// setting is a key that the environment and flags can set.
type setting struct {
	key string
	env string
	set func(c *Config, v string) error
}

// settings returns the overridable settings, in the order of the file.
func settings() []setting {
	return []setting{
		{"listen", "VIGIL_LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
		{"metrics_listen", "VIGIL_METRICS_LISTEN", func(c *Config, v string) error { c.MetricsListen = strings.TrimSpace(v); return nil }},
		{"tls.cert_file", "VIGIL_TLS_CERT", func(c *Config, v string) error { c.TLS.CertFile = v; return nil }},
		{"tls.key_file", "VIGIL_TLS_KEY", func(c *Config, v string) error { c.TLS.KeyFile = v; return nil }},
		{"tls.self_signed", "VIGIL_TLS_SELF_SIGNED", func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.TLS.SelfSigned = b
			return nil
		}},
		{"upstream", "VIGIL_UPSTREAM", func(c *Config, v string) error { c.Proxy.Upstream = v; return nil }},
		{"redis_url", "VIGIL_REDIS_URL", func(c *Config, v string) error { c.RedisURL = strings.TrimSpace(v); return nil }},
		{"studio.endpoint", "VIGIL_STUDIO_URL", func(c *Config, v string) error { c.Studio.Endpoint = strings.TrimSpace(v); return nil }},
		{"studio.key", "VIGIL_STUDIO_KEY", func(c *Config, v string) error { c.Studio.Key = strings.TrimSpace(v); return nil }},
		{"studio.dir", "VIGIL_STUDIO_DIR", func(c *Config, v string) error { c.Studio.Dir = strings.TrimSpace(v); return nil }},
		{"redis.mode", "VIGIL_REDIS_MODE", func(c *Config, v string) error { c.Redis.Mode = redisstore.Mode(strings.TrimSpace(v)); return nil }},
		{"log_level", "VIGIL_LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
		{"guard.trusted_proxies", "VIGIL_TRUSTED_PROXIES", func(c *Config, v string) error {
			c.Guard.TrustedProxies = splitList(v)
			return nil
		}},
		{"guard.client_ip_header", "VIGIL_CLIENT_IP_HEADER", func(c *Config, v string) error { c.Guard.ClientIPHeader = v; return nil }},
		{"guard.max_body_bytes", "VIGIL_MAX_BODY_BYTES", func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			c.Guard.MaxBodyBytes = n
			return nil
		}},
		{"guard.fail_closed", "VIGIL_FAIL_CLOSED", func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.Guard.FailClosed = b
			return nil
		}},
		{"guard.policy.mode", "VIGIL_MODE", func(c *Config, v string) error { c.Guard.Policy.Mode = policy.Mode(v); return nil }},
		{"guard.policy.block_threshold", "VIGIL_BLOCK_THRESHOLD", func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			c.Guard.Policy.BlockThreshold = n
			return nil
		}},
	}
}

// EnvVars returns the environment variables Env reads, each with the key it sets.
func EnvVars() map[string]string {
	m := map[string]string{}
	for _, s := range settings() {
		m[s.env] = s.key
	}
	return m
}

// Env returns the overrides set by VIGIL_* variables, looked up with lookup (os.LookupEnv
// in the CLI). A variable that is set but empty sets an empty value.
func Env(lookup func(string) (string, bool)) []Override {
	var out []Override
	for _, s := range settings() {
		if v, ok := lookup(s.env); ok {
			out = append(out, Override{Key: s.key, Value: v, Source: s.env})
		}
	}
	return out
}

func splitList(v string) []string {
	out := []string{}
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Load reads the file at path (none when path is empty), applies the overrides in order,
// fills in the defaults and validates the result, building the guard and the proxy as
// `vigil proxy` would. Its error lists every problem found, one per line, each prefixed
// with where the faulty value came from: "vigil.yaml:12: ...", "VIGIL_MODE: ...",
// "--listen: ...".
func Load(path string, overrides ...Override) (Config, error) {
	return load(path, true, overrides)
}

// LoadGuard is Load for commands that run the guard without a proxy (vigil replay):
// the proxy's settings are read and defaulted but not required or checked, so a file
// written for vigil proxy loads as it is and one without an upstream loads too.
func LoadGuard(path string, overrides ...Override) (Config, error) {
	return load(path, false, overrides)
}

func load(path string, proxy bool, overrides []Override) (Config, error) {
	var c Config
	var src *source
	var errs []error
	readable := true
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, err // names the file
		}
		src, errs, readable = decode(path, data, &c)
	}
	origin := map[string]string{}
	known := map[string]setting{}
	for _, s := range settings() {
		known[s.key] = s
	}
	for _, o := range overrides {
		s, ok := known[o.Key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s cannot be overridden", o.Source, o.Key))
			continue
		}
		if err := s.set(&c, o.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", o.Source, o.Key, err))
			continue
		}
		origin[o.Key] = o.Source
	}
	c = c.WithDefaults()
	if !readable {
		// A syntax error leaves nothing decoded: checking the rest would report
		// problems that are not there.
		return c, errors.Join(errs...)
	}
	where := func(key string) string {
		if o, ok := origin[key]; ok {
			return o + ": "
		}
		// A setting from the file, or one under an overridden key (a list item).
		for k, o := range origin {
			if strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[") {
				return o + ": "
			}
		}
		if line := src.line(key); line > 0 {
			return src.name + ":" + strconv.Itoa(line) + ": "
		}
		return ""
	}
	errs = append(errs, c.validate(where, proxy)...)
	return c, errors.Join(errs...)
}

// WithDefaults returns a copy of c with every default written out, the policy's included.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
	if c.Proxy.HealthPath == "" {
		c.Proxy.HealthPath = DefaultHealthPath
	}
	if c.Guard.MaxBodyBytes == 0 {
		c.Guard.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Guard.MemoryStore.MaxKeys == 0 {
		c.Guard.MemoryStore.MaxKeys = DefaultMaxKeys
	}
	c.Guard.Policy = c.Guard.Policy.WithDefaults()
	return c
}

// YAML returns c in the file format. For a Config from Load it is the effective
// configuration: every default written out.
func (c Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Level returns LogLevel as a slog.Level; for a Config that Load accepted it cannot fail.
func (c Config) Level() (slog.Level, error) {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level %q is not debug, info, warn or error", c.LogLevel)
}

// Build returns the guard and the proxy that c describes, logging to log, and the
// background work: with RedisURL set, run (with the context of the whole process) syncs
// with Redis until the context ends, then closes the client; with Studio set it also
// runs the telemetry agent until the context ends, which then spools what is left;
// otherwise it returns nil at once. metrics serves the Prometheus exposition when
// Studio is set, and is nil otherwise.
func (c Config) Build(log *slog.Logger) (g *vigil.Guard, p *proxy.Proxy, run func(context.Context) error, metrics http.Handler, err error) {
	gc := c.Guard
	gc.Logger = log
	gc.Phones = fraud.PhoneAnalyzer{} // the binary links the phone metadata anyway (vigil phone)
	run = func(context.Context) error { return nil }
	if c.RedisURL != "" {
		client, err := redisstore.ParseURL(c.RedisURL)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		rc := c.Redis
		rc.Logger = log
		store, err := redisstore.New(client, rc)
		if err != nil {
			_ = client.Close()
			return nil, nil, nil, nil, err
		}
		gc.Store = store
		run = func(ctx context.Context) error {
			defer client.Close()
			return store.Run(ctx)
		}
	}
	var ag *agent.Agent
	if c.Studio.Endpoint != "" {
		ac := c.Studio
		ac.Logger = log
		if ag, err = agent.New(ac); err != nil {
			return nil, nil, nil, nil, err
		}
		gc.Events = ag
		storeRun := run
		run = func(ctx context.Context) error {
			errc := make(chan error, 1)
			go func() { errc <- ag.Run(ctx) }()
			err := storeRun(ctx)
			if aerr := <-errc; err == nil {
				err = aerr
			}
			return err
		}
	}
	if g, err = vigil.New(gc); err != nil {
		return nil, nil, nil, nil, err
	}
	if ag != nil {
		ag.SetGuard(g)
	}
	pc := c.Proxy
	pc.Logger = log
	pc.Status = func() any { return map[string]any{"store": "memory"} }
	if rs, ok := gc.Store.(*redisstore.Store); ok {
		// A health check that asks for JSON sees the Redis store's state: whether it
		// is degraded, its outages and recoveries, its fallbacks to local decisions.
		pc.Status = func() any { return map[string]any{"store": "redis", "redis": rs.Stats()} }
	}
	if ag != nil {
		// … and the agent's: queue, spool, drops, the last success and error.
		status := pc.Status
		pc.Status = func() any {
			m := status().(map[string]any)
			m["studio"] = ag.Stats()
			return m
		}
	}
	if p, err = proxy.New(g, pc); err != nil {
		return nil, nil, nil, nil, err
	}
	if ag != nil {
		metrics = ag.MetricsHandler()
	}
	return g, p, run, metrics, nil
}

// validate checks c, which has its defaults, and returns every problem, each prefixed by
// where(key) for the key it concerns. Without proxy, the proxy's settings (upstream,
// health path, flush interval) are not checked.
func (c Config) validate(where func(key string) string, proxy bool) []error {
	var errs []error
	add := func(key string, err error) {
		errs = append(errs, fmt.Errorf("%s%s: %w", where(key), key, err))
	}
	if err := checkListen(c.Listen); err != nil {
		add("listen", err)
	}
	if c.MetricsListen != "" {
		if err := checkListen(c.MetricsListen); err != nil {
			add("metrics_listen", err)
		} else if c.Studio.Endpoint == "" {
			add("metrics_listen", errors.New("needs studio: the agent keeps the counters"))
		}
	}
	switch st := c.Studio; {
	case st.Endpoint == "" && st.Key != "":
		add("studio.endpoint", errors.New("missing: studio.key is set; set studio.endpoint in the file, VIGIL_STUDIO_URL or --studio"))
	case st.Endpoint != "" && st.Key == "":
		add("studio.key", errors.New("missing: studio.endpoint is set; set studio.key in the file, VIGIL_STUDIO_KEY or --studio-key"))
	case st.Endpoint != "":
		if u, err := url.Parse(st.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("studio.endpoint", fmt.Errorf("%q is not an http or https URL", st.Endpoint))
		}
	}
	if _, err := c.Level(); err != nil {
		add("log_level", errors.New("must be debug, info, warn or error"))
	}
	if key, err := c.TLS.validate(); err != nil {
		add(key, err)
	}
	if c.RedisURL != "" {
		if client, err := redisstore.ParseURL(c.RedisURL); err != nil {
			add("redis_url", errors.New(strings.TrimPrefix(err.Error(), "redisstore: ")))
		} else {
			if _, err := redisstore.New(client, c.Redis); err != nil {
				// "redisstore: mode …" is about redis.mode, and so on.
				msg := strings.TrimPrefix(err.Error(), "redisstore: ")
				key := "redis"
				if f, rest, ok := strings.Cut(msg, " "); ok && strings.Contains("mode key_prefix sync_interval local_share op_timeout breaker_failures breaker_cooldown max_keys", f) {
					key, msg = "redis."+f, rest
				}
				add(key, errors.New(msg))
			}
			_ = client.Close()
		}
	}
	var ipErrs, policyErrs int
	for i, tp := range c.Guard.TrustedProxies {
		if _, err := netip.ParsePrefix(tp); err != nil {
			if _, err := netip.ParseAddr(tp); err != nil {
				add(fmt.Sprintf("guard.trusted_proxies[%d]", i), fmt.Errorf("%q is not an IP address or CIDR prefix", tp))
				ipErrs++
			}
		}
	}
	if c.Guard.MaxBodyBytes < 0 {
		add("guard.max_body_bytes", errors.New("must not be negative"))
	}
	if c.Guard.MemoryStore.MaxKeys < 0 {
		add("guard.memory_store.max_keys", errors.New("must not be negative"))
	}
	for _, err := range flatten(c.Guard.Policy.Validate()) {
		key := "guard.policy"
		if p := policyPath(err); p != "" {
			key += "." + p
		}
		errs = append(errs, fmt.Errorf("%sguard.policy.%w", where(key), err))
		policyErrs++
	}
	if _, err := vigil.New(c.Guard); err != nil {
		// The guard found a problem. Building it part by part says which part, unless
		// the checks above already reported that part.
		reported := len(errs)
		if ipErrs == 0 {
			if _, err := vigil.New(vigil.Config{TrustedProxies: c.Guard.TrustedProxies, ClientIPHeader: c.Guard.ClientIPHeader}); err != nil {
				add("guard.trusted_proxies", err)
			}
		}
		if policyErrs == 0 {
			if _, err := vigil.New(vigil.Config{Policy: c.Guard.Policy}); err != nil {
				add("guard.policy", err)
			}
		}
		if gc := c.Guard.Geo; gc.CountryDB != "" || gc.ASNDB != "" || len(gc.CloudRanges) > 0 || len(gc.HostingASNs) > 0 {
			if _, err := vigil.New(vigil.Config{Geo: gc}); err != nil {
				add("guard.geo", err)
			}
		}
		if len(errs) == reported && reported == 0 {
			add("guard", err)
		}
	}
	if !proxy {
		return errs
	}
	for _, err := range flatten(c.Proxy.Validate()) {
		msg := strings.TrimPrefix(err.Error(), "proxy: ")
		key := "upstream"
		for _, k := range []string{"health_path", "flush_interval"} {
			if strings.HasPrefix(msg, k+" ") {
				key = k
			}
		}
		if c.Proxy.Upstream == "" && key == "upstream" {
			msg = "missing: set upstream in the file, VIGIL_UPSTREAM or --upstream"
		}
		add(key, errors.New(strings.TrimPrefix(msg, key+" ")))
	}
	return errs
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (for example 127.0.0.1:8080 or :8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// flatten returns the leaves of a tree of joined errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// pathPrefix matches the field path at the start of a policy error, "rules[2].match: …".
var pathPrefix = regexp.MustCompile(`^([a-z_]+(?:\[[0-9]+\])?(?:\.[a-z_]+(?:\[[0-9]+\])?)*): `)

// policyPath returns the field path a policy error starts with, or "".
func policyPath(err error) string {
	m := pathPrefix.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	return m[1]
}

// source is a decoded file, kept to find the line of a key.
type source struct {
	name string
	root *yaml.Node // the document's top mapping; nil for an empty file
}

// decode decodes data strictly into c and returns the file's node tree and every error,
// each prefixed with name and line. It reports whether the rest of the file was read
// despite the errors: unknown keys and values of the wrong type are skipped, a syntax
// error stops decoding.
func decode(name string, data []byte, c *Config) (src *source, errs []error, readable bool) {
	src = &source{name: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return src, yamlErrors(name, err), false
	}
	if len(doc.Content) == 0 {
		return src, nil, true // empty file
	}
	src.root = doc.Content[0]
	if src.root.Kind != yaml.MappingNode {
		return src, []error{fmt.Errorf("%s:%d: the file must be a mapping of keys (listen, upstream, guard, …)", name, src.root.Line)}, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	readable = true
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		// A *yaml.TypeError lists problems the decoder skipped, except a duplicate
		// key, which makes it drop the whole mapping.
		var te *yaml.TypeError
		readable = errors.As(err, &te) && !strings.Contains(err.Error(), " already defined at line ")
		errs = append(errs, yamlErrors(name, err)...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		errs = append(errs, fmt.Errorf("%s:%d: only one YAML document is allowed", name, extra.Line))
	}
	return src, errs, readable
}

var (
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): (.*)$`)
	notFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlErrors turns a yaml.v3 error into one error per problem, each "name:line: message".
func yamlErrors(name string, err error) []error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			msg := sm[2]
			if f := notFound.FindStringSubmatch(msg); f != nil {
				msg = fmt.Sprintf("unknown field %q", f[1])
			} else if i := strings.LastIndex(msg, " into "); i >= 0 && strings.HasPrefix(msg, "cannot unmarshal ") {
				msg = msg[:i] + " into " + typeWords(msg[i+len(" into "):])
			}
			out = append(out, fmt.Errorf("%s:%s: %s", name, sm[1], msg))
			continue
		}
		out = append(out, fmt.Errorf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
	}
	return out
}

// typeWords describes a Go type named in a yaml error in words a configuration author
// knows.
func typeWords(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "string", t == "policy.Mode", t == "policy.Action":
		return "a string"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "time.Duration":
		return "a duration"
	case strings.Contains(t, "."):
		return "a mapping"
	}
	return t
}

// line returns the line of the value at key, a dotted path with optional [i] list
// indices, or of its nearest ancestor present in the file; 0 when there is none. The
// proxy's settings sit at the top level of the file.
func (s *source) line(key string) int {
	if s == nil || s.root == nil {
		return 0
	}
	n, best := s.root, 0
	for part := range strings.SplitSeq(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		k, next := mapEntry(n, name)
		if next == nil {
			return best
		}
		n, best = next, k.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return best
			}
			n = n.Content[idx]
			best = n.Line
		}
	}
	return best
}

// mapEntry returns the key and value nodes of key in the mapping n, or nils.
func mapEntry(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}
