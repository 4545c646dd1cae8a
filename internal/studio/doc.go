// Package studio is Studio's HTTP server: the control plane every Vigil agent (and
// every guard-agent client of the fastapi-guard ecosystem) reports to, and the API
// the dashboard and operators use. Storage is package store; this package is the
// routes, their authentication, and the background work that keeps agents current.
//
// # Routes and access
//
// Every route is declared once, in the table of routes.go, with the credential it
// requires; the handler never sees a request that lacks it. The levels are:
//
//   - public: /healthz, POST /v1/login, and the dashboard's pages and assets;
//   - ingest: an ingest key ("Authorization: Bearer vk_ingest_…", or X-API-Key for
//     the guard-agent endpoints under /api/v1/);
//   - view, operate, admin: an admin key ("Bearer vk_admin_…"), or a dashboard
//     session whose role is viewer, analyst or admin respectively (and, for state
//     changes, the session's CSRF token in X-CSRF-Token);
//   - users: a session of an admin user (users and projects are global, so no
//     project key reaches them).
//
// A key names its project; a session names it with the X-Vigil-Project header (or the
// project query parameter) and must be a member of it (admins are members of every
// project). Every store call takes that project, so one project's credentials can
// neither read nor change another's data.
//
// # Pushing bans and policy
//
// An agent holds GET /v1/policy/stream open. The snapshot it receives is the
// project's latest policy document with its active bans, versioned by the project's
// revision, which every control change increments. A change is announced on the
// store's notification channel, so with several Studio replicas on one PostgreSQL
// database every replica pushes it to the agents connected to it, within a second.
// A ban with an end is lifted by a new snapshot when it lapses.
//
// # Live events
//
// GET /v1/live streams a project's events as server-sent events as they are
// ingested. Each replica publishes what it ingests on the store's notification
// channel (PostgreSQL LISTEN/NOTIFY), so every replica streams every event.
package studio
