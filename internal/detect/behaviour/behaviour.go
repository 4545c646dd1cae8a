// Package behaviour recognises scripted clients from how they move through a site rather
// than from any single request: per-client sketches of request timing, path shape,
// request methods, response statuses and sub-resource loading, combined into one
// explainable automated_behaviour finding.
//
// The caller reports every answered request with Observe and asks Check before handling
// the next one. A Tracker keeps one fixed-size sketch per client key in a sharded table
// bounded by Config.MaxClients; when a shard is full its least recently seen client is
// evicted, and clients idle for longer than Config.Window are dropped first. See Config
// for the thresholds and BytesPerClient for the memory bound.
//
// Features (each is judged only once a client has made Config.MinRequests requests):
//
//	feature          rule (defaults)                                              points
//	regular_timing   coefficient of variation of the last 32 inter-arrival gaps
//	                 (all requests, assets included; at least 16) < 0.1             35
//	sequential_ids   the last numeric path segment under one path template moved
//	                 by the same non-zero step ≥ 20 times in a row (assets and
//	                 paths without a numeric segment are skipped, a repeated ID
//	                 is ignored, another numeric template restarts the run)         40
//	probing          ≥ 50 % of page requests answered 400/403/404/405/410, on
//	                 ≥ 10 distinct paths                                            45
//	no_assets        no asset request at all, and > 95 % of requests are GET/HEAD
//	                 of pages                                                       20
//	                 (30 when at least MinRequests of them were navigations: a
//	                 client that behaves like a browser yet never loads an asset)
//	posts_only       no asset request at all, and ≥ 90 % of page requests use
//	                 another method than GET/HEAD                                   20
//
// The finding's score is the sum of the points of the features that fired, capped at
// 100. regular_timing, no_assets and posts_only are weak: legitimate API clients,
// monitors and browsers with warm caches show them, so alone, or a weak one with
// regular timing, they never reach the default block threshold (80): alone they report
// nothing, together at most 65. The GET/POST mix is a signal only at its POST end: a
// session of only GETs is what most browsing looks like and scores nothing (the GET
// share only qualifies no_assets), and a browser POSTs a form after GETting the page
// that holds it, each POST usually followed by a GET of where it redirects, so its
// sessions stay far under 90 % writes. A client that does little but POST, and loads no
// asset, is a form or login script, or an API client; it is reported only when its
// timing is regular too (55), like a monitor. sequential_ids and probing are behaviours
// browsers rarely show and may be reported alone, below the block threshold. Reaching
// it takes both strong features (85), probing with regular timing (80), or a strong
// feature with both weak ones: a crawler walking /items/1..500 at a steady pace without
// assets scores 95 (regular_timing + sequential_ids + no_assets), but the same walk by a
// headless browser that loads assets scores 75. The guard combines the finding with
// other detectors'.
//
// # Sharing between instances
//
// Behind a load balancer each instance sees only part of a client's requests: a crawler
// spread over N instances needs N times as many requests to show each of them enough.
// With Config.Counter (the guard's Store), a Tracker shares each client's counts through
// fixed-window counters, amortised: every Config.ShareEvery (16) requests of a client
// that this instance observes, Observe runs one round of 7 Add calls that add what this
// instance saw since its last round and read back the fleet's totals in the current
// window of length Config.Window. The keys are "bh:<c>:<client key>" for c in a (asset
// requests), v (navigations), r (GET/HEAD pages), n (requests), f (probe statuses), p
// (failing paths new to an instance's sketch) and w (walk steps), so a client costs 7
// keys at most. Check then judges each feature on this instance's sketch and on the
// fleet's totals, and it fires if either shows it; an asset request seen by any instance
// rules out no_assets and posts_only everywhere. Check itself never calls the Counter.
//
// Not every feature aggregates. regular_timing stays local: gaps between one instance's
// requests are not gaps between the client's, and a balancer that picks instances at
// random makes even a machine's share irregular; a round-robin balancer keeps a fixed
// pace regular on each instance, at N times the period. sequential_ids is shared as walk
// steps: moves under one template in the same direction as the move before, by at most
// 64, since a walk split over instances shows each of them small steps in one direction
// that are no longer equal; the fleet's walk steps make sequential_ids fire when they
// reach SequentialRun and are at least half of the fleet's page requests. probing is
// shared with the sum of each instance's distinct failing paths, capped by the number
// of failures, which overestimates when instances saw the same paths fail. Fixed windows
// restart the fleet's counts at each window boundary; the local sketch goes on.
//
// A round runs after the response, without the table's lock; its calls share one
// context with a 50 ms deadline, which bounds it for a Counter that honours contexts. A Counter error or the timeout ends it: the client is judged on
// this instance's sketch alone until its next good round, and no round starts for a
// second (Stats counts both). The counts of a failed round, and those observed while
// sharing is paused, are not shared: the fleet's totals can fall short, not overshoot.
//
// Memory is bounded, not fairness: a client rotating through many keys (addresses) can
// push other clients out of a full table, and then they start a new session. Check
// allocates only when it reports; Observe allocates only for a client it has not seen
// (its entry, once, and its key's copy), and reuses evicted entries, and, with a
// Counter, once a round for the round's keys and context.
//
// Finding (detector "behaviour"):
//
//	automated_behaviour  40–100  the features that fired, listed in Detail
package behaviour

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vigilhq/vigil/internal/detect"
)

// Code is the finding code Check reports.
const Code = "automated_behaviour"

// Feature points; see the package doc.
const (
	pointsRegular     = 35
	pointsSequential  = 40
	pointsProbing     = 45
	pointsNoAssets    = 20
	pointsNoAssetsNav = 30
	pointsPostsOnly   = 20
)

// postShare is the share of page requests that are not GET or HEAD above which
// posts_only fires.
const postShare = 0.9

// gapSlots is how many inter-arrival gaps a sketch keeps for regular_timing.
const gapSlots = 32

// decayAt is the request count at which a sketch halves its counters, so that a long
// session is judged mostly on its recent part.
const decayAt = 4096

// Config holds a Tracker's bounds and thresholds. The zero value of every field is a safe
// default, named in its doc.
type Config struct {
	// MaxClients bounds the number of clients tracked at once. Zero means 65,536. The
	// table is split into shards of equal size, so the real bound is MaxClients rounded
	// down to a multiple of the shard count (at most 64 shards, at least 16 clients a
	// shard); it is never more than MaxClients.
	MaxClients int
	// MinRequests is how many requests a client must have made, within one session,
	// before Check judges it. Zero means 20.
	MinRequests int
	// Window is the idle time after which a client's sketch is forgotten and a new
	// session starts. Zero means 10 minutes.
	Window time.Duration
	// MaxRegularCV is the coefficient of variation of inter-arrival times below which
	// timing counts as too regular. Zero means 0.1 (fraud-rules §8). Humans are bursty
	// (well above 0.5); scripts with a fixed sleep are far below 0.1.
	MaxRegularCV float64
	// SequentialRun is how many consecutive equal ID steps make sequential_ids fire.
	// Zero means 20.
	SequentialRun int
	// ProbeRatio is the share of page requests answered with 400, 403, 404, 405 or 410
	// that makes probing fire. Zero means 0.5.
	ProbeRatio float64
	// ProbePaths is how many distinct failing paths probing needs as well. Zero means
	// 10; the count is estimated from a 64-bit sketch and saturates near 250.
	ProbePaths int

	// Counter, when set, shares every client's counts with the other instances that use
	// the same counter store (see the package doc). Nil keeps every sketch local.
	Counter Counter
	// ShareEvery is how many requests by one client this instance observes between two
	// rounds of sharing that client's counts. Zero means 16, the number of requests a
	// judgement is reused for; values above 4096 mean 4096. Unused without Counter.
	ShareEvery int
}

func (c Config) withDefaults() Config {
	if c.MaxClients <= 0 {
		c.MaxClients = 65536
	}
	if c.MinRequests <= 0 {
		c.MinRequests = 20
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.MaxRegularCV <= 0 {
		c.MaxRegularCV = 0.1
	}
	if c.SequentialRun <= 0 {
		c.SequentialRun = 20
	}
	if c.ProbeRatio <= 0 {
		c.ProbeRatio = 0.5
	}
	if c.ProbePaths <= 0 {
		c.ProbePaths = 10
	}
	if c.ShareEvery <= 0 {
		c.ShareEvery = memoRequests
	}
	c.ShareEvery = min(c.ShareEvery, maxShareEvery)
	return c
}

// Observation is one answered request.
type Observation struct {
	// Time is when the request arrived (or was answered; be consistent). It must be
	// set: the zero Time counts as a time centuries ago. Times slightly out of order,
	// from concurrent requests, count as a zero gap.
	Time time.Time
	// Method is the request method.
	Method string
	// Path is the request's URL path without the query.
	Path string
	// Status is the response status code.
	Status int
	// Asset reports a sub-resource request: an image, stylesheet, script, font or media
	// file. IsAsset decides it from the request.
	Asset bool
	// Navigation reports a top-level document load (Sec-Fetch-Mode: navigate, or an
	// Accept header asking for text/html).
	Navigation bool
}

// BytesPerClient is the fixed size of one client's sketch, the shared counts included.
// Each tracked client also costs its key's bytes (copied once when the client is first
// seen) and one map slot (about 40 bytes), and a flagged client its last finding's
// detail (under 200 bytes), so a Tracker holds at most about MaxClients ×
// (BytesPerClient + 240 + key length) bytes: about 36 MiB for the default 65,536
// clients with short keys such as IP addresses, about 23 MiB when few are flagged.
const BytesPerClient = int(unsafe.Sizeof(client{}))

// client is one client's sketch. All counters belong to the current session. Fields are
// ordered to pack: see BytesPerClient.
type client struct {
	key        string
	prev, next *client // the shard's recency list; the sentinel closes it

	first, last int64 // UnixNano of the session's first and last request
	gaps        [gapSlots]uint32
	gapN, gapI  uint8 // gaps stored, next slot
	sharing     bool  // a round is under way for this client (see Tracker.share)

	// The last judgement, reused for the next memoRequests requests: the sketch moves
	// slowly, and a flagged client would otherwise pay for a new detail string on
	// every request. memoTotal is total when it was made (0: none, also after a
	// round brought new fleet counts).
	memoScore  uint8
	memoTotal  uint32
	memoDetail string

	total, reads, assets uint32 // requests; GET/HEAD of pages; asset requests
	pages, navs, fails   uint32 // non-asset requests; navigations; probe statuses
	failPaths            uint64 // linear-counting sketch of distinct failing paths

	tmpl         uint64 // path template of the last numeric path
	lastID, step uint64
	run, maxRun  uint32

	// With a Counter: the counts not yet shared, and the fleet's totals as of the
	// last round (all zero: none, or the last round failed). Indexed by cAssets….
	unshared [nCounters]uint16
	fleet    [nCounters]uint32
}

// memoRequests is how many requests a judgement is reused for.
const memoRequests = 16

func (c *client) reset(now int64) {
	key, prev, next := c.key, c.prev, c.next
	*c = client{key: key, prev: prev, next: next, first: now, last: now}
}

// shard is one lock's part of the table. root is the sentinel of a circular recency list:
// root.next is the most recently seen client, root.prev the least.
type shard struct {
	mu    sync.Mutex
	m     map[string]*client
	root  client
	limit int
	_     [64]byte // keep shards' locks on separate cache lines
}

// Tracker holds the sketches. Create it with New; the zero value is not usable. It is
// safe for concurrent use.
type Tracker struct {
	cfg        Config
	seed       maphash.Seed
	shards     []shard
	window     int64
	shareEvery int

	shares, shareErrors atomic.Uint64
	pausedUntil         atomic.Int64 // UnixNano (observation time) until which no round starts
}

// New returns a Tracker for cfg with defaults applied. It allocates the shards and nothing
// per client until clients are seen.
func New(cfg Config) *Tracker {
	cfg = cfg.withDefaults()
	n := 64
	for n > 1 && cfg.MaxClients/n < 16 {
		n /= 2
	}
	t := &Tracker{cfg: cfg, seed: maphash.MakeSeed(), shards: make([]shard, n), window: int64(cfg.Window), shareEvery: cfg.ShareEvery}
	for i := range t.shards {
		s := &t.shards[i]
		s.limit = cfg.MaxClients / n
		s.m = make(map[string]*client)
		s.root.next, s.root.prev = &s.root, &s.root
	}
	return t
}

func (t *Tracker) shard(key string) *shard {
	return &t.shards[maphash.String(t.seed, key)&uint64(len(t.shards)-1)]
}

// Len reports how many clients are tracked.
func (t *Tracker) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (s *shard) unlink(c *client) {
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = nil, nil
}

func (s *shard) pushFront(c *client) {
	c.prev, c.next = &s.root, s.root.next
	s.root.next.prev = c
	s.root.next = c
}

// get returns key's sketch, creating it (and evicting to make room) when needed, and
// makes it the most recently seen.
func (s *shard) get(key string, now, window int64) *client {
	if c, ok := s.m[key]; ok {
		s.touch(c, now, window)
		return c
	}
	// Drop every expired client at the cold end; each client is dropped once, so this
	// costs amortised O(1) per new client.
	var spare *client
	for tail := s.root.prev; tail != &s.root && now-tail.last > window; tail = s.root.prev {
		s.unlink(tail)
		delete(s.m, tail.key)
		spare = tail
	}
	if spare == nil && len(s.m) >= s.limit {
		spare = s.root.prev
		s.unlink(spare)
		delete(s.m, spare.key)
	}
	if spare == nil {
		spare = new(client)
	}
	*spare = client{key: strings.Clone(key), first: now, last: now}
	s.m[spare.key] = spare
	s.pushFront(spare)
	return spare
}

// touch makes c, a sketch s holds, the most recently seen, and starts it afresh when
// its session has expired.
func (s *shard) touch(c *client, now, window int64) {
	s.unlink(c)
	s.pushFront(c)
	if now-c.last > window {
		c.reset(now)
	}
}

// Observe records one answered request by the client key. Keys are the caller's choice
// (an IP address, an IPv6 /64, a session); they are compared exactly. With a Counter,
// every Config.ShareEvery-th request of a client also runs a round of sharing (see the
// package doc), with a 50 ms deadline: call Observe after the response.
func (t *Tracker) Observe(key string, o Observation) {
	t.ObserveAt(Handle{}, key, o)
}

// Handle is where Check found a client key's sketch. Passing it to ObserveAt for the same
// key after the response spares hashing the key and looking it up again. The zero Handle
// is valid: ObserveAt then does both.
type Handle struct {
	s *shard
	c *client // the sketch Check found; it may have been evicted or reused since
}

// ObserveAt is Observe with the Handle Check returned for key.
func (t *Tracker) ObserveAt(h Handle, key string, o Observation) {
	now := o.Time.UnixNano()
	s := h.s
	if s == nil {
		s = t.shard(key)
	}
	s.mu.Lock()
	var c *client
	if h.c != nil && h.c.prev != nil && h.c.key == key {
		// Still linked and still key's (an evicted sketch is unlinked; a reused
		// one has another key), so it is the one s.m holds for key.
		c = h.c
		s.touch(c, now, t.window)
	} else {
		c = s.get(key, now, t.window)
	}
	c.observe(now, &o, t.cfg.Counter != nil)
	if t.cfg.Counter == nil {
		s.mu.Unlock()
		return
	}
	deltas, due := t.roundDue(c, now)
	key, first := c.key, c.first
	s.mu.Unlock()
	if due {
		t.share(s, c, key, first, deltas, now)
	}
}

// observe adds o to the sketch and, when counting, to the counts not yet shared.
func (c *client) observe(now int64, o *Observation, counting bool) {
	if c.total > 0 {
		gap := max(now-c.last, 0) / int64(time.Microsecond)
		c.gaps[c.gapI] = uint32(min(gap, math.MaxUint32))
		c.gapI = (c.gapI + 1) % gapSlots
		c.gapN = min(c.gapN+1, gapSlots)
		if counting && c.gapN == gapSlots/2 {
			// Timing can now be judged. Counts shared by other instances may have
			// reached MinRequests long before this instance's gaps did.
			c.memoTotal = 0
		}
	}
	c.last = max(c.last, now)
	if c.total >= decayAt {
		c.total /= 2
		c.reads /= 2
		c.assets /= 2
		c.pages /= 2
		c.navs /= 2
		c.fails /= 2
		c.maxRun /= 2
	}
	c.total++
	if o.Asset {
		c.assets++
		if counting {
			c.count(o, false, false)
		}
		return // assets say nothing about pages, probing or ID walking
	}
	c.pages++
	if o.Method == "GET" || o.Method == "HEAD" {
		c.reads++
	}
	if o.Navigation {
		c.navs++
	}
	newFailPath := false
	switch o.Status {
	case 400, 403, 404, 405, 410:
		c.fails++
		bit := uint64(1) << (fnv(fnvOffset, o.Path) % 64)
		newFailPath = c.failPaths&bit == 0
		c.failPaths |= bit
	}
	walked := c.walk(o.Path)
	if counting {
		c.count(o, newFailPath, walked)
	}
}

// walk updates the sequential_ids state from path and reports a walk step: a move under
// the same template in the same direction as the move before, by at most maxWalkStep.
// Equal steps make sequential_ids on one instance; walk steps are what is shared, since
// a walk split over several instances shows each of them steps that are still small
// and in one direction but no longer equal.
func (c *client) walk(path string) (walked bool) {
	tmpl, id, ok := template(path)
	if !ok {
		return false
	}
	switch {
	case c.tmpl != tmpl: // a new template (or the first): start over
		c.tmpl, c.lastID, c.step, c.run = tmpl, id, 0, 0
		return false
	case id == c.lastID: // a reload or a retry
		return false
	}
	step := id - c.lastID
	if c.step != 0 && int64(step)^int64(c.step) >= 0 {
		walked = int64(step) <= maxWalkStep && int64(step) >= -maxWalkStep
	}
	if step == c.step {
		c.run++
	} else {
		c.step, c.run = step, 1
	}
	c.lastID = id
	c.maxRun = max(c.maxRun, c.run)
	return walked
}

// template finds the last path segment made only of 1–18 digits and returns an FNV-1a
// hash of the path with that segment left out, and the segment's value.
func template(path string) (tmpl, id uint64, ok bool) {
	end := len(path)
	for end > 0 {
		start := strings.LastIndexByte(path[:end], '/') + 1
		seg := path[start:end]
		if n := len(seg); n > 0 && n <= 18 && digits(seg) {
			id, _ = strconv.ParseUint(seg, 10, 64)
			h := fnv(fnv(fnvOffset, path[:start]), "\x00")
			return fnv(h, path[end:]), id, true
		}
		if start == 0 {
			break
		}
		end = start - 1
	}
	return 0, 0, false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

const fnvOffset = 14695981039346656037

// fnv continues an FNV-1a hash over s.
func fnv(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// features is what Check computed for one client.
type features struct {
	requests  uint32
	cv        float64 // -1 when there were too few gaps
	run       uint32
	failRatio float64
	failPaths int
	pages     uint32
	navs      uint32
	writes    uint32 // pages requested with another method than GET or HEAD
	noAssets  bool
	postsOnly bool
	walk      bool // run counts walk steps on every instance, not equal steps here
	fleet     bool // requests counts the requests seen by every instance
}

// Check appends an automated_behaviour finding to dst when the client key's session shows
// enough evidence, and returns dst. It appends nothing, and allocates nothing, for an
// unknown client, an expired session, one with fewer than MinRequests requests, or one
// whose features are too weak.
func (t *Tracker) Check(dst []detect.Finding, key string, now time.Time) []detect.Finding {
	dst, _ = t.CheckAt(dst, key, now)
	return dst
}

// CheckAt is Check that also returns where it found key, for ObserveAt.
func (t *Tracker) CheckAt(dst []detect.Finding, key string, now time.Time) ([]detect.Finding, Handle) {
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	h := Handle{s: s, c: c}
	if !ok || now.UnixNano()-c.last > t.window || int(max(c.total, c.fleet[cTotal])) < t.cfg.MinRequests {
		return dst, h
	}
	if c.memoTotal != 0 && c.total-c.memoTotal < memoRequests {
		if c.memoScore == 0 {
			return dst, h
		}
		return append(dst, detect.Finding{Detector: "behaviour", Code: Code, Score: int(c.memoScore), Detail: c.memoDetail}), h
	}
	n := len(dst)
	dst = t.judge(dst, c.features(&t.cfg))
	c.memoTotal, c.memoScore, c.memoDetail = c.total, 0, ""
	if len(dst) > n {
		c.memoScore, c.memoDetail = uint8(dst[n].Score), dst[n].Detail
	}
	return dst, h
}

// features computes what judge needs, cheapest first: the coefficient of variation only
// when another feature fired (regular_timing never reports alone), the distinct-path
// estimate only when the failure ratio is high enough.
func (c *client) features(cfg *Config) features {
	f := features{requests: c.total, cv: -1, run: c.maxRun, pages: c.pages, navs: c.navs, writes: c.pages - c.reads}
	if c.pages > 0 {
		f.failRatio = float64(c.fails) / float64(c.pages)
	}
	if f.failRatio >= cfg.ProbeRatio {
		if zeros := 64 - bits.OnesCount64(c.failPaths); zeros == 0 {
			f.failPaths = 266 // the estimate's ceiling: 64 ln 64
		} else {
			f.failPaths = int(math.Round(-64 * math.Log(float64(zeros)/64)))
		}
	}
	// An asset loaded from any instance counts.
	noAssets := c.assets == 0 && c.fleet[cAssets] == 0
	f.noAssets = noAssets && float64(c.reads) > 0.95*float64(c.total)
	f.postsOnly = noAssets && c.pages > 0 && float64(f.writes) >= postShare*float64(c.pages)
	if c.fleet[cTotal] > 0 {
		c.fleetFeatures(cfg, &f)
	}
	other := int(f.run) >= cfg.SequentialRun || f.failPaths >= cfg.ProbePaths || f.noAssets || f.postsOnly
	if other && c.gapN >= gapSlots/2 {
		var sum, sq float64
		for _, g := range c.gaps[:c.gapN] {
			sum += float64(g)
		}
		mean := sum / float64(c.gapN)
		for _, g := range c.gaps[:c.gapN] {
			d := float64(g) - mean
			sq += d * d
		}
		if mean > 0 {
			f.cv = math.Sqrt(sq/float64(c.gapN)) / mean
		}
	}
	return f
}

// fleetFeatures adds the fleet's counts to f. Counts take the larger of the two: the
// fleet's walk steps may make sequential_ids fire. Ratios (probing's failure share, the
// request mix behind no_assets and posts_only) are the client's, not one instance's: a
// balancer that splits a client's mix unevenly would otherwise show each instance a
// purer one. They come from the fleet's counts while those cover at least what this
// instance had counted at its last round, which they fail to do only after a window
// boundary restarted them.
func (c *client) fleetFeatures(cfg *Config, f *features) {
	fl := &c.fleet
	n := fl[cTotal]
	assets := min(fl[cAssets], n)
	pages := n - assets
	reads := min(fl[cReads], pages)
	if walks := fl[cWalks]; walks > f.run && int(walks) >= cfg.SequentialRun && 2*uint64(walks) >= uint64(pages) {
		f.run, f.walk = walks, true // most of the pages are one walk
	}
	if shared := uint32(c.unshared[cTotal]); c.total < shared || n < c.total-shared {
		return
	}
	if n > c.total {
		f.requests, f.fleet = n, true
	}
	// The counts behind thresholds take the larger: the fleet's lag this instance's
	// by up to a round.
	f.pages, f.navs, f.writes = max(f.pages, pages), max(f.navs, min(fl[cNavs], pages)), max(f.writes, pages-reads)
	f.failRatio, f.failPaths = 0, 0
	if pages > 0 {
		f.failRatio = float64(min(fl[cFails], pages)) / float64(pages)
	}
	if f.failRatio >= cfg.ProbeRatio {
		// The sum of each instance's distinct failing paths: an overestimate when
		// instances saw the same paths fail, so never more than the failures.
		f.failPaths = int(min(fl[cFailPaths], fl[cFails]))
	}
	noAssets := assets == 0 && c.assets == 0 && pages > 0
	f.noAssets = noAssets && float64(reads) > 0.95*float64(n)
	f.postsOnly = noAssets && float64(pages-reads) >= postShare*float64(pages)
}

// judge turns features into at most one finding.
func (t *Tracker) judge(dst []detect.Finding, f features) []detect.Finding {
	regular := f.cv >= 0 && f.cv < t.cfg.MaxRegularCV
	sequential := int(f.run) >= t.cfg.SequentialRun
	probing := f.failRatio >= t.cfg.ProbeRatio && f.failPaths >= t.cfg.ProbePaths
	noAssets := f.noAssets && int(f.pages) >= t.cfg.MinRequests
	postsOnly := f.postsOnly && !noAssets && int(f.pages) >= t.cfg.MinRequests
	if !sequential && !probing && !(regular && (noAssets || postsOnly)) {
		return dst
	}
	var buf [256]byte
	b := buf[:0]
	score := 0
	if regular {
		score += pointsRegular
		b = append(b, "regular_timing (cv "...)
		b = strconv.AppendFloat(b, f.cv, 'f', 3, 64)
		b = append(b, "), "...)
	}
	if sequential {
		score += pointsSequential
		b = append(b, "sequential_ids ("...)
		b = strconv.AppendUint(b, uint64(f.run), 10)
		if f.walk {
			b = append(b, " walk steps), "...)
		} else {
			b = append(b, " equal steps), "...)
		}
	}
	if probing {
		score += pointsProbing
		b = append(b, "probing ("...)
		b = strconv.AppendInt(b, int64(math.Round(f.failRatio*100)), 10)
		b = append(b, "% failed, ~"...)
		b = strconv.AppendInt(b, int64(f.failPaths), 10)
		b = append(b, " paths), "...)
	}
	if noAssets {
		if int(f.navs) >= t.cfg.MinRequests {
			score += pointsNoAssetsNav
			b = append(b, "no_assets ("...)
			b = strconv.AppendUint(b, uint64(f.navs), 10)
			b = append(b, " navigations), "...)
		} else {
			score += pointsNoAssets
			b = append(b, "no_assets ("...)
			b = strconv.AppendUint(b, uint64(f.pages), 10)
			b = append(b, " pages), "...)
		}
	}
	if postsOnly {
		score += pointsPostsOnly
		b = append(b, "posts_only ("...)
		b = strconv.AppendUint(b, uint64(f.writes), 10)
		b = append(b, " of "...)
		b = strconv.AppendUint(b, uint64(f.pages), 10)
		b = append(b, " pages), "...)
	}
	b = append(b, "over "...)
	b = strconv.AppendUint(b, uint64(f.requests), 10)
	b = append(b, " requests"...)
	if f.fleet {
		b = append(b, " on all instances"...)
	}
	return append(dst, detect.Finding{Detector: "behaviour", Code: Code, Score: min(score, 100), Detail: string(b)})
}

// IsAsset reports whether a request is for a sub-resource rather than a page, from its
// Sec-Fetch-Dest header when the browser sent one, else from an Accept header that asks
// for an image or a stylesheet, else from the path's file extension. A fetch() or XHR
// call (Sec-Fetch-Dest: empty) is not an asset.
func IsAsset(path, secFetchDest, accept string) bool {
	switch secFetchDest {
	case "image", "script", "style", "font", "audio", "video", "track", "manifest",
		"object", "embed", "paintworklet", "audioworklet":
		return true
	case "":
	default:
		return false
	}
	if strings.HasPrefix(accept, "image/") || strings.HasPrefix(accept, "text/css") {
		return true
	}
	seg := path[strings.LastIndexByte(path, '/')+1:]
	dot := strings.LastIndexByte(seg, '.')
	if dot < 0 {
		return false
	}
	ext := seg[dot+1:]
	for _, e := range assetExts {
		if strings.EqualFold(ext, e) {
			return true
		}
	}
	return false
}

var assetExts = [...]string{
	"css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico",
	"bmp", "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav", "wasm",
}
