package agent

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
)

// WritePrometheus writes the guard's request totals and the agent's own counters in
// the Prometheus text exposition format (0.0.4):
//
//	vigil_requests_total{action}            requests by the action taken
//	vigil_requests_would_be_total{action}   by the action decided (differs in monitor mode)
//	vigil_responses_total{class}            by response class: 1xx … 5xx, none
//	vigil_request_duration_seconds          histogram: guard and handler
//	vigil_bans_total, vigil_guard_errors_total, vigil_guard_failed_open_total
//	vigil_agent_events_recorded_total       events handed to the agent
//	vigil_agent_events_sent_total           events Studio accepted
//	vigil_agent_events_dropped_total{reason}  queue_full, queue_error, rejected
//	vigil_agent_batches_dropped_total{reason} spool_full
//	vigil_agent_send_retries_total, vigil_agent_send_failures_total
//	vigil_agent_queue_length, vigil_agent_queue_capacity
//	vigil_agent_spool_batches, vigil_agent_spool_bytes, vigil_agent_spool_max_bytes
//	vigil_agent_policy_version, vigil_agent_policies_applied_total
//	vigil_agent_bans_active, vigil_agent_bans_version, vigil_agent_ban_errors_total
//	vigil_agent_breaker_open, vigil_agent_last_success_timestamp_seconds
//
// Counters are totals since the agent was made; they do not wait for a metrics
// interval to end.
func (a *Agent) WritePrometheus(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := promWriter{w: bw}
	c := a.meter.totals()
	st := a.Stats()

	p.family("vigil_requests_total", "counter", "Requests seen by the guard, by the action taken.")
	for i, name := range actionNames {
		p.sample("vigil_requests_total", "action", name, float64(c.requests[i]))
	}
	p.family("vigil_requests_would_be_total", "counter", "Requests by the action the policy decided; differs from the action taken in monitor mode.")
	for i, name := range actionNames {
		p.sample("vigil_requests_would_be_total", "action", name, float64(c.wouldBe[i]))
	}
	p.family("vigil_responses_total", "counter", "Responses by status class; none when no response was written.")
	for i, n := range c.status {
		class := "none"
		if i > 0 {
			class = strconv.Itoa(i) + "xx"
		}
		p.sample("vigil_responses_total", "class", class, float64(n))
	}
	p.family("vigil_request_duration_seconds", "histogram", "Time from the guard receiving a request to the handler returning.")
	var cum uint64
	for i, bound := range latencyBounds {
		cum += c.latency[i]
		p.sample("vigil_request_duration_seconds_bucket", "le", strconv.FormatFloat(float64(bound)/1e6, 'g', -1, 64), float64(cum))
	}
	cum += c.latency[len(latencyBounds)]
	p.sample("vigil_request_duration_seconds_bucket", "le", "+Inf", float64(cum))
	p.sample("vigil_request_duration_seconds_sum", "", "", float64(c.latencySum)/1e6)
	p.sample("vigil_request_duration_seconds_count", "", "", float64(cum))

	p.one("vigil_bans_total", "counter", "Bans the guard placed.", float64(c.bans))
	p.one("vigil_guard_errors_total", "counter", "Internal faults the guard survived.", float64(c.errors))
	p.one("vigil_guard_failed_open_total", "counter", "Requests let through because of a fault.", float64(c.failedOpen))

	p.one("vigil_agent_events_recorded_total", "counter", "Events handed to the agent.", float64(st.Recorded))
	p.one("vigil_agent_events_sent_total", "counter", "Events Studio accepted.", float64(st.Sent))
	p.family("vigil_agent_events_dropped_total", "counter", "Events lost: the ring overflowed, a batch could not be queued, Studio refused them.")
	p.sample("vigil_agent_events_dropped_total", "reason", "queue_full", float64(st.DroppedQueueFull))
	p.sample("vigil_agent_events_dropped_total", "reason", "queue_error", float64(st.DroppedQueueErrors))
	p.sample("vigil_agent_events_dropped_total", "reason", "rejected", float64(st.Rejected))
	p.family("vigil_agent_batches_dropped_total", "counter", "Batches the spool dropped, oldest first, to stay within its bound.")
	p.sample("vigil_agent_batches_dropped_total", "reason", "spool_full", float64(st.DroppedSpoolFull))
	p.one("vigil_agent_send_retries_total", "counter", "Batch sends that failed and were retried.", float64(st.Retried))
	p.one("vigil_agent_send_failures_total", "counter", "Requests to Studio without a final answer.", float64(st.BatchesFailed))
	p.one("vigil_agent_queue_length", "gauge", "Events in the ring between Record and the batcher.", float64(st.QueueLen))
	p.one("vigil_agent_queue_capacity", "gauge", "Events the ring holds.", float64(st.QueueCap))
	p.one("vigil_agent_spool_batches", "gauge", "Batches waiting for Studio.", float64(st.SpoolBatches))
	p.one("vigil_agent_spool_bytes", "gauge", "Bytes waiting for Studio.", float64(st.SpoolBytes))
	p.one("vigil_agent_spool_max_bytes", "gauge", "The spool's bound.", float64(st.SpoolMaxBytes))
	p.one("vigil_agent_policy_version", "gauge", "Version of the last policy applied from Studio; 0 for none.", float64(st.PolicyVersion))
	p.one("vigil_agent_policies_applied_total", "counter", "Policies applied from Studio.", float64(st.PoliciesApplied))
	p.one("vigil_agent_bans_active", "gauge", "Studio's bans the agent placed in the guard and has not lifted.", float64(st.BansActive))
	p.one("vigil_agent_bans_version", "gauge", "Version of the snapshot the Studio bans in force come from; 0 for none.", float64(st.BansVersion))
	p.one("vigil_agent_ban_errors_total", "counter", "Studio bans the guard refused to place or lift.", float64(st.BanErrors))
	open := 0.0
	if st.BreakerOpen {
		open = 1
	}
	p.one("vigil_agent_breaker_open", "gauge", "1 while sending is paused after repeated failures.", open)
	last := 0.0
	if !st.LastSuccess.IsZero() {
		last = float64(st.LastSuccess.UnixMilli()) / 1e3
	}
	p.one("vigil_agent_last_success_timestamp_seconds", "gauge", "When Studio last accepted a request; 0 for never.", last)
	return bw.Flush()
}

// MetricsHandler serves WritePrometheus: mount it on a listener that only the
// monitoring system reaches.
func (a *Agent) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = a.WritePrometheus(w)
	})
}

// promWriter writes the text exposition format.
type promWriter struct{ w *bufio.Writer }

func (p promWriter) family(name, typ, help string) {
	p.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func (p promWriter) sample(name, label, value string, v float64) {
	p.w.WriteString(name)
	if label != "" {
		p.w.WriteString("{" + label + "=\"" + value + "\"}")
	}
	p.w.WriteByte(' ')
	p.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	p.w.WriteByte('\n')
}

func (p promWriter) one(name, typ, help string, v float64) {
	p.family(name, typ, help)
	p.sample(name, "", "", v)
}
