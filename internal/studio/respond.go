package studio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/vigilhq/vigil/internal/wire"
)

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		problem(w, http.StatusInternalServerError, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte{'\n'})
}

// problem answers status with an RFC 9457 body whose detail is msg: a message meant
// for the client, never an internal error's text.
func problem(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(wire.Problem{Title: http.StatusText(status), Status: status, Detail: msg})
	w.Header().Set("Content-Type", wire.ContentTypeProblem)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// internal logs err and answers 500 without its text.
func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.m.errors.Add(1)
	s.log.Error("studio: "+what+" failed", "err", err)
	problem(w, http.StatusInternalServerError, "internal error; see Studio's log")
}

// counters are Studio's own metrics.
type counters struct {
	eventsIngested, batchesIngested, batchesDuplicate atomic.Int64
	metricsIngested, statuses                         atomic.Int64
	gaEvents, gaDuplicate, gaMetrics, gaRefused       atomic.Int64
	ingestRefused, denied, errors, loginFailed        atomic.Int64
	pushes, liveDropped, pruned, afterDropped         atomic.Int64
	streams, liveStreams                              atomic.Int64 // open now
}

func newCounters() *counters { return &counters{} }

// MetricsHandler serves Studio's own metrics in the Prometheus text format. It is not
// among Handler's routes: serve it on a separate, private listener (vigil studio
// --metrics-listen).
func (s *Server) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m := s.m
		for _, c := range []struct {
			name, kind, help string
			v                int64
		}{
			{"vigil_studio_events_ingested_total", "counter", "Events stored from Vigil agents.", m.eventsIngested.Load()},
			{"vigil_studio_event_batches_total", "counter", "Event batches stored from Vigil agents.", m.batchesIngested.Load()},
			{"vigil_studio_event_batches_duplicate_total", "counter", "Event batches received again and stored once.", m.batchesDuplicate.Load()},
			{"vigil_studio_metric_intervals_total", "counter", "Metric intervals stored.", m.metricsIngested.Load()},
			{"vigil_studio_statuses_total", "counter", "Agent status reports received.", m.statuses.Load()},
			{"vigil_studio_guard_agent_events_total", "counter", "Events stored from guard-agent clients.", m.gaEvents.Load()},
			{"vigil_studio_guard_agent_events_duplicate_total", "counter", "guard-agent events received again and stored once.", m.gaDuplicate.Load()},
			{"vigil_studio_guard_agent_metrics_total", "counter", "guard-agent metrics accepted.", m.gaMetrics.Load()},
			{"vigil_studio_guard_agent_refused_total", "counter", "guard-agent requests refused (4xx).", m.gaRefused.Load()},
			{"vigil_studio_ingest_refused_total", "counter", "Native ingest requests refused (4xx).", m.ingestRefused.Load()},
			{"vigil_studio_auth_denied_total", "counter", "Requests refused for missing or insufficient credentials.", m.denied.Load()},
			{"vigil_studio_login_failures_total", "counter", "Failed dashboard logins.", m.loginFailed.Load()},
			{"vigil_studio_errors_total", "counter", "Requests that failed with an internal error.", m.errors.Load()},
			{"vigil_studio_policy_pushes_total", "counter", "Policy snapshots sent on agent streams.", m.pushes.Load()},
			{"vigil_studio_live_dropped_total", "counter", "Live events not sent to a slow dashboard stream.", m.liveDropped.Load()},
			{"vigil_studio_followups_dropped_total", "counter", "Ingested batches whose live announcement and webhooks were skipped under overload.", m.afterDropped.Load()},
			{"vigil_studio_events_pruned_total", "counter", "Events deleted by retention.", m.pruned.Load()},
			{"vigil_studio_policy_streams", "gauge", "Agent policy streams open.", m.streams.Load()},
			{"vigil_studio_live_streams", "gauge", "Dashboard live streams open.", m.liveStreams.Load()},
		} {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", c.name, c.help, c.name, c.kind, c.name, strconv.FormatInt(c.v, 10))
		}
	})
}
