package studio

import (
	"net/http"
	"time"

	"github.com/vigilhq/vigil/internal/studio/guardagent"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
)

// gaBody reads and authenticates a guard-agent POST body: the size cap and gzip
// (§5), then the project's signature rule (§7). It answers and returns nil when the
// request must go no further.
func (s *Server) gaBody(w http.ResponseWriter, r *http.Request, c *caller) (*guardagent.Body, *store.GuardAgentSettings) {
	b, err := guardagent.ReadBody(r.Body, r.Header.Get(guardagent.HeaderContentEncoding))
	if err != nil {
		s.gaRefuse(w, err)
		return nil, nil
	}
	set, err := s.st.GuardAgentSettings(r.Context(), c.project)
	if err != nil {
		s.internal(w, "guard-agent settings", err)
		return nil, nil
	}
	if _, err := guardagent.CheckSignature(r.Header.Get(guardagent.HeaderSignature), b, []byte(set.SigningSecret), set.RequireSignature); err != nil {
		s.gaRefuse(w, err)
		return nil, nil
	}
	return b, &set
}

// gaRefuse answers a guard-agent request that failed with err (guardagent.ErrorReply:
// the status the client handles as the reference says).
func (s *Server) gaRefuse(w http.ResponseWriter, err error) {
	rep := guardagent.ErrorReply(err)
	if rep.Status >= 500 {
		s.m.errors.Add(1)
		s.log.Error("studio: guard-agent request failed", "err", err)
	} else {
		s.m.gaRefused.Add(1)
	}
	rep.Write(w)
}

// gaEvents: POST /api/v1/events. The same handler serves /api/v1/metrics: both take
// an EventBatch, and a client may put either array in either.
func (s *Server) gaEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	body, _ := s.gaBody(w, r, c)
	if body == nil {
		return
	}
	b, err := guardagent.DecodeBatch(body.JSON)
	if err != nil {
		s.gaRefuse(w, err)
		return
	}
	s.gaStore(w, r, c, b.Events, b.Metrics, b.AgentVersion)
}

func (s *Server) gaMetrics(w http.ResponseWriter, r *http.Request, c *caller) { s.gaEvents(w, r, c) }

// gaEncrypted: POST /api/v1/events/encrypted, an envelope sealed with the project's
// encryption key (§8.6). A project without a key, or a payload that does not open,
// gets 400 "Failed to decrypt payload", as the official service answers.
func (s *Server) gaEncrypted(w http.ResponseWriter, r *http.Request, c *caller) {
	body, set := s.gaBody(w, r, c)
	if body == nil {
		return
	}
	env, err := guardagent.DecodeEnvelope(body.JSON)
	if err != nil {
		s.gaRefuse(w, err)
		return
	}
	var keys []*guardagent.Key
	for _, k := range []string{set.EncryptionKey, set.PreviousKey} {
		if k == "" {
			continue
		}
		if key, err := guardagent.ParseKey(k); err == nil {
			keys = append(keys, key)
		}
	}
	p, err := env.Open(keys...)
	if err != nil {
		s.gaRefuse(w, err)
		return
	}
	s.gaStore(w, r, c, p.Events, p.Metrics, env.AgentVersion)
}

// gaStore stores a batch's events once each, by their dedupe key (§6), and answers
// 201 with the number processed. Metrics are accepted and counted but not stored:
// guard-core emits up to three per request, and Studio's charts come from events.
func (s *Server) gaStore(w http.ResponseWriter, r *http.Request, c *caller, events []guardagent.SecurityEvent, metrics []guardagent.SecurityMetric, agentVersion string) {
	ctx := r.Context()
	live := make([]liveEvent, 0, len(events))
	stored := 0
	for i := range events {
		n := guardagent.Normalize(&events[i])
		ev := store.Event{
			Time: n.Time, Source: store.SourceGuardAgent, Kind: n.Kind, RequestID: n.DedupeKey,
			Score: n.Score, ClientIP: n.IP, Country: n.Country, Method: n.Method, Path: n.Path,
			UserAgent: n.UserAgent, Status: n.Status, Raw: n.Raw,
		}
		le := liveFromGuardAgent(&n)
		ev.Action, ev.WouldBe, ev.Reasons = le.Action, le.WouldBe, le.Reasons
		if n.Rule != "" {
			ev.Reasons = append(ev.Reasons, "rule:"+n.Rule)
		}
		// One claim per event: the dedupe key is the event's, not the batch's.
		accepted, dup, err := s.st.IngestEvents(ctx, c.project, "ga:"+n.DedupeKey, []store.Event{ev})
		if err != nil {
			s.gaRefuse(w, err) // 500: the client retries, and dedupe makes that safe
			return
		}
		if dup {
			s.m.gaDuplicate.Add(1)
		} else {
			stored += accepted
			live = append(live, le)
		}
	}
	s.m.gaEvents.Add(int64(stored))
	s.m.gaMetrics.Add(int64(len(metrics)))
	if agentID := r.Header.Get(guardagent.HeaderInstallID); agentID != "" {
		s.seeAgent(c.project, agentSeen{Agent: wire.Agent{ID: truncate(agentID, 64), Version: truncate(agentVersion, 64)},
			Source: store.SourceGuardAgent, Seen: time.Now().UTC(), Addr: clientAddr(r)})
	}
	guardagent.Accepted(len(events) + len(metrics)).Write(w)
	s.afterIngest(c.project, live)
}

// gaStatus: POST /api/v1/status.
func (s *Server) gaStatus(w http.ResponseWriter, r *http.Request, c *caller) {
	body, _ := s.gaBody(w, r, c)
	if body == nil {
		return
	}
	st, err := guardagent.DecodeStatus(body.JSON)
	if err != nil {
		s.gaRefuse(w, err)
		return
	}
	id := r.Header.Get(guardagent.HeaderInstallID)
	if id == "" {
		id = "guard-agent@" + clientAddr(r)
	}
	s.m.statuses.Add(1)
	s.seeAgent(c.project, agentSeen{Agent: wire.Agent{ID: truncate(id, 64)}, Source: store.SourceGuardAgent,
		Status: wire.Status{Time: st.Timestamp, UptimeMS: int64(st.Uptime * 1000), EventsSent: st.EventsSent, QueueLen: st.BufferSize},
		Seen:   time.Now().UTC(), Addr: clientAddr(r)})
	guardagent.Accepted(1).Write(w)
}

// rulesState is the guard-agent rules document last served to a project, which
// RenderRules needs to clear lists on Python clients (§9.3). It is kept in memory,
// per replica: after a restart the first document is rendered as a first one, so a
// list Studio emptied while it was down is not cleared on the clients until it next
// changes.
type rulesState struct {
	version int64
	doc     *guardagent.DynamicRules
}

// gaRules: GET /api/v1/rules → the project's policy and bans as a DynamicRules
// document. A project that has published no policy gets its bans over the default
// policy's settings.
func (s *Server) gaRules(w http.ResponseWriter, r *http.Request, c *caller) {
	ctx := r.Context()
	rev, err := s.st.Revision(ctx, c.project)
	if err != nil {
		s.internal(w, "revision", err)
		return
	}
	p := policy.Policy{}
	if pv, err := s.st.Policy(ctx, c.project); err == nil {
		if p, err = policy.Parse(pv.Document); err != nil {
			s.internal(w, "stored policy", err)
			return
		}
	}
	now := time.Now()
	bans, err := s.st.Bans(ctx, c.project, now)
	if err != nil {
		s.internal(w, "bans", err)
		return
	}
	gb := make([]guardagent.Ban, len(bans))
	for i, b := range bans {
		gb[i] = guardagent.Ban{Kind: string(b.Kind), Value: b.Value, Until: b.Until, Reason: b.Reason}
	}
	s.mu.Lock()
	prev := s.rules[c.project]
	s.mu.Unlock()
	var prevDoc *guardagent.DynamicRules
	if prev != nil {
		prevDoc = prev.doc
	}
	doc, _ := guardagent.RenderRules(p, gb, max(rev, 1), guardagent.RulesOptions{Now: now, Previous: prevDoc})
	s.mu.Lock()
	s.rules[c.project] = &rulesState{version: rev, doc: doc}
	s.mu.Unlock()
	rep, err := guardagent.RulesReply(doc)
	if err != nil {
		s.internal(w, "rules", err)
		return
	}
	rep.Write(w)
}

// gaSettingsView is a project's guard-agent settings as the API shows them: whether
// secrets are set, never the secrets.
type gaSettingsView struct {
	SigningSecretSet bool `json:"signing_secret_set"`
	RequireSignature bool `json:"require_signature"`
	EncryptionKeySet bool `json:"encryption_key_set"`
	PreviousKeySet   bool `json:"previous_key_set"`
}

// getGASettings: GET /v1/guard-agent → which guard-agent secrets are set.
func (s *Server) getGASettings(w http.ResponseWriter, r *http.Request, c *caller) {
	set, err := s.st.GuardAgentSettings(r.Context(), c.project)
	if err != nil {
		s.internal(w, "guard-agent settings", err)
		return
	}
	writeJSON(w, http.StatusOK, gaSettingsView{set.SigningSecret != "", set.RequireSignature, set.EncryptionKey != "", set.PreviousKey != ""})
}

// putGASettings: PUT /v1/guard-agent {"signing_secret", "require_signature",
// "encryption_key"} → 204. A field left out keeps its value; a new encryption key
// moves the current one to previous_key, still accepted while clients move over.
// "encryption_key": "generate" makes a key and answers 200 with it, shown once.
func (s *Server) putGASettings(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		SigningSecret    *string `json:"signing_secret"`
		RequireSignature *bool   `json:"require_signature"`
		EncryptionKey    *string `json:"encryption_key"`
	}
	if !readJSON(w, r, &in, 4<<10) {
		return
	}
	ctx := r.Context()
	set, err := s.st.GuardAgentSettings(ctx, c.project)
	if err != nil {
		s.internal(w, "guard-agent settings", err)
		return
	}
	if in.SigningSecret != nil {
		set.SigningSecret = *in.SigningSecret
	}
	if in.RequireSignature != nil {
		set.RequireSignature = *in.RequireSignature
	}
	generated := ""
	if in.EncryptionKey != nil {
		k := *in.EncryptionKey
		if k == "generate" {
			k = guardagent.GenerateKey()
			generated = k
		}
		if k != "" {
			if _, err := guardagent.ParseKey(k); err != nil {
				problem(w, http.StatusBadRequest, "encryption_key: want base64url of 32 bytes, or \"generate\"")
				return
			}
		}
		if k != set.EncryptionKey {
			set.PreviousKey, set.EncryptionKey = set.EncryptionKey, k
		}
	}
	if err := s.st.SetGuardAgentSettings(ctx, c.project, set); err != nil {
		s.internal(w, "guard-agent settings", err)
		return
	}
	s.audit(r, c, "guard_agent.settings", "project", "")
	if generated != "" {
		writeJSON(w, http.StatusOK, map[string]string{"encryption_key": generated})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
