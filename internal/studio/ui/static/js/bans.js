// Bans: the ban dialog every row opens (feed, top attackers, timeline), a cache of
// the active bans so a row knows whether its client is banned, and the Bans page.

import { api, can, qs } from "./api.js";
import { h, clear, fmtTime, toast, emptyRow } from "./dom.js";

let cache = { at: 0, bans: [] };

// loadBans returns the active bans, from a cache at most 10 s old unless force.
export async function loadBans(force = false) {
  if (!force && Date.now() - cache.at < 10000) return cache.bans;
  const out = await api("GET", "/v1/bans");
  cache = { at: Date.now(), bans: out.bans || [] };
  return cache.bans;
}

// forgetBans empties the cache (after a project switch).
export function forgetBans() {
  cache = { at: 0, bans: [] };
}

// findBan is the active ban of exactly kind:value in the cache, if any.
export function findBan(kind, value) {
  return cache.bans.find((b) => b.kind === kind && b.value === value);
}

const durations = [["1h", "1 hour"], ["24h", "24 hours"], ["168h", "7 days"], ["720h", "30 days"], ["0", "no end"]];

// openBanDialog asks how to ban kind:value (or offers to lift its ban) and calls
// onDone after a change.
export async function openBanDialog(kind, value, onDone) {
  const dlg = document.getElementById("dialog");
  try {
    await loadBans(true);
  } catch { /* the dialog still works; the unban offer needs the list */ }
  const existing = findBan(kind, value);
  const err = h("p", { class: "error", role: "alert" });
  const close = () => dlg.close();
  let body;
  if (existing) {
    body = [
      h("h2", { id: "dialog-title" }, "Lift the ban on " + value + "?"),
      h("p", {}, `${existing.kind} ${existing.value} is banned ${existing.until ? "until " + fmtTime(existing.until) : "with no end"}: ${existing.reason}`),
      err,
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "danger", onclick: async () => {
          try {
            await api("DELETE", "/v1/bans/" + existing.id);
            await loadBans(true);
            toast("Ban lifted: " + value);
            close();
            onDone && onDone();
          } catch (e) {
            err.textContent = e.message;
          }
        } }, "Lift the ban"),
        h("button", { type: "button", class: "ghost", onclick: close }, "Cancel")),
    ];
  } else {
    const kindSel = h("select", { name: "kind" }, ["ip", "cidr", "dna"].map((k) => h("option", { value: k, selected: k === kind }, k)));
    const valueIn = h("input", { name: "value", value, required: true, size: 40, autocomplete: "off" });
    const ttlSel = h("select", { name: "ttl" }, durations.map(([v, t]) => h("option", { value: v, selected: v === "24h" }, t)));
    const reasonIn = h("input", { name: "reason", placeholder: "why (kept in the audit log)", size: 40 });
    body = h("form", { onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/v1/bans", { kind: kindSel.value, value: valueIn.value.trim(), ttl: ttlSel.value, reason: reasonIn.value.trim() });
        await loadBans(true);
        toast("Banned " + valueIn.value.trim() + "; agents have it within a second");
        close();
        onDone && onDone();
      } catch (e) {
        err.textContent = e.message;
      }
    } },
      h("h2", { id: "dialog-title" }, "Ban " + value),
      h("div", { class: "form-grid" },
        h("label", {}, "Kind", kindSel),
        h("label", {}, "Value", valueIn),
        h("label", {}, "For", ttlSel),
        h("label", {}, "Reason", reasonIn)),
      err,
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "danger" }, "Ban"),
        h("button", { type: "button", class: "ghost", onclick: close }, "Cancel")));
  }
  clear(dlg).append(...[body].flat());
  dlg.showModal();
}

// banButton is a row's Ban/Unban button for kind:value, or nothing when the user's
// role cannot ban.
export function banButton(kind, value, onDone) {
  if (!value || !can("operate")) return null;
  const banned = !!findBan(kind, value);
  return h("button", { type: "button", class: "small " + (banned ? "ghost" : "danger-ghost"),
    "aria-label": (banned ? "Unban " : "Ban ") + kind + " " + value,
    onclick: () => openBanDialog(kind, value, onDone) }, banned ? "Unban" : "Ban");
}

// The Bans page: active bans with their Unban buttons, and a form for a new one.
export async function render(main) {
  const tbody = h("tbody");
  const refresh = async () => {
    const bans = await loadBans(true);
    clear(tbody);
    if (!bans.length) tbody.append(emptyRow(7, "No active bans."));
    for (const b of bans) {
      tbody.append(h("tr", {},
        h("td", {}, b.kind),
        h("td", {}, b.kind === "cidr" ? h("code", {}, b.value) : h("a", { href: "#/timeline" + qs({ [b.kind]: b.value }) }, h("code", {}, b.value))),
        h("td", {}, b.reason),
        h("td", {}, b.until ? fmtTime(b.until) : "no end"),
        h("td", {}, fmtTime(b.created)),
        h("td", {}, b.created_by),
        h("td", {}, can("operate") ? h("button", { type: "button", class: "small ghost", "aria-label": "Unban " + b.value,
          onclick: () => openBanDialog(b.kind, b.value, refresh) }, "Unban") : null)));
    }
  };
  const newBan = can("operate")
    ? h("p", {}, h("button", { type: "button", onclick: () => openBanDialog("ip", "", refresh) }, "New ban…"))
    : h("p", { class: "muted" }, "Your role can see bans but not change them.");
  main.append(
    h("h1", {}, "Bans"),
    h("p", { class: "muted" }, "Bans reach every connected agent within a second."),
    newBan,
    h("table", {}, h("thead", {}, h("tr", {}, ["Kind", "Value", "Reason", "Until", "Created", "By", ""].map((x) => h("th", { scope: "col" }, x)))), tbody));
  await refresh();
  const t = setInterval(() => refresh().catch(() => {}), 15000);
  return () => clearInterval(t);
}
