// Package stuffing detects credential stuffing and password spraying from login
// outcomes: failures counted per client IP, per username and per client DNA in a shared
// counter store, so that the counts span every instance that shares the store.
//
// Usernames never reach the store in clear: they are keyed by a SHA-256 prefix of their
// normalised form (trimmed, lower case). Distinct counts ("how many usernames failed
// from this IP") are kept with one marker key per pair: the first failure of a pair in a
// window bumps the distinct count.
//
// Findings (detector "stuffing"):
//
//	credential_stuffing  90  an IP or a DNA over its limits: further attempts are blocked
//	account_targeted     60  a username failing from many IPs: attempts on it are
//	                         challenged, not blocked, since its owner may be among them
package stuffing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/detect"
)

// Finding codes and scores.
const (
	CodeStuffing = "credential_stuffing"
	CodeTargeted = "account_targeted"

	scoreStuffing = 90
	scoreTargeted = 60
)

// Counter is the part of the guard's Store this package needs: fixed-window counters.
// Add with n = 0 reads a counter.
type Counter interface {
	Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
}

// Limits are the thresholds; see policy.Logins. Counts reach a limit when they equal it.
type Limits struct {
	Window          time.Duration
	FailuresPerIP   int
	UsernamesPerIP  int
	UsernamesPerDNA int
	IPsPerUsername  int
	// BrowserDNAFactor multiplies UsernamesPerDNA for a browser DNA computed from the
	// request alone, which many people share. Zero means 10.
	BrowserDNAFactor int
}

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
// trimmed, lower-case form.
func UsernameKey(u string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(u))))
	return hex.EncodeToString(sum[:8])
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
}

// Check reads the counters for a before the application sees it and returns what they
// show. It never writes.
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
