package studio

import (
	"net/http"

	"github.com/vigilhq/vigil/internal/studio/ui"
)

// access is the credential a route requires.
type access int

const (
	// accessPublic: none (health, login, the dashboard's pages and assets).
	accessPublic access = iota
	// accessSession: a dashboard session, any role; no project.
	accessSession
	// accessIngest: an ingest key as a bearer token.
	accessIngest
	// accessGuardAgent: an ingest key in X-API-Key (the guard-agent protocol).
	accessGuardAgent
	// accessAgentOrView: an ingest key, or what accessView accepts.
	accessAgentOrView
	// accessView: an admin key, or a session of any role in the project.
	accessView
	// accessOperate: an admin key, or an analyst's or admin's session.
	accessOperate
	// accessAdmin: an admin key, or an admin's session.
	accessAdmin
	// accessUsers: an admin's session; users and projects are global.
	accessUsers
)

func (a access) String() string {
	return [...]string{"public", "session", "ingest", "guard-agent", "agent-or-view", "view", "operate", "admin", "users"}[a]
}

// route is one entry of the route table.
type route struct {
	method, pattern string
	access          access
	// guarded routes run behind Studio's own vigil.Guard (see selfGuard).
	guarded bool
	h       func(http.ResponseWriter, *http.Request, *caller)
}

// routeTable lists every route Studio serves. Handler registers exactly these, and
// the route test walks them all, so a route cannot be added without its access.
func (s *Server) routeTable() []route {
	return []route{
		// Public.
		{"GET", "/healthz", accessPublic, false, s.healthz},
		{"POST", "/v1/login", accessPublic, true, s.login},
		// The dashboard (package ui): its shell and assets hold no data, and every
		// call they make is authenticated by the route it calls.
		{"GET", "/{$}", accessPublic, true, s.uiShell},
		{"GET", ui.Prefix, accessPublic, false, s.uiAsset},

		// The dashboard session.
		{"GET", "/v1/session", accessSession, false, s.session},
		{"POST", "/v1/logout", accessSession, false, s.logout},
		{"GET", "/v1/projects", accessSession, false, s.listProjects},

		// Vigil agents (docs/wire.md).
		{"POST", "/v1/ingest/events", accessIngest, false, s.ingestEvents},
		{"POST", "/v1/ingest/metrics", accessIngest, false, s.ingestMetrics},
		{"POST", "/v1/ingest/status", accessIngest, false, s.ingestStatus},
		{"GET", "/v1/policy", accessAgentOrView, false, s.getPolicy},
		{"GET", "/v1/policy/stream", accessIngest, false, s.policyStream},

		// guard-agent clients (../shared/reference/guard-agent-protocol.md).
		{"POST", "/api/v1/events", accessGuardAgent, false, s.gaEvents},
		{"POST", "/api/v1/metrics", accessGuardAgent, false, s.gaMetrics},
		{"POST", "/api/v1/events/encrypted", accessGuardAgent, false, s.gaEncrypted},
		{"POST", "/api/v1/status", accessGuardAgent, false, s.gaStatus},
		{"GET", "/api/v1/rules", accessGuardAgent, false, s.gaRules},

		// Queries.
		{"GET", "/v1/stats", accessView, false, s.stats},
		{"GET", "/v1/events", accessView, false, s.events},
		{"GET", "/v1/timeline", accessView, false, s.timeline},
		{"GET", "/v1/top/attackers", accessView, false, s.topAttackers},
		{"GET", "/v1/top/paths", accessView, false, s.topPaths},
		{"GET", "/v1/top/reasons", accessView, false, s.topReasons},
		{"GET", "/v1/buckets", accessView, false, s.buckets},
		{"GET", "/v1/families", accessView, false, s.families},
		{"GET", "/v1/metrics/summary", accessView, false, s.metricsSummary},
		{"GET", "/v1/agents", accessView, false, s.listAgents},
		{"GET", "/v1/live", accessView, false, s.liveStream},

		// Controls.
		{"GET", "/v1/bans", accessView, false, s.listBans},
		{"POST", "/v1/bans", accessOperate, false, s.addBan},
		{"DELETE", "/v1/bans/{id}", accessOperate, false, s.removeBan},
		{"PUT", "/v1/policy", accessAdmin, false, s.putPolicy},
		{"POST", "/v1/policy/validate", accessView, false, s.validatePolicy},
		{"GET", "/v1/policy/versions", accessView, false, s.policyVersions},
		{"GET", "/v1/policy/versions/{version}", accessView, false, s.policyVersion},
		{"GET", "/v1/policy/diff", accessView, false, s.policyDiff},
		{"GET", "/v1/audit", accessView, false, s.auditLog},
		{"GET", "/v1/keys", accessAdmin, false, s.listKeys},
		{"POST", "/v1/keys", accessAdmin, false, s.createKey},
		{"DELETE", "/v1/keys/{id}", accessAdmin, false, s.revokeKey},
		{"GET", "/v1/guard-agent", accessAdmin, false, s.getGASettings},
		{"PUT", "/v1/guard-agent", accessAdmin, false, s.putGASettings},
		{"GET", "/v1/webhooks", accessAdmin, false, s.listWebhooks},
		{"POST", "/v1/webhooks", accessAdmin, false, s.createWebhook},
		{"DELETE", "/v1/webhooks/{id}", accessAdmin, false, s.deleteWebhook},
		{"GET", "/v1/webhooks/{id}/deliveries", accessAdmin, false, s.webhookDeliveries},

		// Users and projects (global).
		{"GET", "/v1/users", accessUsers, false, s.listUsers},
		{"POST", "/v1/users", accessUsers, false, s.createUser},
		{"PATCH", "/v1/users/{id}", accessUsers, false, s.updateUser},
		{"PUT", "/v1/users/{id}/projects/{project}", accessUsers, false, s.grantProject},
		{"DELETE", "/v1/users/{id}/projects/{project}", accessUsers, false, s.revokeProject},
		{"POST", "/v1/projects", accessUsers, false, s.createProject},
	}
}
