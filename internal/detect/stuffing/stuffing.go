// Package stuffing detects credential stuffing and password spraying from login
// outcomes: failures counted per client IP, per username and per client DNA in a shared
// counter store, so that the counts span every instance that shares the store. A
// [Monitor] adds the site-wide failure rate, which catches attacks spread over so many
// IPs and DNAs that each stays under its own limits.
//
// Usernames never reach the store in clear: they are keyed by a SHA-256 prefix of their
// normalised form: the canonical e-mail address for a username that is one
// (J.o.h.n+1@gmail.com and john@gmail.com are one account), the trimmed lower-case
// form otherwise. Distinct counts ("how many usernames failed from this IP") are kept
// with one marker key per pair: the first failure of a pair in a window bumps the
// distinct count.
//
// Findings (detector "stuffing"):
//
//	credential_stuffing  90  an IP or a DNA over its limits: further attempts are blocked
//	account_targeted     60  a username failing from many IPs: attempts on it are
//	                         challenged, not blocked, since its owner may be among them
//	login_failure_spike  50  the site's failed logins jumped (see Monitor): on every
//	                         login attempt while the spike lasts, and the per-IP and
//	                         per-DNA limits are divided by Limits.SpikeDivisor. Alone it
//	                         stays under the default block threshold of 80 (a legitimate
//	                         user logging in during an attack must get through); with
//	                         account_targeted (60) it reaches 80, and with two weak bot
//	                         findings such as a library user-agent (40) and a
//	                         fingerprint mismatch (35) it reaches 81, while one weak
//	                         finding alone (40: 70) does not. A challenge threshold of
//	                         50 or less challenges every login attempt during a spike.
package stuffing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/emailcheck"
)

// Finding codes and scores.
const (
	CodeStuffing = "credential_stuffing"
	CodeTargeted = "account_targeted"
	CodeSpike    = "login_failure_spike"

	scoreStuffing = 90
	scoreTargeted = 60
	scoreSpike    = 50 // the package doc says why
)

// Counter is the part of the guard's Store this package needs: fixed-window counters.
// Add with n = 0 reads a counter.
type Counter interface {
	Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
}

// Limits are the thresholds; see policy.Logins. Counts reach a limit when they equal it.
// The zero value of each Spike field means the default its doc names.
type Limits struct {
	Window          time.Duration
	FailuresPerIP   int
	UsernamesPerIP  int
	UsernamesPerDNA int
	IPsPerUsername  int
	// BrowserDNAFactor multiplies UsernamesPerDNA for a browser DNA computed from the
	// request alone, which many people share. Zero means 10.
	BrowserDNAFactor int

	// SpikeFailures is the floor of a site-wide failure spike (see Monitor): the
	// site's failed logins in the last minute must reach it. Zero means 50.
	SpikeFailures int
	// SpikeFactor is how many times the baseline, the failed logins per minute of the
	// previous clock hour, the last minute's must also reach. Zero means 5.
	SpikeFactor int
	// SpikeDivisor divides FailuresPerIP, UsernamesPerIP and UsernamesPerDNA while a
	// spike lasts, rounding down but never below 1. Zero means 2; 1 keeps them.
	SpikeDivisor int
}

// Defaults of the Spike fields of Limits.
const (
	DefaultSpikeFailures = 50
	DefaultSpikeFactor   = 5
	DefaultSpikeDivisor  = 2
)

// Attempt is one login attempt.
type Attempt struct {
	// IP is the client's rate-limit key form: the address, or the /64 for IPv6.
	IP string
	// DNA is the client's DNA ID; Browser reports a browser family, Specific a DNA
	// from the connection (TLS, header order) rather than the request alone.
	DNA               string
	Browser, Specific bool
	// Username as submitted; "" when none was found.
	Username string
}

// UsernameKey returns the store key form of a username: a SHA-256 prefix of its
// canonical e-mail address (emailcheck.CanonicalEmail) when it is a valid one, of its
// trimmed, lower-case form otherwise.
func UsernameKey(u string) string {
	norm, ok := emailcheck.CanonicalEmail(u)
	if !ok {
		norm = strings.ToLower(strings.TrimSpace(u))
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:8])
}

// tightened returns l with the per-IP and per-DNA limits divided by SpikeDivisor.
func (l Limits) tightened() Limits {
	d := orDefault(l.SpikeDivisor, DefaultSpikeDivisor)
	div := func(n int) int { return max(n/d, min(n, 1)) }
	l.FailuresPerIP, l.UsernamesPerIP, l.UsernamesPerDNA = div(l.FailuresPerIP), div(l.UsernamesPerIP), div(l.UsernamesPerDNA)
	return l
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (l Limits) dnaLimit(a Attempt) int {
	n := l.UsernamesPerDNA
	if a.Browser && !a.Specific {
		f := l.BrowserDNAFactor
		if f == 0 {
			f = 10
		}
		n *= f
	}
	return n
}

// Verdict is what Check found.
type Verdict struct {
	Findings []detect.Finding
	// BanIP says the IP is over its own limits (the guard may ban it).
	BanIP bool
	// Spike says the site-wide failure rate is in a spike (see Monitor): the limits
	// were tightened and Findings hold a login_failure_spike.
	Spike bool
}

// Check reads the counters for a before the application sees it and returns what they
// show. It never writes. It does not watch the site-wide rate; Monitor.Check does.
func Check(ctx context.Context, c Counter, l Limits, a Attempt) (Verdict, error) {
	var v Verdict
	read := func(key string) (int64, error) { return c.Add(ctx, key, 0, l.Window) }
	if a.IP != "" {
		fails, err := read("cs:f:ip:" + a.IP)
		if err != nil {
			return v, err
		}
		users, err := read("cs:u:ip:" + a.IP)
		if err != nil {
			return v, err
		}
		switch {
		case fails >= int64(l.FailuresPerIP):
			v.BanIP = true
			v.Findings = append(v.Findings, finding(CodeStuffing, scoreStuffing, strconv.FormatInt(fails, 10)+" failed logins from this IP"))
		case users >= int64(l.UsernamesPerIP):
			v.BanIP = true
			v.Findings = append(v.Findings, finding(CodeStuffing, scoreStuffing, strconv.FormatInt(users, 10)+" usernames failed from this IP"))
		}
	}
	if a.DNA != "" && len(v.Findings) == 0 {
		users, err := read("cs:u:dna:" + a.DNA)
		if err != nil {
			return v, err
		}
		if users >= int64(l.dnaLimit(a)) {
			v.Findings = append(v.Findings, finding(CodeStuffing, scoreStuffing, strconv.FormatInt(users, 10)+" usernames failed from this client DNA across IPs"))
		}
	}
	if a.Username != "" {
		ips, err := read("cs:ip:u:" + UsernameKey(a.Username))
		if err != nil {
			return v, err
		}
		if ips >= int64(l.IPsPerUsername) {
			v.Findings = append(v.Findings, finding(CodeTargeted, scoreTargeted, "this username failed from "+strconv.FormatInt(ips, 10)+" IPs"))
		}
	}
	return v, nil
}

// Failed records that the attempt a failed.
func Failed(ctx context.Context, c Counter, l Limits, a Attempt) error {
	add := func(key string) (int64, error) { return c.Add(ctx, key, 1, l.Window) }
	user := ""
	if a.Username != "" {
		user = UsernameKey(a.Username)
	}
	if a.IP != "" {
		if _, err := add("cs:f:ip:" + a.IP); err != nil {
			return err
		}
		if user != "" {
			n, err := add("cs:iu:" + a.IP + ":" + user)
			if err != nil {
				return err
			}
			if n == 1 { // the pair's first failure in the window
				if _, err := add("cs:u:ip:" + a.IP); err != nil {
					return err
				}
				if _, err := add("cs:ip:u:" + user); err != nil {
					return err
				}
			}
		}
	}
	if a.DNA != "" && user != "" {
		n, err := add("cs:du:" + a.DNA + ":" + user)
		if err != nil {
			return err
		}
		if n == 1 {
			if _, err := add("cs:u:dna:" + a.DNA); err != nil {
				return err
			}
		}
	}
	return nil
}

func finding(code string, score int, detail string) detect.Finding {
	return detect.Finding{Detector: "stuffing", Code: code, Score: score, Detail: detail}
}
