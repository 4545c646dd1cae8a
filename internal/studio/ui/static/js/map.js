// The attack map: countries coloured by blocked traffic, with a pulse for every
// threat the live stream brings. The world is world-atlas' countries-110m drawn
// with d3-geo's Natural Earth projection as SVG; country codes are ISO alpha-2 in
// events and ISO numeric in the atlas (countries.js maps one to the other).
//
// Studio has no per-country aggregate, so the counts start from the last 24 hours
// of blocked events (GET /v1/events?action=block, a few pages at most: a sample
// when there are more) and grow with the live stream.

import { api, qs } from "./api.js";
import { h, s, clear, fmtNum } from "./dom.js";
import { countries } from "./countries.js";
import * as live from "./live.js";

const atlasURL = new URL("../vendor/world-atlas/countries-110m.json", import.meta.url);
const MAX_PULSES = 80;
const PAGES = 5;

let atlas = null; // the parsed topology, fetched once

async function loadAtlas() {
  if (!atlas) {
    const res = await fetch(atlasURL, { credentials: "same-origin" });
    if (!res.ok) throw new Error("world map: HTTP " + res.status);
    atlas = await res.json();
  }
  return atlas;
}

export function render(main) {
  const counts = new Map(); // alpha-2 → blocked events
  let sampled = false;
  const svgBox = h("div", { class: "map" });
  const legend = h("p", { class: "legend" });
  const note = h("p", { class: "muted" });
  const list = h("tbody");
  main.append(
    h("h1", {}, "Attack map"),
    h("p", { class: "muted" }, "Countries by blocked requests over the last 24 hours; each pulse is a threat as it arrives."),
    svgBox, legend, note,
    h("h2", {}, "Blocked by country"),
    h("table", { class: "narrow" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Country"), h("th", { scope: "col", class: "num" }, "Blocked"))), list));

  const byNumeric = new Map(); // numeric code → SVG path
  const centroids = new Map(); // numeric code → [x, y]
  let pulses, path, features, projection;
  let stopped = false;

  async function init() {
    const topo = await loadAtlas();
    if (stopped) return;
    if (typeof d3 === "undefined" || typeof topojson === "undefined") {
      svgBox.textContent = "Map libraries not loaded.";
      return;
    }
    const W = 960, H = 500;
    const world = topojson.feature(topo, topo.objects.countries);
    features = world.features;
    projection = d3.geoNaturalEarth1().fitSize([W, H], { type: "Sphere" });
    path = d3.geoPath(projection);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "World map of blocked traffic" });
    svg.append(s("path", { class: "sphere", d: path({ type: "Sphere" }) }));
    const g = s("g");
    for (const f of features) {
      const el = s("path", { class: "country c0", d: path(f) }, s("title", {}, f.properties.name));
      if (f.id) byNumeric.set(f.id, el);
      g.append(el);
    }
    svg.append(g);
    pulses = s("g", { class: "pulses" });
    svg.append(pulses);
    clear(svgBox).append(svg);
    paint();
  }

  async function loadCounts() {
    let cursor = "";
    for (let i = 0; i < PAGES; i++) {
      const out = await api("GET", "/v1/events" + qs({ action: "block", since: "24h", limit: 1000, cursor }));
      for (const e of out.events || []) if (e.country) counts.set(e.country, (counts.get(e.country) || 0) + 1);
      if (!out.next) return;
      cursor = out.next;
    }
    sampled = true;
  }

  // paint colours every country by its share of the largest count, in six classes
  // (on a square-root scale, so one loud country does not wash out the rest).
  function paint() {
    if (!byNumeric.size) return;
    const max = Math.max(1, ...counts.values());
    for (const el of byNumeric.values()) el.setAttribute("class", "country c0");
    for (const [cc, n] of counts) {
      const el = byNumeric.get(countries[cc] ? countries[cc][0] : "");
      if (el) el.setAttribute("class", "country c" + Math.min(5, 1 + Math.floor(4.999 * Math.sqrt(n / max))));
    }
    legend.replaceChildren("Fewer ", ...[1, 2, 3, 4, 5].map((i) => h("span", { class: "swatch c" + i, "aria-hidden": "true" })), " more blocked requests (largest: " + fmtNum(max) + ")");
    note.textContent = sampled ? "The starting counts are a sample of the latest 5,000 blocked requests." : "";
    const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20);
    list.replaceChildren(...rows.map(([cc, n]) => h("tr", {}, h("td", {}, countries[cc] ? `${countries[cc][1]} (${cc})` : cc), h("td", { class: "num" }, fmtNum(n)))));
    if (!rows.length) list.append(h("tr", {}, h("td", { colspan: 2, class: "muted" }, "No blocked requests with a known country yet.")));
  }

  // pulse draws a short-lived circle at the country's centroid.
  function pulse(cc, action) {
    if (!pulses || pulses.childElementCount >= MAX_PULSES || document.hidden) return;
    const id = countries[cc] ? countries[cc][0] : "";
    if (!byNumeric.has(id)) return;
    if (!centroids.has(id)) centroids.set(id, path.centroid(features.find((x) => x.id === id)));
    const [x, y] = centroids.get(id);
    if (!isFinite(x)) return;
    const c = s("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: "4", class: "pulse act-" + action });
    c.addEventListener("animationend", () => c.remove());
    pulses.append(c);
  }

  let repaint = 0;
  const off = live.onBatch((evs) => {
    for (const e of evs) {
      if (!e.country || !e.would_be || e.would_be === "allow") continue;
      if (e.action === "block") counts.set(e.country, (counts.get(e.country) || 0) + 1);
      pulse(e.country, e.action || "block");
    }
    if (!repaint) repaint = setTimeout(() => { repaint = 0; paint(); }, 1000);
  });

  Promise.all([init(), loadCounts()]).then(paint).catch((e) => {
    if (e.status !== 401) note.textContent = "Could not load the map: " + e.message;
  });
  return () => {
    stopped = true;
    off();
    clearTimeout(repaint);
  };
}
