package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startFingerprint runs `vigil fingerprint serve` with args plus --listen 127.0.0.1:0
// and returns its address once it listens; the test's cleanup stops it.
func startFingerprint(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	args = append([]string{"fingerprint", "serve", "--listen", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, args, io.Discard, stderr, noEnv) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("vigil fingerprint serve: %v\n%s", err, stderr)
		}
	})
	deadline := time.Now().Add(patience)
	for {
		for l := range strings.Lines(stderr.String()) {
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "vigil fingerprint listening" {
				return m.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("vigil fingerprint serve returned early: %v\n%s", err, stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil fingerprint serve did not log its address:\n%s", stderr)
		}
	}
}

// needTool returns the path of a client program. Without it the test is skipped on a
// developer's machine and fails in CI, where .ci/run installs every client.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestFingerprintServeClients runs real clients against `vigil fingerprint serve
// --tls-self-signed` on loopback: each gets the DNA of its own stack, with the right
// family, and no two of them share a DNA.
func TestFingerprintServeClients(t *testing.T) {
	addr := startFingerprint(t, "--tls-self-signed")
	url := "https://localhost" + addr[strings.LastIndexByte(addr, ':'):] + "/dna?q=1"

	type want struct {
		protocol, family string
		spoofed          bool
	}
	clients := []struct {
		name string
		want want
		get  func(t *testing.T) []byte
	}{
		{"curl_http1", want{"h1", "curl", false}, func(t *testing.T) []byte {
			return output(t, needTool(t, "curl"), "-sk", "--http1.1", url)
		}},
		{"curl_http2", want{"h2", "curl", false}, func(t *testing.T) []byte {
			return output(t, needTool(t, "curl"), "-sk", "--http2", url)
		}},
		{"curl_posing_as_chrome", want{"h2", "chrome", true}, func(t *testing.T) []byte {
			return output(t, needTool(t, "curl"), "-sk", "--http2", "-A", chromeUA, url)
		}},
		{"python_urllib", want{"h1", "python-urllib", false}, func(t *testing.T) []byte {
			return output(t, needTool(t, "python3"), "-c", `import ssl, sys, urllib.request
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=c).read().decode())`, url)
		}},
		{"go", want{"h2", "go-http-client", false}, func(t *testing.T) []byte {
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr}).Get(url)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return b
		}},
		{"node_fetch", want{"h1", "undici", false}, func(t *testing.T) []byte {
			cmd := exec.Command(needTool(t, "node"), "-e", `fetch(process.argv[1]).then(r => r.text()).then(t => process.stdout.write(t))`, url)
			cmd.Env = append(os.Environ(), "NODE_TLS_REJECT_UNAUTHORIZED=0")
			return run1(t, cmd)
		}},
		{"headless_chromium", want{"h2", "headless-chrome", false}, func(t *testing.T) []byte {
			bin := chromium(t)
			cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--disable-background-networking", "--ignore-certificate-errors",
				"--user-data-dir="+t.TempDir(), "--dump-dom", url)
			dom := string(run1(t, cmd))
			// Chromium shows a JSON response as text in a <pre>.
			start, end := strings.Index(dom, ">{"), strings.LastIndex(dom, "}")
			if start < 0 || end < start {
				t.Fatalf("no JSON in chromium's DOM:\n%s", dom)
			}
			return []byte(html.UnescapeString(dom[start+1 : end+1]))
		}},
	}
	seen := map[string]string{} // DNA ID → client
	seen[""] = "no DNA"
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			var rep fingerprintReport
			body := c.get(t)
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatalf("%v in %s", err, body)
			}
			t.Logf("%s: %s %s %s %q client=%+v signals=%d", c.name, rep.Protocol, rep.DNA, rep.JA4, rep.HeaderOrder, rep.Client, len(rep.Signals))
			if rep.Protocol != c.want.protocol || rep.Client.Family != c.want.family {
				t.Errorf("protocol %q family %q, want %q %q", rep.Protocol, rep.Client.Family, c.want.protocol, c.want.family)
			}
			if rep.HeaderOrder == nil || rep.JA4 == "" || rep.JA3 == "" || rep.Detail.Source != "connection" {
				t.Errorf("connection not fully observed: order %q ja4 %q ja3 %q source %q", rep.HeaderOrder, rep.JA4, rep.JA3, rep.Detail.Source)
			}
			if (rep.Protocol == "h2") != (rep.H2 != nil) {
				t.Errorf("protocol %s with h2 fingerprint %+v", rep.Protocol, rep.H2)
			}
			spoofed := false
			for _, s := range rep.Signals {
				spoofed = spoofed || s.Code == "spoofed_client"
			}
			if want := map[bool]string{false: "high", true: "low"}[c.want.spoofed]; rep.Client.Confidence != want {
				t.Errorf("confidence %q, want %q", rep.Client.Confidence, want)
			}
			if spoofed != c.want.spoofed {
				t.Errorf("spoofed_client %v, want %v: %+v", spoofed, c.want.spoofed, rep.Signals)
			}
			if other, dup := seen[rep.DNA]; dup {
				t.Errorf("same DNA %s as %s", rep.DNA, other)
			}
			seen[rep.DNA] = c.name
		})
	}
}

// chromeUA is a current Chrome's User-Agent, for clients that pretend.
const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

// chromium returns Debian's chromium (or a chromium-browser / google-chrome found on
// the PATH).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return needTool(t, "chromium")
}

func output(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	return run1(t, exec.Command(name, args...))
}

// run1 runs cmd with a deadline and returns its standard output.
func run1(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.Output()
	close(done)
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Path), err, stderr.String())
	}
	return out
}
