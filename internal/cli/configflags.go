package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/config"
)

// configFlags are the flags that load a configuration: the file and the settings that
// override it.
type configFlags struct {
	file string
	// flag name → configuration key
	keys []struct{ flag, key string }
}

// register adds the flags to cmd.
func (f *configFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "config", "c", "", "configuration `file` (vigil.yaml); without it, only the environment and flags")
	add := func(flag, key, usage string) {
		f.keys = append(f.keys, struct{ flag, key string }{flag, key})
		fs.String(flag, "", usage)
	}
	add("listen", "listen", "`address` to listen on, host:port (default "+config.DefaultListen+"; port 0 picks a free one)")
	add("upstream", "upstream", "`URL` of the protected service, for example http://127.0.0.1:8000")
	add("mode", "guard.policy.mode", "block (enforce) or monitor (decide and log, enforce nothing)")
	add("log-level", "log_level", "debug, info, warn or error (default info)")
	f.keys = append(f.keys, struct{ flag, key string }{"trusted-proxies", "guard.trusted_proxies"})
	fs.StringSlice("trusted-proxies", nil, "comma-separated `CIDRs` of proxies whose forwarding headers are believed")
	add("redis", "redis_url", "Redis `URL` to share limits, counters and bans with other instances (redis://, rediss://, or host:port,... for a Cluster)")
	add("studio", "studio.endpoint", "Studio `URL`: report every decision there and take policy from it (with --studio-key)")
	add("studio-key", "studio.key", "Studio ingest `key` for --studio")
	add("metrics-listen", "metrics_listen", "`address` (host:port) serving Prometheus metrics on /metrics; needs --studio")
	add("studio-dir", "studio.dir", "`directory` for the agent's spool and last good policy (default: memory only, lost on restart)")
	add("tls-cert", "tls.cert_file", "PEM certificate `file`: terminate TLS and fingerprint every connection (with --tls-key)")
	add("tls-key", "tls.key_file", "PEM private key `file` for --tls-cert")
	f.keys = append(f.keys, struct{ flag, key string }{"tls-self-signed", "tls.self_signed"})
	fs.Bool("tls-self-signed", false, "terminate TLS with a new self-signed certificate for localhost (development only)")
}

// load loads the configuration as the flags, the environment and the file say.
func (f *configFlags) load(cmd *cobra.Command, env func(string) (string, bool)) (config.Config, error) {
	overrides := config.Env(env)
	fs := cmd.Flags()
	for _, k := range f.keys {
		if !fs.Changed(k.flag) {
			continue
		}
		var v string
		switch k.flag {
		case "trusted-proxies":
			list, _ := fs.GetStringSlice(k.flag) // registered as a slice above
			v = strings.Join(list, ",")
		case "tls-self-signed":
			b, _ := fs.GetBool(k.flag) // registered as a bool above
			v = strconv.FormatBool(b)
		default:
			v, _ = fs.GetString(k.flag) // registered as a string above
		}
		overrides = append(overrides, config.Override{Key: k.key, Value: v, Source: "--" + k.flag})
	}
	c, err := config.Load(f.file, overrides...)
	if err != nil {
		what := "configuration"
		if f.file != "" {
			what = f.file
		}
		return config.Config{}, problems(what, err)
	}
	return c, nil
}

// envHelp describes the environment variables that override the configuration file.
func envHelp() string {
	vars := config.EnvVars()
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("Environment variables override the file and are overridden by flags:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-24s %s\n", name, vars[name])
	}
	return strings.TrimSuffix(b.String(), "\n")
}
