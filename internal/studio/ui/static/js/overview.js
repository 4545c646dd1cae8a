// Overview: requests, blocked and challenged per minute (GET /v1/buckets, drawn
// with uPlot), the top reasons, attackers and targeted paths (GET /v1/top/…).

import { api, qs } from "./api.js";
import { h, clear, fmtNum, fmtTime, bar, pct, emptyRow } from "./dom.js";
import { banButton, loadBans } from "./bans.js";

const ranges = [["1h", "1m", "last hour"], ["6h", "5m", "last 6 hours"], ["24h", "15m", "last 24 hours"], ["168h", "1h", "last 7 days"]];

export function render(main, params) {
  let range = ranges.find((r) => r[0] === params.get("since")) || ranges[0];
  let chart = null;
  const cards = h("div", { class: "cards" });
  const chartBox = h("div", { class: "chart", role: "img", "aria-label": "Requests, blocked and challenged per step" });
  const chartTable = h("details", { class: "chart-data" });
  const reasons = h("section", { class: "panel" });
  const attackers = h("section", { class: "panel" });
  const paths = h("section", { class: "panel" });
  const rangeSel = h("select", { "aria-label": "Time range", onchange: () => {
    range = ranges[rangeSel.selectedIndex];
    location.hash = "#/overview" + qs({ since: range[0] });
  } }, ranges.map((r) => h("option", { selected: r === range }, r[2])));

  main.append(
    h("div", { class: "title-row" }, h("h1", {}, "Overview"), rangeSel),
    cards, chartBox, chartTable,
    h("div", { class: "grid3" }, reasons, attackers, paths));

  async function load() {
    const [since, step] = range;
    // Buckets count from since: align it to the step so the bars are whole minutes
    // (or hours) and the last one is the current one.
    const stepMs = parseStep(step);
    const end = Math.floor(Date.now() / stepMs) * stepMs + stepMs;
    const start = end - parseStep(since);
    const [b, r, a, p] = await Promise.all([
      api("GET", "/v1/buckets" + qs({ since: new Date(start).toISOString(), until: new Date(end).toISOString(), step })),
      api("GET", "/v1/top/reasons" + qs({ since, n: 10 })),
      api("GET", "/v1/top/attackers" + qs({ since, n: 10 })),
      api("GET", "/v1/top/paths" + qs({ since, n: 10 })),
      loadBans().catch(() => []),
    ]);
    drawChart(b, start, end, stepMs);
    drawTop(reasons, "Top reasons", "Reason", r.reasons, (x) => h("code", {}, x.key));
    drawAttackers(a.attackers);
    drawTop(paths, "Top targeted paths", "Path", p.paths, (x) => h("code", { class: "path" }, x.key));
  }

  // drawChart turns the per-action rows into series on one time axis.
  function drawChart(b, start, end, stepMs) {
    const xs = [];
    for (let t = start; t < end; t += stepMs) xs.push(t / 1000);
    const idx = new Map(xs.map((x, i) => [x, i]));
    const total = new Array(xs.length).fill(0);
    const blocked = new Array(xs.length).fill(0);
    const challenged = new Array(xs.length).fill(0);
    const limited = new Array(xs.length).fill(0);
    const sums = { total: 0, block: 0, challenge: 0, ratelimit: 0 };
    for (const row of b.buckets || []) {
      const i = idx.get(Date.parse(row.start) / 1000);
      sums.total += row.count;
      if (row.action in sums) sums[row.action] += row.count;
      if (i === undefined) continue;
      total[i] += row.count;
      if (row.action === "block") blocked[i] += row.count;
      if (row.action === "challenge") challenged[i] += row.count;
      if (row.action === "ratelimit") limited[i] += row.count;
    }
    clear(cards).append(
      card("Requests", fmtNum(sums.total)),
      card("Blocked", fmtNum(sums.block), pct(sums.block, sums.total), "block"),
      card("Challenged", fmtNum(sums.challenge), pct(sums.challenge, sums.total), "challenge"),
      card("Rate-limited", fmtNum(sums.ratelimit), pct(sums.ratelimit, sums.total), "ratelimit"));

    const data = [xs, total, blocked, challenged, limited];
    const css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    const width = chartWidth();
    if (chart) chart.destroy();
    if (typeof uPlot === "undefined") {
      chartBox.textContent = "Chart library not loaded.";
      return;
    }
    const axis = { stroke: color("--muted"), grid: { stroke: color("--grid") }, ticks: { stroke: color("--grid") } };
    chart = new uPlot({
      width, height: 240,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 56 }],
      series: [
        {},
        { label: "requests", stroke: color("--c-total"), width: 2, fill: color("--c-total-fill"), points: { show: false } },
        { label: "blocked", stroke: color("--c-block"), width: 2, points: { show: false } },
        { label: "challenged", stroke: color("--c-challenge"), width: 2, points: { show: false } },
        { label: "rate-limited", stroke: color("--c-ratelimit"), width: 1.5, points: { show: false } },
      ],
    }, data, clear(chartBox));
    // The same numbers as a table, for screen readers and keyboards.
    clear(chartTable).append(h("summary", {}, "Chart data as a table"),
      h("div", { class: "table-scroll short" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Start", "Requests", "Blocked", "Challenged", "Rate-limited"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, xs.map((x, i) => total[i] ? h("tr", {}, h("td", {}, fmtTime(new Date(x * 1000).toISOString())),
          h("td", {}, fmtNum(total[i])), h("td", {}, fmtNum(blocked[i])), h("td", {}, fmtNum(challenged[i])), h("td", {}, fmtNum(limited[i]))) : null)))));
  }

  function drawTop(box, title, head, rows, label) {
    const max = Math.max(1, ...rows.map((x) => x.events));
    clear(box).append(h("h2", {}, title), h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, head), h("th", { scope: "col", class: "num" }, "Events"), h("th", { scope: "col", class: "num" }, "Blocked"))),
      h("tbody", {}, rows.length ? rows.map((x) => h("tr", {},
        h("td", {}, label(x), bar(x.events, max)),
        h("td", { class: "num" }, fmtNum(x.events)),
        h("td", { class: "num" }, fmtNum(x.blocked)))) : emptyRow(3, "Nothing in this range."))));
  }

  function drawAttackers(rows) {
    const max = Math.max(1, ...rows.map((x) => x.events));
    clear(attackers).append(h("h2", {}, "Top attackers"), h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Client"), h("th", { scope: "col", class: "num" }, "Threats"), h("th", { scope: "col" }, "Last"), h("th", { scope: "col" }, ""))),
      h("tbody", {}, rows.length ? rows.map((x) => h("tr", {},
        h("td", {}, h("a", { href: "#/timeline" + qs({ ip: x.client_ip }) }, x.client_ip), bar(x.events, max, "block")),
        h("td", { class: "num" }, fmtNum(x.events)),
        h("td", {}, fmtTime(x.last)),
        h("td", {}, banButton("ip", x.client_ip, () => load().catch(() => {}))))) : emptyRow(4, "No attackers in this range."))));
  }

  const refresh = () => load().catch((e) => {
    if (e.status !== 401) clear(cards).append(h("p", { class: "error" }, "Could not load the overview: " + e.message));
  });
  refresh();
  const t = setInterval(refresh, 30000);
  // The chart fits its box's content width (without the box's padding).
  function chartWidth() {
    const cs = getComputedStyle(chartBox);
    return Math.max(300, chartBox.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
  }
  const onResize = () => chart && chart.setSize({ width: chartWidth(), height: 240 });
  window.addEventListener("resize", onResize);
  return () => {
    clearInterval(t);
    window.removeEventListener("resize", onResize);
    if (chart) chart.destroy();
  };
}

function card(label, value, sub, cls = "") {
  return h("div", { class: "card " + cls }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), sub ? h("div", { class: "card-sub" }, sub + " of requests") : null);
}

// parseStep reads a Go duration as Studio writes it ("1m0s", "15m0s", "1h0m0s")
// or as the page does ("168h"), in milliseconds.
export function parseStep(s) {
  let ms = 0;
  for (const [, n, u] of String(s).matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    ms += Number(n) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[u];
  }
  return ms || 60e3;
}
