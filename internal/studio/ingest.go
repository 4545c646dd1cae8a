package studio

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
)

// readWire reads a native ingest body, answering 413, 415 or 400 when it cannot.
func (s *Server) readWire(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := wire.ReadBody(r, wire.MaxBodySize)
	if err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, wire.ErrTooLarge), errors.As(err, &mbe):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, wire.ErrEncoding):
			status = http.StatusUnsupportedMediaType
		}
		s.m.ingestRefused.Add(1)
		wire.WriteProblem(w, status, &wire.FieldError{Msg: err.Error()})
		return nil, false
	}
	return body, true
}

// sameKey checks the Idempotency-Key header against the body's batch ID.
func (s *Server) sameKey(w http.ResponseWriter, r *http.Request, id string) bool {
	if k := r.Header.Get(wire.HeaderIdempotencyKey); k != "" && k != id {
		s.m.ingestRefused.Add(1)
		wire.WriteProblem(w, http.StatusBadRequest, &wire.FieldError{Field: "batch_id", Msg: "differs from the Idempotency-Key header"})
		return false
	}
	return true
}

// ingestEvents: POST /v1/ingest/events (docs/wire.md). 202 with the count stored,
// 200 with duplicate true for a batch stored before.
func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	body, ok := s.readWire(w, r)
	if !ok {
		return
	}
	// Each event is stored as it arrived (raws), fields this version does not know
	// included.
	b, raws, err := wire.DecodeEventsRaw(body)
	if err != nil {
		s.m.ingestRefused.Add(1)
		wire.WriteProblem(w, http.StatusBadRequest, err)
		return
	}
	if !s.sameKey(w, r, b.BatchID) {
		return
	}
	n, dup, err := s.st.IngestBatchRaw(r.Context(), c.project, &b, raws)
	if err != nil {
		s.internal(w, "ingest", err)
		return
	}
	if dup {
		s.m.batchesDuplicate.Add(1)
		writeJSON(w, http.StatusOK, wire.Ack{Duplicate: true})
		return
	}
	s.m.batchesIngested.Add(1)
	s.m.eventsIngested.Add(int64(n))
	writeJSON(w, http.StatusAccepted, wire.Ack{Accepted: n})
	s.afterIngest(c.project, liveFromWire(b.Events))
}

// ingestMetrics: POST /v1/ingest/metrics.
func (s *Server) ingestMetrics(w http.ResponseWriter, r *http.Request, c *caller) {
	body, ok := s.readWire(w, r)
	if !ok {
		return
	}
	b, err := wire.DecodeMetrics(body)
	if err != nil {
		s.m.ingestRefused.Add(1)
		wire.WriteProblem(w, http.StatusBadRequest, err)
		return
	}
	if !s.sameKey(w, r, b.BatchID) {
		return
	}
	n, dup, err := s.st.IngestMetrics(r.Context(), c.project, &b)
	if err != nil {
		s.internal(w, "metrics ingest", err)
		return
	}
	if dup {
		writeJSON(w, http.StatusOK, wire.Ack{Duplicate: true})
		return
	}
	s.m.metricsIngested.Add(int64(n))
	writeJSON(w, http.StatusAccepted, wire.Ack{Accepted: n})
}

// agentSeen is what Studio knows of one agent: its last status.
type agentSeen struct {
	Agent  wire.Agent  `json:"agent"`
	Source string      `json:"source"` // "vigil" or "guard-agent"
	Status wire.Status `json:"status,omitzero"`
	Seen   time.Time   `json:"seen"`
	Addr   string      `json:"addr"`
}

// maxAgentsPerProject bounds the agents remembered per project.
const maxAgentsPerProject = 1000

// ingestStatus: POST /v1/ingest/status → the newest policy version.
func (s *Server) ingestStatus(w http.ResponseWriter, r *http.Request, c *caller) {
	body, ok := s.readWire(w, r)
	if !ok {
		return
	}
	st, err := wire.DecodeStatus(body)
	if err != nil {
		s.m.ingestRefused.Add(1)
		wire.WriteProblem(w, http.StatusBadRequest, err)
		return
	}
	s.m.statuses.Add(1)
	s.seeAgent(c.project, agentSeen{Agent: st.Agent, Source: store.SourceVigil, Status: st, Seen: time.Now().UTC(), Addr: clientAddr(r)})
	rev, err := s.st.Revision(r.Context(), c.project)
	if err != nil {
		s.internal(w, "revision", err)
		return
	}
	writeJSON(w, http.StatusOK, wire.StatusReply{PolicyVersion: rev})
}

func (s *Server) seeAgent(project int64, a agentSeen) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.agents[project]
	if m == nil {
		m = map[string]agentSeen{}
		s.agents[project] = m
	}
	if _, ok := m[a.Agent.ID]; !ok && len(m) >= maxAgentsPerProject {
		// Forget the agent heard from least recently.
		var oldest string
		var t time.Time
		for id, x := range m {
			if oldest == "" || x.Seen.Before(t) {
				oldest, t = id, x.Seen
			}
		}
		delete(m, oldest)
	}
	m[a.Agent.ID] = a
}

// listAgents: GET /v1/agents → the agents this replica heard from, newest first.
func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	out := make([]agentSeen, 0, len(s.agents[c.project]))
	for _, a := range s.agents[c.project] {
		out = append(out, a)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b agentSeen) int { return b.Seen.Compare(a.Seen) })
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

// afterIngest does what follows a stored batch: it streams the events to this
// replica's dashboards at once, and queues their announcement to the other replicas
// and the webhooks for Run's worker, so that the agent's answer does not wait on
// them. When the queue is full (Run not keeping up, or not running) the job is
// dropped and counted: live views and webhooks are best effort under overload, the
// stored events are not.
func (s *Server) afterIngest(project int64, evs []liveEvent) {
	if len(evs) == 0 {
		return
	}
	s.live.publish(project, evs)
	select {
	case s.after <- afterJob{project, evs}:
	default:
		s.m.afterDropped.Add(1)
	}
}

// afterJob is one ingested batch's follow-up work.
type afterJob struct {
	project int64
	evs     []liveEvent
}

// afterLoop runs the follow-up work of ingested batches until ctx ends.
func (s *Server) afterLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.after:
			s.announceLive(ctx, j.project, j.evs)
			s.triggerWebhooks(ctx, j.project, j.evs)
		}
	}
}
