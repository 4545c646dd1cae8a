package browsertest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// netLog records what the tab asks of the network, and what went wrong in it.
type netLog struct {
	mu         sync.Mutex
	urls       []string                       // every request, in order
	inflight   map[network.RequestID]struct{} // requests without an answer (the live stream excepted)
	quietSince time.Time
	exceptions []string
	logErrors  []string
}

func (n *netLog) listen(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		n.urls = append(n.urls, ev.Request.URL)
		if ev.Type != network.ResourceTypeEventSource {
			n.inflight[ev.RequestID] = struct{}{}
		}
	case *network.EventLoadingFinished:
		n.done(ev.RequestID)
	case *network.EventLoadingFailed:
		n.done(ev.RequestID)
	case *network.EventWebSocketCreated:
		n.urls = append(n.urls, ev.URL)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		n.exceptions = append(n.exceptions, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, text))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			n.logErrors = append(n.logErrors, fmt.Sprintf("%s %s %s", ev.Entry.Source, ev.Entry.URL, ev.Entry.Text))
		}
	}
}

func (n *netLog) done(id network.RequestID) {
	if _, ok := n.inflight[id]; ok {
		delete(n.inflight, id)
		if len(n.inflight) == 0 {
			n.quietSince = time.Now()
		}
	}
}

// quiet reports whether no request has been waiting for d.
func (n *netLog) quiet(d time.Duration) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.inflight) == 0 && time.Since(n.quietSince) >= d
}

// cspRecorder runs in every document before the page's own scripts (DevTools
// scripts are not subject to the page's CSP) and keeps every CSP violation.
const cspRecorder = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// strayText is a JavaScript condition: the page shows a value a script forgot to
// turn into text ("null", "undefined", "NaN", "[object Object]").
const strayText = `/(^|\W)(null|undefined|NaN)(\W|$)|\[object Object\]/.test(document.querySelector("main").innerText)`

// The page makes no request outside Studio's origin: every request of a walk
// through every page, its dialogs, the theme and the project switcher goes to
// Studio itself (data: URLs aside). The walk also fails on script exceptions and
// CSP violations.
func TestNoRequestOutsideOrigin(t *testing.T) {
	e := newEnv(t)
	net := &netLog{inflight: map[network.RequestID]struct{}{}, quietSince: time.Now()}
	if err := chromedp.Listen(e.ctx, net.listen); err != nil {
		t.Fatal(err)
	}
	e.do("installing the CSP recorder", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
		return err
	}))

	// Data for every page: a policy, a ban, a second project; traffic with a
	// blocked attacker follows the sign-in.
	const attacker = "203.0.113.77"
	if code, body := e.api("PUT", "/v1/policy", "application/yaml", "rules:\n  - name: no-admin\n    match:\n      paths: [\"/admin/*\"]\n    action: block\n"); code != http.StatusCreated {
		t.Fatalf("publishing a policy: %d %s", code, body)
	}
	if code, body := e.api("POST", "/v1/bans", "application/json", `{"kind":"cidr","value":"192.0.2.0/24","reason":"walk","ttl":"1h"}`); code != http.StatusCreated {
		t.Fatalf("placing a ban: %d %s", code, body)
	}
	second, err := e.st.CreateProject(context.Background(), "second")
	if err != nil {
		t.Fatal(err)
	}

	settle := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !net.quiet(300 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: requests still open after 10 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	e.login()
	// The feed shows what arrives while it is open: send the traffic now.
	for i := range 4 {
		e.hit(fmt.Sprintf("198.51.100.%d", 30+i), fmt.Sprintf("/products/%d", i))
		e.hit(attacker, fmt.Sprintf("/item?id=%d%%27%%20OR%%201=1--", i))
	}
	e.waitJS(10*time.Second, "the traffic reaches the feed", `document.querySelector(".feed-body a[href='#/timeline?ip=`+attacker+`']")`)
	settle("live feed")
	e.shot("feed")

	pages := []struct {
		hash, title, ready string
	}{
		{"#/overview", "Overview", `document.querySelector(".chart .uplot") && document.querySelectorAll(".grid3 table tbody tr").length >= 3`},
		{"#/map", "Attack map", `document.querySelectorAll("main .map svg path").length > 100`},
		{"#/families", "Fingerprint families", `document.querySelector("main table tbody tr")`},
		{"#/timeline?ip=" + attacker, "Attacker timeline", `document.querySelectorAll("ol.timeline > li").length >= 4`},
		{"#/timeline", "Attacker timeline", `document.querySelector("main form.toolbar")`},
		{"#/bans", "Bans", `[...document.querySelectorAll("main table tbody tr")].some((r) => r.textContent.includes("192.0.2.0/24"))`},
		{"#/policy", "Policy", `document.querySelector("#policy-errors .ok") && document.querySelector("main table tbody tr")`},
		{"#/keys", "API keys", `document.querySelectorAll("main table tbody tr").length >= 2`},
		{"#/webhooks", "Webhooks", `document.querySelector("main table tbody tr")`},
		{"#/audit", "Audit log", `document.querySelectorAll("main table tbody tr").length >= 2`},
		{"#/users", "Users and projects", `[...document.querySelectorAll("main td")].some((c) => c.textContent.startsWith("` + adminName + `"))`},
		{"#/feed", "Live feed", `document.querySelector(".feed-body [role=row]")`},
	}
	for _, p := range pages {
		link := `#nav a[href="` + strings.SplitN(p.hash, "?", 2)[0] + `"]`
		if strings.Contains(p.hash, "?") {
			// A page with parameters is reached by its link, as from a row.
			e.do("opening "+p.hash, chromedp.Evaluate[chromedp.Void](`location.hash = `+js(p.hash)))
		} else {
			e.do("opening "+p.hash+" from the navigation", chromedp.Click(chromedp.CSS(link)))
		}
		e.waitJS(10*time.Second, p.hash+" shows "+p.title,
			`location.hash === `+js(p.hash)+` && document.querySelector("main h1")?.textContent === `+js(p.title)+` && (`+p.ready+`)`)
		settle(p.hash)
		if eval[bool](e, strayText) {
			t.Errorf("%s shows a stray value:\n%.3000s", p.hash, eval[string](e, `document.querySelector("main").innerText`))
		}
		e.shot(strings.TrimPrefix(p.hash, "#/"))

		switch p.hash {
		case "#/timeline?ip=" + attacker:
			e.do("opening an event's details", chromedp.Click(chromedp.CSS("ol.timeline > li details > summary")))
			e.waitJS(5*time.Second, "the event's details open", `document.querySelector("ol.timeline > li details[open] dl.kv")`)
			e.shot("timeline details")
		case "#/bans":
			e.do("opening the new-ban dialog", chromedp.Click(`//button[normalize-space()="New ban…"]`),
				chromedp.WaitVisible(chromedp.CSS("#dialog[open] form")))
			e.shot("ban dialog")
			e.do("cancelling it", chromedp.Click(chromedp.CSS(`#dialog[open] button.ghost`)),
				chromedp.WaitNotVisible(chromedp.CSS("#dialog form")))
		case "#/policy":
			e.do("showing a version's changes", chromedp.Click(`//button[normalize-space()="Changes in 1"]`))
			e.waitJS(5*time.Second, "the version's changes appear", `document.querySelector(".diff-box pre.diff span.add")`)
		case "#/overview":
			for range 2 { // light, then dark: the charts are drawn again in each
				e.do("switching the theme", chromedp.Click(chromedp.ID("theme")))
				e.waitJS(10*time.Second, "the overview is drawn again", `document.querySelector(".chart .uplot")`)
				settle("overview after a theme switch")
				e.shot("overview " + eval[string](e, `document.getElementById("theme").textContent`))
			}
		}
		if v := eval[[]string](e, `window.__cspViolations`); len(v) > 0 {
			t.Errorf("%s: CSP violations: %q", p.hash, v)
		}
	}

	// The project switcher opens the other project's (empty) feed.
	e.do("switching the project", chromedp.Evaluate[chromedp.Void](
		fmt.Sprintf(`(() => { const s = document.getElementById("project"); s.value = "%d"; s.dispatchEvent(new Event("change")); })()`, second.ID)))
	e.waitJS(10*time.Second, "the second project's live stream connects",
		`document.getElementById("live-status").classList.contains("live") && document.querySelectorAll(".feed-body [role=row]").length === 0`)
	settle("project switch")
	e.shot("second project")

	e.do("signing out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.CSS("form.login")))
	settle("sign-out")
	e.shot("signed out")

	net.mu.Lock()
	defer net.mu.Unlock()
	origin, err := url.Parse(e.studio.URL)
	if err != nil {
		t.Fatal(err)
	}
	var foreign []string
	paths := map[string]bool{}
	for _, raw := range net.urls {
		if strings.HasPrefix(raw, "data:") {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != origin.Scheme || u.Host != origin.Host {
			foreign = append(foreign, raw)
			continue
		}
		paths[u.Path] = true
	}
	if len(foreign) > 0 {
		t.Errorf("requests outside Studio's origin %s: %q", e.studio.URL, foreign)
	}
	// The walk did reach the API and the assets: the log is not empty by accident.
	for _, want := range []string{"/", "/v1/login", "/v1/session", "/v1/live", "/v1/events", "/v1/timeline", "/v1/buckets",
		"/v1/policy/versions", "/v1/keys", "/v1/users", "/v1/logout"} {
		if !paths[want] {
			t.Errorf("the walk never requested %s; requested: %v", want, slices.Sorted(maps.Keys(paths)))
		}
	}
	t.Logf("%d requests to %d paths, %d outside the origin", len(net.urls), len(paths), len(foreign))
	if len(net.exceptions) > 0 {
		t.Errorf("script exceptions: %q", net.exceptions)
	}
	for _, l := range net.logErrors {
		t.Logf("browser log: %s", l)
	}
}
