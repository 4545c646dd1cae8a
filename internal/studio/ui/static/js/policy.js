// The policy editor: the published version's YAML in a text area, validated as
// you type (POST /v1/policy/validate) with each error linked to its line, a diff
// against the published version to review, then publishing (PUT /v1/policy?base=N,
// refused with 409 when someone published in between). Below, the history with
// the diff of each version against the one before (GET /v1/policy/diff).

import { api, can, APIError } from "./api.js";
import { h, clear, fmtTime, toast, debounce } from "./dom.js";
import { lineDiff, parseServerDiff } from "./diff.js";

const template = `# No policy is published for this project yet: agents use their own.
# The policy package (policy/policy.go) documents every field. For example:
rules:
  - name: block-admin-probes
    match:
      paths: ["/wp-admin/*", "/.env"]
    action: block
`;

export function render(main) {
  let latest = 0; // the published version, 0 when none
  let published = ""; // its YAML
  let valid = false;
  const area = h("textarea", { id: "policy-text", rows: 26, spellcheck: "false", autocapitalize: "off", autocomplete: "off",
    "aria-describedby": "policy-errors", "aria-label": "Policy document (YAML or JSON)" });
  const errors = h("div", { id: "policy-errors", class: "policy-errors", "aria-live": "polite" });
  const diffBox = h("div", { class: "diff-box" });
  const status = h("p", { class: "muted" });
  const history = h("tbody");
  const validateBtn = h("button", { type: "button", class: "ghost", onclick: () => validate() }, "Validate");
  const reviewBtn = h("button", { type: "button", onclick: () => review() }, "Review changes");
  const reloadBtn = h("button", { type: "button", class: "ghost", onclick: () => load() }, "Discard and reload");

  main.append(
    h("h1", {}, "Policy"),
    status,
    h("div", { class: "editor" }, area),
    errors,
    h("div", { class: "buttons" }, validateBtn, reviewBtn, reloadBtn),
    diffBox,
    h("h2", {}, "History"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Version", "Published", "By", ""].map((x) => h("th", { scope: "col" }, x)))), history));

  area.addEventListener("input", debounce(() => validate(), 700));
  // Tab inserts two spaces in the editor; Escape then Tab leaves it (the usual
  // escape hatch for keyboard users).
  let escaped = false;
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { escaped = true; return; }
    if (ev.key === "Tab" && !ev.shiftKey && !escaped) {
      ev.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
    }
    escaped = false;
  });

  async function load() {
    const vs = (await api("GET", "/v1/policy/versions?limit=50")).versions || [];
    latest = vs.length ? vs[0].version : 0;
    published = latest ? await api("GET", "/v1/policy/versions/" + latest, undefined, { accept: "application/yaml" }) : "";
    area.value = published || template;
    status.textContent = latest
      ? `Version ${latest}, published ${fmtTime(vs[0].created)} by ${vs[0].created_by}. ` + (can("admin") ? "Edit, review the changes, then publish." : "Only admins can publish.")
      : "No policy published yet. " + (can("admin") ? "" : "Only admins can publish.");
    clear(diffBox);
    clear(history);
    for (const v of vs) {
      history.append(h("tr", {},
        h("td", {}, String(v.version)), h("td", {}, fmtTime(v.created)), h("td", {}, v.created_by),
        h("td", {}, h("button", { type: "button", class: "small ghost", onclick: () => showVersionDiff(v.version) }, "Changes in " + v.version))));
    }
    await validate();
  }

  async function validate() {
    const text = area.value;
    try {
      const out = await api("POST", "/v1/policy/validate", text, { type: "application/yaml" });
      if (text !== area.value) return; // typed meanwhile: the next call reports
      showErrors(out.valid ? [] : out.errors || []);
      valid = out.valid;
    } catch (e) {
      showErrors([e.message]);
      valid = false;
    }
    return valid;
  }

  // showErrors lists the errors; one that names a line gets a button to select it.
  function showErrors(list) {
    area.setAttribute("aria-invalid", list.length ? "true" : "false");
    clear(errors);
    if (!list.length) {
      errors.append(h("p", { class: "ok" }, "✓ Valid."));
      return;
    }
    errors.append(h("p", { class: "error" }, list.length === 1 ? "1 problem:" : list.length + " problems:"),
      h("ul", {}, list.map((msg) => {
        const m = /line (\d+)/.exec(msg);
        return h("li", {}, m ? h("button", { type: "button", class: "link", onclick: () => goToLine(Number(m[1])) }, "line " + m[1]) : null,
          m ? " " : null, h("span", {}, m ? msg.replace(/^line \d+:\s*/, "") : msg));
      })));
  }

  function goToLine(n) {
    const lines = area.value.split("\n");
    let start = 0;
    for (let i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
    const end = start + (lines[n - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
    // Scroll the line into view: the text area's line height times the line.
    const lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (n - 5) * lh);
  }

  async function review() {
    if (!(await validate())) {
      errors.querySelector("button, p")?.focus?.();
      toast("Fix the problems first.", "error");
      return;
    }
    const lines = lineDiff(published, area.value);
    const changed = lines.some(([op]) => op !== " ");
    // Element.append would show a null as the text "null": leave the missing ones out.
    clear(diffBox).append(...[
      h("h2", {}, latest ? `Changes against version ${latest}` : "The new policy"),
      diffView(lines),
      !changed ? h("p", { class: "muted" }, "No changes.") : null,
      changed && can("admin") ? h("div", { class: "buttons" },
        h("button", { type: "button", class: "primary", onclick: publish }, `Publish as version ${latest + 1}`)) : null,
    ].filter(Boolean));
    diffBox.querySelector("h2").setAttribute("tabindex", "-1");
    diffBox.querySelector("h2").focus();
  }

  async function publish() {
    try {
      const out = await api("PUT", "/v1/policy?base=" + latest, area.value, { type: "application/yaml" });
      toast(`Version ${out.version} published; agents have it within a second.`);
      await load();
      clear(diffBox).append(h("h2", {}, `Published version ${out.version}`), diffView(parseServerDiff(out.diff)));
    } catch (e) {
      if (e instanceof APIError && e.status === 422 && e.body && e.body.errors) showErrors(e.body.errors);
      else if (e instanceof APIError && e.status === 409) {
        clear(diffBox).append(h("p", { class: "error", role: "alert" }, e.message + ". Copy your changes, reload, and apply them again."));
      } else toast("Not published: " + e.message, "error");
    }
  }

  async function showVersionDiff(v) {
    try {
      const out = await api("GET", `/v1/policy/diff?from=${v - 1}&to=${v}`);
      clear(diffBox).append(h("h2", { tabindex: "-1" }, `Changes in version ${v}`), diffView(parseServerDiff(out.diff)));
      diffBox.querySelector("h2").focus();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  load().catch((e) => { if (e.status !== 401) status.textContent = "Could not load the policy: " + e.message; });
}

// diffView shows diff lines; added and removed lines are marked in text too (+/-),
// not by colour alone.
function diffView(lines) {
  return h("pre", { class: "diff" }, lines.map(([op, text]) =>
    h("span", { class: op === "+" ? "add" : op === "-" ? "del" : "same" }, op + " " + text + "\n")));
}
