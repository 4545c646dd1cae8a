// Calls to Studio's JSON API (docs/studio.md). The session cookie (vigil_session,
// HttpOnly) goes with every same-origin request by itself; this module adds the
// project (X-Vigil-Project) and, on every state-changing call, the session's CSRF
// token (X-CSRF-Token).

// state is the signed-in session: the user, the CSRF token, the projects the user
// may open and the one open now.
export const state = {
  user: null, // {id, name, role}
  csrf: "",
  projects: [],
  project: null, // project ID (a number)
};

// APIError is a refused or failed call; detail is Studio's message for the client.
export class APIError extends Error {
  constructor(status, detail, body) {
    super(detail || "HTTP " + status);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

// api calls method path. A plain-object body is sent as JSON; a string body is
// sent as it is with opts.type (the policy editor sends YAML). It resolves to the
// parsed JSON answer (or the text, or null for 204) and rejects with an APIError.
// A 401 also fires "vigil:unauthorized" on window, so the app can ask to sign in.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept || "application/json" };
  if (state.project && !opts.noProject) headers["X-Vigil-Project"] = String(state.project);
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = state.csrf;
  let payload;
  if (typeof body === "string") {
    payload = body;
    headers["Content-Type"] = opts.type || "text/plain";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store", signal: opts.signal });
  const ct = res.headers.get("Content-Type") || "";
  let data = null;
  if (res.status !== 204) {
    data = ct.includes("json") ? await res.json().catch(() => null) : await res.text();
  }
  // A 422 from the policy endpoints carries the errors list: let the caller have it.
  if (!res.ok && !(opts.okStatuses || []).includes(res.status)) {
    if (res.status === 401 && !opts.quiet401) window.dispatchEvent(new CustomEvent("vigil:unauthorized"));
    const detail = data && typeof data === "object" ? data.detail || data.title : "";
    throw new APIError(res.status, detail || res.statusText, data);
  }
  return data;
}

// qs builds a query string from the set values of params.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, v);
  const s = u.toString();
  return s ? "?" + s : "";
}

// can reports whether the user's role allows an action: "view", "operate" (bans)
// or "admin" (policy, keys, webhooks, users).
export function can(what) {
  const role = state.user ? state.user.role : "";
  if (what === "admin") return role === "admin";
  if (what === "operate") return role === "admin" || role === "analyst";
  return !!role;
}
