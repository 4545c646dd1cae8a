// Webhooks (admin): the project's webhooks, a new one (its signing secret shown
// once), deleting, and each webhook's delivery log.

import { api } from "./api.js";
import { h, clear, fmtTime, toast, emptyRow } from "./dom.js";
import { secretBox } from "./secret.js";

const types = [
  ["high_threat", "high threat (score ≥ 90)"],
  ["honeypot_trigger", "honeypot trigger"],
  ["ban", "ban"],
  ["new_fingerprint", "new fingerprint"],
];

export function render(main) {
  const tbody = h("tbody");
  const shown = h("div");
  const log = h("section");
  const urlIn = h("input", { type: "url", name: "url", required: true, size: 50, placeholder: "the receiver's https URL" });
  const boxes = types.map(([v, t]) => h("label", { class: "check" }, h("input", { type: "checkbox", value: v, checked: v !== "new_fingerprint" }), " " + t));
  main.append(
    h("h1", {}, "Webhooks"),
    h("p", { class: "muted" }, "Each delivery is signed (Vigil-Signature, HMAC-SHA256 with the webhook's secret) and retried with backoff; docs/studio.md shows how to verify it."),
    h("form", { class: "stack", onsubmit: async (ev) => {
      ev.preventDefault();
      const events = boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => c.value);
      try {
        const w = await api("POST", "/v1/webhooks", { url: urlIn.value.trim(), events });
        clear(shown).append(secretBox("Webhook " + w.url, w.secret, "Its signing secret, shown this once."));
        urlIn.value = "";
        await load();
      } catch (e) {
        toast(e.message, "error");
      }
    } },
      h("label", {}, "URL ", urlIn),
      h("fieldset", {}, h("legend", {}, "Events"), boxes),
      h("div", {}, h("button", { type: "submit" }, "Add webhook"))),
    shown,
    h("table", {}, h("thead", {}, h("tr", {}, ["URL", "Events", "Created", ""].map((x) => h("th", { scope: "col" }, x)))), tbody),
    log);

  async function load() {
    const hooks = (await api("GET", "/v1/webhooks")).webhooks || [];
    clear(tbody);
    if (!hooks.length) tbody.append(emptyRow(4, "No webhooks."));
    for (const w of hooks) {
      tbody.append(h("tr", {},
        h("td", {}, h("code", {}, w.url), w.disabled ? h("span", { class: "badge act-block" }, "disabled") : null), h("td", {}, (w.events || []).join(", ")), h("td", {}, fmtTime(w.created)),
        h("td", {}, h("div", { class: "buttons tight" },
          h("button", { type: "button", class: "small ghost", onclick: () => deliveries(w) }, "Delivery log"),
          h("button", { type: "button", class: "small danger-ghost", "aria-label": "Delete webhook " + w.url, onclick: async () => {
            if (!confirm("Delete the webhook to " + w.url + "?")) return;
            try {
              await api("DELETE", "/v1/webhooks/" + w.id);
              toast("Webhook deleted");
              clear(log);
              await load();
            } catch (e) {
              toast(e.message, "error");
            }
          } }, "Delete")))));
    }
  }

  async function deliveries(w) {
    const ds = (await api("GET", `/v1/webhooks/${w.id}/deliveries?limit=100`)).deliveries || [];
    clear(log).append(h("h2", { tabindex: "-1" }, "Deliveries to " + w.url),
      h("table", {}, h("thead", {}, h("tr", {}, ["Created", "Event", "Attempts", "Status", "Error", "Next try", "Time"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, ds.length ? ds.map((d) => h("tr", { class: d.status >= 200 && d.status < 300 ? "" : "warn-row" },
          h("td", {}, fmtTime(d.created)), h("td", {}, d.event), h("td", { class: "num" }, String(d.attempts)),
          h("td", {}, d.status ? String(d.status) : "—"), h("td", {}, d.error || ""),
          h("td", {}, d.next_try ? fmtTime(d.next_try) : "—"), h("td", { class: "num" }, d.duration_ms ? d.duration_ms.toFixed(0) + " ms" : "")))
          : emptyRow(7, "No deliveries yet."))));
    log.querySelector("h2").focus();
  }
  load().catch((e) => { if (e.status !== 401) tbody.replaceChildren(emptyRow(4, "Could not load: " + e.message)); });
}
