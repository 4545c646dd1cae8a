// Users and projects (admin sessions only): users with their roles, new users,
// password resets, project membership, and new projects.
//
// The API has no call that lists a user's memberships, so membership is managed
// by granting or revoking a chosen project, without showing the current set.

import { api, state } from "./api.js";
import { h, clear, fmtTime, toast, emptyRow } from "./dom.js";
import { secretBox } from "./secret.js";

const roles = ["viewer", "analyst", "admin"];

export function render(main, _params, app) {
  const tbody = h("tbody");
  const shown = h("div");
  const nameIn = h("input", { name: "name", required: true, autocomplete: "off" });
  const passIn = h("input", { name: "password", type: "password", required: true, minlength: 12, autocomplete: "new-password" });
  const roleSel = h("select", { name: "role" }, roles.map((r) => h("option", { value: r }, r)));
  const projIn = h("input", { name: "project", required: true, maxlength: 64, autocomplete: "off" });

  main.append(
    h("h1", {}, "Users and projects"),
    h("p", { class: "muted" }, "Viewers read; analysts also ban; admins also change policy, keys, webhooks and users, and are members of every project."),
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Role", "Created", "Projects", "Password"].map((x) => h("th", { scope: "col" }, x)))), tbody),
    h("h2", {}, "New user"),
    h("form", { class: "form-grid", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/v1/users", { name: nameIn.value.trim(), password: passIn.value, role: roleSel.value });
        toast("User " + nameIn.value.trim() + " created; grant them a project below.");
        nameIn.value = passIn.value = "";
        await load();
      } catch (e) {
        toast(e.message, "error");
      }
    } },
      h("label", {}, "Name", nameIn), h("label", {}, "Password (12 characters or more)", passIn), h("label", {}, "Role", roleSel),
      h("div", {}, h("button", { type: "submit" }, "Create user"))),
    h("h2", {}, "New project"),
    h("form", { class: "toolbar", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const out = await api("POST", "/v1/projects", { name: projIn.value.trim() });
        clear(shown).append(secretBox(`Project ${out.project.name}: its ingest key`, out.ingest_key.key, "Shown this once; point agents at Studio with it."));
        projIn.value = "";
        await app.reloadProjects();
      } catch (e) {
        toast(e.message, "error");
      }
    } }, h("label", {}, "Name ", projIn), h("button", { type: "submit" }, "Create project")),
    shown);

  async function load() {
    const users = (await api("GET", "/v1/users")).users || [];
    clear(tbody);
    if (!users.length) tbody.append(emptyRow(5, "No users."));
    for (const u of users) tbody.append(row(u));
  }

  function row(u) {
    const self = state.user && u.id === state.user.id;
    const roleSel = h("select", { "aria-label": "Role of " + u.name, disabled: self, onchange: async () => {
      try {
        await api("PATCH", "/v1/users/" + u.id, { role: roleSel.value });
        toast(`${u.name} is now ${roleSel.value}`);
      } catch (e) {
        toast(e.message, "error");
        roleSel.value = u.role;
      }
    } }, roles.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    const projSel = h("select", { "aria-label": "Project for " + u.name }, state.projects.map((p) => h("option", { value: p.id }, p.name)));
    const member = (method, verb) => async () => {
      try {
        await api(method, `/v1/users/${u.id}/projects/${projSel.value}`);
        toast(`${u.name}: ${verb} ${projSel.selectedOptions[0].textContent}`);
      } catch (e) {
        toast(e.message, "error");
      }
    };
    return h("tr", {},
      h("td", {}, u.name, self ? h("span", { class: "muted" }, " (you)") : null),
      h("td", {}, roleSel),
      h("td", {}, fmtTime(u.created)),
      h("td", {}, h("div", { class: "buttons tight" }, u.role === "admin" ? h("span", { class: "muted" }, "all (admin)") : [projSel,
        h("button", { type: "button", class: "small ghost", onclick: member("PUT", "granted") }, "Grant"),
        h("button", { type: "button", class: "small ghost", onclick: member("DELETE", "revoked") }, "Revoke")])),
      h("td", {}, h("button", { type: "button", class: "small ghost", onclick: async () => {
        const pw = prompt(`New password for ${u.name} (12 characters or more). Their sessions end.`);
        if (!pw) return;
        try {
          await api("PATCH", "/v1/users/" + u.id, { password: pw });
          toast("Password changed for " + u.name);
        } catch (e) {
          toast(e.message, "error");
        }
      } }, "Set password…")));
  }
  load().catch((e) => { if (e.status !== 401) tbody.replaceChildren(emptyRow(5, "Could not load: " + e.message)); });
}
