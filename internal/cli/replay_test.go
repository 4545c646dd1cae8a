package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vigil replay prints one JSON line per record and a summary; a configuration file
// written for vigil proxy (with an upstream) and one without both load.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	records := filepath.Join(dir, "requests.jsonl")
	if err := os.WriteFile(records, []byte(`{"method":"GET","path":"/products","label":"benign"}
{"method":"GET","path":"/","query":"id=1%27%20OR%201=1--","label":"attack"}
{"method":"GET","path":"/.git/config","label":"attack"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "access.log")
	if err := os.WriteFile(log, []byte(`203.0.113.7 - - [21/Nov/2026:10:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404 0 "-" "python-requests/2.32"
203.0.113.7 - - [21/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 10 "-" "python-requests/2.32"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	monitor := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(monitor, []byte("upstream: http://127.0.0.1:9\nguard:\n  policy:\n    mode: monitor\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Line    int    `json:"line"`
		Action  string `json:"action"`
		WouldBe string `json:"would_be"`
		Signals []struct {
			Code string `json:"code"`
		} `json:"signals"`
	}
	for _, tc := range []struct {
		name        string
		args        []string
		wantAction  []string
		wantWouldBe []string
		wantSummary string
	}{
		{"jsonl", []string{"replay", records}, []string{"allow", "block", "block"}, []string{"allow", "block", "block"}, "labelled attacks caught: 2 of 2"},
		{"combined", []string{"replay", "--format", "combined", log}, []string{"block", "block"}, []string{"block", "block"}, "replayed 2 requests"},
		{"monitor_config", []string{"replay", "--config", monitor, records}, []string{"allow", "allow", "allow"}, []string{"allow", "block", "block"}, "labelled attacks caught: 2 of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if err := run(context.Background(), tc.args, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			var got []line
			for l := range strings.Lines(stdout.String()) {
				var x line
				if err := json.Unmarshal([]byte(l), &x); err != nil {
					t.Fatalf("output line %q: %v", l, err)
				}
				got = append(got, x)
			}
			if len(got) != len(tc.wantAction) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(tc.wantAction), stdout.String())
			}
			for i, g := range got {
				if g.Line != i+1 || g.Action != tc.wantAction[i] || g.WouldBe != tc.wantWouldBe[i] {
					t.Errorf("line %d: %+v, want action %s would_be %s", i+1, g, tc.wantAction[i], tc.wantWouldBe[i])
				}
			}
			if !strings.Contains(stderr.String(), tc.wantSummary) {
				t.Errorf("summary lacks %q:\n%s", tc.wantSummary, stderr.String())
			}
		})
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--format", "csv", records}, "--format"},
		{[]string{"replay", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"replay", "--format", "combined", records}, "line 1"},
		{[]string{"replay", "--mode", "audit", records}, "--mode"},
	} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), bad.args, &stdout, &stderr, noEnv)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), bad.want) {
			t.Errorf("%v: error %v (stderr %q), want one mentioning %q", bad.args, err, stderr.String(), bad.want)
		}
	}
}
