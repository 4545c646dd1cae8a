package demo

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the clients that came with Studio: good bots, the suspect an
// operator bans, credential stuffers, signup fraudsters and TLS scrapers.

// Crawlers that say who they are and whose claim needs no DNS check: a feed reader,
// link previews and an uptime monitor. Search engines are left out on purpose: the
// guard verifies a Googlebot or Bingbot claim by reverse and forward DNS, and a
// simulated Googlebot from a documentation address is rightly found fake wherever DNS
// answers.
var goodBotAgents = []string{
	"Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uptime.php)",
	"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
	"Twitterbot/1.0",
}

// goodBots runs crawlers one after another, each fetching a few pages from its own
// address at a crawler's unhurried pace.
func (w *worker) goodBots(ctx context.Context) error {
	if !w.pause(ctx, 0, time.Second) {
		return nil
	}
	for {
		ip, ua := w.s.bots.take(), pick(w.rng, goodBotAgents)
		h := http.Header{"User-Agent": {ua}, "Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}, "Accept-Encoding": {"gzip"}}
		for _, target := range w.crawl(2 + w.rng.IntN(3)) {
			q := request{class: ClassGoodBot, what: "crawler, " + target, method: http.MethodGet, target: target, header: h}
			if _, ok := w.do(ctx, q, ip); !ok || !w.pause(ctx, 500*time.Millisecond, 1500*time.Millisecond) {
				return nil
			}
		}
		if !w.pause(ctx, time.Second, 3*time.Second) {
			return nil
		}
	}
}

// crawl returns n pages a crawler asks for: robots.txt first, then pages of the shop.
func (w *worker) crawl(n int) []string {
	out := []string{"/robots.txt"}
	for len(out) < n {
		switch w.rng.IntN(3) {
		case 0:
			out = append(out, "/")
		case 1:
			out = append(out, "/products")
		default:
			out = append(out, "/products/"+strconv.Itoa(1+w.rng.IntN(len(catalogue))))
		}
	}
	return out
}

// SuspectIPs returns the fixed addresses of the suspect class: ban one of them in
// Studio's dashboard and its requests turn from allowed to blocked within a second.
func SuspectIPs() []string { return []string{"192.0.2.10", "192.0.2.11", "192.0.2.12"} }

// suspect is a slow price scraper from one address: product pages in random order,
// never an asset, a library User-Agent, pauses too irregular to look scripted. The
// detectors score it (automation, no assets) but under the block threshold.
func (w *worker) suspect(ctx context.Context, ip string) error {
	h := http.Header{"User-Agent": {"python-requests/2.32.3"}, "Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}, "Connection": {"keep-alive"}}
	if !w.pause(ctx, 0, 2*time.Second) {
		return nil
	}
	for {
		target := "/products/" + strconv.Itoa(1+w.rng.IntN(len(catalogue)))
		if w.rng.IntN(4) == 0 {
			target = "/products"
		}
		q := request{class: ClassSuspect, what: "price scraping", method: http.MethodGet, target: target, header: h}
		if _, ok := w.do(ctx, q, ip); !ok || !w.pause(ctx, 600*time.Millisecond, 2500*time.Millisecond) {
			return nil
		}
	}
}

// Stuffers' tools: a script's header set, or a browser's User-Agent alone (OpenBullet
// and its kind).
var stufferHeaders = []http.Header{
	{"User-Agent": {"python-requests/2.32.3"}, "Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}},
	{"User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}},
	{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}, "Accept": {"*/*"}},
}

// Leaked-list names and passwords the stuffers combine. None of them is a shopper's
// account (logins), so the shop refuses every attempt.
var (
	leakedNames   = []string{"jsmith", "maria.garcia", "wei.zhang", "a.kowalski", "oliver88", "nina.petrova", "d.okafor", "lucas_m", "emma.j", "k.tanaka", "sam.r", "fatima.a"}
	leakedDomains = []string{"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "gmx.de"}
	leakedPwds    = []string{"123456", "password1", "qwerty123", "Summer2025!", "iloveyou", "letmein", "Passw0rd", "dragon"}
)

// stuff runs credential stuffers one after another: each posts the login form with
// one leaked pair after another from a new address, quickly, until the guard blocks
// it, and a little longer to show that it stays blocked. A stuffer whose attempts
// reached the shop more often than the per-IP limit allows is unexpected.
func (w *worker) stuff(ctx context.Context) error {
	for {
		ip, h := w.s.attackers.take(), pick(w.rng, stufferHeaders)
		h = h.Clone()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		passed, blocked := 0, 0
		for i := 0; blocked < 3 && i < 3*w.s.cfg.StuffingLimit; i++ {
			user := pick(w.rng, leakedNames) + strconv.Itoa(w.rng.IntN(1000)) + "@" + pick(w.rng, leakedDomains)
			q := request{class: ClassStuffer, what: "leaked e-mail and password", method: http.MethodPost, target: "/login",
				header: h, body: url.Values{"email": {user}, "password": {pick(w.rng, leakedPwds)}}.Encode()}
			res, ok := w.send(ctx, q, ip)
			if !ok {
				return nil
			}
			good := false
			switch res.got {
			case gotAllow:
				passed++
				good = passed <= w.s.cfg.StuffingLimit && res.status == http.StatusUnauthorized
			case gotBlock:
				blocked++
				good = true
			}
			w.s.record(ClassStuffer, good, outcome(q, ip, res))
			if !w.pause(ctx, 150*time.Millisecond, 400*time.Millisecond) {
				return nil
			}
		}
		if !w.pause(ctx, 500*time.Millisecond, 1500*time.Millisecond) {
			return nil
		}
	}
}

// Disposable-mailbox domains, every one on the embedded list.
var disposableDomains = []string{"mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com", "sharklasers.com", "trashmail.com", "maildrop.cc", "getnada.com", "dispostable.com", "temp-mail.org"}

// signupFraud opens accounts with throwaway addresses, each from a new address with a
// browser: only the address gives it away.
func (w *worker) signupFraud(ctx context.Context) error {
	for {
		v := w.newVisitor(w.s.attackers.take(), nil)
		email := "promo" + strconv.Itoa(w.rng.IntN(100000)) + "@" + pick(w.rng, disposableDomains)
		form := url.Values{"name": {pick(w.rng, []string{"John Smith", "Jane Doe", "Max Mustermann"})}, "email": {email}, "password": {"Qwerty!" + strconv.Itoa(w.rng.IntN(1000))}}.Encode()
		q := request{class: ClassSignup, what: "signup with " + email, method: http.MethodPost, target: "/signup", header: v.header(submit, "/signup"), body: form}
		if _, ok := w.do(ctx, q, v.ip); !ok || !w.pause(ctx, 600*time.Millisecond, 1400*time.Millisecond) {
			return nil
		}
	}
}

// scrape runs scrapers one after another against the app's TLS listener: each claims
// to be Chrome on Windows with Chrome's headers, but is Go's TLS and HTTP/2 stack, on
// a connection of its own from its own loopback address, and walks product pages.
func (w *worker) scrape(ctx context.Context, base string) error {
	chrome := profiles()[0]
	for n := 0; ; n++ {
		local := w.s.scrapers.take()
		tr := &http.Transport{
			Proxy:              nil,
			DialContext:        (&net.Dialer{Timeout: 5 * time.Second, LocalAddr: local}).DialContext,
			TLSClientConfig:    &tls.Config{RootCAs: w.s.cfg.TLSRoots},
			ForceAttemptHTTP2:  n%2 == 0, // every other scraper speaks HTTP/2
			DisableCompression: true,
		}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		v := w.newVisitor("", chrome)
		v.base = base
		live := true
		for i := range 3 + w.rng.IntN(4) {
			target := "/products/" + strconv.Itoa(1+w.rng.IntN(len(catalogue)))
			if i == 0 {
				target = "/products"
			}
			q := request{class: ClassScraper, what: "Chrome User-Agent, Go TLS", method: http.MethodGet, target: target, header: v.header(navigate, "/products")}
			res, ok := w.sendVia(ctx, hc, base, q, "")
			if !ok {
				live = false
				break
			}
			w.s.record(ClassScraper, res.got == gotBlock, outcome(q, addrOf(local), res))
			if !w.pause(ctx, 300*time.Millisecond, 900*time.Millisecond) {
				live = false
				break
			}
		}
		tr.CloseIdleConnections()
		if !live || !w.pause(ctx, 500*time.Millisecond, 1500*time.Millisecond) {
			return nil
		}
	}
}

// addrOf returns the address a scraper's connections come from.
func addrOf(local *net.TCPAddr) string {
	if local == nil {
		return "127.0.0.1"
	}
	return local.IP.String()
}

// loopbackPool hands out source addresses in 127.0.0.0/8 for the scrapers' connections,
// so that each scraper is a client of its own. Where the system cannot bind such an
// address (only Linux routes all of 127.0.0.0/8 to loopback), take returns nil: the
// connection then comes from 127.0.0.1.
type loopbackPool struct {
	once sync.Once
	ok   bool
	next atomic.Uint32
}

func newLoopbackPool() *loopbackPool { return &loopbackPool{} }

// take returns the next source address, or nil for the system's choice.
func (p *loopbackPool) take() *net.TCPAddr {
	p.once.Do(func() {
		ln, err := net.Listen("tcp", "127.0.1.1:0")
		if err == nil {
			p.ok = true
			_ = ln.Close()
		}
	})
	if !p.ok {
		return nil
	}
	i := p.next.Add(1) - 1
	ip := net.ParseIP(fmt.Sprintf("127.0.%d.%d", 1+i/250%250, 1+i%250))
	return &net.TCPAddr{IP: ip}
}
