package studio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// The webhook event types.
const (
	hookHighThreat     = "high_threat"
	hookNewFingerprint = "new_fingerprint"
	hookHoneypot       = "honeypot_trigger"
	hookBan            = "ban"
)

// highThreatScore is the score from which a request the policy did not allow is a
// high threat.
const highThreatScore = 90

// hookPayload is a webhook delivery's body: one type, the events of one ingested
// batch that have it (at most hookMaxEvents), or the ban.
type hookPayload struct {
	Type    string      `json:"type"`
	Project int64       `json:"project"`
	Time    time.Time   `json:"time"`
	Events  []liveEvent `json:"events,omitempty"`
	Ban     *banView    `json:"ban,omitempty"`
	// More counts the events of the batch with this type left out.
	More int `json:"more,omitempty"`
}

const hookMaxEvents = 20

// hookCache keeps each project's webhooks for a few seconds, so that ingest does not
// read them for every batch.
type hookCache struct {
	mu sync.Mutex
	m  map[int64]hookEntry
}

type hookEntry struct {
	at    time.Time
	hooks []store.Webhook
}

const hookCacheTTL = 5 * time.Second

func (s *Server) projectHooks(ctx context.Context, project int64) ([]store.Webhook, error) {
	s.hookCache.mu.Lock()
	e, ok := s.hookCache.m[project]
	s.hookCache.mu.Unlock()
	if ok && time.Since(e.at) < hookCacheTTL {
		return e.hooks, nil
	}
	hs, err := s.st.Webhooks(ctx, project)
	if err != nil {
		return nil, err
	}
	s.hookCache.mu.Lock()
	if s.hookCache.m == nil {
		s.hookCache.m = map[int64]hookEntry{}
	}
	s.hookCache.m[project] = hookEntry{time.Now(), hs}
	s.hookCache.mu.Unlock()
	return hs, nil
}

func (s *Server) forgetHooks(project int64) {
	s.hookCache.mu.Lock()
	delete(s.hookCache.m, project)
	s.hookCache.mu.Unlock()
}

// triggerWebhooks queues the deliveries an ingested batch causes.
func (s *Server) triggerWebhooks(ctx context.Context, project int64, evs []liveEvent) {
	hooks, err := s.projectHooks(ctx, project)
	if err != nil {
		s.log.Error("studio: reading webhooks failed", "err", err)
		return
	}
	if len(hooks) == 0 {
		return
	}
	want := map[string]bool{}
	for _, h := range hooks {
		if !h.Disabled {
			for _, e := range h.Events {
				want[e] = true
			}
		}
	}
	by := map[string][]liveEvent{}
	for _, e := range evs {
		if want[hookHighThreat] && e.threat() && e.Score >= highThreatScore {
			by[hookHighThreat] = append(by[hookHighThreat], e)
		}
		if want[hookHoneypot] && slices.Contains(e.Reasons, "honeypot") && e.Kind != "ban" {
			by[hookHoneypot] = append(by[hookHoneypot], e)
		}
		if want[hookBan] && e.Kind == "ban" {
			by[hookBan] = append(by[hookBan], e)
		}
	}
	if want[hookNewFingerprint] {
		by[hookNewFingerprint] = s.newFingerprints(ctx, project, evs)
	}
	now := time.Now().UTC()
	for typ, list := range by {
		if len(list) == 0 {
			continue
		}
		p := hookPayload{Type: typ, Project: project, Time: now, Events: list}
		if len(list) > hookMaxEvents {
			p.Events, p.More = list[:hookMaxEvents], len(list)-hookMaxEvents
		}
		s.deliver(ctx, hooks, typ, p)
	}
}

// hookBan queues the deliveries of a ban placed through Studio.
func (s *Server) hookBan(ctx context.Context, project int64, b store.Ban, actor string) {
	hooks, err := s.projectHooks(ctx, project)
	if err != nil {
		s.log.Error("studio: reading webhooks failed", "err", err)
		return
	}
	v := toBanView(b)
	s.deliver(ctx, hooks, hookBan, hookPayload{Type: hookBan, Project: project, Time: time.Now().UTC(), Ban: &v})
}

// deliver queues p for every enabled hook subscribed to typ and wakes the sender.
func (s *Server) deliver(ctx context.Context, hooks []store.Webhook, typ string, p hookPayload) {
	data, err := json.Marshal(p)
	if err != nil {
		return
	}
	queued := false
	for _, h := range hooks {
		if h.Disabled || !slices.Contains(h.Events, typ) {
			continue
		}
		if _, err := s.st.EnqueueDelivery(ctx, h.ID, typ, data, time.Now()); err != nil {
			s.log.Error("studio: queueing a webhook delivery failed", "webhook", h.ID, "err", err)
			continue
		}
		queued = true
	}
	if queued {
		s.hooks.Kick()
	}
}

// newFingerprints returns the events whose DNA this project has not seen before:
// not in this replica's memory, and with no earlier stored event.
func (s *Server) newFingerprints(ctx context.Context, project int64, evs []liveEvent) []liveEvent {
	var out []liveEvent
	checked := 0
	for _, e := range evs {
		if e.DNA == "" || s.seenDNA.seen(project, e.DNA) {
			continue
		}
		if checked++; checked > maxDNAChecksPerBatch {
			break
		}
		earlier, _, err := s.st.Events(ctx, project, store.Filter{DNA: e.DNA, Until: e.Time, Limit: 1}, store.Cursor{})
		if err != nil {
			s.log.Error("studio: fingerprint look-up failed", "err", err)
			return out
		}
		if len(earlier) == 0 {
			out = append(out, e)
		}
	}
	return out
}

// maxDNAChecksPerBatch bounds the look-ups one batch may cost.
const maxDNAChecksPerBatch = 20

// dnaSet remembers the DNA IDs seen per project, bounded: past maxSeenDNA a
// project's set starts over (the store then answers for a while).
type dnaSet struct {
	mu sync.Mutex
	m  map[int64]map[string]struct{}
}

const maxSeenDNA = 100_000

// seen reports whether dna was seen before in project, and remembers it.
func (d *dnaSet) seen(project int64, dna string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[int64]map[string]struct{}{}
	}
	set := d.m[project]
	if set == nil || len(set) >= maxSeenDNA {
		set = map[string]struct{}{}
		d.m[project] = set
	}
	if _, ok := set[dna]; ok {
		return true
	}
	set[dna] = struct{}{}
	return false
}

type webhookView struct {
	ID       int64     `json:"id"`
	URL      string    `json:"url"`
	Events   []string  `json:"events"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
	Secret   string    `json:"secret,omitempty"` // only when created
}

func toWebhookView(h store.Webhook) webhookView {
	return webhookView{ID: h.ID, URL: h.URL, Events: h.Events, Created: h.Created, Disabled: h.Disabled}
}

// listWebhooks: GET /v1/webhooks.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *caller) {
	hs, err := s.st.Webhooks(r.Context(), c.project)
	if err != nil {
		s.internal(w, "webhooks", err)
		return
	}
	out := make([]webhookView, len(hs))
	for i, h := range hs {
		out[i] = toWebhookView(h)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

// createWebhook: POST /v1/webhooks {"url", "events": [...]} → 201 with the signing
// secret, shown this once.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if !readJSON(w, r, &in, 8<<10) {
		return
	}
	h, err := s.st.CreateWebhook(r.Context(), c.project, in.URL, in.Events)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
			return
		}
		s.internal(w, "create webhook", err)
		return
	}
	s.forgetHooks(c.project)
	s.audit(r, c, "webhook.create", h.URL, strings.Join(h.Events, ","))
	v := toWebhookView(h)
	v.Secret = h.Secret
	writeJSON(w, http.StatusCreated, v)
}

// deleteWebhook: DELETE /v1/webhooks/{id} → 204.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if err := s.st.DeleteWebhook(r.Context(), c.project, id); err != nil {
		s.notFound(w, "webhook", err)
		return
	}
	s.forgetHooks(c.project)
	s.audit(r, c, "webhook.delete", "webhook:"+r.PathValue("id"), "")
	w.WriteHeader(http.StatusNoContent)
}

// webhookDeliveries: GET /v1/webhooks/{id}/deliveries?limit → the delivery log.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	p := params{r: r}
	limit := p.int("limit", 50, 1, 1000)
	if !p.ok(w) {
		return
	}
	ds, err := s.st.Deliveries(r.Context(), c.project, id, limit)
	if err != nil {
		s.notFound(w, "webhook", err)
		return
	}
	type row struct {
		ID         int64           `json:"id"`
		Event      string          `json:"event"`
		Attempt    int             `json:"attempts"`
		Status     int             `json:"status"`
		Error      string          `json:"error,omitempty"`
		Created    time.Time       `json:"created"`
		NextTry    *time.Time      `json:"next_try"`
		DurationMS float64         `json:"duration_ms"`
		Payload    json.RawMessage `json:"payload"`
	}
	out := make([]row, len(ds))
	for i, d := range ds {
		out[i] = row{ID: d.ID, Event: d.Event, Attempt: d.Attempt, Status: d.Status, Error: d.Error, Created: d.Created,
			DurationMS: float64(d.Duration) / float64(time.Millisecond), Payload: d.Payload}
		if !d.NextTry.IsZero() {
			t := d.NextTry
			out[i].NextTry = &t
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}
