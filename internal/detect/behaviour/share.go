package behaviour

import (
	"context"
	"math"
	"strings"
	"time"
)

// Counter is the part of the guard's Store a Tracker needs to share its counts:
// fixed-window counters. Add adds n to key in the current window of the given length and
// returns the counter's new value, the sum over every instance that shares the store.
// It must be safe for concurrent use.
type Counter interface {
	Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
}

// The shared counters of one client, in the order a round pushes them: the ones that
// argue against a feature (assets, navigations, reads) go first, so that a round cut
// short by an error leaves the fleet with too little evidence, never too much.
const (
	cAssets    = iota // asset requests
	cNavs             // navigations
	cReads            // GET/HEAD of pages
	cTotal            // requests
	cFails            // pages answered with a probe status
	cFailPaths        // failing paths new to this instance's sketch of them
	cWalks            // walk steps (see client.walk)
	nCounters
)

// counterNames names the counters in Store keys: "bh:" + name + ":" + client key. The
// client key comes last, where the Redis store looks for the hash tag of an IP key, so a
// client's counters share a cluster slot with its rate limits.
const counterNames = "avrnfpw"

// Sharing bounds.
const (
	// shareTimeout bounds one round, all its Add calls together. Rounds run in Observe,
	// after the response.
	shareTimeout = 50 * time.Millisecond
	// sharePause is how long, in observation time, sharing stops after a failed round,
	// so that a store that is down costs one timeout now and then, not one a client.
	sharePause = time.Second
	// maxShareEvery caps Config.ShareEvery, so the counts since the last round fit
	// their uint16s.
	maxShareEvery = 4096
	// maxWalkStep is the largest ID step a walk step may take: a walk of step 1 split
	// over up to this many instances still shows as walk steps in each.
	maxWalkStep = 64
)

// Stats counts a Tracker's share rounds. The zero value is no rounds.
type Stats struct {
	// Shares counts rounds that pushed a client's counts and read the fleet's back.
	Shares uint64
	// ShareErrors counts rounds cut short by a Counter error or by the round's 50 ms
	// timeout. The client is judged on local evidence until its next good round, and
	// every client is for a second after the error.
	ShareErrors uint64
}

// Stats returns the counts of share rounds so far. It is safe for concurrent use.
func (t *Tracker) Stats() Stats {
	return Stats{Shares: t.shares.Load(), ShareErrors: t.shareErrors.Load()}
}

// count adds one observation's part to the counts not yet shared.
func (c *client) count(o *Observation, newFailPath, walked bool) {
	d := &c.unshared
	d[cTotal]++
	if o.Asset {
		d[cAssets]++
		return
	}
	if o.Method == "GET" || o.Method == "HEAD" {
		d[cReads]++
	}
	if o.Navigation {
		d[cNavs]++
	}
	switch o.Status {
	case 400, 403, 404, 405, 410:
		d[cFails]++
	}
	if newFailPath {
		d[cFailPaths]++
	}
	if walked {
		d[cWalks]++
	}
}

// roundDue reports whether c's counts should be shared now, under the shard's lock, and
// if so takes them: c.unshared is zeroed and c.sharing set until finishRound.
func (t *Tracker) roundDue(c *client, now int64) (deltas [nCounters]uint16, due bool) {
	if int(c.unshared[cTotal]) < t.shareEvery || c.sharing {
		return deltas, false
	}
	deltas, c.unshared = c.unshared, [nCounters]uint16{}
	if now < t.pausedUntil.Load() {
		// Local evidence only until sharing resumes; what happened meanwhile is not
		// shared.
		c.dropFleet()
		return deltas, false
	}
	c.sharing = true
	return deltas, true
}

// dropFleet forgets the fleet's counts, and the judgement made with them.
func (c *client) dropFleet() {
	if c.fleet != [nCounters]uint32{} {
		c.fleet = [nCounters]uint32{}
		c.memoTotal = 0
	}
}

// share runs one round for client c of shard s (found under key, in the session that
// started at first): it adds deltas to the client's shared counters and keeps the
// totals they return. It runs without the shard's lock.
func (t *Tracker) share(s *shard, c *client, key string, first int64, deltas [nCounters]uint16, now int64) {
	var b strings.Builder
	b.Grow(nCounters * (len("bh:x:") + len(key)))
	for i := range nCounters {
		b.WriteString("bh:")
		b.WriteByte(counterNames[i])
		b.WriteByte(':')
		b.WriteString(key)
	}
	keys, step := b.String(), len("bh:x:")+len(key)
	ctx, cancel := context.WithTimeout(context.Background(), shareTimeout)
	var totals [nCounters]uint32
	var err error
	for i := range nCounters {
		var v int64
		if v, err = t.cfg.Counter.Add(ctx, keys[i*step:(i+1)*step], int64(deltas[i]), t.cfg.Window); err != nil {
			break
		}
		totals[i] = uint32(min(max(v, 0), math.MaxUint32))
	}
	if err == nil {
		err = ctx.Err() // a Counter that ignores its context still has a deadline
	}
	cancel()
	if err != nil {
		t.shareErrors.Add(1)
		t.pausedUntil.Store(now + int64(sharePause))
	} else {
		t.shares.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key] != c || c.first != first || !c.sharing {
		return // evicted or a new session meanwhile: the totals are not its
	}
	c.sharing = false
	if err != nil {
		c.dropFleet()
		return
	}
	c.fleet, c.memoTotal = totals, 0
}
