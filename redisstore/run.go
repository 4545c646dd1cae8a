package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// maxGroup bounds the keys of one sync script call.
	maxGroup = 32
	// maxBatch and maxBatchKeys bound the script calls and the keys of one sync
	// pipeline, which must run within OpTimeout (a key takes Redis a few µs).
	maxBatch     = 512
	maxBatchKeys = 2048
	// sweepEvery is how often expired local keys and bans are dropped.
	sweepEvery = time.Minute
	// subscribeWait is how long the subscriber waits for a message before it pings
	// the connection; a ping unanswered for as long again replaces the connection.
	subscribeWait = time.Second
	// maxBackoff bounds the subscriber's wait between failed attempts.
	maxBackoff = time.Second
)

// Run does the Store's background work until ctx ends: it syncs local state with Redis
// every SyncInterval, keeps the local ban set current (loading the whole set when it
// subscribes, and again after every reconnection), probes Redis while the breaker is
// open and resyncs after it closes. Before returning it writes the unsynced changes
// one last time, waiting at most OpTimeout.
//
// Run returns nil once ctx has ended and its goroutines have stopped. It returns an
// error only when called while another call is running.
func (s *Store) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("redisstore: Run is already running")
	}
	defer s.running.Store(false)

	s.loadScripts(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.subscribe(ctx) })

	tick := time.NewTicker(s.cfg.SyncInterval)
	defer tick.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	var buf []item
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case now := <-tick.C:
			if s.br.ready() {
				buf = s.sync(ctx, buf[:0])
				clear(buf) // keep no entry alive
				if cap(buf) > 1<<14 && len(buf) < cap(buf)/4 {
					buf = nil // after a burst of keys
				}
			} else if s.br.tryProbe(now) {
				s.probe(ctx)
			}
		case <-s.recovered:
			s.resync(ctx)
		case now := <-sweep.C:
			s.local.sweep(now.UnixNano())
			s.bans.Sweep(now)
		}
	}
	wg.Wait()
	if s.br.ready() {
		s.sync(context.WithoutCancel(ctx), buf[:0])
	}
	return nil
}

// probe checks whether Redis answers again. The breaker allowed this call as its probe.
func (s *Store) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		s.redisFailed(err)
		return
	}
	s.redisOK()
}

// resync brings Redis and this instance back in step after an outage: scripts loaded
// (Redis may have restarted empty), bans placed meanwhile written, the ban set
// reloaded, local counts written.
func (s *Store) resync(ctx context.Context) {
	s.loadScripts(ctx)
	if err := s.flushBans(ctx); err != nil {
		s.redisFailed(err)
		return
	}
	select {
	case s.reload <- struct{}{}:
	default:
	}
	s.sync(ctx, nil)
}

// loadScripts loads the scripts into Redis (every master, in a Cluster), so that the
// first calls need not send them. Failure is harmless: a call whose script is missing
// sends it.
func (s *Store) loadScripts(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.OpTimeout, time.Second))
	defer cancel()
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			s.cfg.Logger.Debug("redisstore: loading scripts", "err", err)
			return
		}
	}
}

// sync writes every key's unsynced change to Redis and merges the shared state back,
// in pipelines of script calls, one call per group of keys (of one hash tag in a
// Cluster). buf is reused; sync returns it.
func (s *Store) sync(ctx context.Context, buf []item) []item {
	now := time.Now().UnixNano()
	items := s.local.collect(buf, now)
	if len(items) == 0 {
		if s.queueWaiting() {
			if err := s.flushBans(ctx); err != nil {
				s.redisFailed(err)
			}
		}
		return items
	}
	if !s.oneNode {
		slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.tag, b.tag) })
	}
	nowArg := strconv.FormatInt(now, 10)
	var firstErr error
	for start := 0; start < len(items); {
		// One batch: up to maxBatch groups of up to maxGroup keys, which share a hash
		// tag unless the client talks to one server.
		var groups [][]item
		for n := 0; len(groups) < maxBatch && n < maxBatchKeys && start < len(items); {
			end := start + 1
			for end < len(items) && end-start < maxGroup && (s.oneNode || items[end].tag == items[start].tag) {
				end++
			}
			groups = append(groups, items[start:end])
			n += end - start
			start = end
		}
		if err := s.syncBatch(ctx, groups, nowArg); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		s.stats.syncErrors.Add(1)
		s.redisFailed(firstErr)
		return items
	}
	s.stats.syncs.Add(1)
	s.stats.syncedKeys.Add(uint64(len(items)))
	s.redisOK()
	if s.queueWaiting() {
		if err := s.flushBans(ctx); err != nil {
			s.redisFailed(err)
		}
	}
	return items
}

func (s *Store) queueWaiting() bool {
	n, _ := s.queue.stats()
	return n > 0
}

// syncBatch sends one pipeline of sync script calls and merges the answers. Keys whose
// call failed get their changes back, to be sent again.
func (s *Store) syncBatch(ctx context.Context, groups [][]item, now string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	cmds := make([]*redis.Cmd, len(groups))
	run := func(eval bool) error {
		pipe := s.client.Pipeline()
		for i, g := range groups {
			if cmds[i] != nil && !isNoScript(cmds[i].Err()) {
				continue
			}
			keys := make([]string, len(g))
			args := make([]any, 1, 1+3*len(g))
			args[0] = now
			for j, it := range g {
				keys[j] = it.rkey
				if it.counter {
					args = append(args, "c", it.sent, ceilMilli(time.Unix(0, it.end)))
				} else {
					args = append(args, "r", it.sent, 0)
				}
			}
			if eval {
				cmds[i] = syncScript.Eval(ctx, pipe, keys, args...)
			} else {
				cmds[i] = syncScript.EvalSha(ctx, pipe, keys, args...)
			}
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	err := run(false)
	if err != nil && slices.ContainsFunc(cmds, func(c *redis.Cmd) bool { return isNoScript(c.Err()) }) {
		err = run(true)
	}
	var firstErr error
	for i, g := range groups {
		vals, err := cmds[i].StringSlice()
		if err == nil && len(vals) != len(g) {
			err = errors.New("sync script returned a wrong number of values")
		}
		for j, it := range g {
			var v int64
			if err == nil {
				v, err = strconv.ParseInt(vals[j], 10, 64)
			}
			switch {
			case err != nil && it.counter:
				s.local.unsendCounter(it.e, it.sent, it.end)
			case err != nil:
				s.local.unsend(it.e, it.sent)
			case it.counter:
				s.local.mergeCounter(it.e, it.end, v)
			default:
				s.local.mergeRate(it.e, it.sent, v, false)
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = err
	}
	return firstErr
}

func isNoScript(err error) bool {
	return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT")
}

// subscribe keeps the local ban set current until ctx ends: it subscribes to the ban
// channel, loads the whole set once the subscription stands (and again after every
// reconnection or on request), then applies each change as it arrives. Messages that
// arrive while the set loads wait in the connection and are applied after it, in order,
// so a change made during the load is not lost.
func (s *Store) subscribe(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if err := s.subscribeOnce(ctx); err != nil && ctx.Err() == nil {
			// Counted by the breaker, so that an outage shows even without traffic.
			s.redisFailed(fmt.Errorf("ban subscription: %w", err))
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

// subscribeOnce runs one subscription until ctx ends or its connection fails.
func (s *Store) subscribeOnce(ctx context.Context) error {
	ps := s.client.Subscribe(ctx)
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer func() {
		if stop() {
			ps.Close()
		}
	}()
	if err := ps.Subscribe(ctx, s.keys.channel()); err != nil {
		return err
	}
	loaded, pinged := false, false
	for {
		msg, err := ps.ReceiveTimeout(ctx, subscribeWait)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || pinged {
				return err // a new connection, subscription and load
			}
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged = true
		} else {
			pinged = false
			switch m := msg.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					loaded = false // (re)subscribed: what was published meanwhile is lost
				}
			case *redis.Message:
				s.applyMessage(m.Payload, time.Now())
			}
		}
		select {
		case <-s.reload:
			loaded = false
		default:
		}
		if !loaded {
			if err := s.loadBans(ctx); err != nil {
				return err
			}
			loaded = true
			s.redisOK()
		}
	}
}
