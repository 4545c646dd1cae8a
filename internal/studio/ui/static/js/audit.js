// The audit log: every control action in the project, newest first, a page at a
// time (GET /v1/audit?before=).

import { api, qs } from "./api.js";
import { h, fmtTime, emptyRow } from "./dom.js";

export function render(main) {
  const tbody = h("tbody");
  const more = h("button", { type: "button", class: "ghost", hidden: true, onclick: () => load(next) }, "Older entries");
  let next = null;
  main.append(
    h("h1", {}, "Audit log"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Time", "Actor", "Action", "Target", "Detail"].map((x) => h("th", { scope: "col" }, x)))), tbody),
    h("p", {}, more));

  async function load(before) {
    const out = await api("GET", "/v1/audit" + qs({ limit: 100, before }));
    const es = out.entries || [];
    if (!before && !es.length) tbody.append(emptyRow(5, "Nothing yet."));
    for (const e of es) {
      tbody.append(h("tr", {}, h("td", {}, fmtTime(e.time)), h("td", {}, e.actor), h("td", {}, h("code", {}, e.action)), h("td", {}, e.target), h("td", {}, e.detail || "")));
    }
    next = out.next;
    more.hidden = !next;
  }
  load().catch((e) => { if (e.status !== 401) tbody.replaceChildren(emptyRow(5, "Could not load: " + e.message)); });
}
