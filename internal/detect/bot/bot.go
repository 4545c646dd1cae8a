package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the broad class of a User-Agent. The zero value is Unknown.
type Kind uint8

// Kinds of User-Agent.
const (
	// Unknown is a User-Agent that is empty or matches nothing known.
	Unknown Kind = iota
	// Browser is a web browser, including in-app browsers and web views.
	Browser
	// Crawler is a crawler, fetcher or service bot: search engines, AI crawlers, SEO
	// tools, monitors, link previewers, feed readers, benign scanners.
	Crawler
	// Library is an HTTP library or command-line tool: curl, python-requests, Go-http-client.
	Library
	// Automation is a driven browser: HeadlessChrome, PhantomJS, Selenium, Puppeteer.
	Automation
	// Scanner is an attack or vulnerability-scanning tool: sqlmap, nikto, nuclei.
	Scanner
)

// String returns the lower-case name of k, or "kind(N)" for a value out of range.
func (k Kind) String() string {
	switch k {
	case Unknown:
		return "unknown"
	case Browser:
		return "browser"
	case Crawler:
		return "crawler"
	case Library:
		return "library"
	case Automation:
		return "automation"
	case Scanner:
		return "scanner"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Class is what a User-Agent claims to be. The zero value is an unknown client. A Class
// is a plain value, safe to copy and share; two Classes of the same User-Agent are equal
// (==). Besides its exported fields it carries unexported facts that [Detector.Inspect]
// needs (network stack, platform, which headers the browser version sends), so pass
// Inspect the Class that [Detector.Classify] returned: a Class built by hand is
// inspected without the browser-specific checks.
type Class struct {
	// Kind is the broad class.
	Kind Kind
	// Category refines non-browsers: "search", "ai", "seo", "monitor", "social", "feed",
	// "archiver", "ads", "academic", "automation", "library", "scanner" or "other".
	// It is "" for browsers and unknown clients.
	Category string
	// Name is a short, stable, lower-case family name: "chrome", "firefox", "safari",
	// "edge", "googlebot", "bingbot", "gptbot", "curl", "python-requests",
	// "go-http-client", "headless-chrome", … Crawlers known only from the embedded
	// patterns are named after the pattern's main literal ("mj12bot"); crawlers matched
	// only by a generic word ("…bot", "crawler", "spider") after their product token.
	Name string
	// Major is the major version of the family when the User-Agent gives it, else 0.
	Major int
	// Mobile reports a phone-class User-Agent: it contains "Mobi" (as MDN advises; iPad
	// Safari's does too), "iPhone" or "iPod". It is false for unknown clients.
	Mobile bool
	// Claimed names the operator a crawler claims to belong to when that claim can be
	// checked: "google", "bing", "apple", "yandex", "baidu", "duckduckgo", "openai".
	// [Detector.Verify] checks it by DNS where the operator supports that.
	Claimed string

	flags  flags  // engine, platform and malformation facts for Inspect
	engine uint16 // Chromium major version for Blink browsers, else 0
	detail string // precomputed Finding.Detail for non-browsers
}

type flags uint16

const (
	flagMalformed   flags = 1 << iota // control characters, too long, or not UA grammar
	flagBlink                         // Chromium-based network stack (not on iOS)
	flagGecko                         // Firefox's network stack
	flagWebKit                        // WebKit's network stack, including every iOS browser
	flagLenient                       // web view, in-app or unfamiliar browser: few checks apply
	flagClientHints                   // sends sec-ch-ua over TLS
	flagFetchMeta                     // sends Sec-Fetch-* over TLS
	flagBrotli                        // offers br over TLS
	flagIOS                           // an iOS or iPadOS device
)

// Resolver performs the DNS look-ups that verify crawlers. *net.Resolver satisfies it.
// Implementations must be safe for concurrent use and must return when ctx ends: every
// verification goroutine ends only when its look-ups return.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a [Detector]. The zero value is ready to use.
type Config struct {
	// CacheSize bounds the number of distinct User-Agent strings whose Class is cached,
	// and separately the number of cached crawler verifications. Zero means 4096.
	CacheSize int
	// Resolver performs the reverse and forward DNS look-ups that verify crawlers.
	// Nil means net.DefaultResolver.
	Resolver Resolver
	// VerifyTimeout bounds one verification (reverse plus forward look-ups). Zero means 2s.
	VerifyTimeout time.Duration
	// VerifyTTL is how long a verification result is cached. Zero means 24h. A result that
	// DNS could not give (timeout, server failure) is retried after a minute instead.
	VerifyTTL time.Duration
	// MaxPending bounds concurrent verifications. Past it Verify answers Pending and
	// starts the look-up on a later call. Zero means 16.
	MaxPending int
}

const (
	defaultCacheSize     = 4096
	defaultVerifyTimeout = 2 * time.Second
	defaultVerifyTTL     = 24 * time.Hour
	defaultMaxPending    = 16
	retryAfter           = time.Minute
	maxUALen             = 1024 // longer is malformed; only the first maxUALen+1 bytes are read
	classifyWindow       = 512  // bytes of a User-Agent that classification reads
)

// Detector classifies User-Agents, inspects requests and verifies crawler claims. It is
// safe for concurrent use. Create it with [New]; the zero value is not usable. A Detector
// holds no goroutine of its own: verification goroutines end by themselves within
// VerifyTimeout, so there is nothing to close.
type Detector struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64

	rules *rules

	resolver   Resolver
	timeout    time.Duration
	ttl        time.Duration
	maxPending int
	claims     map[string]claim
	vmu        sync.Mutex
	vres       map[vkey]ventry
	vpending   map[vkey]struct{}
	vcap       int

	// front holds the classes of recent User-Agents in front of the shards: lock-free,
	// direct-mapped by hash, immutable entries.
	front [frontSlots]atomic.Pointer[classEntry]

	// brands remembers recent sec-ch-ua checks (see brandsAgreeCached): lock-free,
	// direct-mapped by hash, immutable entries.
	brands [brandSlots]atomic.Pointer[brandEntry]
}

// frontSlots is the number of User-Agents in the lock-free front of the class cache,
// a power of two.
const frontSlots = 256

// classEntry is one User-Agent's class in the front cache.
type classEntry struct {
	ua string
	c  Class
}

// brandSlots is the number of remembered sec-ch-ua checks, a power of two.
const brandSlots = 256

// brandEntry is one remembered sec-ch-ua check.
type brandEntry struct {
	list          string
	engine, major int
	agree         bool
}

// shard is one part of the Class cache. Eviction is random: when full, an arbitrary
// entry (Go's map iteration order) makes room, so spraying distinct User-Agents cannot
// grow memory and cannot pin a chosen set of entries.
type shard struct {
	mu  sync.RWMutex
	m   map[string]Class
	max int
	_   [64]byte // keep shards on separate cache lines
}

// New returns a Detector for cfg. It parses the embedded crawler patterns and indexes
// their literals (tens of milliseconds; each pattern is compiled on first use) and starts
// nothing.
func New(cfg Config) (*Detector, error) {
	if cfg.CacheSize < 0 || cfg.MaxPending < 0 || cfg.VerifyTimeout < 0 || cfg.VerifyTTL < 0 {
		return nil, errors.New("bot: negative CacheSize, MaxPending, VerifyTimeout or VerifyTTL")
	}
	size := cmpOr(cfg.CacheSize, defaultCacheSize)
	rs, err := loadRules()
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	d := &Detector{
		seed:       maphash.MakeSeed(),
		rules:      rs,
		resolver:   cfg.Resolver,
		timeout:    cmpOr(cfg.VerifyTimeout, defaultVerifyTimeout),
		ttl:        cmpOr(cfg.VerifyTTL, defaultVerifyTTL),
		maxPending: cmpOr(cfg.MaxPending, defaultMaxPending),
		claims:     claimTable(),
		vres:       make(map[vkey]ventry),
		vpending:   make(map[vkey]struct{}),
		vcap:       size,
	}
	if d.resolver == nil {
		d.resolver = net.DefaultResolver
	}
	n := 1 // shards: a power of two, at most 64, each holding at least 64 entries
	for n < 64 && n*2*64 <= size {
		n *= 2
	}
	d.shards = make([]shard, n)
	d.mask = uint64(n - 1)
	for i := range d.shards {
		capacity := size / n
		if i < size%n {
			capacity++
		}
		// The maps grow as User-Agents arrive: most sites see a few hundred distinct
		// ones, and maps sized for the bound up front were a megabyte of pointer-bearing
		// slots for every garbage collection to scan.
		d.shards[i] = shard{m: make(map[string]Class), max: capacity}
	}
	return d, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Classify returns the class of the User-Agent string ua. Results are cached per distinct
// string (see [Config.CacheSize]), and the last few hundred in a lock-free front; a hit
// in the front costs one hash and one comparison and does not allocate. The class is read from the first 512 bytes of ua (real User-Agents are
// shorter), and at most 1025 bytes are read in all: a longer User-Agent is malformed
// whatever follows. It is safe for concurrent use.
func (d *Detector) Classify(ua string) Class {
	if ua == "" {
		return Class{}
	}
	if len(ua) > maxUALen+1 {
		ua = ua[:maxUALen+1]
	}
	h := maphash.String(d.seed, ua)
	// A lock-free front: a browser sends the same User-Agent on every request.
	slot := &d.front[h&(frontSlots-1)]
	if e := slot.Load(); e != nil && e.ua == ua {
		return e.c
	}
	sh := &d.shards[h&d.mask]
	sh.mu.RLock()
	c, ok := sh.m[ua]
	sh.mu.RUnlock()
	if ok {
		slot.Store(&classEntry{ua: strings.Clone(ua), c: c})
		return c
	}
	c = d.rules.classify(ua)
	slot.Store(&classEntry{ua: strings.Clone(ua), c: c})
	sh.mu.Lock()
	if _, ok := sh.m[ua]; !ok {
		if len(sh.m) >= sh.max {
			for k := range sh.m {
				delete(sh.m, k)
				break
			}
		}
		sh.m[strings.Clone(ua)] = c
	}
	sh.mu.Unlock()
	return c
}

// cached reports how many User-Agents the Class cache holds (for tests).
func (d *Detector) cached() int {
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
