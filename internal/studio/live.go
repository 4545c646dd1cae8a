package studio

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/vigilhq/vigil/internal/studio/guardagent"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
)

// The store notification channels Studio replicas share.
const (
	channelLive     = "vigil_live"
	channelControls = "vigil_controls"
)

// liveEvent is an event as the live stream shows it: the columns of a feed row.
type liveEvent struct {
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	Kind     string    `json:"kind"`
	Action   string    `json:"action,omitempty"`
	WouldBe  string    `json:"would_be,omitempty"`
	Score    int       `json:"score"`
	ClientIP string    `json:"client_ip,omitempty"`
	DNA      string    `json:"dna,omitempty"`
	Family   string    `json:"family,omitempty"`
	Country  string    `json:"country,omitempty"`
	Method   string    `json:"method,omitempty"`
	Path     string    `json:"path,omitempty"`
	Status   int       `json:"status,omitempty"`
	Reasons  []string  `json:"reasons,omitempty"`
}

// threat reports whether the policy did not allow the event's request (or would not
// have, in monitor mode).
func (e *liveEvent) threat() bool { return e.WouldBe != "" && e.WouldBe != "allow" }

func liveFromWire(evs []wire.Event) []liveEvent {
	out := make([]liveEvent, len(evs))
	for i, e := range evs {
		l := liveEvent{Time: e.Time, Source: store.SourceVigil, Kind: e.Kind, Action: e.Action, WouldBe: e.WouldBe,
			Score: e.Score, DNA: e.DNA.ID, Family: e.DNA.Family, Country: e.Enrichment.Country,
			Method: e.Method, Path: e.Path, Status: e.Status}
		if e.ClientIP.IsValid() {
			l.ClientIP = e.ClientIP.String()
		}
		for _, sg := range e.Signals {
			l.Reasons = append(l.Reasons, sg.Code)
		}
		out[i] = l
	}
	return out
}

func liveFromGuardAgent(n *guardagent.Normalized) liveEvent {
	action := "allow"
	switch {
	case n.Blocked:
		action = "block"
	case n.Monitor:
		action = "allow"
	}
	wouldBe := action
	if n.Monitor {
		wouldBe = "block"
	}
	l := liveEvent{Time: n.Time, Source: store.SourceGuardAgent, Kind: n.Kind, Action: action, WouldBe: wouldBe,
		Score: n.Score, ClientIP: n.IP, Country: n.Country, Method: n.Method, Path: n.Path, Status: n.Status}
	if n.Kind != "" {
		l.Reasons = []string{n.Kind}
	}
	return l
}

// liveHub fans a project's live events out to this replica's streams.
type liveHub struct {
	mu   sync.Mutex
	subs map[int64]map[*liveSub]struct{}
}

type liveSub struct {
	ch      chan []liveEvent
	dropped int64 // guarded by the hub's mu
}

func newLiveHub() *liveHub { return &liveHub{subs: map[int64]map[*liveSub]struct{}{}} }

func (h *liveHub) subscribe(project int64) *liveSub {
	sub := &liveSub{ch: make(chan []liveEvent, 64)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[project] == nil {
		h.subs[project] = map[*liveSub]struct{}{}
	}
	h.subs[project][sub] = struct{}{}
	return sub
}

func (h *liveHub) unsubscribe(project int64, sub *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[project], sub)
	if len(h.subs[project]) == 0 {
		delete(h.subs, project)
	}
}

// publish hands evs to every stream of the project without waiting: a stream whose
// buffer is full misses them, and counts them.
func (h *liveHub) publish(project int64, evs []liveEvent) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var dropped int64
	for sub := range h.subs[project] {
		select {
		case sub.ch <- evs:
		default:
			sub.dropped += int64(len(evs))
			dropped += int64(len(evs))
		}
	}
	return dropped
}

func (h *liveHub) takeDropped(sub *liveSub) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := sub.dropped
	sub.dropped = 0
	return n
}

// Live stream pacing: a stream sends at most liveMaxPerFlush events every
// liveFlushEvery and says how many it skipped, so a dashboard stays responsive
// whatever the ingest rate (issue 8 builds its aggregates on this).
const (
	liveFlushEvery  = 250 * time.Millisecond
	liveMaxPerFlush = 200
	livePing        = 15 * time.Second
)

// liveStream: GET /v1/live, a text/event-stream of "events" events whose data is
// {"events": [...], "skipped": n}. Query parameters: threats=1 streams only events
// the policy did not allow.
func (s *Server) liveStream(w http.ResponseWriter, r *http.Request, c *caller) {
	rc := http.NewResponseController(w)
	threatsOnly := r.URL.Query().Get("threats") == "1"
	sub := s.live.subscribe(c.project)
	defer s.live.unsubscribe(c.project, sub)
	s.m.liveStreams.Add(1)
	defer s.m.liveStreams.Add(-1)
	w.Header().Set("Content-Type", wire.ContentTypeStream)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": live\n\n"))
	if rc.Flush() != nil {
		return
	}
	flush := time.NewTicker(liveFlushEvery)
	defer flush.Stop()
	lastWrite := time.Now()
	var pending []liveEvent
	var skipped int64
	for {
		select {
		case <-r.Context().Done():
			return
		case evs := <-sub.ch:
			for _, e := range evs {
				if threatsOnly && !e.threat() {
					continue
				}
				if len(pending) < liveMaxPerFlush {
					pending = append(pending, e)
				} else {
					skipped++
				}
			}
		case <-flush.C:
			skipped += s.live.takeDropped(sub)
			if len(pending) == 0 && skipped == 0 {
				if time.Since(lastWrite) < livePing {
					continue
				}
				if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
					return
				}
				lastWrite = time.Now()
				continue
			}
			data, _ := json.Marshal(struct {
				Events  []liveEvent `json:"events"`
				Skipped int64       `json:"skipped"`
			}{slices.Clip(pending), skipped})
			s.m.liveDropped.Add(skipped)
			pending, skipped = pending[:0], 0
			if _, err := w.Write(append(append([]byte("event: events\ndata: "), data...), "\n\n"...)); err != nil || rc.Flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
	}
}

// liveNotice is a live announcement between replicas.
type liveNotice struct {
	Origin  string      `json:"o"`
	Project int64       `json:"p"`
	Events  []liveEvent `json:"e"`
}

// maxNotice is the largest notification payload Studio sends (PostgreSQL's NOTIFY
// takes less than 8000 bytes).
const maxNotice = 7800

// announceMax bounds the events of one batch announced to other replicas: threats
// first, then the rest. A dashboard samples anyway (liveMaxPerFlush), and a NOTIFY
// per few events at full ingest rate would cost the database more than the events.
const announceMax = 100

// announceLive tells the other replicas about evs, in notifications under maxNotice.
func (s *Server) announceLive(ctx context.Context, project int64, evs []liveEvent) {
	if len(evs) > announceMax {
		sel := make([]liveEvent, 0, announceMax)
		for _, e := range evs {
			if e.threat() && len(sel) < announceMax {
				sel = append(sel, e)
			}
		}
		for _, e := range evs {
			if !e.threat() && len(sel) < announceMax {
				sel = append(sel, e)
			}
		}
		evs = sel
	}
	for len(evs) > 0 {
		n := len(evs)
		var data []byte
		for {
			data, _ = json.Marshal(liveNotice{Origin: s.id, Project: project, Events: evs[:n]})
			if len(data) <= maxNotice || n == 1 {
				break
			}
			n = max(1, n*maxNotice/len(data)-1)
		}
		if len(data) <= maxNotice {
			if err := s.st.Notify(ctx, channelLive, data); err != nil && ctx.Err() == nil {
				s.log.Warn("studio: live announcement failed", "err", err)
				return
			}
		}
		evs = evs[n:]
	}
}

// followLive streams the events other replicas announce.
func (s *Server) followLive(ctx context.Context, ch <-chan []byte) {
	for {
		select {
		case <-ctx.Done():
			return
		case data, ok := <-ch:
			if !ok {
				return
			}
			var n liveNotice
			if json.Unmarshal(data, &n) != nil || n.Origin == s.id {
				continue
			}
			s.live.publish(n.Project, n.Events)
		}
	}
}
