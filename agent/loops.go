package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/internal/spool"
	"github.com/vigilhq/vigil/internal/wire"
)

// maxPendingIntervals bounds the metric intervals kept while Studio is unreachable
// (an hour at the default interval); older ones are dropped.
const maxPendingIntervals = 360

// metricsLoop closes a metrics interval every MetricsInterval and sends the intervals
// Studio has not accepted yet, as one batch with a stable ID until it is accepted.
func (a *Agent) metricsLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.MetricsInterval)
	defer t.Stop()
	var pending *wire.MetricBatch
	for {
		select {
		case <-ctx.Done():
			a.closeInterval(time.Now())
			last, cancel := context.WithTimeout(context.Background(), time.Second)
			a.sendMetrics(last, &pending)
			cancel()
			return
		case now := <-t.C:
			a.closeInterval(now)
			if a.breakerWait() == 0 {
				a.sendMetrics(ctx, &pending)
			}
		}
	}
}

// closeInterval ends the current metrics interval at now.
func (a *Agent) closeInterval(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.meter.take(a.intervalAt, now)
	iv := wire.Interval{Start: m.Start.UTC(), End: m.End.UTC(), Bans: int64(m.Bans), Errors: int64(m.Errors), FailedOpen: int64(m.FailedOpen),
		Requests: int64Map(m.Requests), WouldBe: int64Map(m.WouldBe), Status: int64Map(m.Status)}
	if len(a.reasons) > 0 {
		iv.BlockedByCode, a.reasons = a.reasons, map[string]int64{}
	}
	h := &wire.Histogram{BoundsMS: make([]float64, len(m.LatencyBounds)), Counts: make([]int64, len(m.Latency)), SumMS: float64(m.LatencySum) / 1000}
	for i, b := range m.LatencyBounds {
		h.BoundsMS[i] = float64(b) / 1000
	}
	for i, c := range m.Latency {
		h.Counts[i] = int64(c)
	}
	iv.Latency = h
	a.intervalAt = now
	a.intervals = append(a.intervals, iv)
	if n := len(a.intervals) - maxPendingIntervals; n > 0 {
		a.intervals = append(a.intervals[:0], a.intervals[n:]...)
	}
}

func int64Map(m map[string]uint64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

// sendMetrics sends *pending, or a new batch of the waiting intervals, and clears it
// once Studio accepted it.
func (a *Agent) sendMetrics(ctx context.Context, pending **wire.MetricBatch) {
	if *pending == nil {
		a.mu.Lock()
		n := min(len(a.intervals), wire.MaxIntervals)
		if n == 0 {
			a.mu.Unlock()
			return
		}
		ivs := append([]wire.Interval(nil), a.intervals[:n]...)
		a.intervals = append(a.intervals[:0], a.intervals[n:]...)
		a.mu.Unlock()
		*pending = &wire.MetricBatch{Version: wire.Version, BatchID: wire.BatchID(a.who.ID, a.seq.Add(1)), Agent: a.who, Intervals: ivs}
	}
	data, err := wire.EncodeMetrics(**pending)
	if err != nil {
		a.log.Error("agent: metrics dropped: cannot encode them", "err", err)
		*pending = nil
		return
	}
	status, err := a.post(ctx, wire.PathMetrics, (*pending).BatchID, wire.Gzip(data))
	switch {
	case err != nil:
		a.log.Warn("agent: sending metrics failed; will retry", "err", err)
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		a.log.Error("agent: Studio refused a metrics batch; dropped", "status", status)
		*pending = nil
	default:
		*pending = nil
	}
}

// statusLoop sends a heartbeat at the start and every StatusInterval.
func (a *Agent) statusLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.StatusInterval)
	defer t.Stop()
	for {
		if a.breakerWait() == 0 {
			a.sendStatus(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) sendStatus(ctx context.Context) {
	st := a.Stats()
	s := wire.Status{Version: wire.Version, Agent: a.who, Time: time.Now().UTC(), UptimeMS: time.Since(a.start).Milliseconds(),
		PolicyVersion: st.PolicyVersion, QueueLen: int64(st.QueueLen), QueueCap: int64(st.QueueCap),
		SpoolBatches: st.SpoolBatches, SpoolBytes: st.SpoolBytes, SpoolMaxBytes: st.SpoolMaxBytes,
		EventsRecorded: st.Recorded, EventsSent: st.Sent, BatchesFailed: st.BatchesFailed,
		LastSuccess: st.LastSuccess, LastError: st.LastError, Dropped: map[string]int64{}}
	for reason, n := range map[string]int64{"queue_full": st.DroppedQueueFull, "spool_full": st.DroppedSpoolFull, "spool_error": st.DroppedQueueErrors, "rejected": st.Rejected} {
		if n > 0 {
			s.Dropped[reason] = n
		}
	}
	data, err := wire.EncodeStatus(s)
	if err != nil {
		return
	}
	if _, err := a.post(ctx, wire.PathStatus, "", wire.Gzip(data)); err != nil && ctx.Err() == nil {
		a.log.Debug("agent: status heartbeat failed", "err", err)
	}
}

// policyFile is where the last good policy is kept, in Dir.
const policyFile = "policy.json"

// policyIdle is how long the policy stream may stay silent (Studio pings every 15 s)
// before the agent reconnects.
const policyIdle = 45 * time.Second

// policyLoop follows the policy stream, reconnecting with backoff, until ctx ends.
func (a *Agent) policyLoop(ctx context.Context, g Guard) {
	var b backoff
	last := ""
	for ctx.Err() == nil {
		err := a.followPolicy(ctx, g, &last, &b)
		if ctx.Err() != nil {
			return
		}
		wait := b.next()
		a.log.Warn("agent: policy stream ended; reconnecting", "err", err, "retry_in", wait.String())
		sleep(ctx, wait)
	}
}

// followPolicy reads one connection of the policy stream, applying every snapshot.
func (a *Agent) followPolicy(parent context.Context, g Guard, last *string, b *backoff) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+wire.PathPolicyStream, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Key)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "vigil-agent/"+version)
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := a.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("policy stream: studio answered " + resp.Status)
	}
	wd := &watchdog{r: resp.Body}
	wd.touch()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(policyIdle / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if time.Since(time.Unix(0, wd.at.Load())) > policyIdle {
					cancel()
					return
				}
			}
		}
	}()
	sr := wire.NewStreamReader(wd)
	for {
		snap, err := sr.Next()
		var fe *wire.FieldError
		switch {
		case errors.As(err, &fe):
			a.log.Error("agent: malformed policy event skipped", "err", err)
			continue
		case err != nil:
			return err
		}
		b.reset()
		*last = sr.LastEventID()
		a.apply(g, snap, true)
		// With the stream's parent context: the watchdog cancels the stream's own
		// while a large set of bans is being placed.
		a.applyBans(parent, g, snap.Version, snap.Bans, true)
	}
}

// watchdog is a reader that remembers when it last returned data.
type watchdog struct {
	r  io.Reader
	at atomic.Int64
}

func (w *watchdog) touch() { w.at.Store(time.Now().UnixNano()) }

func (w *watchdog) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.touch()
	}
	return n, err
}

// apply makes snap the guard's policy when it is newer than the one in force, and
// keeps it in Dir as the last good policy. The snapshot's bans are applyBans' job:
// they are applied whether or not the guard takes the policy.
func (a *Agent) apply(g Guard, snap wire.PolicySnapshot, persist bool) {
	if snap.Local {
		return // Studio has no policy for the project: the local one stays
	}
	if snap.Version <= g.Policy().Version {
		a.policyVersion.Store(g.Policy().Version)
		return
	}
	p := snap.Policy
	p.Version = snap.Version
	if err := g.SetPolicy(p); err != nil {
		a.log.Error("agent: policy refused by the guard; keeping the one in force", "version", snap.Version, "err", err)
		return
	}
	a.policyVersion.Store(snap.Version)
	a.policiesApplied.Add(1)
	a.log.Info("agent: policy applied", "version", snap.Version)
	if !persist || a.cfg.Dir == "" {
		return
	}
	data, err := wire.EncodePolicy(snap.Version, p)
	if err == nil {
		err = writeFileAtomic(filepath.Join(a.cfg.Dir, policyFile), data)
	}
	if err != nil {
		a.log.Error("agent: cannot keep the last good policy", "err", err)
	}
}

// restorePolicy applies the last good policy kept in Dir, if it is newer than the
// guard's: a restart while Studio is down keeps the policy Studio last sent.
func (a *Agent) restorePolicy(g Guard) {
	if a.cfg.Dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(a.cfg.Dir, policyFile))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		a.log.Error("agent: cannot read the last good policy", "err", err)
		return
	}
	snap, err := wire.DecodePolicy(data)
	if err != nil {
		a.log.Error("agent: the kept policy is damaged; ignoring it", "err", err)
		return
	}
	a.apply(g, snap, false)
}

// Stats are the agent's counters since New.
type Stats struct {
	// Recorded counts events handed to Record; Sent the events Studio holds, each
	// once: a batch sent again after its answer was lost counts when Studio answers
	// that it is a duplicate.
	Recorded, Sent int64
	// Retried counts batch sends that failed and were retried; BatchesFailed every
	// request to Studio that did not get a final answer.
	Retried, BatchesFailed int64
	// Losses, by reason: events the ring overflowed with; batches (not events: their
	// size is not known without reading them) the spool dropped, oldest first, to
	// stay within its bound; events whose batch could not be queued; events Studio
	// refused as malformed or too large.
	DroppedQueueFull, DroppedSpoolFull, DroppedQueueErrors, Rejected int64
	// QueueLen and QueueCap describe the ring.
	QueueLen, QueueCap int
	// SpoolBatches and SpoolBytes wait in the spool (or the memory queue);
	// SpoolMaxBytes is its bound.
	SpoolBatches, SpoolBytes, SpoolMaxBytes int64
	// PolicyVersion is the version of the last policy applied; PoliciesApplied counts
	// them.
	PolicyVersion, PoliciesApplied int64
	// BansActive is the number of Studio's bans the agent placed in the guard and has
	// not lifted (one that ended counts until the next snapshot drops it), and
	// BansVersion the version of the snapshot they come from: 0 before the first.
	// BanErrors counts bans the guard refused to place or lift.
	BansActive, BansVersion, BanErrors int64
	// BreakerOpen reports that sends are paused after repeated failures.
	BreakerOpen bool
	LastSuccess time.Time
	LastError   string
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	qs := a.queue.Stats()
	bansVersion := a.bansVersion.Load() // before the count that goes with it (see applyBans)
	s := Stats{Recorded: a.recorded.Load(), Sent: a.sent.Load(), Retried: a.retried.Load(), BatchesFailed: a.failed.Load(),
		DroppedQueueFull: int64(a.ring.dropped.Load()), DroppedQueueErrors: a.queueErrors.Load(), Rejected: a.rejected.Load(),
		QueueLen: a.ring.len(), QueueCap: len(a.ring.buf), SpoolBatches: qs.Records, SpoolBytes: qs.Bytes,
		PolicyVersion: a.policyVersion.Load(), PoliciesApplied: a.policiesApplied.Load(), BreakerOpen: a.breakerWait() > 0,
		BansActive: a.bansActive.Load(), BansVersion: bansVersion, BanErrors: a.banErrors.Load()}
	// The spool counts dropped batches; the events in them are not known without
	// reading them, so batches are reported.
	s.DroppedSpoolFull = qs.Dropped
	s.SpoolMaxBytes = a.cfg.MemoryBytes
	if a.cfg.Dir != "" {
		s.SpoolMaxBytes = a.cfg.SpoolBytes
		if s.SpoolMaxBytes == 0 {
			s.SpoolMaxBytes = spoolDefaultMaxBytes
		}
	}
	a.mu.Lock()
	s.LastSuccess, s.LastError = a.lastSuccess, a.lastError
	a.mu.Unlock()
	return s
}

const spoolDefaultMaxBytes = spool.DefaultMaxBytes
