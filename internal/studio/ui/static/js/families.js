// Fingerprint families: DNA clusters by client family (GET /v1/families), with the
// known-client kind, how many distinct DNA IDs each holds, how much of it was
// blocked, and the share that claimed to be something it is not (spoofing).

import { api, qs } from "./api.js";
import { h, clear, fmtNum, pct, bar, emptyRow } from "./dom.js";

const ranges = [["1h", "last hour"], ["24h", "last 24 hours"], ["168h", "last 7 days"]];

export function render(main, params) {
  const since = ranges.some((r) => r[0] === params.get("since")) ? params.get("since") : "24h";
  const tbody = h("tbody");
  const rangeSel = h("select", { "aria-label": "Time range", onchange: () => { location.hash = "#/families" + qs({ since: rangeSel.value }); } },
    ranges.map(([v, t]) => h("option", { value: v, selected: v === since }, t)));
  main.append(
    h("div", { class: "title-row" }, h("h1", {}, "Fingerprint families"), rangeSel),
    h("p", { class: "muted" }, "Clients grouped by the family their DNA points to. Spoofed: requests whose User-Agent disagrees with their TLS, HTTP/2 or header-order evidence."),
    h("table", {},
      h("thead", {}, h("tr", {}, ["Family", "Kind", "DNA IDs", "Events", "Blocked", "Spoofed", ""].map((x, i) => h("th", { scope: "col", class: i >= 2 && i <= 5 ? "num" : "" }, x)))),
      tbody));

  async function load() {
    const out = await api("GET", "/v1/families" + qs({ since, n: 100 }));
    const rows = out.families || [];
    const max = Math.max(1, ...rows.map((f) => f.events));
    clear(tbody);
    if (!rows.length) tbody.append(emptyRow(7, "No events in this range."));
    for (const f of rows) {
      const spoof = f.events ? f.spoofed / f.events : 0;
      tbody.append(h("tr", { class: spoof > 0.2 ? "warn-row" : "" },
        h("th", { scope: "row" }, f.family || h("span", { class: "muted" }, "unknown"), bar(f.events, max)),
        h("td", {}, f.kind ? h("span", { class: "badge kind-" + f.kind }, f.kind) : h("span", { class: "muted" }, "—")),
        h("td", { class: "num" }, fmtNum(f.dnas)),
        h("td", { class: "num" }, fmtNum(f.events)),
        h("td", { class: "num" }, fmtNum(f.blocked), " ", h("span", { class: "muted" }, "(" + pct(f.blocked, f.events) + ")")),
        h("td", { class: "num" }, fmtNum(f.spoofed), " ", h("span", { class: spoof > 0.2 ? "warn" : "muted" }, "(" + pct(f.spoofed, f.events) + ")"), bar(f.spoofed, f.events, "block")),
        h("td", {}, f.family ? h("a", { href: "#/feed" + qs({ q: f.family }) }, "live feed") : null)));
    }
  }
  load().catch((e) => { if (e.status !== 401) tbody.replaceChildren(emptyRow(7, "Could not load: " + e.message)); });
  const t = setInterval(() => load().catch(() => {}), 30000);
  return () => clearInterval(t);
}
