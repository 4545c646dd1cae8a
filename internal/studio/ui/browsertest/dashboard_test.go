package browsertest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// feedHas is a JavaScript condition: some row of the live feed contains text.
func feedHas(text string) string {
	return `[...document.querySelectorAll(".feed-body [role=row]")].some((r) => r.textContent.includes(` + js(text) + `))`
}

// Sign in through the form; requests to the protected application appear in the
// live feed as they happen, with their action and client.
func TestLoginAndLiveFeed(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.shot("signed in")

	if n := eval[int](e, `document.querySelectorAll(".feed-body [role=row]").length`); n != 0 {
		t.Errorf("the feed of a project without traffic has %d rows", n)
	}
	sent := time.Now()
	if code := e.hit("198.51.100.10", "/products/live-1"); code != http.StatusOK {
		t.Fatalf("normal request: %d", code)
	}
	if code := e.hit("203.0.113.50", "/search?q=1%27%20OR%20%271%27=%271"); code != http.StatusForbidden {
		t.Fatalf("SQL injection: %d, want 403", code)
	}
	e.waitJS(10*time.Second, "the requests appear in the live feed",
		feedHas("/products/live-1")+" && "+feedHas("/search"))
	t.Logf("events in the feed %v after the requests (agent flush 50 ms, stream every 250 ms)", time.Since(sent).Round(time.Millisecond))
	e.shot("events in the feed")

	// Each row shows the action and the client; the blocked one says why.
	type row struct{ Text, Action string }
	rows := eval[[]row](e, `[...document.querySelectorAll(".feed-body [role=row]")].map((r) => ({
		text: r.textContent, action: r.querySelector(".badge")?.textContent || ""}))`)
	var allow, block bool
	for _, r := range rows {
		switch {
		case strings.Contains(r.Text, "/products/live-1"):
			allow = r.Action == "allow" && strings.Contains(r.Text, "198.51.100.10")
		case strings.Contains(r.Text, "/search"):
			block = r.Action == "block" && strings.Contains(r.Text, "203.0.113.50") && strings.Contains(r.Text, "sqli")
		}
	}
	if !allow || !block {
		t.Errorf("feed rows %+v: want an allow row for 198.51.100.10 and a block row for 203.0.113.50 naming sqli", rows)
	}

	// More traffic keeps arriving while the feed is open.
	for i := range 5 {
		e.hit(fmt.Sprintf("198.51.100.%d", 20+i), fmt.Sprintf("/products/live-%d", 2+i))
	}
	e.waitJS(10*time.Second, "later requests appear in the live feed", feedHas("/products/live-6"))
	e.shot("more events")
}

// Open an attacker's timeline from its feed row, ban it from the dashboard, and the
// protected application blocks it within a second.
func TestBanFromTimeline(t *testing.T) {
	e := newEnv(t)
	const attacker, visitor = "203.0.113.66", "198.51.100.7"
	e.login()

	if code := e.hit(attacker, "/"); code != http.StatusOK {
		t.Fatalf("attacker before any attack: %d, want 200", code)
	}
	for i := range 3 {
		if code := e.hit(attacker, fmt.Sprintf("/item?id=%d%%20UNION%%20SELECT%%20password%%20FROM%%20users--", i)); code != http.StatusForbidden {
			t.Fatalf("SQL injection %d: %d, want 403", i, code)
		}
		e.hit(visitor, fmt.Sprintf("/products/%d", i))
	}
	// The attacker is blocked per request, not banned: its ordinary requests pass.
	if code := e.hit(attacker, "/"); code != http.StatusOK {
		t.Fatalf("attacker's ordinary request before the ban: %d, want 200", code)
	}
	// Wait for all eight events, so that no row arrives to move the link under the
	// pointer.
	link := `.feed-body a[href="#/timeline?ip=` + attacker + `"]`
	e.waitJS(10*time.Second, "the eight requests appear in the feed, the attacker's with a timeline link",
		`document.querySelector(`+js(link)+`) && document.querySelectorAll(".feed-body [role=row]").length === 8`)
	e.shot("attacker in the feed")

	e.do("opening the attacker's timeline from its feed row", chromedp.Click(chromedp.CSS(link)))
	banBtn := `main button[aria-label="Ban ip ` + attacker + `"]`
	e.waitJS(10*time.Second, "the timeline shows the attacker's events and a ban button",
		`location.hash === "#/timeline?ip=`+attacker+`" && document.querySelector(`+js(banBtn)+`) && document.querySelectorAll("ol.timeline > li").length >= 4`)
	if txt := eval[string](e, `document.querySelector("main").textContent`); !strings.Contains(txt, "UNION") && !strings.Contains(txt, "sqli") {
		t.Errorf("the timeline names neither the payload nor the signal:\n%.2000s", txt)
	}
	e.shot("timeline")

	e.do("opening the ban dialog", chromedp.Click(chromedp.CSS(banBtn)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog[open] form button[type="submit"]`)))
	if v := eval[string](e, `document.querySelector("#dialog input[name=value]").value`); v != attacker {
		t.Errorf("ban dialog value %q, want %q", v, attacker)
	}
	e.do("typing a reason", chromedp.SendKeys(chromedp.CSS(`#dialog input[name=reason]`), "UNION SELECT probes"))
	e.shot("ban dialog")

	e.do("banning", chromedp.Click(chromedp.CSS(`#dialog[open] form button[type="submit"]`)))
	clicked := time.Now()
	var blockedAfter time.Duration
	for {
		if e.hit(attacker, "/") == http.StatusForbidden {
			blockedAfter = time.Since(clicked)
			break
		}
		if time.Since(clicked) > 10*time.Second {
			t.Fatalf("the application still lets %s through 10 s after the ban was clicked", attacker)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("ban to block: %v from the click on Ban to the application's first 403", blockedAfter.Round(time.Millisecond))
	if blockedAfter > time.Second {
		t.Errorf("the application blocked the banned client %v after the click, want within 1 s", blockedAfter.Round(time.Millisecond))
	}
	// The 403 is the ban's: the agent holds exactly one ban from Studio.
	if st := e.agent.Stats(); st.BansActive != 1 {
		t.Errorf("the agent holds %d bans from Studio after the first 403, want 1", st.BansActive)
	}
	if code := e.hit(visitor, "/"); code != http.StatusOK {
		t.Errorf("another client after the ban: %d, want 200", code)
	}

	// The dashboard shows the ban: the dialog closes and the button offers to lift it.
	e.waitJS(10*time.Second, "the dialog closes and the timeline offers to lift the ban",
		`!document.querySelector("#dialog[open]") && document.querySelector(`+js(`main button[aria-label="Unban ip `+attacker+`"]`)+`)`)
	e.shot("banned")
	var bans struct {
		Bans []struct{ Kind, Value, Reason, CreatedBy string }
	}
	e.apiJSON("GET", "/v1/bans", &bans)
	if len(bans.Bans) != 1 || bans.Bans[0].Value != attacker || bans.Bans[0].Reason != "UNION SELECT probes" {
		t.Errorf("bans through the API: %+v", bans.Bans)
	}
}

// The policy editor: an invalid policy shows its error inline; a valid change shows
// its diff, and publishing it makes a new version, which the application applies.
func TestPolicyEditor(t *testing.T) {
	e := newEnv(t)
	const v1 = `rate_limit:
  per_ip: 1000000/1s
weights:
  automated_behaviour: 0
rules:
  - name: block-admin-probes
    match:
      paths: ["/wp-admin/*"]
    action: block
`
	if code, body := e.api("PUT", "/v1/policy", "application/yaml", v1); code != http.StatusCreated {
		t.Fatalf("publishing version 1 through the API: %d %s", code, body)
	}
	e.login()
	e.do("opening the policy page", chromedp.Click(chromedp.CSS(`#nav a[href="#/policy"]`)))
	e.waitJS(10*time.Second, "the editor shows the published version, validated",
		`document.getElementById("policy-text")?.value.includes("block-admin-probes") && document.querySelector("#policy-errors .ok")`)
	e.shot("policy loaded")

	typeInto := func(text string) {
		t.Helper()
		e.do("typing a policy",
			chromedp.Evaluate[chromedp.Void](`document.getElementById("policy-text").select()`),
			chromedp.SendKeys(chromedp.ID("policy-text"), text))
		if got := eval[string](e, `document.getElementById("policy-text").value`); got != text {
			t.Fatalf("the editor holds\n%s\nafter typing\n%s", got, text)
		}
	}

	// The change appends a rule to the published document as the editor shows it,
	// so the diff must be that rule's lines and nothing else.
	published := eval[string](e, `document.getElementById("policy-text").value`)
	i := strings.LastIndex(published, "\nrules:\n")
	if i < 0 {
		t.Fatalf("the editor's document has no rules list last:\n%s", published)
	}
	for l := range strings.Lines(published[i+len("\nrules:\n"):]) {
		if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "-") {
			t.Fatalf("the editor's document has no rules list last:\n%s", published)
		}
	}
	published = strings.TrimRight(published, "\n") + "\n"
	invalid := published + `  - name: block-backups
    match:
      paths: ["/backup/*"]
    action: explode
`
	typeInto(invalid)
	e.waitJS(10*time.Second, "the validation error appears inline",
		`document.querySelector("#policy-errors .error") && document.getElementById("policy-text").getAttribute("aria-invalid") === "true"`)
	errText := eval[string](e, `document.getElementById("policy-errors").textContent`)
	if !strings.Contains(errText, "explode") {
		t.Errorf("the inline error %q does not name the bad action", errText)
	}
	t.Logf("inline error: %s", errText)
	e.shot("invalid policy")

	// Review refuses an invalid policy: no diff, no publish button.
	e.do("reviewing the invalid policy", chromedp.Click(`//button[normalize-space()="Review changes"]`))
	time.Sleep(300 * time.Millisecond)
	if eval[bool](e, `!!document.querySelector(".diff-box button.primary")`) {
		t.Errorf("an invalid policy is offered for publishing")
	}

	valid := strings.Replace(invalid, "action: explode", "action: block", 1)
	typeInto(valid)
	e.waitJS(10*time.Second, "the fixed policy validates", `document.querySelector("#policy-errors .ok") && !document.querySelector("#policy-errors .error")`)
	e.do("reviewing the change", chromedp.Click(`//button[normalize-space()="Review changes"]`))
	e.waitJS(10*time.Second, "the diff appears with the new rule added",
		`[...document.querySelectorAll(".diff-box pre.diff span.add")].some((s) => s.textContent.includes("block-backups"))`)
	if del := eval[int](e, `document.querySelectorAll(".diff-box pre.diff span.del").length`); del != 0 {
		t.Errorf("the diff removes %d lines; the change only adds a rule", del)
	}
	if eval[bool](e, strayText) {
		t.Errorf("the review shows a stray value:\n%s", eval[string](e, `document.querySelector(".diff-box").innerText`))
	}
	e.shot("diff")

	e.do("publishing", chromedp.Click(`//button[normalize-space()="Publish as version 2"]`))
	publishedAt := time.Now()
	e.waitJS(10*time.Second, "the page says version 2 is published",
		`[...document.querySelectorAll(".diff-box h2")].some((h) => h.textContent === "Published version 2")`)
	e.shot("published")

	var vs struct {
		Versions []struct {
			Version   int64
			CreatedBy string `json:"created_by"`
		}
	}
	e.apiJSON("GET", "/v1/policy/versions", &vs)
	if len(vs.Versions) != 2 || vs.Versions[0].Version != 2 {
		t.Fatalf("versions through the API: %+v, want 2 then 1", vs.Versions)
	}
	if vs.Versions[0].CreatedBy != "user:"+adminName {
		t.Errorf("version 2 created by %q, want %q", vs.Versions[0].CreatedBy, "user:"+adminName)
	}
	code, doc := e.api("GET", "/v1/policy/versions/2", "", "")
	if code != http.StatusOK || !strings.Contains(string(doc), "block-backups") || !strings.Contains(string(doc), "/backup/*") {
		t.Errorf("version 2 through the API: %d %s", code, doc)
	}

	// The application gets the new rule from Studio.
	for e.hit("198.51.100.9", "/backup/"+url.PathEscape("db.sql")) != http.StatusForbidden {
		if time.Since(publishedAt) > 10*time.Second {
			t.Fatalf("the application does not apply version 2 within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the application applied version 2 %v after the click on Publish", time.Since(publishedAt).Round(time.Millisecond))
}
