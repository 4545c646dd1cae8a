// Package behaviour recognises scripted clients from how they move through a site rather
// than from any single request: per-client sketches of request timing, path shape,
// response statuses and sub-resource loading, combined into one explainable
// automated_behaviour finding.
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
//
// The finding's score is the sum of the points of the features that fired, capped at
// 100. regular_timing and no_assets are weak: legitimate API clients, monitors and
// browsers with warm caches show them, so either alone, or both together, never reach
// the default block threshold (80): alone they report nothing, together at most 65. A
// session of only GETs is not suspicious by itself and scores nothing; the GET share
// only qualifies no_assets. sequential_ids and probing are behaviours browsers rarely
// show and may be reported alone, below the block threshold. Reaching it takes both
// strong features (85), probing with regular timing (80), or a strong feature with both
// weak ones: a crawler walking /items/1..500 at a steady pace without assets scores 95
// (regular_timing + sequential_ids + no_assets), but the same walk by a headless browser
// that loads assets scores 75. The guard combines the finding with other detectors'.
//
// Memory is bounded, not fairness: a client rotating through many keys (addresses) can
// push other clients out of a full table, and then they start a new session. Check
// allocates only when it reports; Observe allocates only for a client it has not seen
// (its entry, once, and its key's copy), and reuses evicted entries.
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
)

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

// BytesPerClient is the fixed size of one client's sketch. Each tracked client also
// costs its key's bytes (copied once when the client is first seen) and one map slot
// (about 40 bytes), and a flagged client its last finding's detail (under 200 bytes),
// so a Tracker holds at most about MaxClients × (BytesPerClient + 240 + key length)
// bytes: about 35 MiB for the default 65,536 clients with short keys such as IP
// addresses, about 21 MiB when few are flagged.
const BytesPerClient = int(unsafe.Sizeof(client{}))

// client is one client's sketch. All counters belong to the current session.
type client struct {
	key        string
	prev, next *client // the shard's recency list; the sentinel closes it

	first, last int64 // UnixNano of the session's first and last request
	gaps        [gapSlots]uint32
	gapN, gapI  uint8 // gaps stored, next slot

	total, reads, assets uint32 // requests; GET/HEAD of pages; asset requests
	pages, navs, fails   uint32 // non-asset requests; navigations; probe statuses
	failPaths            uint64 // linear-counting sketch of distinct failing paths

	tmpl         uint64 // path template of the last numeric path
	lastID, step uint64
	run, maxRun  uint32

	// The last judgement, reused for the next memoRequests requests: the sketch moves
	// slowly, and a flagged client would otherwise pay for a new detail string on
	// every request. memoTotal is total when it was made (0: none).
	memoTotal  uint32
	memoScore  uint8
	memoDetail string
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
	cfg    Config
	seed   maphash.Seed
	shards []shard
	window int64
}

// New returns a Tracker for cfg with defaults applied. It allocates the shards and nothing
// per client until clients are seen.
func New(cfg Config) *Tracker {
	cfg = cfg.withDefaults()
	n := 64
	for n > 1 && cfg.MaxClients/n < 16 {
		n /= 2
	}
	t := &Tracker{cfg: cfg, seed: maphash.MakeSeed(), shards: make([]shard, n), window: int64(cfg.Window)}
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
		s.unlink(c)
		s.pushFront(c)
		if now-c.last > window {
			c.reset(now)
		}
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

// Observe records one answered request by the client key. Keys are the caller's choice
// (an IP address, an IPv6 /64, a session); they are compared exactly.
func (t *Tracker) Observe(key string, o Observation) {
	now := o.Time.UnixNano()
	s := t.shard(key)
	s.mu.Lock()
	c := s.get(key, now, t.window)
	c.observe(now, o)
	s.mu.Unlock()
}

func (c *client) observe(now int64, o Observation) {
	if c.total > 0 {
		gap := max(now-c.last, 0) / int64(time.Microsecond)
		c.gaps[c.gapI] = uint32(min(gap, math.MaxUint32))
		c.gapI = (c.gapI + 1) % gapSlots
		c.gapN = min(c.gapN+1, gapSlots)
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
		return // assets say nothing about pages, probing or ID walking
	}
	c.pages++
	if o.Method == "GET" || o.Method == "HEAD" {
		c.reads++
	}
	if o.Navigation {
		c.navs++
	}
	switch o.Status {
	case 400, 403, 404, 405, 410:
		c.fails++
		c.failPaths |= 1 << (fnv(fnvOffset, o.Path) % 64)
	}
	c.walk(o.Path)
}

// walk updates the sequential_ids state from path.
func (c *client) walk(path string) {
	tmpl, id, ok := template(path)
	if !ok {
		return
	}
	switch {
	case c.tmpl != tmpl: // a new template (or the first): start over
		c.tmpl, c.lastID, c.step, c.run = tmpl, id, 0, 0
		return
	case id == c.lastID: // a reload or a retry
		return
	}
	step := id - c.lastID
	if step == c.step {
		c.run++
	} else {
		c.step, c.run = step, 1
	}
	c.lastID = id
	c.maxRun = max(c.maxRun, c.run)
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
	noAssets  bool
}

// Check appends an automated_behaviour finding to dst when the client key's session shows
// enough evidence, and returns dst. It appends nothing, and allocates nothing, for an
// unknown client, an expired session, one with fewer than MinRequests requests, or one
// whose features are too weak.
func (t *Tracker) Check(dst []detect.Finding, key string, now time.Time) []detect.Finding {
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	if !ok || now.UnixNano()-c.last > t.window || int(c.total) < t.cfg.MinRequests {
		return dst
	}
	if c.memoTotal != 0 && c.total-c.memoTotal < memoRequests {
		if c.memoScore == 0 {
			return dst
		}
		return append(dst, detect.Finding{Detector: "behaviour", Code: Code, Score: int(c.memoScore), Detail: c.memoDetail})
	}
	n := len(dst)
	dst = t.judge(dst, c.features(&t.cfg))
	c.memoTotal, c.memoScore, c.memoDetail = c.total, 0, ""
	if len(dst) > n {
		c.memoScore, c.memoDetail = uint8(dst[n].Score), dst[n].Detail
	}
	return dst
}

// features computes what judge needs, cheapest first: the coefficient of variation only
// when another feature fired (regular_timing never reports alone), the distinct-path
// estimate only when the failure ratio is high enough.
func (c *client) features(cfg *Config) features {
	f := features{requests: c.total, cv: -1, run: c.maxRun, pages: c.pages, navs: c.navs}
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
	f.noAssets = c.assets == 0 && float64(c.reads) > 0.95*float64(c.total)
	other := int(f.run) >= cfg.SequentialRun || f.failPaths >= cfg.ProbePaths || f.noAssets
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

// judge turns features into at most one finding.
func (t *Tracker) judge(dst []detect.Finding, f features) []detect.Finding {
	regular := f.cv >= 0 && f.cv < t.cfg.MaxRegularCV
	sequential := int(f.run) >= t.cfg.SequentialRun
	probing := f.failRatio >= t.cfg.ProbeRatio && f.failPaths >= t.cfg.ProbePaths
	noAssets := f.noAssets && int(f.pages) >= t.cfg.MinRequests
	if !sequential && !probing && !(regular && noAssets) {
		return dst
	}
	var buf [192]byte
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
		b = append(b, " equal steps), "...)
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
	b = append(b, "over "...)
	b = strconv.AppendUint(b, uint64(f.requests), 10)
	b = append(b, " requests"...)
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
