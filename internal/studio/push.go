package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
)

// pusher wakes the policy streams of a project when its controls change, and keeps
// the project's encoded snapshot so that a change costs one build, not one per
// connected agent.
type pusher struct {
	s  *Server
	mu sync.Mutex
	// subs are the streams' wake-up channels (buffer 1), by project.
	subs map[int64]map[chan struct{}]struct{}
	// gen counts the changes announced per project; a cached snapshot is current
	// while its gen is.
	gen   map[int64]uint64
	cache map[int64]*snapshotCache
}

type snapshotCache struct {
	mu      sync.Mutex
	gen     uint64
	built   bool
	version int64
	data    []byte // nil: nothing published
}

func newPusher(s *Server) *pusher {
	return &pusher{s: s, subs: map[int64]map[chan struct{}]struct{}{}, gen: map[int64]uint64{}, cache: map[int64]*snapshotCache{}}
}

func (p *pusher) subscribe(project int64) chan struct{} {
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.subs[project] == nil {
		p.subs[project] = map[chan struct{}]struct{}{}
	}
	p.subs[project][ch] = struct{}{}
	return ch
}

func (p *pusher) unsubscribe(project int64, ch chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.subs[project], ch)
	if len(p.subs[project]) == 0 {
		delete(p.subs, project)
	}
}

// wake marks the project's snapshot stale and wakes its streams.
func (p *pusher) wake(project int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen[project]++
	for ch := range p.subs[project] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// snapshot returns the project's current snapshot, encoded, and its version; nil
// data when the project has published nothing.
func (p *pusher) snapshot(ctx context.Context, project int64) (int64, []byte, error) {
	p.mu.Lock()
	c := p.cache[project]
	if c == nil {
		c = &snapshotCache{}
		p.cache[project] = c
	}
	gen := p.gen[project]
	p.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.built && c.gen == gen {
		return c.version, c.data, nil
	}
	v, data, err := p.s.buildSnapshot(ctx, project)
	if err != nil {
		return 0, nil, err
	}
	c.gen, c.built, c.version, c.data = gen, true, v, data
	return v, data, nil
}

// buildSnapshot reads the project's revision, policy and bans. Version 0 (nil data):
// nothing to send.
func (s *Server) buildSnapshot(ctx context.Context, project int64) (int64, []byte, error) {
	rev, err := s.st.Revision(ctx, project)
	if err != nil {
		return 0, nil, err
	}
	if rev == 0 {
		return 0, nil, nil
	}
	// A project with bans but no published policy gets a local snapshot: its
	// agents keep their own policy and apply the bans (docs/wire.md).
	snap := wire.PolicySnapshot{Version: rev, Local: true}
	pv, err := s.st.Policy(ctx, project)
	switch {
	case err == nil:
		p, err := policy.Parse(pv.Document)
		if err != nil {
			return 0, nil, fmt.Errorf("stored policy version %d: %w", pv.Version, err)
		}
		snap.Policy, snap.Local = p, false
	case !errors.Is(err, store.ErrNotFound):
		return 0, nil, err
	}
	bans, err := s.st.Bans(ctx, project, time.Now())
	if err != nil {
		return 0, nil, err
	}
	for _, b := range bans {
		snap.Bans = append(snap.Bans, wire.Ban{Kind: string(b.Kind), Value: b.Value, Reason: b.Reason, Until: b.Until})
	}
	data, err := wire.EncodeSnapshot(snap)
	if err != nil {
		return 0, nil, err
	}
	return rev, data, nil
}

// changed tells every replica (this one at once) that the project's controls changed.
func (s *Server) changed(ctx context.Context, project int64) {
	s.push.wake(project)
	data, _ := json.Marshal(controlNotice{Origin: s.id, Project: project})
	if err := s.st.Notify(ctx, channelControls, data); err != nil {
		s.log.Warn("studio: announcing a control change failed; other replicas learn of it at their agents' next poll", "err", err)
	}
}

type controlNotice struct {
	Origin  string `json:"o"`
	Project int64  `json:"p"`
}

// followControls wakes this replica's streams for changes made on other replicas.
func (s *Server) followControls(ctx context.Context, ch <-chan []byte) {
	for {
		select {
		case <-ctx.Done():
			return
		case data, ok := <-ch:
			if !ok {
				return
			}
			var n controlNotice
			if json.Unmarshal(data, &n) != nil || n.Origin == s.id {
				continue
			}
			s.push.wake(n.Project)
		}
	}
}

// getPolicy: GET /v1/policy → the current snapshot (200, ETag "<version>"), 304 for
// a matching If-None-Match, 204 when the project has published nothing.
func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, c *caller) {
	v, data, err := s.push.snapshot(r.Context(), c.project)
	if err != nil {
		s.internal(w, "policy snapshot", err)
		return
	}
	if data == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	etag := `"` + strconv.FormatInt(v, 10) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	_, _ = w.Write(data)
}

// streamPing is how often an idle policy stream gets a comment line; the agent's
// watchdog gives up on a stream silent for 45 s.
const streamPing = 15 * time.Second

// policyStream: GET /v1/policy/stream, the snapshot then every new version as
// server-sent events (docs/wire.md).
func (s *Server) policyStream(w http.ResponseWriter, r *http.Request, c *caller) {
	rc := http.NewResponseController(w)
	wake := s.push.subscribe(c.project)
	defer s.push.unsubscribe(c.project, wake)
	s.m.streams.Add(1)
	defer s.m.streams.Add(-1)
	w.Header().Set("Content-Type", wire.ContentTypeStream)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": policy stream\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	var sent int64
	if id, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && id > 0 {
		sent = id
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	send := func() bool {
		v, data, err := s.push.snapshot(r.Context(), c.project)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.Error("studio: policy snapshot failed", "project", c.project, "err", err)
			}
			return true // keep the stream; the next wake-up or ping retries
		}
		if data == nil || v == sent {
			return true
		}
		if wire.WritePolicyEvent(w, v, data) != nil || rc.Flush() != nil {
			return false
		}
		s.m.pushes.Add(1)
		sent = v
		return true
	}
	if !send() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-wake:
			if !send() {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			// A change whose notification was lost (a replica's LISTEN connection
			// dropped) is found here, within a ping interval.
			if rev, err := s.st.Revision(r.Context(), c.project); err == nil && rev != sent {
				s.push.wake(c.project)
			}
		}
	}
}
