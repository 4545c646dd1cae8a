package studio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/policy"
)

type banView struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Value     string     `json:"value"`
	Reason    string     `json:"reason"`
	Until     *time.Time `json:"until"` // null: no end
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by"`
}

func toBanView(b store.Ban) banView {
	v := banView{ID: b.ID, Kind: string(b.Kind), Value: b.Value, Reason: b.Reason, Created: b.Created, CreatedBy: b.CreatedBy}
	if !b.Until.IsZero() {
		u := b.Until
		v.Until = &u
	}
	return v
}

// listBans: GET /v1/bans → the project's active bans.
func (s *Server) listBans(w http.ResponseWriter, r *http.Request, c *caller) {
	bans, err := s.st.Bans(r.Context(), c.project, time.Now())
	if err != nil {
		s.internal(w, "bans", err)
		return
	}
	out := make([]banView, len(bans))
	for i, b := range bans {
		out[i] = toBanView(b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"bans": out})
}

// maxBanTTL bounds a ban's ttl: ten years.
const maxBanTTL = 10 * 365 * 24 * time.Hour

// addBan: POST /v1/bans {"kind": "ip"|"cidr"|"dna", "value", "reason", "ttl": "1h"}
// → 201 with the ban. No ttl (or "0") bans without end. Every connected agent has it
// within a second.
func (s *Server) addBan(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		Kind   string `json:"kind"`
		Value  string `json:"value"`
		Reason string `json:"reason"`
		TTL    string `json:"ttl"`
	}
	if !readJSON(w, r, &in, 8<<10) {
		return
	}
	b := store.Ban{Kind: store.BanKind(in.Kind), Value: in.Value, Reason: in.Reason}
	if in.TTL != "" && in.TTL != "0" {
		d, err := time.ParseDuration(in.TTL)
		if err != nil || d <= 0 || d > maxBanTTL {
			problem(w, http.StatusBadRequest, "ttl: want a positive duration such as 1h or 30m, at most 10 years")
			return
		}
		b.Until = time.Now().Add(d).UTC()
	}
	if b.Reason == "" {
		b.Reason = "banned by " + c.actor
	}
	ban, _, err := s.st.AddBan(r.Context(), c.project, b, c.actor)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
			return
		}
		s.internal(w, "ban", err)
		return
	}
	s.changed(r.Context(), c.project)
	s.hookBan(r.Context(), c.project, ban, c.actor)
	writeJSON(w, http.StatusCreated, toBanView(ban))
}

// removeBan: DELETE /v1/bans/{id} → 204; the agents lift it within a second.
func (s *Server) removeBan(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if _, err := s.st.RemoveBan(r.Context(), c.project, id, c.actor); err != nil {
		s.notFound(w, "ban", err)
		return
	}
	s.changed(r.Context(), c.project)
	w.WriteHeader(http.StatusNoContent)
}

// readPolicy reads a policy document body (YAML or JSON) and parses it. It answers
// and returns false when the body cannot be read; a document that does not parse is
// returned with its error for the caller to report.
func readPolicy(w http.ResponseWriter, r *http.Request) ([]byte, policy.Policy, error, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, policy.MaxSize))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "policy larger than "+strconv.Itoa(policy.MaxSize)+" bytes")
		return nil, policy.Policy{}, nil, false
	}
	p, err := policy.Parse(data)
	return data, p, err, true
}

// policyErrors is the body of a refused policy: every problem Parse found, one per
// line of its message ("line 7: unknown field …").
type policyErrors struct {
	Valid  bool     `json:"valid"`
	Errors []string `json:"errors"`
}

func splitErrors(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// validatePolicy: POST /v1/policy/validate (a YAML or JSON document) →
// {"valid": true} or {"valid": false, "errors": [...]}; nothing is stored.
func (s *Server) validatePolicy(w http.ResponseWriter, r *http.Request, _ *caller) {
	_, _, perr, ok := readPolicy(w, r)
	if !ok {
		return
	}
	if perr != nil {
		writeJSON(w, http.StatusOK, policyErrors{Valid: false, Errors: splitErrors(perr)})
		return
	}
	writeJSON(w, http.StatusOK, policyErrors{Valid: true, Errors: []string{}})
}

// putPolicy: PUT /v1/policy (a YAML or JSON document; ?base=N refuses with 409
// unless version N is the latest) → 201 {"version", "diff"}: the new version, pushed
// to every agent within a second. An invalid document is 422 with the errors.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, c *caller) {
	_, p, perr, ok := readPolicy(w, r)
	if !ok {
		return
	}
	if perr != nil {
		writeJSON(w, http.StatusUnprocessableEntity, policyErrors{Valid: false, Errors: splitErrors(perr)})
		return
	}
	ctx := r.Context()
	prev, err := s.st.Policy(ctx, c.project)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(w, "policy", err)
		return
	}
	if b := r.URL.Query().Get("base"); b != "" {
		if base, err := strconv.ParseInt(b, 10, 64); err != nil || base != prev.Version {
			problem(w, http.StatusConflict, "the policy changed since version "+b+"; the latest is "+strconv.FormatInt(prev.Version, 10))
			return
		}
	}
	p.Version = 0 // the snapshot sets it from the revision
	doc, err := p.JSON()
	if err != nil {
		s.internal(w, "encode policy", err)
		return
	}
	pv, _, err := s.st.PutPolicy(ctx, c.project, doc, c.actor)
	if err != nil {
		s.internal(w, "store policy", err)
		return
	}
	s.changed(ctx, c.project)
	writeJSON(w, http.StatusCreated, map[string]any{"version": pv.Version, "diff": policyDiffText(prev.Document, doc)})
}

type policyVersionView struct {
	Version   int64           `json:"version"`
	Created   time.Time       `json:"created"`
	CreatedBy string          `json:"created_by"`
	Document  json.RawMessage `json:"document,omitempty"`
}

// policyVersions: GET /v1/policy/versions?limit → the versions, newest first.
func (s *Server) policyVersions(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	limit := p.int("limit", 50, 1, 1000)
	if !p.ok(w) {
		return
	}
	vs, err := s.st.PolicyVersions(r.Context(), c.project, limit)
	if err != nil {
		s.internal(w, "policy versions", err)
		return
	}
	out := make([]policyVersionView, len(vs))
	for i, v := range vs {
		out[i] = policyVersionView{Version: v.Version, Created: v.Created, CreatedBy: v.CreatedBy}
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

// policyVersion: GET /v1/policy/versions/{version} → the version with its document;
// with Accept: application/yaml, the document alone as YAML.
func (s *Server) policyVersion(w http.ResponseWriter, r *http.Request, c *caller) {
	v, ok := pathID(w, r, "version")
	if !ok {
		return
	}
	pv, err := s.st.PolicyAt(r.Context(), c.project, v)
	if err != nil {
		s.notFound(w, "policy version", err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "yaml") {
		p, err := policy.Parse(pv.Document)
		if err != nil {
			s.internal(w, "stored policy", err)
			return
		}
		y, err := p.YAML()
		if err != nil {
			s.internal(w, "policy yaml", err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(y)
		return
	}
	writeJSON(w, http.StatusOK, policyVersionView{Version: pv.Version, Created: pv.Created, CreatedBy: pv.CreatedBy, Document: pv.Document})
}

// policyDiff: GET /v1/policy/diff?from=N&to=M → a line diff of the two versions'
// YAML forms; from=0 is the empty policy.
func (s *Server) policyDiff(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	from := p.int("from", 0, 0, 1<<62)
	to := p.int("to", 0, 1, 1<<62)
	if !p.ok(w) {
		return
	}
	var a, b []byte
	if from > 0 {
		pv, err := s.st.PolicyAt(r.Context(), c.project, int64(from))
		if err != nil {
			s.notFound(w, "policy version", err)
			return
		}
		a = pv.Document
	}
	pv, err := s.st.PolicyAt(r.Context(), c.project, int64(to))
	if err != nil {
		s.notFound(w, "policy version", err)
		return
	}
	b = pv.Document
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "diff": policyDiffText(a, b)})
}

// policyDiffText is the unified-style line diff of two stored (JSON) documents in
// their YAML form.
func policyDiffText(a, b []byte) string {
	return lineDiff(policyYAML(a), policyYAML(b))
}

func policyYAML(doc []byte) string {
	if len(doc) == 0 {
		return ""
	}
	p, err := policy.Parse(doc)
	if err != nil {
		return string(doc)
	}
	y, err := p.YAML()
	if err != nil {
		return string(doc)
	}
	return string(y)
}

// auditLog: GET /v1/audit?limit&before → {"entries": [...], "next": id or null}.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, c *caller) {
	p := params{r: r}
	limit := p.int("limit", 100, 1, 1000)
	before := p.int("before", 0, 0, 1<<62)
	if !p.ok(w) {
		return
	}
	es, err := s.st.AuditLog(r.Context(), c.project, limit, int64(before))
	if err != nil {
		s.internal(w, "audit log", err)
		return
	}
	type row struct {
		ID     int64     `json:"id"`
		Time   time.Time `json:"time"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Target string    `json:"target"`
		Detail string    `json:"detail,omitempty"`
	}
	out := make([]row, len(es))
	for i, e := range es {
		out[i] = row{e.ID, e.Time, e.Actor, e.Action, e.Target, e.Detail}
	}
	var next any
	if len(es) == limit {
		next = es[len(es)-1].ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "next": next})
}

type keyView struct {
	ID      int64      `json:"id"`
	Scope   string     `json:"scope"`
	Prefix  string     `json:"prefix"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
	Key     string     `json:"key,omitempty"` // only when created
}

func toKeyView(k store.Key) keyView {
	v := keyView{ID: k.ID, Scope: string(k.Scope), Prefix: k.Prefix, Created: k.Created}
	if !k.Revoked.IsZero() {
		t := k.Revoked
		v.Revoked = &t
	}
	return v
}

// listKeys: GET /v1/keys → the project's keys, without the keys themselves.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, c *caller) {
	ks, err := s.st.Keys(r.Context(), c.project)
	if err != nil {
		s.internal(w, "keys", err)
		return
	}
	out := make([]keyView, len(ks))
	for i, k := range ks {
		out[i] = toKeyView(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

// createKey: POST /v1/keys {"scope": "ingest"|"admin"} → 201 with the key, shown
// this once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		Scope string `json:"scope"`
	}
	if !readJSON(w, r, &in, 1<<10) {
		return
	}
	if in.Scope != string(store.ScopeIngest) && in.Scope != string(store.ScopeAdmin) {
		problem(w, http.StatusBadRequest, `scope: want "ingest" or "admin"`)
		return
	}
	plain, k, err := s.st.CreateKey(r.Context(), c.project, store.Scope(in.Scope))
	if err != nil {
		s.internal(w, "create key", err)
		return
	}
	s.audit(r, c, "key.create", "key:"+k.Prefix, "scope "+in.Scope)
	v := toKeyView(k)
	v.Key = plain
	writeJSON(w, http.StatusCreated, v)
}

// revokeKey: DELETE /v1/keys/{id} → 204.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if err := s.st.RevokeKey(r.Context(), c.project, id); err != nil {
		s.notFound(w, "key", err)
		return
	}
	s.audit(r, c, "key.revoke", "key:"+strconv.FormatInt(id, 10), "")
	w.WriteHeader(http.StatusNoContent)
}

// audit records a control action outside the store's own audited calls; a failure
// is logged, not answered, since the action is done.
func (s *Server) audit(r *http.Request, c *caller, action, target, detail string) {
	err := s.st.Audit(r.Context(), store.AuditEntry{Project: c.project, Actor: c.actor, Action: action, Target: target, Detail: detail})
	if err != nil {
		s.log.Error("studio: audit log write failed", "action", action, "err", err)
	}
}

type projectView struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func projectViews(ps []store.Project) []projectView {
	out := make([]projectView, len(ps))
	for i, p := range ps {
		out[i] = projectView{ID: p.ID, Name: p.Name, Created: p.Created}
	}
	return out
}

// listProjects: GET /v1/projects → the projects the session's user may open.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, c *caller) {
	ps, err := s.st.UserProjects(r.Context(), c.sess.User.ID)
	if err != nil {
		s.internal(w, "projects", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": projectViews(ps)})
}

// createProject: POST /v1/projects {"name"} → 201 with the project and its first
// ingest key, shown this once.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in, 1<<10) {
		return
	}
	if in.Name == "" || len(in.Name) > 64 {
		problem(w, http.StatusBadRequest, "name: 1 to 64 characters")
		return
	}
	p, err := s.st.CreateProject(r.Context(), in.Name)
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			problem(w, http.StatusConflict, "a project with that name exists")
			return
		}
		s.internal(w, "create project", err)
		return
	}
	plain, k, err := s.st.CreateKey(r.Context(), p.ID, store.ScopeIngest)
	if err != nil {
		s.internal(w, "create key", err)
		return
	}
	s.audit(r, &caller{project: p.ID, actor: c.actor}, "project.create", "project:"+p.Name, "")
	kv := toKeyView(k)
	kv.Key = plain
	writeJSON(w, http.StatusCreated, map[string]any{"project": projectViews([]store.Project{p})[0], "ingest_key": kv})
}

// listUsers: GET /v1/users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *caller) {
	us, err := s.st.Users(r.Context())
	if err != nil {
		s.internal(w, "users", err)
		return
	}
	out := make([]userView, len(us))
	for i, u := range us {
		out[i] = toUserView(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// createUser: POST /v1/users {"name", "password", "role"} → 201.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *caller) {
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if !readJSON(w, r, &in, 4<<10) {
		return
	}
	u, err := s.st.CreateUser(r.Context(), in.Name, in.Password, store.Role(in.Role))
	switch {
	case errors.Is(err, store.ErrExists):
		problem(w, http.StatusConflict, "a user with that name exists")
		return
	case errors.Is(err, store.ErrInvalid):
		problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
		return
	case err != nil:
		s.internal(w, "create user", err)
		return
	}
	s.audit(r, c, "user.create", "user:"+u.Name, "role "+in.Role)
	writeJSON(w, http.StatusCreated, toUserView(u))
}

// updateUser: PATCH /v1/users/{id} {"role"?, "password"?} → 204. A new password
// ends the user's sessions.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *caller) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var in struct {
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in, 4<<10) {
		return
	}
	u, err := s.st.UserByID(r.Context(), id)
	if err != nil {
		s.notFound(w, "user", err)
		return
	}
	if in.Role != "" {
		if u.ID == c.sess.User.ID && in.Role != string(store.RoleAdmin) {
			problem(w, http.StatusBadRequest, "an admin cannot demote themself")
			return
		}
		if err := s.st.SetUserRole(r.Context(), id, store.Role(in.Role)); err != nil {
			if errors.Is(err, store.ErrInvalid) {
				problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
				return
			}
			s.internal(w, "set role", err)
			return
		}
		s.audit(r, c, "user.role", "user:"+u.Name, "role "+in.Role)
	}
	if in.Password != "" {
		if err := s.st.SetPassword(r.Context(), id, in.Password); err != nil {
			if errors.Is(err, store.ErrInvalid) {
				problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
				return
			}
			s.internal(w, "set password", err)
			return
		}
		s.audit(r, c, "user.password", "user:"+u.Name, "")
	}
	w.WriteHeader(http.StatusNoContent)
}

// grantProject: PUT /v1/users/{id}/projects/{project} → 204.
func (s *Server) grantProject(w http.ResponseWriter, r *http.Request, c *caller) {
	s.membership(w, r, c, "user.grant", s.st.GrantProject)
}

// revokeProject: DELETE /v1/users/{id}/projects/{project} → 204.
func (s *Server) revokeProject(w http.ResponseWriter, r *http.Request, c *caller) {
	s.membership(w, r, c, "user.revoke", s.st.RevokeProject)
}

// membership applies change to the user and project the path names, and audits it
// as action in that project.
func (s *Server) membership(w http.ResponseWriter, r *http.Request, c *caller, action string, change func(ctx context.Context, user, project int64) error) {
	uid, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	pid, ok := pathID(w, r, "project")
	if !ok {
		return
	}
	if err := change(r.Context(), uid, pid); err != nil {
		s.notFound(w, "user or project", err)
		return
	}
	s.audit(r, &caller{project: pid, actor: c.actor}, action, "user:"+strconv.FormatInt(uid, 10), "")
	w.WriteHeader(http.StatusNoContent)
}
