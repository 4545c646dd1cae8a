package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer the test may read while the command writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemo runs `vigil demo` twice on one data directory: the command opens Studio's
// database there (pepper included), serves the dashboard at the printed URL, prints
// credentials that sign in, keeps them in a private file, prints the same ones on the
// second start, and returns nil when the demo ends.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo twice for six seconds")
	}
	data := filepath.Join(t.TempDir(), "vigil-data")
	urlRE := regexp.MustCompile(`Studio dashboard: (http://127\.0\.0\.1:\d+)/\n`)
	pwRE := regexp.MustCompile(`(?m)^vigil demo:   password: (\S+) `)
	var passwords []string
	for range 2 {
		var stdout, stderr lockedBuffer
		args := []string{"demo", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--studio-listen", "127.0.0.1:0",
			// Long enough that the dashboard is still up for the login below when the
			// start is slow (-race on a busy machine took over 2 s once).
			"--data", data, "--duration", "6s", "--interval", "500ms", "--rate", "100"}
		done := make(chan error, 1)
		go func() { done <- run(context.Background(), args, &stdout, &stderr, noEnv) }()
		var studio, password string
		for deadline := time.Now().Add(10 * time.Second); studio == "" || password == ""; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no dashboard URL and password:\n%s\n%s", stdout.String(), stderr.String())
			}
			out := stdout.String()
			if m := urlRE.FindStringSubmatch(out); m != nil {
				studio = m[1]
			}
			if m := pwRE.FindStringSubmatch(out); m != nil {
				password = m[1]
			}
		}
		passwords = append(passwords, password)
		res, err := http.Post(studio+"/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("login with the printed password: %d", res.StatusCode)
		}
		if err := <-done; err != nil {
			t.Fatalf("demo: %v\n%s", err, stderr.String())
		}
		if out := stdout.String(); !strings.Contains(out, "vigil demo: app on http://127.0.0.1:") || !strings.Contains(out, "the agent delivered") {
			t.Errorf("demo output:\n%s", out)
		}
	}
	if passwords[0] != passwords[1] {
		t.Errorf("second start printed password %q, first %q", passwords[1], passwords[0])
	}
	for _, name := range []string{"studio.db", "pepper", "demo-admin-password", "demo-ingest-key"} {
		fi, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if name != "studio.db" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}
