// API keys (admin): the project's keys by prefix, a new key shown this once, and
// revoking.

import { api } from "./api.js";
import { h, clear, fmtTime, toast, emptyRow } from "./dom.js";
import { secretBox } from "./secret.js";

export function render(main) {
  const tbody = h("tbody");
  const shown = h("div");
  const scopeSel = h("select", { name: "scope", "aria-label": "Scope" },
    h("option", { value: "ingest" }, "ingest (agents)"), h("option", { value: "admin" }, "admin (the whole API)"));
  main.append(
    h("h1", {}, "API keys"),
    h("p", { class: "muted" }, "Ingest keys let agents report and follow the policy; admin keys reach every route of this project. A key is shown once, when it is made."),
    h("form", { class: "toolbar", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const k = await api("POST", "/v1/keys", { scope: scopeSel.value });
        clear(shown).append(secretBox(`New ${k.scope} key ${k.prefix}`, k.key, "Copy it now: Studio keeps only its hash and cannot show it again."));
        await load();
      } catch (e) {
        toast(e.message, "error");
      }
    } }, scopeSel, h("button", { type: "submit" }, "Create key")),
    shown,
    h("table", {}, h("thead", {}, h("tr", {}, ["Prefix", "Scope", "Created", "Revoked", ""].map((x) => h("th", { scope: "col" }, x)))), tbody));

  async function load() {
    const keys = (await api("GET", "/v1/keys")).keys || [];
    clear(tbody);
    if (!keys.length) tbody.append(emptyRow(5, "No keys."));
    for (const k of keys) {
      tbody.append(h("tr", { class: k.revoked ? "revoked" : "" },
        h("td", {}, h("code", {}, k.prefix)), h("td", {}, k.scope), h("td", {}, fmtTime(k.created)),
        h("td", {}, k.revoked ? fmtTime(k.revoked) : "—"),
        h("td", {}, k.revoked ? null : h("button", { type: "button", class: "small danger-ghost", "aria-label": "Revoke key " + k.prefix, onclick: async () => {
          if (!confirm(`Revoke key ${k.prefix}? Agents using it stop reporting.`)) return;
          try {
            await api("DELETE", "/v1/keys/" + k.id);
            toast("Key " + k.prefix + " revoked");
            await load();
          } catch (e) {
            toast(e.message, "error");
          }
        } }, "Revoke"))));
    }
  }
  load().catch((e) => { if (e.status !== 401) tbody.replaceChildren(emptyRow(5, "Could not load: " + e.message)); });
}
