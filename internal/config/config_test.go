package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/config"
	"github.com/vigilhq/vigil/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// load writes content to vigil.yaml in a temporary directory, loads it with the overrides
// and returns the config and the error lines with the directory taken out.
func load(t *testing.T, content string, o ...config.Override) (config.Config, []string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, o...)
	if err == nil {
		return c, nil
	}
	return c, strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n")
}

func TestLoadGood(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:9090"},
		{"upstream", c.Proxy.Upstream, "http://127.0.0.1:8000"},
		{"health_path_default", c.Proxy.HealthPath, "/healthz"},
		{"log_level", c.LogLevel, "debug"},
		{"trusted_proxies", c.Guard.TrustedProxies, []string{"10.0.0.0/8", "192.168.1.1"}},
		{"fail_closed", c.Guard.FailClosed, true},
		{"max_body_bytes_default", c.Guard.MaxBodyBytes, int64(64 << 10)},
		{"mode", c.Guard.Policy.Mode, policy.ModeMonitor},
		{"block_threshold", c.Guard.Policy.BlockThreshold, 70},
		{"per_ip", c.Guard.Policy.RateLimit.PerIP, policy.Limit{Rate: 100, Period: policy.Duration(time.Minute), Burst: 20}},
		{"ban_ttl_default", c.Guard.Policy.Bans.TTL, policy.DefaultBanTTL},
		{"rule", c.Guard.Policy.Rules[0].Name, "block-admin"},
	}
	for _, ch := range checks {
		if diff := cmp.Diff(ch.want, ch.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ch.name, diff)
		}
	}
}

// TestEffective renders the effective configuration of testdata/*.yaml and compares it
// with the golden testdata/*.effective (rewrite with -update, then read the diff).
func TestEffective(t *testing.T) {
	for _, name := range []string{"good", "minimal"} {
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(filepath.Join("testdata", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".effective")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("effective config (-want +got):\n%s", diff)
			}
			// The rendering is itself a valid file that means the same.
			again, errs := load(t, string(got))
			if errs != nil {
				t.Fatalf("effective config does not load: %q", errs)
			}
			if diff := cmp.Diff(c, again); diff != "" {
				t.Errorf("effective config reloads differently (-first +again):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		env     map[string]string
		want    []string // every error line, in order
	}{
		{
			name:    "unknown_top_level_key",
			content: "upstream: http://127.0.0.1:8000\nlistn: :8080\n",
			want:    []string{`vigil.yaml:2: unknown field "listn"`},
		},
		{
			name:    "unknown_keys_everywhere_all_reported",
			content: "upstream: http://127.0.0.1:8000\nguard:\n  trusted_proxy: [10.0.0.0/8]\n  policy:\n    mode: block\n    treshold: 80\n    rules:\n      - name: r\n        action: block\n        match: {path: [/x]}\n",
			want: []string{
				`vigil.yaml:3: unknown field "trusted_proxy"`,
				`vigil.yaml:6: unknown field "treshold"`,
				`vigil.yaml:10: unknown field "path"`,
				// A consequence of the unknown key, reported as the rest of the file
				// is checked too.
				`vigil.yaml:10: guard.policy.rules[0].match: is empty and would match every request: to mean that, write paths: ["/**"]`,
			},
		},
		{
			name:    "redis_url_malformed",
			content: "upstream: http://127.0.0.1:8000\nredis_url: \"not a url\"\n",
			want:    []string{`vigil.yaml:2: redis_url: Redis address "not a url": want host:port or a redis:// URL`},
		},
		{
			name:    "redis_mode_from_env",
			content: "upstream: http://127.0.0.1:8000\nredis_url: 127.0.0.1:6379\n",
			env:     map[string]string{"VIGIL_REDIS_MODE": "eventual"},
			want:    []string{`VIGIL_REDIS_MODE: redis.mode: "eventual": want "local-first" or "exact"`},
		},
		{
			name:    "wrong_type",
			content: "upstream: http://127.0.0.1:8000\nguard:\n  max_body_bytes: lots\n",
			want:    []string{"vigil.yaml:3: cannot unmarshal !!str `lots` into a whole number"},
		},
		{
			name:    "bad_limit_and_duration",
			content: "upstream: http://127.0.0.1:8000\nguard:\n  policy:\n    rate_limit: {per_ip: fast}\n    bans: {ttl: forever}\n",
			want: []string{
				`vigil.yaml:4: invalid rate limit "fast": missing "/<period>" (write it as "100/1m" or "10/s burst 20")`,
				`vigil.yaml:5: invalid duration "forever": use a Go duration such as "90s" or "1h30m"`,
			},
		},
		{
			name:    "duplicate_key",
			content: "upstream: http://127.0.0.1:8000\nlisten: :1\nlisten: :2\n",
			want:    []string{`vigil.yaml:3: mapping key "listen" already defined at line 2`},
		},
		{
			name:    "syntax_error",
			content: "upstream: http://127.0.0.1:8000\nguard:\n  policy: [\n",
			want:    []string{"vigil.yaml:3: did not find expected node content"},
		},
		{
			name:    "not_a_mapping",
			content: "- listen\n",
			want:    []string{"vigil.yaml:1: the file must be a mapping of keys (listen, upstream, guard, …)"},
		},
		{
			name:    "two_documents",
			content: "upstream: http://127.0.0.1:8000\n---\nlisten: :1\n",
			want:    []string{"vigil.yaml:2: only one YAML document is allowed"},
		},
		{
			name:    "invalid_values_all_reported_with_lines",
			content: "listen: localhost\nupstream: ftp://127.0.0.1:8000\nlog_level: loud\nguard:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - not-an-ip\n  max_body_bytes: -1\n",
			want: []string{
				`vigil.yaml:1: listen: "localhost" is not host:port (for example 127.0.0.1:8080 or :8080)`,
				`vigil.yaml:3: log_level: must be debug, info, warn or error`,
				`vigil.yaml:7: guard.trusted_proxies[1]: "not-an-ip" is not an IP address or CIDR prefix`,
				`vigil.yaml:8: guard.max_body_bytes: must not be negative`,
				`vigil.yaml:2: upstream: "ftp://127.0.0.1:8000": scheme must be http or https`,
			},
		},
		{
			name:    "geo_file_missing",
			content: "upstream: http://127.0.0.1:8000\nguard:\n  geo:\n    asn_db: /nonexistent/asn.mmdb\n",
			want:    []string{"vigil.yaml:3: guard.geo: vigil: geo: ASN database: open /nonexistent/asn.mmdb: no such file or directory"},
		},
		{
			name:    "proxy_settings",
			content: "health_path: healthz\nflush_interval: -1s\n",
			want: []string{
				"upstream: missing: set upstream in the file, VIGIL_UPSTREAM or --upstream",
				"vigil.yaml:2: flush_interval: must not be negative",
				`vigil.yaml:1: health_path: "healthz" does not start with /`,
			},
		},
		{
			name:    "missing_upstream",
			content: "listen: 127.0.0.1:8080\n",
			want:    []string{"upstream: missing: set upstream in the file, VIGIL_UPSTREAM or --upstream"},
		},
		{
			name:    "env_parse_errors_name_the_variable",
			content: "upstream: http://127.0.0.1:8000\n",
			env:     map[string]string{"VIGIL_BLOCK_THRESHOLD": "high", "VIGIL_FAIL_CLOSED": "maybe", "VIGIL_MAX_BODY_BYTES": "1MB"},
			want: []string{
				`VIGIL_MAX_BODY_BYTES: guard.max_body_bytes: "1MB" is not a whole number`,
				`VIGIL_FAIL_CLOSED: guard.fail_closed: "maybe" is not true or false`,
				`VIGIL_BLOCK_THRESHOLD: guard.policy.block_threshold: "high" is not a whole number`,
			},
		},
		{
			name:    "env_value_invalid_names_the_variable_not_the_file",
			content: "listen: 127.0.0.1:8080\nupstream: http://127.0.0.1:8000\n",
			env:     map[string]string{"VIGIL_UPSTREAM": "127.0.0.1:8000", "VIGIL_TRUSTED_PROXIES": "10.0.0.0/8,bogus"},
			want: []string{
				`VIGIL_TRUSTED_PROXIES: guard.trusted_proxies[1]: "bogus" is not an IP address or CIDR prefix`,
				`VIGIL_UPSTREAM: upstream: "127.0.0.1:8000" is not a URL such as http://127.0.0.1:8000`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := config.Env(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			_, got := load(t, tt.content, o...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPolicyErrorsHaveLines checks that the policy's own validation problems are reported
// with the line of the offending field.
func TestPolicyErrorsHaveLines(t *testing.T) {
	content := "upstream: http://127.0.0.1:8000\nguard:\n  policy:\n    mode: enforce\n    block_threshold: 400\n"
	_, got := load(t, content)
	if len(got) != 2 {
		t.Fatalf("errors %q, want two", got)
	}
	for i, prefix := range []string{"vigil.yaml:4: ", "vigil.yaml:5: "} {
		if !strings.HasPrefix(got[i], prefix) {
			t.Errorf("error %q, want prefix %q", got[i], prefix)
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := "listen: 127.0.0.1:1111\nupstream: http://127.0.0.1:8000\nlog_level: warn\nguard:\n  trusted_proxies: [10.0.0.0/8]\n  policy: {mode: block, block_threshold: 60}\n"
	env := map[string]string{
		"VIGIL_LISTEN":          "127.0.0.1:2222",
		"VIGIL_MODE":            "monitor",
		"VIGIL_TRUSTED_PROXIES": " 192.168.0.0/16 , 172.16.0.0/12 ",
		"VIGIL_FAIL_CLOSED":     "true",
		"VIGIL_MAX_BODY_BYTES":  "1024",
	}
	flags := []config.Override{
		{Key: "listen", Value: "127.0.0.1:3333", Source: "--listen"},
		{Key: "guard.trusted_proxies", Value: "", Source: "--trusted-proxies"},
	}
	o := append(config.Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok }), flags...)
	c, errs := load(t, file, o...)
	if errs != nil {
		t.Fatalf("errors: %q", errs)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"flag_beats_env_and_file", c.Listen, "127.0.0.1:3333"},
		{"env_beats_file", c.Guard.Policy.Mode, policy.ModeMonitor},
		{"file_beats_default", c.LogLevel, "warn"},
		{"file_kept_when_not_overridden", c.Guard.Policy.BlockThreshold, 60},
		{"empty_flag_list_clears", c.Guard.TrustedProxies, []string{}},
		{"env_bool", c.Guard.FailClosed, true},
		{"env_int", c.Guard.MaxBodyBytes, int64(1024)},
	}
	for _, ch := range checks {
		if diff := cmp.Diff(ch.want, ch.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ch.name, diff)
		}
	}
}

func TestEnvListsAndNoFile(t *testing.T) {
	env := map[string]string{"VIGIL_UPSTREAM": "http://127.0.0.1:8000", "VIGIL_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}
	c, err := config.Load("", config.Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok })...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8", "::1"}, c.Guard.TrustedProxies); diff != "" {
		t.Errorf("trusted proxies (-want +got):\n%s", diff)
	}
	if c.Listen != config.DefaultListen || c.Guard.Policy.Mode != policy.ModeBlock {
		t.Errorf("defaults not applied: listen %q mode %q", c.Listen, c.Guard.Policy.Mode)
	}
}

func TestEnvVarsCoverRequiredNames(t *testing.T) {
	vars := config.EnvVars()
	for _, name := range []string{"VIGIL_LISTEN", "VIGIL_UPSTREAM", "VIGIL_MODE", "VIGIL_BLOCK_THRESHOLD",
		"VIGIL_TRUSTED_PROXIES", "VIGIL_LOG_LEVEL", "VIGIL_FAIL_CLOSED", "VIGIL_MAX_BODY_BYTES"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("%s is not read", name)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one that is os.ErrNotExist", err)
	}
}

func TestUnknownOverrideKey(t *testing.T) {
	_, err := config.Load("", config.Override{Key: "guard.store", Value: "x", Source: "--store"},
		config.Override{Key: "upstream", Value: "http://127.0.0.1:1", Source: "--upstream"})
	if err == nil || err.Error() != "--store: guard.store cannot be overridden" {
		t.Errorf("error %v", err)
	}
}

// TestPackageDocExample keeps the example file in the package doc valid.
func TestPackageDocExample(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "A file looks like this")
	doc, _, _ := strings.Cut(rest, "The file is read")
	var example strings.Builder
	for l := range strings.Lines(doc) {
		if y, ok := strings.CutPrefix(l, "//\t"); ok {
			example.WriteString(y)
		}
	}
	if !strings.Contains(example.String(), "upstream:") {
		t.Fatalf("no example found in the package doc:\n%s", doc)
	}
	if _, errs := load(t, example.String()); errs != nil {
		t.Errorf("the package doc's example does not load: %q", errs)
	}
}
