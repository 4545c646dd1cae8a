// Package cdp drives headless Chromium over the Chrome DevTools Protocol for Vigil's
// end-to-end tests: a real browser loading the challenge page, running its script and
// keeping its cookies. It speaks the protocol on a pipe (--remote-debugging-pipe), so it
// needs no port, no WebSocket and no third-party client. Only tests import it.
package cdp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// LookTool returns the path of the first of names found on PATH. When none is found
// the test is skipped, unless the environment variable CI is set: in CI a missing
// browser or client is a failure, not a skip.
func LookTool(tb testing.TB, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("none of %v found (CI is set)", names)
	}
	tb.Skipf("none of %v found", names)
	return ""
}

// Chromium returns the path of the Chromium binary, as LookTool does.
func Chromium(tb testing.TB) string {
	tb.Helper()
	return LookTool(tb, "chromium", "chromium-browser")
}

// Browser is a headless Chromium process driven over the DevTools protocol on a pipe:
// commands go to its fd 3, replies and events come from its fd 4, each a JSON message
// ended by a NUL byte. (--dump-dom cannot serve the e2e tests: it dumps the DOM when the
// first page has loaded, before a challenge page's workers have found a solution, and
// --virtual-time-budget does not wait for workers either.)
//
// Start one per test with Start; the test's cleanup closes it. A Browser is safe for
// concurrent use.
type Browser struct {
	tb     testing.TB
	toB    *os.File   // commands are written here
	wmu    sync.Mutex // serialises writes to toB
	done   chan struct{}
	mu     sync.Mutex
	nextID int
	wait   map[int]chan message
	logs   []string // console messages, exceptions, log entries (CSP violations among them)
}

type message struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start starts headless Chromium from bin with a fresh profile and registers its end
// with tb.Cleanup: Browser.close, then a kill if it has not exited within 10 seconds.
// When the test failed, the cleanup logs the end of Chromium's stderr.
//
// The flags are those this machine and CI need: --no-sandbox because the tests run as
// root (CI does), where Chromium will not start its sandbox, and the pages it loads are
// the tests' own; no GPU, no QUIC (every request must reach the test's TCP server), no
// first-run, sync, component-update or other background traffic; certificate errors
// ignored for the tests' self-signed TLS servers.
func Start(tb testing.TB, bin string) *Browser {
	tb.Helper()
	cmdR, cmdW, err := os.Pipe() // commands: we write cmdW, Chromium reads fd 3
	if err != nil {
		tb.Fatal(err)
	}
	repR, repW, err := os.Pipe() // replies: Chromium writes fd 4, we read repR
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--ignore-certificate-errors", "--user-data-dir="+tb.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, repW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		repR.Close()
		repW.Close()
		tb.Fatal(err)
	}
	cmdR.Close()
	repW.Close()
	b := &Browser{tb: tb, toB: cmdW, done: make(chan struct{}), wait: map[int]chan message{}}
	go b.read(repR)
	tb.Cleanup(func() {
		// Ask politely, then kill; either way wait for the process and the reader.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.Call(ctx, "", "Browser.close", nil, nil)
		cancel()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		cmdW.Close()
		<-b.done
		if tb.Failed() {
			tb.Logf("chromium stderr (last 4 KiB):\n%s", Tail(stderr.String(), 4096))
		}
	})
	return b
}

// Tail returns the last n bytes of s, for logging the end of a long page or log.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// read dispatches Chromium's messages until the pipe closes.
func (b *Browser) read(r *os.File) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.wait {
				close(ch)
				delete(b.wait, id)
			}
			b.mu.Unlock()
			return
		}
		var m message
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.wait[m.ID]; ok && m.ID != 0 {
			delete(b.wait, m.ID)
			ch <- m
		} else if m.Method == "Log.entryAdded" || m.Method == "Runtime.exceptionThrown" || m.Method == "Runtime.consoleAPICalled" {
			b.logs = append(b.logs, m.Method+" "+string(m.Params))
		}
		b.mu.Unlock()
	}
}

// Call sends a command, to the browser when session is empty, else to that page
// session, waits for its reply until ctx ends, and decodes the result into result when
// it is not nil.
func (b *Browser) Call(ctx context.Context, session, method string, params, result any) error {
	p := []byte("{}")
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
	}
	ch := make(chan message, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.wait[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: p})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	b.wmu.Lock()
	_, err = b.toB.Write(append(msg, 0))
	b.wmu.Unlock()
	if err != nil {
		b.mu.Lock()
		delete(b.wait, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: browser closed the pipe", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.wait, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Logs returns the console messages, uncaught exceptions and log entries (CSP
// violations and network errors among them) of every page so far, each as the event's
// method and its JSON parameters.
func (b *Browser) Logs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.logs...)
}

// Page is a tab in a browser context of its own, which has its own cookie jar, cache
// and connections. Open makes one.
type Page struct {
	b *Browser
	// Session is the DevTools session attached to the page.
	Session string
	// Context is the ID of the page's browser context.
	Context string
}

// Open creates a page in a new browser context, attaches to it and enables the
// domains whose events end up in Logs. It fails the test on error.
func (b *Browser) Open(ctx context.Context) *Page {
	b.tb.Helper()
	var bc struct {
		ID string `json:"browserContextId"`
	}
	if err := b.Call(ctx, "", "Target.createBrowserContext", nil, &bc); err != nil {
		b.tb.Fatal(err)
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank", "browserContextId": bc.ID}, &target); err != nil {
		b.tb.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		b.tb.Fatal(err)
	}
	p := &Page{b: b, Session: att.SessionID, Context: bc.ID}
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := p.Call(ctx, m, nil, nil); err != nil {
			b.tb.Fatal(err)
		}
	}
	return p
}

// Call sends a command to the page's session (see Browser.Call).
func (p *Page) Call(ctx context.Context, method string, params, result any) error {
	return p.b.Call(ctx, p.Session, method, params, result)
}

// Navigate starts loading url in the page. It returns once the navigation has started,
// not when the page has loaded: follow it with WaitFor.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.Call(ctx, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("%s %s: %s", "Page.navigate", url, res.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page, awaiting it when it is a
// promise, and decodes its value into out (a *string for a string, and so on). An
// expression that throws is an error. An undefined value leaves out as it was.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	switch {
	case err != nil:
		return err
	case res.Exception != nil:
		return fmt.Errorf("%s: %s %s", "Runtime.evaluate", res.Exception.Text, res.Exception.Exception.Description)
	case len(res.Result.Value) == 0 || out == nil:
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// WaitFor polls the page's HTML every 50 ms until it contains one of wants, and
// returns the last HTML seen. It returns ctx's error when ctx ends first.
func (p *Page) WaitFor(ctx context.Context, wants ...string) (string, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		var s string
		if err := p.Eval(ctx, `document.body ? document.documentElement.outerHTML : ""`, &s); err == nil {
			last = s
			for _, w := range wants {
				if strings.Contains(s, w) {
					return s, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the page and its browser context, stopping whatever its scripts were
// doing.
func (p *Page) Close(ctx context.Context) error {
	return p.b.Call(ctx, "", "Target.disposeBrowserContext", map[string]any{"browserContextId": p.Context}, nil)
}

// Cookie is a cookie in a page's cookie jar, as the DevTools protocol's Storage domain
// describes it. Only the fields the tests use are here.
type Cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	URL      string  `json:"url,omitempty"` // for SetCookies: the URL the cookie is for
	Domain   string  `json:"domain,omitempty"`
	Path     string  `json:"path,omitempty"`
	Expires  float64 `json:"expires,omitempty"` // Unix seconds; zero or negative for a session cookie
	HTTPOnly bool    `json:"httpOnly,omitempty"`
	Secure   bool    `json:"secure,omitempty"`
	SameSite string  `json:"sameSite,omitempty"` // "Strict", "Lax" or "None"
}

// SetCookies puts cookies in the page's cookie jar.
func (p *Page) SetCookies(ctx context.Context, cookies ...Cookie) error {
	return p.b.Call(ctx, "", "Storage.setCookies", map[string]any{"cookies": cookies, "browserContextId": p.Context}, nil)
}

// Cookies returns every cookie in the page's cookie jar.
func (p *Page) Cookies(ctx context.Context) ([]Cookie, error) {
	var jar struct {
		Cookies []Cookie `json:"cookies"`
	}
	err := p.b.Call(ctx, "", "Storage.getCookies", map[string]any{"browserContextId": p.Context}, &jar)
	return jar.Cookies, err
}
