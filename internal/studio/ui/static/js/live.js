// The live stream: one EventSource on GET /v1/live for the open project, shared by
// every view. Studio sends at most 200 events every 250 ms with a count of those
// it skipped, so the page sees at most ~800 events a second whatever the ingest
// rate; this module keeps the most recent ones and a per-second rate, and hands
// each batch to the views that listen.
//
// EventSource cannot set headers, so the project goes in the query string (the API
// accepts ?project= for sessions); the session cookie goes by itself.

import { api, state } from "./api.js";

// RECENT is how many recent events are kept for a view that opens later.
const RECENT = 500;

const listeners = new Set();
const statusListeners = new Set();
let source = null;
let retry = null;
let backoff = 1000;

// recent holds the latest events, oldest first (bounded by RECENT).
export const recent = [];

// stats counts what the stream delivered: events shown and skipped by the server's
// sampling, per second over the last minute.
export const stats = { received: 0, skipped: 0, perSecond: [] };

// status is "connecting", "live" or "offline".
export let status = "offline";

function setStatus(s) {
  status = s;
  for (const fn of statusListeners) fn(s);
}

// onBatch registers fn(events, skipped) for every batch; it returns the
// unsubscribe function.
export function onBatch(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// onStatus registers fn(status) for connection changes.
export function onStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

// connect (re)opens the stream for state.project.
export function connect() {
  disconnect();
  if (!state.project) return;
  setStatus("connecting");
  const es = new EventSource("/v1/live?project=" + encodeURIComponent(state.project));
  source = es;
  es.onopen = () => {
    backoff = 1000;
    setStatus("live");
  };
  es.addEventListener("events", (msg) => {
    let batch;
    try {
      batch = JSON.parse(msg.data);
    } catch {
      return;
    }
    const evs = batch.events || [];
    const skipped = batch.skipped || 0;
    stats.received += evs.length;
    stats.skipped += skipped;
    tick(evs.length + skipped);
    for (const e of evs) recent.push(e);
    if (recent.length > RECENT) recent.splice(0, recent.length - RECENT);
    for (const fn of listeners) {
      try {
        fn(evs, skipped);
      } catch (err) {
        console.error(err);
      }
    }
  });
  es.onerror = () => {
    // EventSource retries by itself after a network error (state CONNECTING), but
    // gives up on an HTTP error such as 401 (state CLOSED): then retry with backoff.
    if (es.readyState === EventSource.CLOSED && source === es) {
      setStatus("offline");
      source = null;
      // Perhaps the session ended: asking for it fires vigil:unauthorized if so,
      // and the app signs out (which cancels the retry).
      api("GET", "/v1/session", undefined, { noProject: true }).catch(() => {});
      retry = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    } else {
      setStatus("connecting");
    }
  };
}

// disconnect closes the stream and forgets the recent events.
export function disconnect() {
  clearTimeout(retry);
  if (source) source.close();
  source = null;
  recent.length = 0;
  stats.received = stats.skipped = 0;
  stats.perSecond.length = 0;
  setStatus("offline");
}

// tick adds n events to the current second's count, keeping 60 seconds.
function tick(n) {
  const sec = Math.floor(Date.now() / 1000);
  const ps = stats.perSecond;
  if (ps.length && ps[ps.length - 1][0] === sec) ps[ps.length - 1][1] += n;
  else ps.push([sec, n]);
  while (ps.length && ps[0][0] < sec - 60) ps.shift();
}

// rate is the events per second over the last 10 seconds, sampled or not.
export function rate() {
  const now = Math.floor(Date.now() / 1000);
  let n = 0;
  for (const [sec, c] of stats.perSecond) if (sec > now - 10) n += c;
  return n / 10;
}
