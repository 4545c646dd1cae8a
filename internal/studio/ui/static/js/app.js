// The dashboard's entry point: signs in (POST /v1/login, or an existing session
// from GET /v1/session), keeps the chosen project, opens the live stream, and
// routes between the pages by the URL's hash (#/feed, #/timeline?ip=…).

import { api, state, can } from "./api.js";
import { h, clear, toast } from "./dom.js";
import * as live from "./live.js";
import { forgetBans } from "./bans.js";
import * as feed from "./feed.js";
import * as overview from "./overview.js";
import * as map from "./map.js";
import * as families from "./families.js";
import * as timeline from "./timeline.js";
import * as bans from "./bans.js";
import * as policy from "./policy.js";
import * as keys from "./keys.js";
import * as webhooks from "./webhooks.js";
import * as audit from "./audit.js";
import * as users from "./users.js";

// routes maps a hash path to its page: a title, the role it needs and render(main,
// params, app), which may return a function that stops the page's timers and
// listeners when another page opens.
const routes = {
  feed: { title: "Live feed", view: feed },
  overview: { title: "Overview", view: overview },
  map: { title: "Attack map", view: map },
  families: { title: "Fingerprint families", view: families },
  timeline: { title: "Attacker timeline", view: timeline },
  bans: { title: "Bans", view: bans },
  policy: { title: "Policy", view: policy },
  keys: { title: "API keys", view: keys, role: "admin" },
  webhooks: { title: "Webhooks", view: webhooks, role: "admin" },
  audit: { title: "Audit log", view: audit },
  users: { title: "Users and projects", view: users, role: "admin" },
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const tools = document.getElementById("top-tools");
const projectSel = document.getElementById("project");
let stop = null; // the open page's clean-up
let signedIn = false;
let generation = 0; // counts page changes, for async pages' clean-up

const app = {
  // reloadProjects refreshes the project list (after creating one).
  async reloadProjects() {
    const out = await api("GET", "/v1/projects");
    state.projects = out.projects || [];
    fillProjects();
  },
};

// --- theme -------------------------------------------------------------------

const themeBtn = document.getElementById("theme");
const themes = ["auto", "light", "dark"];
function showTheme() {
  const t = document.documentElement.dataset.theme || "auto";
  themeBtn.textContent = "Theme: " + t;
}
themeBtn.addEventListener("click", () => {
  const cur = document.documentElement.dataset.theme || "auto";
  const next = themes[(themes.indexOf(cur) + 1) % themes.length];
  if (next === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = next;
  try {
    if (next === "auto") localStorage.removeItem("vigil-theme");
    else localStorage.setItem("vigil-theme", next);
  } catch { /* not remembered */ }
  showTheme();
  // Charts read their colours from CSS when drawn: draw the page again.
  if (signedIn) route();
});
showTheme();

// --- signing in ---------------------------------------------------------------

function showLogin(message) {
  signedIn = false;
  live.disconnect();
  if (stop) stop();
  stop = null;
  nav.hidden = true;
  tools.hidden = true;
  const name = h("input", { id: "login-name", name: "name", autocomplete: "username", required: true });
  const pass = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const err = h("p", { class: "error", role: "alert" }, message || "");
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "login", onsubmit: async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    err.textContent = "";
    try {
      await api("POST", "/v1/login", { name: name.value.trim(), password: pass.value }, { quiet401: true, noProject: true });
      await start();
    } catch (e) {
      err.textContent = e.status === 401 ? "Wrong name or password." : e.status === 429 ? "Too many attempts from here; wait a minute, then try again." : e.message;
      submit.disabled = false;
      pass.select();
    }
  } },
    h("h1", {}, "Sign in to Vigil Studio"),
    h("label", { for: "login-name" }, "Name"), name,
    h("label", { for: "login-password" }, "Password"), pass,
    err, submit);
  clear(main).append(form);
  document.title = "Sign in · Vigil Studio";
  name.focus();
}

// start loads the session (user, CSRF token, projects) and opens the dashboard.
async function start() {
  const sess = await api("GET", "/v1/session", undefined, { quiet401: true, noProject: true });
  state.user = sess.user;
  state.csrf = sess.csrf;
  state.projects = sess.projects || [];
  let saved = Number(localStorage.getItem("vigil-project"));
  if (!state.projects.some((p) => p.id === saved)) saved = state.projects.length ? state.projects[0].id : null;
  state.project = saved;
  signedIn = true;
  fillProjects();
  document.getElementById("whoami").textContent = `${sess.user.name} (${sess.user.role})`;
  for (const li of nav.querySelectorAll("[data-role]")) li.hidden = !can(li.dataset.role);
  nav.hidden = false;
  tools.hidden = false;
  if (!state.project) {
    clear(main).append(h("h1", {}, "No project"), h("p", {}, "Your account is not a member of any project yet. Ask an admin to grant you one."));
    return;
  }
  live.connect();
  route();
}

function fillProjects() {
  clear(projectSel).append(...state.projects.map((p) => h("option", { value: p.id, selected: p.id === state.project }, p.name)));
}

projectSel.addEventListener("change", () => {
  if (!signedIn || !projectSel.value) return;
  state.project = Number(projectSel.value);
  try {
    localStorage.setItem("vigil-project", String(state.project));
  } catch { /* not remembered */ }
  forgetBans();
  live.connect();
  route();
  toast("Project: " + (projectSel.selectedOptions[0] || {}).textContent);
});

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await api("POST", "/v1/logout", undefined, { noProject: true });
  } catch { /* the session may be gone already */ }
  state.user = null;
  state.csrf = "";
  showLogin("Signed out.");
});

window.addEventListener("vigil:unauthorized", () => {
  if (signedIn) showLogin("Your session ended; sign in again.");
});

const liveStatus = document.getElementById("live-status");
live.onStatus((s) => {
  liveStatus.textContent = s === "live" ? "● live" : s === "connecting" ? "○ connecting…" : "○ offline";
  liveStatus.className = "live-status " + s;
});

// --- routing ------------------------------------------------------------------

// route shows the page the hash names. Hashes that are not routes (#main, from
// the skip link) leave the page as it is.
function route() {
  if (!signedIn) return;
  const hash = location.hash || "#/feed";
  if (!hash.startsWith("#/")) return;
  const [path, query] = hash.slice(2).split("?");
  const r = routes[path] || routes.feed;
  if (stop) stop();
  stop = null;
  generation++;
  clear(main);
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === "#/" + (routes[path] ? path : "feed")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = r.title + " · Vigil Studio";
  if (r.role && !can(r.role)) {
    main.append(h("h1", {}, r.title), h("p", {}, "This page is for admins."));
    return;
  }
  try {
    const s = r.view.render(main, new URLSearchParams(query || ""), app);
    if (typeof s === "function") stop = s;
    else if (s && typeof s.then === "function") {
      // An async page: its clean-up arrives later; if another page opened
      // meanwhile, run it at once.
      const mine = ++generation;
      s.then((f) => {
        if (typeof f !== "function") return;
        if (mine === generation) stop = f;
        else f();
      }).catch((e) => console.error(e));
    }
  } catch (e) {
    console.error(e);
    main.append(h("p", { class: "error" }, "This page failed: " + e.message));
  }
}

let lastPath = "";
window.addEventListener("hashchange", () => {
  route();
  // Move focus to the new page for keyboard and screen-reader users, unless only
  // the parameters of the same page changed.
  const path = location.hash.split("?")[0];
  if (location.hash.startsWith("#/") && path !== lastPath) main.focus({ preventScroll: true });
  lastPath = path;
});

start().catch((e) => {
  if (e.status === 401) showLogin();
  else clear(main).append(h("p", { class: "error" }, "Studio did not answer: " + e.message));
});
