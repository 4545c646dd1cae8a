package agent_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

// Canary credentials. Provider prefixes are split from the rest so that secret
// scanners do not flag this file; each canary is distinctive enough that finding any
// third of it in the output is a leak.
var canaries = []struct {
	name, value string
	// redacted is the redacted form that must appear instead.
	redacted string
}{
	{"jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiJjYW5hcnktdXNlci00MiIsImlhdCI6MTcwMDAwMDAwMH0." + "c2lnbmF0dXJlX2NhbmFyeV9YeTdMbTJOYjVWYzlLZDE",
		`"name":"authorization","value":"[REDACTED:JWT:143_chars]"`},
	{"aws_key", "AKIA" + "QCANARY7Z3XY7LM2", "/files/[REDACTED:AWS_KEY:20_chars]/download"},
	{"card", "4111" + "111111111111", "card=[REDACTED:CARD:16_chars]"},
	{"password", "Zq7" + "canaryPassw0rdXyzzy", "password=[REDACTED:PASSWORD:22_chars]"},
	{"cookie", "s%3A" + "q8Wz3Xy7CanaryLm2Nb5Vc9Kd1Hf6", "session=[REDACTED:COOKIE:33_chars]"},
}

// The canary test: requests carrying a JWT, an AWS key, a card number, a password
// field and a session cookie pass through a real guard and the agent. Neither the
// spool on disk nor the bytes Studio receives hold any of them, and each is there in
// its redacted form.
func TestCanary(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	srv.Down() // so that everything waits in the spool first
	dir := t.TempDir()
	a, err := agent.New(fast(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	running(t, a)

	c := map[string]string{}
	for _, k := range canaries {
		c[k.name] = k.value
	}
	send := func(method, target, body string) int {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
		r.Header.Set("Accept", "text/html")
		r.Header.Set("Authorization", "Bearer "+c["jwt"])
		r.Header.Set("Cookie", "theme=dark; session="+c["cookie"])
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	// Allowed: the path is on every event.
	if code := send(http.MethodGet, "/files/"+c["aws_key"]+"/download", ""); code != http.StatusOK {
		t.Fatalf("clean request: %d", code)
	}
	// Blocked (SQL injection in the query): the event carries the query and headers.
	if code := send(http.MethodGet, "/files/"+c["aws_key"]+"/download?card="+c["card"]+"&password="+c["password"]+
		"&q=1%27%20OR%20%271%27%3D%271", ""); code != http.StatusForbidden {
		t.Fatalf("attack request: %d, want 403", code)
	}
	// Blocked, with an attack in the password field of a JSON body: the finding must
	// not quote it.
	if code := send(http.MethodPost, "/login", `{"user":"bob","password":"`+c["password"]+`' OR '1'='1"}`); code != http.StatusForbidden {
		t.Fatalf("login attack: %d, want 403", code)
	}

	eventually(t, 5*time.Second, "3 events spooled", func() bool {
		st := a.Stats()
		return st.Recorded == 3 && st.QueueLen == 0 && st.SpoolBatches > 0
	})
	time.Sleep(50 * time.Millisecond) // let the last batch reach the file
	var spooled []byte
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		spooled = append(spooled, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Batches are spooled gzipped, as they are sent: neither the raw files nor what
	// they decompress to may hold a canary.
	check(t, "spool files", spooled, false)
	check(t, "spool", gunzipAll(t, spooled), true)

	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "3 events delivered", func() bool { return len(srv.Events()) == 3 })
	var wireBytes []byte
	for _, r := range srv.Requests() {
		wireBytes = append(wireBytes, r.Body...)
		wireBytes = append(wireBytes, '\n')
	}
	check(t, "wire", wireBytes, true)

	// The decoded events: the blocked request's headers and query are there, redacted.
	var blocked int
	for _, e := range srv.Events() {
		if e.WouldBe != string(vigil.ActionBlock) {
			if e.Query != "" || e.Headers != nil {
				t.Errorf("allowed event carries query %q and headers %v", e.Query, e.Headers)
			}
			continue
		}
		blocked++
		if e.Path == "/login" {
			if d := e.Signals[len(e.Signals)-1].Detail; d != "sqli in body:json:password (value withheld, 33 bytes)" {
				t.Errorf("login finding: %q", d)
			}
		}
		names := map[string]string{}
		for _, h := range e.Headers {
			names[h.Name] = h.Value
		}
		if !strings.HasPrefix(names["authorization"], "[REDACTED:JWT:") || names["accept"] != "text/html" ||
			!strings.Contains(names["cookie"], "theme=[REDACTED:COOKIE:4_chars]") {
			t.Errorf("headers of a blocked request: %q", e.Headers)
		}
	}
	if blocked != 2 {
		t.Errorf("%d blocked events, want 2", blocked)
	}
	// The server holds the events before its answer reaches the agent: wait for the
	// agent to count the acknowledgement.
	eventually(t, 5*time.Second, "3 events counted as sent", func() bool { return a.Stats().Sent == 3 })
}

// gunzipAll returns what every gzip member inside b decompresses to, concatenated: a
// member starts at each gzip header (1f 8b 08) in b.
func gunzipAll(t *testing.T, b []byte) []byte {
	var out []byte
	members := 0
	for i := 0; i+3 <= len(b); i++ {
		if b[i] != 0x1f || b[i+1] != 0x8b || b[i+2] != 8 {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b[i:]))
		if err != nil {
			continue
		}
		zr.Multistream(false)
		if d, err := io.ReadAll(zr); err == nil {
			out = append(out, d...)
			members++
		}
	}
	if members == 0 {
		t.Errorf("no gzip member in the spool files")
	}
	return out
}

// check fails the test when out holds any canary (or any third of one), raw or as a
// JSON string would escape it, or, when redacted is set, lacks a canary's redacted
// form.
func check(t *testing.T, where string, out []byte, redacted bool) {
	t.Helper()
	// Decode JSON string escapes (\u0026, \/) so that an escaped leak is found too.
	plain := bytes.ReplaceAll(out, []byte(`\u0026`), []byte("&"))
	plain = bytes.ReplaceAll(plain, []byte(`\u003c`), []byte("<"))
	plain = bytes.ReplaceAll(plain, []byte(`\u003e`), []byte(">"))
	plain = bytes.ReplaceAll(plain, []byte(`\/`), []byte("/"))
	for _, k := range canaries {
		v := k.value
		for _, part := range []string{v, v[:len(v)/3], v[len(v)/3 : 2*len(v)/3], v[2*len(v)/3:]} {
			if len(part) >= 6 && bytes.Contains(plain, []byte(part)) {
				t.Errorf("%s: %s canary (part %q) leaked", where, k.name, part)
			}
		}
		if redacted && !bytes.Contains(plain, []byte(k.redacted)) {
			t.Errorf("%s: no %q for the %s canary", where, k.redacted, k.name)
		}
	}
	if t.Failed() {
		t.Logf("%s bytes:\n%s", where, out)
	}
}
