// Package challenge is Vigil's proof-of-work interstitial: the page a client gets when
// the guard decides to challenge it, the endpoint the page posts its solution to, and
// the signed pass cookie that lets the client through afterwards.
//
// # Flow
//
// The guard calls Passed for a request it would challenge. When the request carries
// no valid pass, the guard answers it with Page: a self-contained HTML page (no
// third-party assets, inline script and style allowed only by their hashes in a
// Content-Security-Policy) that finds a number n such that SHA-256(token ‖ n), with n
// in decimal, starts with Difficulty zero bits. The work runs in Web Workers, one per
// core up to eight, with a main-thread fallback; the hash is plain JavaScript, so it
// works where crypto.subtle does not (plain HTTP on a host other than localhost). The
// page then POSTs the token and n to Config.Path, where the guard calls Verify, which
// sets the pass cookie; the page reloads and the next request Passes.
//
// # Statelessness and binding
//
// Nothing is stored on the server. The token embedded in the page carries its expiry,
// its difficulty and 16 random bytes, and an HMAC-SHA256 over those and the client's
// Binding (IP prefix and DNA). The pass cookie carries its expiry and an HMAC-SHA256
// over it and the same Binding. Both HMAC keys are derived from Config.Secret, one per
// purpose, so a token is never a cookie. Verify and Passed recompute the HMAC for the
// Binding of the request at hand and compare in constant time: a token or cookie
// carried to another IP prefix or to a client with another DNA does not verify, and
// neither does one whose expiry or any other byte was changed.
//
// A solution can be redeemed more than once while its token is valid (ChallengeTTL,
// five minutes by default): there is no store to remember it. This gives the redeemer
// nothing it does not have already, a pass for the same Binding. Redeeming it from
// another IP prefix or DNA fails, because the token's HMAC covers the Binding.
//
// # Binding
//
// Bind makes the Binding the guard should use: the client's IPv4 address as a /32 and
// an IPv6 address's /64, the same prefixes Vigil bans and rate-limits by. A /24 would
// let one solution serve every address a scraper rents in a provider's block; a /32
// costs a user whose address changes (a phone moving between networks) one more solve,
// about a second. IPv6 subscribers get at least a /64 and their devices rotate privacy
// addresses inside it, so binding to the /128 would force new solves every few hours.
//
// Binding.DNA must be the same for every request of one client: its navigations, the
// page's fetch of Config.Path, its subresource requests. fingerprint.DNA.ID is not: it
// changes with Accept and Sec-Fetch-Mode. Use the parts of the DNA that describe the
// client software rather than the request, such as the User-Agent, the TLS JA4 and the
// HTTP/2 fingerprint. A Binding without a valid IPPrefix never passes and never
// verifies: the package fails closed rather than binding to "unknown".
//
// # Threat model
//
// The proof of work raises the cost of scripted clients: curl and HTTP libraries do
// not run the page's JavaScript, so they get no pass unless their author writes a
// solver for this page (the package's Example is one, in a few lines of Go), and a
// scraper that solves must pay about 2^Difficulty SHA-256 computations per IP prefix
// and DNA per PassTTL.
// It does not stop a determined headless browser, which solves the page like any other
// browser; DNA and behaviour signals are what catch those, and the pass cookie is bound
// to the DNA so that a pass earned by a real browser cannot be replayed by a script
// with a different fingerprint. Native code solves the puzzle faster than JavaScript
// (a GPU much faster): the difficulty buys cost, not certainty.
//
// Verified search engine crawlers must not see the page; deciding that is the guard's
// job (it verifies crawlers by reverse and forward DNS). This package has no bypass of
// its own: Passed is true only for a valid cookie.
//
// Anyone who knows Secret can mint passes, and a pass minted for one site is valid on
// every site that shares the Secret and the cookie name, for the same Binding.
package challenge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/internal/clientip"
)

// Defaults for the zero values of Config's fields.
const (
	// DefaultDifficulty is the number of leading zero bits a solution's hash must have
	// when Config.Difficulty is 0: 2^20, about a million hashes expected. In headless
	// Chromium on a 2-core VM the page's script computes 1.5 to 2.2 million hashes a
	// second per thread (TestE2EChromiumHash logs it), and from the page being served
	// to the pass being set a visitor waited a median of 0.6 to 1.1 s, the slowest of
	// 25 solves 1.7 s (BenchmarkChromiumSolve); 2^18 took a median of 0.3 s, most of
	// it the page's start-up. A phone is a few times slower. The number of hashes
	// needed is geometrically distributed: one visitor in twenty needs three times the
	// expected work.
	DefaultDifficulty = 20
	// MaxDifficulty is the largest Config.Difficulty accepted.
	MaxDifficulty = 32
	// DefaultPassTTL is how long a pass is valid when Config.PassTTL is 0.
	DefaultPassTTL = time.Hour
	// DefaultChallengeTTL is how long a challenge can be solved when
	// Config.ChallengeTTL is 0.
	DefaultChallengeTTL = 5 * time.Minute
	// DefaultCookieName is the pass cookie's name when Config.CookieName is empty.
	DefaultCookieName = "__vigil_pass"
	// DefaultPath is the verify endpoint's path when Config.Path is empty.
	// (Not a dot-directory: scanners probe those, and the guard's attack scanner
	// scores them.)
	DefaultPath = "/_vigil/challenge"
	// MinSecretLen is the shortest Config.Secret accepted.
	MinSecretLen = 32
)

// maxSkew is how far a pass's expiry may lie beyond now+PassTTL and still be accepted:
// room for the clocks of instances sharing a Secret to disagree.
const maxSkew = time.Minute

// maxCookies is how many cookies with the pass cookie's name Passed examines in one
// request, so that a request stuffed with them costs a bounded number of HMACs.
const maxCookies = 4

// Config configures a Challenger. It is plain data: every field's zero value is a safe
// default, stated in its doc.
type Config struct {
	// Secret is the HMAC key that signs challenges and passes: at least MinSecretLen
	// bytes, best random ones. Every instance that must accept the others' passes
	// needs the same Secret. Empty: New generates a random one, so passes do not
	// survive a restart and are valid on this instance only.
	Secret []byte

	// Difficulty is the number of leading zero bits of SHA-256 a solution must have,
	// 1 to MaxDifficulty. Each bit doubles the expected work. 0: DefaultDifficulty.
	Difficulty int

	// PassTTL is how long a pass cookie lets its client through, at least a second.
	// Lowering it takes effect for passes already issued. 0: DefaultPassTTL.
	PassTTL time.Duration

	// ChallengeTTL is how long a served challenge can be solved and redeemed, at
	// least a second. 0: DefaultChallengeTTL.
	ChallengeTTL time.Duration

	// CookieName is the pass cookie's name. A "__Host-" name makes browsers refuse
	// the cookie over plain HTTP, since the cookie is Secure only on TLS requests.
	// Empty: DefaultCookieName.
	CookieName string

	// Path is the verify endpoint's URL path, where the page posts its solution.
	// It must start with "/" and hold only letters, digits, "-", ".", "_", "~" and
	// "/". Empty: DefaultPath.
	Path string
}

// Binding is what a challenge and a pass are bound to: the client's IP prefix and its
// DNA. See "Binding" in the package doc for which values to use; Bind makes one.
type Binding struct {
	// IPPrefix is the client's address prefix; it is masked before use. The zero
	// Prefix is invalid: nothing bound to it verifies or passes.
	IPPrefix netip.Prefix
	// DNA identifies the client software. It must be the same for all of one
	// client's requests; empty is allowed and binds to the IP prefix alone.
	DNA string
}

// Bind returns the Binding for a client at ip with the given DNA: ip's /32 for IPv4
// (IPv4-mapped IPv6 counts as IPv4) and its /64 for IPv6. An invalid ip gives an
// invalid Binding.
func Bind(ip netip.Addr, dna string) Binding {
	if !ip.IsValid() {
		return Binding{DNA: dna}
	}
	return Binding{IPPrefix: clientip.Prefix(ip), DNA: dna}
}

// Challenger serves challenges, verifies solutions and checks passes. Build one with
// New; the zero value is not usable. A Challenger is immutable and safe for concurrent
// use.
type Challenger struct {
	cfg           Config
	challengeMACs sync.Pool // *macState keyed with the challenge key
	passMACs      sync.Pool // *macState keyed with the pass key
	page          page
	now           func() time.Time // tests replace it
}

// New validates cfg, fills in its defaults and returns a Challenger. It starts nothing.
func New(cfg Config) (*Challenger, error) {
	switch {
	case cfg.Difficulty < 0 || cfg.Difficulty > MaxDifficulty:
		return nil, fmt.Errorf("challenge: difficulty %d is outside 0 to %d", cfg.Difficulty, MaxDifficulty)
	case cfg.PassTTL < 0:
		return nil, errors.New("challenge: pass TTL must not be negative")
	case cfg.ChallengeTTL < 0:
		return nil, errors.New("challenge: challenge TTL must not be negative")
	case len(cfg.Secret) > 0 && len(cfg.Secret) < MinSecretLen:
		return nil, fmt.Errorf("challenge: secret has %d bytes; it needs at least %d", len(cfg.Secret), MinSecretLen)
	}
	if cfg.Difficulty == 0 {
		cfg.Difficulty = DefaultDifficulty
	}
	if cfg.PassTTL == 0 {
		cfg.PassTTL = DefaultPassTTL
	}
	if cfg.PassTTL < time.Second {
		return nil, errors.New("challenge: pass TTL must be at least a second")
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = DefaultChallengeTTL
	}
	if cfg.ChallengeTTL < time.Second {
		return nil, errors.New("challenge: challenge TTL must be at least a second")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if !validCookieName(cfg.CookieName) {
		return nil, fmt.Errorf("challenge: cookie name %q is not an HTTP token", cfg.CookieName)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if !validPath(cfg.Path) {
		return nil, fmt.Errorf("challenge: path %q must start with / and hold only unreserved URL characters and /", cfg.Path)
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails: crypto/rand.Read crashes the program instead
	}
	cfg.Secret = nil // keep only the derived keys
	c := &Challenger{cfg: cfg, now: time.Now}
	challengeKey := deriveKey(secret, "vigil challenge v1: challenge token")
	passKey := deriveKey(secret, "vigil challenge v1: pass cookie")
	c.challengeMACs.New = func() any { return &macState{h: hmac.New(sha256.New, challengeKey)} }
	c.passMACs.New = func() any { return &macState{h: hmac.New(sha256.New, passKey)} }
	c.page = newPage(cfg.Path, cfg.Difficulty)
	return c, nil
}

// deriveKey returns HMAC-SHA256(secret, label): one key per purpose.
func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// validCookieName reports whether s is an RFC 6265 cookie name (an RFC 2616 token).
func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, b) >= 0 {
			return false
		}
	}
	return true
}

// validPath reports whether p starts with "/" and holds only RFC 3986 unreserved
// characters and "/", so it needs no escaping in a URL or in the page.
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~' || b == '/'
		if !ok {
			return false
		}
	}
	return true
}

// Path returns the verify endpoint's path: the page posts its solution there, and the
// guard routes POSTs to it to Verify without challenging them.
func (c *Challenger) Path() string { return c.cfg.Path }

// CookieName returns the pass cookie's name.
func (c *Challenger) CookieName() string { return c.cfg.CookieName }

// Page answers r with the challenge page for Binding b: status 403 (the request was
// not served; 429 would tell clients to retry later, which is not what they should
// do), Cache-Control no-store (the page holds a token for this client only), and a
// Content-Security-Policy that allows the page's own inline script and style by hash,
// Web Workers from blob: URLs, and connections to its own origin only. A HEAD request
// gets the headers alone.
//
// The page reloads its URL once it holds a pass, so serve it for GET navigations; a
// client that sent something else (an API call, a form POST) is better answered with
// a plain 403, as its request body would not be sent again.
func (c *Challenger) Page(w http.ResponseWriter, r *http.Request, b Binding) {
	var buf [tokenChars]byte
	tok := c.issue(buf[:0], b, c.now())
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", c.page.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.page.write(w, r.Method == http.MethodHead, tok)
}

// Verify answers r if it is a request for the verify endpoint (Config.Path) and
// reports whether it did; for any other path it writes nothing and returns false.
//
// A POST with a valid solution for a challenge issued to Binding b gets 204 No
// Content and the pass cookie: HttpOnly, Secure when r came over TLS, SameSite=Lax,
// Path=/, Max-Age PassTTL. A POST that fails gets 403 and a one-line text reason
// (malformed request, invalid challenge, challenge expired, wrong solution); a token
// issued to another Binding is an invalid challenge. Other methods get 405.
func (c *Challenger) Verify(w http.ResponseWriter, r *http.Request, b Binding) (handled bool) {
	if r.URL.Path != c.cfg.Path {
		return false
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	now := c.now()
	if reason := c.redeem(w, r, b, now); reason != "" {
		http.Error(w, reason, http.StatusForbidden)
		return true
	}
	exp := now.Add(c.cfg.PassTTL)
	var buf [passChars]byte
	http.SetCookie(w, &http.Cookie{
		Name:     c.cfg.CookieName,
		Value:    string(c.pass(buf[:0], b, exp)),
		Path:     "/",
		MaxAge:   int(c.cfg.PassTTL / time.Second),
		Secure:   r.TLS != nil,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	w.WriteHeader(http.StatusNoContent)
	return true
}

// The reasons Verify gives a client. They say what to do (reload, or not), nothing
// about the secret or the binding.
const (
	reasonMalformed = "malformed request"
	reasonInvalid   = "invalid challenge"
	reasonExpired   = "challenge expired"
	reasonWrong     = "wrong solution"
)

// maxVerifyBody bounds the verify request's body: a token, a nonce and their names.
const maxVerifyBody = 512

// redeem checks the solution in r's form body and returns "" when it is good, or the
// reason it is not.
func (c *Challenger) redeem(w http.ResponseWriter, r *http.Request, b Binding, now time.Time) string {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return reasonMalformed
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxVerifyBody)
	if err := r.ParseForm(); err != nil {
		return reasonMalformed
	}
	tok, nonce := r.PostForm.Get("token"), r.PostForm.Get("nonce")
	if !validNonce(nonce) {
		return reasonMalformed
	}
	t, ok := c.parseToken(tok, b)
	switch {
	case !ok:
		return reasonInvalid
	case now.Unix() >= t.expiry:
		return reasonExpired
	case t.expiry > now.Add(c.cfg.ChallengeTTL+maxSkew).Unix():
		return reasonInvalid // from an instance with a longer ChallengeTTL or a fast clock
	case !solves(tok, nonce, t.difficulty):
		return reasonWrong
	}
	return ""
}

// Passed reports whether r carries a valid pass cookie for Binding b at time now: one
// this Challenger's Secret signed for b, not expired, and expiring no later than
// now+PassTTL (plus a minute for clock skew between instances). It does not allocate.
func (c *Challenger) Passed(r *http.Request, b Binding, now time.Time) bool {
	lines := r.Header["Cookie"]
	if len(lines) == 0 || !b.IPPrefix.IsValid() {
		return false
	}
	seen := 0
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || name != c.cfg.CookieName {
				continue
			}
			if c.validPass(val, b, now) {
				return true
			}
			if seen++; seen == maxCookies {
				return false
			}
		}
	}
	return false
}

// macState is a pooled HMAC with room for its input and output, so that a check
// allocates nothing.
type macState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// mac computes the HMAC-SHA256 of payload followed by b's encoding with a key from
// pool, and returns it in sum.
func mac(pool *sync.Pool, sum *[sha256.Size]byte, payload []byte, b Binding) {
	m := pool.Get().(*macState)
	m.h.Reset()
	m.in = appendBinding(append(m.in[:0], payload...), b)
	m.h.Write(m.in)
	m.h.Sum(m.sum[:0])
	*sum = m.sum
	if cap(m.in) <= 1024 { // do not keep a buffer grown by a huge DNA
		pool.Put(m)
	}
}

// appendBinding appends the unambiguous encoding of b: a family byte (0 for an
// invalid prefix, 4, 6), the masked address in 16 bytes, the prefix length, then the
// DNA (last, so it needs no length).
func appendBinding(dst []byte, b Binding) []byte {
	p := b.IPPrefix.Masked()
	switch {
	case !p.IsValid():
		return append(append(dst, 0), b.DNA...)
	case p.Addr().Is4():
		dst = append(dst, 4)
	default:
		dst = append(dst, 6)
	}
	a := p.Addr().As16()
	dst = append(dst, a[:]...)
	dst = append(dst, byte(p.Bits()))
	return append(dst, b.DNA...)
}
