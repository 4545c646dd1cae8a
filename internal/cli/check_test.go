package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/config"
)

func TestCheck(t *testing.T) {
	good := "upstream: http://127.0.0.1:8000\nguard:\n  policy:\n    mode: monitor\n"
	bad := "upstream: http://127.0.0.1:8000\nlistn: :8080\nguard:\n  policy:\n    mode: block\n    treshold: 80\n"
	invalid := "listen: nowhere\nupstream: ftp://x\nlog_level: loud\n"
	tests := []struct {
		name       string
		content    string
		args       []string
		env        map[string]string
		wantErr    bool
		wantStdout []string // substrings
		wantStderr []string // lines, in order
	}{
		{
			name: "good_file_prints_effective_config", content: good,
			wantStdout: []string{"upstream: http://127.0.0.1:8000\n", "    mode: monitor\n", "    block_threshold: 80\n", "per_ip: 600/1m burst 100", "listen: 127.0.0.1:8080\n"},
		},
		{
			name: "flags_and_env_apply", content: good, args: []string{"--mode", "block", "--listen", "127.0.0.1:9999"},
			env:        map[string]string{"VIGIL_BLOCK_THRESHOLD": "65", "VIGIL_LISTEN": "127.0.0.1:7777"},
			wantStdout: []string{"    mode: block\n", "    block_threshold: 65\n", "listen: 127.0.0.1:9999\n"},
		},
		{
			name: "unknown_keys_with_lines", content: bad, wantErr: true,
			wantStderr: []string{
				"vigil: FILE: 2 problems:",
				`  FILE:2: unknown field "listn"`,
				`  FILE:6: unknown field "treshold"`,
			},
		},
		{
			name: "invalid_values_with_lines", content: invalid, wantErr: true,
			wantStderr: []string{
				"vigil: FILE: 3 problems:",
				`  FILE:1: listen: "nowhere" is not host:port (for example 127.0.0.1:8080 or :8080)`,
				`  FILE:3: log_level: must be debug, info, warn or error`,
				`  FILE:2: upstream: "ftp://x": scheme must be http or https`,
			},
		},
		{
			name: "config_flag_required", wantErr: true,
			wantStderr: []string{`vigil: required flag(s) "config" not set`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check"}, tt.args...)
			var file string
			if tt.content != "" {
				file = writeFile(t, "vigil.yaml", tt.content)
				args = append(args, "--config", file)
			}
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			var stdout, stderr strings.Builder
			err := run(context.Background(), args, &stdout, &stderr, env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v\nstderr:\n%s", err, tt.wantErr, stderr.String())
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if tt.wantStderr != nil {
				want := strings.Join(tt.wantStderr, "\n") + "\n"
				got := stderr.String()
				if file != "" {
					got = strings.ReplaceAll(got, file, "FILE")
				}
				if got != want {
					t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
				}
			}
			if !tt.wantErr {
				// What check prints is a configuration that loads to the same thing.
				again := writeFile(t, "effective.yaml", stdout.String())
				if _, err := config.Load(again); err != nil {
					t.Errorf("the effective configuration does not load: %v", err)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout strings.Builder
	if err := run(context.Background(), []string{"version"}, &stdout, &strings.Builder{}, noEnv); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout.String(), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "vigil ") || !strings.HasPrefix(lines[1], "go go1.") {
		t.Errorf("version output:\n%s", stdout.String())
	}
}

func TestHelpListsCommands(t *testing.T) {
	var stdout strings.Builder
	if err := run(context.Background(), []string{"--help"}, &stdout, &strings.Builder{}, noEnv); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "demo", "proxy", "version"} {
		if !strings.Contains(stdout.String(), "\n  "+cmd+" ") {
			t.Errorf("help does not list %s:\n%s", cmd, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "completion") {
		t.Error("help lists the completion command")
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"serve"}, &strings.Builder{}, &stderr, noEnv)
	if err == nil || !strings.HasPrefix(stderr.String(), `vigil: unknown command "serve" for "vigil"`) {
		t.Errorf("error %v, stderr %q", err, stderr.String())
	}
}
