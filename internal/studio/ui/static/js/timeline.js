// The attacker timeline: every stored event of one client IP or one DNA ID
// (GET /v1/timeline), newest first, with what each request was, what the guard
// found (its signals) and what it did, and a ban button for the client.

import { api, qs } from "./api.js";
import { h, clear, fmtNum, fmtTime, actionBadge } from "./dom.js";
import { countries } from "./countries.js";
import { banButton, loadBans } from "./bans.js";

export function render(main, params) {
  const kind = params.get("dna") ? "dna" : "ip";
  const value = params.get(kind) || "";
  const kindSel = h("select", { name: "kind", "aria-label": "Look up by" },
    h("option", { value: "ip", selected: kind === "ip" }, "Client IP"),
    h("option", { value: "dna", selected: kind === "dna" }, "DNA ID"));
  const valueIn = h("input", { name: "value", value, required: true, size: 44, placeholder: "203.0.113.7 or d1-…", "aria-label": "IP or DNA ID", autocomplete: "off" });
  const out = h("div");
  main.append(
    h("h1", {}, "Attacker timeline"),
    h("form", { class: "toolbar", onsubmit: (ev) => {
      ev.preventDefault();
      location.hash = "#/timeline" + qs({ [kindSel.value]: valueIn.value.trim() });
    } }, kindSel, valueIn, h("button", { type: "submit" }, "Show")),
    out);
  if (!value) {
    out.append(h("p", { class: "muted" }, "Pick a client from the live feed, the overview's top attackers or a ban, or type an IP or DNA ID."));
    valueIn.focus();
    return;
  }

  async function load() {
    const [tl] = await Promise.all([api("GET", "/v1/timeline" + qs({ [kind]: value, limit: 1000 })), loadBans(true).catch(() => [])]);
    const evs = tl.events || [];
    clear(out).append(summary(evs), h("h2", {}, fmtNum(evs.length) + " events" + (evs.length >= 1000 ? " (the latest 1,000)" : "")), list(evs));
  }

  function summary(evs) {
    const count = (f) => {
      const m = new Map();
      for (const e of evs) {
        const k = f(e);
        if (k) m.set(k, (m.get(k) || 0) + 1);
      }
      return [...m].sort((a, b) => b[1] - a[1]);
    };
    const fmt = (rows, render = (k) => k) => rows.length ? rows.slice(0, 8).map(([k, n]) => h("li", {}, render(k), " ", h("span", { class: "muted" }, "×" + fmtNum(n)))) : [h("li", { class: "muted" }, "—")];
    const other = kind === "ip" ? "dna" : "ip";
    const otherRows = count((e) => other === "ip" ? e.client_ip : e.dna);
    return h("section", { class: "summary" },
      h("div", { class: "title-row" },
        h("h2", {}, (kind === "ip" ? "Client " : "DNA ") , h("code", {}, value)),
        banButton(kind, value, load)),
      evs.length ? h("p", {}, "First seen " + fmtTime(evs[evs.length - 1].time) + ", last seen " + fmtTime(evs[0].time) + ".") : null,
      h("div", { class: "grid3" },
        h("div", {}, h("h3", {}, "Actions"), h("ul", { class: "plain" }, fmt(count((e) => e.action)))),
        h("div", {}, h("h3", {}, "Reasons"), h("ul", { class: "plain" }, fmt(count((e) => (e.reasons || []).join(", ")), (k) => h("code", {}, k)))),
        h("div", {}, h("h3", {}, other === "ip" ? "Client IPs" : "DNA IDs"),
          h("ul", { class: "plain" }, fmt(otherRows, (k) => h("a", { href: "#/timeline" + qs({ [other]: k }) }, k)))),
        h("div", {}, h("h3", {}, "Countries"), h("ul", { class: "plain" }, fmt(count((e) => e.country), (k) => countries[k] ? `${countries[k][1]} (${k})` : k))),
        h("div", {}, h("h3", {}, "Families"), h("ul", { class: "plain" }, fmt(count((e) => [e.family, e.client_kind].filter(Boolean).join(" · "))))),
        h("div", {}, h("h3", {}, "User-Agents"), h("ul", { class: "plain ua" }, fmt(count((e) => e.user_agent))))));
  }

  function list(evs) {
    if (!evs.length) return h("p", { class: "muted" }, "No stored events for this client.");
    return h("ol", { class: "timeline" }, evs.map((e, i) => {
      const next = evs[i + 1]; // the one before it in time
      const gap = next ? (Date.parse(e.time) - Date.parse(next.time)) / 1000 : null;
      return h("li", { class: "act-row-" + (e.action || "none") },
        h("div", { class: "tl-head" },
          h("time", { datetime: e.time }, fmtTime(e.time)),
          gap !== null ? h("span", { class: "muted gap" }, "+" + fmtGap(gap)) : null,
          actionBadge(e.action, e.would_be),
          h("span", { class: "score", title: "score" }, String(e.score)),
          h("code", { class: "path" }, (e.method || "") + " " + (e.path || "")),
          e.status ? h("span", { class: "muted" }, String(e.status)) : null,
          kind === "dna" && e.client_ip ? h("a", { href: "#/timeline" + qs({ ip: e.client_ip }) }, e.client_ip) : null,
          kind === "ip" && e.dna ? h("a", { href: "#/timeline" + qs({ dna: e.dna }) }, e.dna.slice(0, 16)) : null),
        details(e));
    }));
  }

  load().catch((e) => {
    if (e.status !== 401) out.replaceChildren(h("p", { class: "error" }, "Could not load the timeline: " + e.message));
  });
}

// details is an event's evidence: signals, request line and headers as the agent
// sent them (redacted), the DNA's parts.
function details(e) {
  const raw = e.raw && typeof e.raw === "object" ? e.raw : {};
  const signals = raw.signals || [];
  const hd = raw.headers || [];
  const dna = raw.dna || {};
  const rows = [
    ["Request ID", e.request_id], ["Host", e.host], ["Query", raw.query], ["User-Agent", e.user_agent],
    ["Source", e.source], ["Kind", e.kind], ["ASN", e.asn || ""], ["Latency", raw.latency_ms ? raw.latency_ms.toFixed(1) + " ms" : ""],
    ["DNA", dna.id], ["Family", [dna.family, dna.kind].filter(Boolean).join(" · ")], ["DNA source", dna.source], ["HDNA", dna.hdna],
    ["Protocol", dna.protocol], ["JA4", dna.ja4], ["JA3", dna.ja3], ["HTTP/2", dna.h2],
    ["AS", raw.enrichment && raw.enrichment.as_org], ["Hosting", raw.enrichment && raw.enrichment.hosting],
    ["Bot", raw.enrichment && [raw.enrichment.bot_category, raw.enrichment.bot_verified ? "verified" : ""].filter(Boolean).join(", ")],
  ].filter(([, v]) => v);
  return h("details", {},
    h("summary", {}, signals.length ? signals.map((s) => s.code).join(", ") : "details"),
    signals.length ? h("table", { class: "signals" },
      h("thead", {}, h("tr", {}, ["Detector", "Signal", "Score", "Detail"].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, signals.map((s) => h("tr", {}, h("td", {}, s.detector || ""), h("td", {}, h("code", {}, s.code || "")), h("td", { class: "num" }, String(s.score ?? "")), h("td", {}, s.detail || ""))))) : null,
    h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])),
    hd.length ? h("details", { class: "headers" }, h("summary", {}, "Headers (" + hd.length + ")"),
      h("pre", {}, hd.map((x) => x.name + ": " + x.value).join("\n"))) : null);
}

function fmtGap(sec) {
  if (sec < 1) return (sec * 1000).toFixed(0) + " ms";
  if (sec < 120) return sec.toFixed(1) + " s";
  if (sec < 7200) return (sec / 60).toFixed(0) + " min";
  return (sec / 3600).toFixed(1) + " h";
}
