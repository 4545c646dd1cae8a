// The live feed: the events the stream delivers, newest on top. Studio sends at
// most 200 events every 250 ms, faster than anyone reads and, drawn as it comes, a
// repaint of the whole table sixty times a second that pins a CPU core. So events
// wait in a queue and the table is drawn at most once every DRAW_EVERY ms, at most
// PER_DRAW rows at a time (200 rows a second): the table flows without a jolt of
// 200 rows, and the tab's drawing stays a small share of one core however fast
// events arrive. The queue keeps at most QUEUE events (older ones are dropped and
// counted as "too fast to draw") and the table at most CAP rows, so the tab's
// memory stays bounded, even while hidden.
//
// window.vigilFeedStats exposes the drawing work (draws as frames, rows,
// milliseconds) for the browser tests that measure it.

import { can, qs } from "./api.js";
import { h, clear, fmtNum, debounce } from "./dom.js";
import { countries } from "./countries.js";
import * as live from "./live.js";
import { openBanDialog } from "./bans.js";

const CAP = 500;
const DRAW_EVERY = 125; // ms between two draws
const PER_DRAW = 25;
const QUEUE = 200;

// stats is the drawing work since the page loaded.
const stats = { frames: 0, rows: 0, ms: 0, maxMs: 0, dropped: 0 };
window.vigilFeedStats = stats;

const columns = ["Time", "Action", "Score", "Reasons", "Client", "Country", "DNA", "Request", ""];

export function render(main, params) {
  const filter = { text: (params.get("q") || "").toLowerCase(), action: params.get("action") || "" };
  let paused = false;
  let missed = 0; // events that arrived while paused
  let notDrawn = 0; // events that came faster than the table draws
  let pending = [];
  let frame = 0; // a requested animation frame that will draw
  let timer = 0; // a timeout that will request one
  let lastDraw = -Infinity;
  let rows = 0;

  // The rows are a grid of divs with table roles rather than a <table>: a table
  // lays out all its rows again whenever one is added, while independent rows
  // with content-visibility cost only the new ones and those on screen.
  const tbody = h("div", { role: "rowgroup", class: "feed-body", tabindex: "0", "aria-label": "Events, newest first" });
  const counters = h("p", { class: "counters", "aria-live": "off" });
  const pauseBtn = h("button", { type: "button", "aria-pressed": "false", onclick: () => setPaused(!paused) }, "Pause");
  const textIn = h("input", { type: "search", value: params.get("q") || "", placeholder: "IP, path, DNA, reason, country…", "aria-label": "Filter events" });
  const actionSel = h("select", { "aria-label": "Action" },
    [["", "all actions"], ["threats", "threats only"], ["block", "block"], ["challenge", "challenge"], ["ratelimit", "rate limit"], ["allow", "allow"]]
      .map(([v, t]) => h("option", { value: v, selected: v === filter.action }, t)));

  textIn.addEventListener("input", debounce(() => {
    filter.text = textIn.value.trim().toLowerCase();
    redraw();
  }, 150));
  actionSel.addEventListener("change", () => {
    filter.action = actionSel.value;
    redraw();
  });

  // One listener for every row's Ban button.
  tbody.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-kind]");
    if (b) openBanDialog(b.dataset.kind, b.dataset.value);
  });

  main.append(
    h("h1", {}, "Live feed"),
    h("div", { class: "toolbar" }, pauseBtn, textIn, actionSel,
      h("button", { type: "button", class: "ghost", onclick: () => { clear(tbody); rows = 0; } }, "Clear")),
    counters,
    h("div", { class: "feed", role: "table", "aria-label": "Live events" },
      h("div", { role: "rowgroup", class: "feed-head" },
        h("div", { role: "row", class: "feed-row" }, columns.map((c) => h("span", { role: "columnheader" }, c)))),
      tbody));

  function matches(e) {
    const a = filter.action;
    if (a === "threats" && (!e.would_be || e.would_be === "allow")) return false;
    if (a && a !== "threats" && e.action !== a) return false;
    if (!filter.text) return true;
    const hay = [e.client_ip, e.path, e.dna, e.family, e.country, e.method, e.action, ...(e.reasons || [])].join(" ").toLowerCase();
    return hay.includes(filter.text);
  }

  const canBan = can("operate");

  function row(e) {
    const tr = document.createElement("div");
    tr.setAttribute("role", "row");
    tr.className = "feed-row act-row-" + (e.action || "none");
    const time = new Date(e.time);
    const ip = e.client_ip || "";
    tr.append(
      td(isNaN(time) ? "" : time.toLocaleTimeString([], { hour12: false })),
      td(h("span", { class: "badge act-" + (e.action || "none") }, e.kind && e.kind !== "request" ? e.kind : e.action || "—")),
      td(String(e.score ?? ""), "num"),
      td((e.reasons || []).join(", "), "reasons"),
      td(ip ? h("a", { href: "#/timeline" + qs({ ip }) }, ip) : "—"),
      td(e.country ? h("abbr", { title: countries[e.country] ? countries[e.country][1] : e.country }, e.country) : "—"),
      td(e.dna ? h("a", { href: "#/timeline" + qs({ dna: e.dna }), title: e.family || "" }, shortDNA(e.dna)) : "—"),
      td((e.method || "") + " " + (e.path || ""), "path"),
      td(canBan && ip ? h("button", { type: "button", class: "small danger-ghost", "data-kind": "ip", "data-value": ip, "aria-label": "Ban " + ip }, "Ban…") : ""));
    tr.lastChild.previousSibling.title = e.path || "";
    return tr;
  }

  // draw puts evs (oldest first) on top of the table, newest first, and trims it.
  function draw(evs, filtered = true) {
    const take = (filtered ? evs : evs.filter(matches)).slice(-CAP);
    const frag = document.createDocumentFragment();
    for (let i = take.length - 1; i >= 0; i--) frag.append(row(take[i]));
    tbody.prepend(frag);
    rows += take.length;
    while (rows > CAP) {
      tbody.lastElementChild.remove();
      rows--;
    }
  }

  function redraw() {
    clear(tbody);
    rows = 0;
    pending = [];
    draw(live.recent, false);
  }

  // schedule asks for a draw at the next animation frame at least DRAW_EVERY ms
  // after the last one, unless one is already on its way.
  function schedule() {
    if (frame || timer) return;
    const wait = lastDraw + DRAW_EVERY - performance.now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = 0;
        frame = requestAnimationFrame(flush);
      }, wait);
    } else {
      frame = requestAnimationFrame(flush);
    }
  }

  // flush draws the oldest PER_DRAW queued events and schedules another draw while
  // some are left.
  function flush() {
    const t0 = performance.now();
    frame = 0;
    lastDraw = t0;
    const evs = pending.splice(0, PER_DRAW);
    draw(evs);
    if (pending.length) schedule();
    const ms = performance.now() - t0;
    stats.frames++;
    stats.rows += evs.length;
    stats.ms += ms;
    stats.maxMs = Math.max(stats.maxMs, ms);
  }

  function setPaused(p) {
    paused = p;
    pauseBtn.setAttribute("aria-pressed", String(p));
    pauseBtn.textContent = p ? "Resume" : "Pause";
    if (!p && missed) {
      missed = 0;
      redraw();
    }
    updateCounters();
  }

  function updateCounters() {
    const st = live.stats;
    counters.textContent =
      `${live.rate().toFixed(0)} events/s · ${fmtNum(st.received)} received, ${fmtNum(st.skipped)} sampled out by Studio` +
      (notDrawn ? `, ${fmtNum(notDrawn)} too fast to draw` : "") +
      (paused ? ` · paused, ${fmtNum(missed)} new` : "");
  }

  const off = live.onBatch((evs) => {
    if (paused) {
      missed += evs.length;
      return;
    }
    for (const e of evs) if (matches(e)) pending.push(e);
    if (pending.length > QUEUE) {
      stats.dropped += pending.length - QUEUE;
      notDrawn += pending.length - QUEUE;
      pending.splice(0, pending.length - QUEUE);
    }
    schedule();
  });
  const tick = setInterval(updateCounters, 1000);
  redraw();
  updateCounters();
  return () => {
    off();
    clearInterval(tick);
    if (frame) cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

function td(content, cls) {
  const c = document.createElement("span");
  c.setAttribute("role", "cell");
  if (cls) c.className = cls;
  if (content instanceof Node) c.append(content);
  else c.textContent = content;
  return c;
}

// shortDNA shortens a DNA ID for a table cell; the full ID is in the link.
export function shortDNA(id) {
  return id.length > 14 ? id.slice(0, 14) + "…" : id;
}
