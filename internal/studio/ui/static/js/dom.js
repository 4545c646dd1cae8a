// Small DOM helpers. Text from the API only ever reaches the page through
// textContent or attribute values, never as markup.

// h builds an element: h("button", {class: "x", onclick: fn}, "text", child…).
// Attributes starting with "on" become listeners; "text" sets textContent; false,
// null and undefined attributes are skipped; children may be strings, nodes or
// arrays of them.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// SVG_NS is the SVG namespace name: an identifier, never fetched.
export const SVG_NS = "http://www.w3.org/2000/svg";

// s builds an SVG element like h.
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "style") throw new Error("style attributes are refused by the CSP; use a class");
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// clear removes el's children and returns el.
export function clear(el) {
  el.replaceChildren();
  return el;
}

// fmtTime shows an ISO time as local HH:MM:SS (with the date when not today).
export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const now = new Date();
  const t = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === now.toDateString() ? t : d.toLocaleDateString() + " " + t;
}

// fmtNum shows a count with thousands separators.
export function fmtNum(n) {
  return Number(n || 0).toLocaleString();
}

// pct shows part/whole as a percentage.
export function pct(part, whole) {
  if (!whole) return "0%";
  const p = (100 * part) / whole;
  return (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + "%";
}

// actionBadge is an event's action as a coloured label; the would-be action of a
// monitor-mode event is shown beside it.
export function actionBadge(action, wouldBe) {
  const a = action || "none";
  const el = h("span", { class: "badge act-" + a }, a);
  if (wouldBe && wouldBe !== action) {
    return h("span", {}, el, " ", h("span", { class: "badge act-" + wouldBe + " would", title: "would be " + wouldBe + " (monitor mode)" }, "→ " + wouldBe));
  }
  return el;
}

// flag shows a country code with its name as a tooltip.
export function countryCell(code, names) {
  if (!code) return h("span", { class: "muted" }, "—");
  const name = names && names[code] ? names[code][1] : code;
  return h("abbr", { title: name }, code);
}

// bar is a horizontal bar whose length is value/max; the number is beside it.
export function bar(value, max, cls = "") {
  const b = h("span", { class: "bar " + cls });
  b.style.width = (max > 0 ? Math.max(1, (100 * value) / max) : 0) + "%";
  return h("span", { class: "bar-wrap", "aria-hidden": "true" }, b);
}

// table builds a table from column heads and rows of cells.
export function table(heads, rows, caption) {
  return h("table", {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

// emptyRow is a single full-width row saying there is nothing to show.
export function emptyRow(cols, text) {
  return h("tr", {}, h("td", { colspan: cols, class: "muted" }, text));
}

// toast shows a short message in the polite live region for a few seconds.
export function toast(msg, kind = "ok") {
  const box = document.getElementById("toasts");
  const t = h("div", { class: "toast " + kind }, msg);
  box.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

// debounce delays fn until calls stop for ms.
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
