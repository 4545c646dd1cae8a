package studio

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// caller is who made a request, as the route's access check established it.
type caller struct {
	// project is the project the request acts on; 0 for routes outside projects.
	project int64
	// actor names the caller in the audit log: "key:<prefix>" or "user:<name>".
	actor string
	key   *store.Key     // set for a key
	sess  *store.Session // set for a session
}

// sessionCookie is the dashboard session's cookie.
const sessionCookie = "vigil_session"

// The headers a dashboard request uses.
const (
	headerCSRF    = "X-CSRF-Token"
	headerProject = "X-Vigil-Project"
)

// wrap returns rt's handler behind its access check.
func (s *Server) wrap(rt route) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, status, msg := s.authenticate(r, rt.access)
		if status != 0 {
			s.m.denied.Add(1)
			if status == http.StatusUnauthorized {
				if rt.access == accessGuardAgent {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(`{"detail":"Invalid API key"}`))
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="vigil-studio"`)
			}
			problem(w, status, msg)
			return
		}
		rt.h(w, r, c)
	})
	if rt.guarded {
		h = s.guard.Handler(h)
	}
	return h
}

// authenticate checks r's credentials against a and returns the caller, or the
// status and message to refuse it with.
func (s *Server) authenticate(r *http.Request, a access) (*caller, int, string) {
	ctx := r.Context()
	if a == accessPublic {
		return &caller{}, 0, ""
	}
	// Keys.
	var plain string
	switch a {
	case accessGuardAgent:
		plain = strings.TrimSpace(r.Header.Get("X-API-Key"))
	default:
		if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			plain = strings.TrimSpace(token)
		}
	}
	if plain != "" {
		k, err := s.st.LookupKey(ctx, plain)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Error("studio: key look-up failed", "err", err)
				return nil, http.StatusServiceUnavailable, "try again"
			}
			return nil, http.StatusUnauthorized, "unknown or revoked key"
		}
		c := &caller{project: k.ProjectID, actor: "key:" + k.Prefix, key: &k}
		switch a {
		case accessIngest, accessGuardAgent:
			if k.Scope != store.ScopeIngest {
				return nil, http.StatusForbidden, "this route needs an ingest key"
			}
		case accessAgentOrView:
			// either scope
		case accessView, accessOperate, accessAdmin:
			if k.Scope != store.ScopeAdmin {
				return nil, http.StatusForbidden, "this route needs an admin key"
			}
		default: // accessSession, accessUsers: not for keys
			return nil, http.StatusForbidden, "this route needs a dashboard session"
		}
		return c, 0, ""
	}
	if a == accessIngest || a == accessGuardAgent {
		return nil, http.StatusUnauthorized, "missing key"
	}
	// Sessions.
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, http.StatusUnauthorized, "missing credentials"
	}
	sess, err := s.st.Session(ctx, ck.Value, time.Now())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("studio: session look-up failed", "err", err)
			return nil, http.StatusServiceUnavailable, "try again"
		}
		return nil, http.StatusUnauthorized, "session expired"
	}
	if !safeMethod(r.Method) {
		if t := r.Header.Get(headerCSRF); t == "" || subtle.ConstantTimeCompare([]byte(t), []byte(sess.CSRF)) != 1 {
			return nil, http.StatusForbidden, "missing or wrong " + headerCSRF
		}
	}
	c := &caller{actor: "user:" + sess.User.Name, sess: &sess}
	role := sess.User.Role
	switch a {
	case accessSession:
		return c, 0, ""
	case accessUsers:
		if role != store.RoleAdmin {
			return nil, http.StatusForbidden, "admins only"
		}
		return c, 0, ""
	case accessOperate:
		if role != store.RoleAdmin && role != store.RoleAnalyst {
			return nil, http.StatusForbidden, "analysts and admins only"
		}
	case accessAdmin:
		if role != store.RoleAdmin {
			return nil, http.StatusForbidden, "admins only"
		}
	}
	// A project route: which project, and is the user a member?
	p := r.Header.Get(headerProject)
	if p == "" {
		p = r.URL.Query().Get("project")
	}
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil || id <= 0 {
		return nil, http.StatusBadRequest, "name the project in " + headerProject
	}
	projects, err := s.st.UserProjects(ctx, sess.User.ID)
	if err != nil {
		s.log.Error("studio: membership look-up failed", "err", err)
		return nil, http.StatusServiceUnavailable, "try again"
	}
	for _, pr := range projects {
		if pr.ID == id {
			c.project = id
			return c, 0, ""
		}
	}
	// The same answer whether the project exists or not.
	return nil, http.StatusForbidden, "not a member of that project"
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// login: POST /v1/login {"name", "password"} → 200 with the session cookie and
// {"user", "csrf"}; 401 for wrong credentials (the same answer for an unknown user).
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *caller) {
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in, 4<<10) {
		return
	}
	u, err := s.st.CheckPassword(r.Context(), in.Name, in.Password)
	if err != nil {
		if errors.Is(err, store.ErrBadCredentials) {
			s.m.loginFailed.Add(1)
			_ = s.st.Audit(r.Context(), store.AuditEntry{Actor: "anonymous", Action: "login.failed", Target: "user:" + truncate(in.Name, 64), Detail: clientAddr(r)})
			problem(w, http.StatusUnauthorized, "wrong name or password")
			return
		}
		s.internal(w, "login", err)
		return
	}
	token, sess, err := s.st.CreateSession(r.Context(), u.ID, s.cfg.SessionTTL)
	if err != nil {
		s.internal(w, "create session", err)
		return
	}
	_ = s.st.Audit(r.Context(), store.AuditEntry{Actor: "user:" + u.Name, Action: "login", Target: "user:" + u.Name, Detail: clientAddr(r)})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.Expires,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, sessionView(sess))
}

// logout: POST /v1/logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) {
	ck, _ := r.Cookie(sessionCookie)
	if err := s.st.DeleteSession(r.Context(), ck.Value); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(w, "logout", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// session: GET /v1/session → the user, the CSRF token and the user's projects.
func (s *Server) session(w http.ResponseWriter, r *http.Request, c *caller) {
	v := sessionView(*c.sess)
	ps, err := s.st.UserProjects(r.Context(), c.sess.User.ID)
	if err != nil {
		s.internal(w, "projects", err)
		return
	}
	v.Projects = projectViews(ps)
	writeJSON(w, http.StatusOK, v)
}

type userView struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

func toUserView(u store.User) userView {
	return userView{ID: u.ID, Name: u.Name, Role: string(u.Role), Created: u.Created}
}

type sessionJSON struct {
	User     userView      `json:"user"`
	CSRF     string        `json:"csrf"`
	Expires  time.Time     `json:"expires"`
	Projects []projectView `json:"projects,omitempty"`
}

func sessionView(s store.Session) sessionJSON {
	return sessionJSON{User: toUserView(s.User), CSRF: s.CSRF, Expires: s.Expires}
}

// clientAddr is the request's client address, for the audit log: as Studio's guard
// established it (trusting X-Forwarded-For only from Config.TrustedProxies), else
// the connection's peer.
func clientAddr(r *http.Request) string {
	if v := vigil.VerdictFrom(r.Context()); v != nil && v.ClientIP.IsValid() {
		return v.ClientIP.String()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// readJSON decodes r's JSON body (at most limit bytes, no unknown fields) into v,
// answering 400 or 413 and returning false when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem(w, http.StatusRequestEntityTooLarge, "body too large")
			return false
		}
		problem(w, http.StatusBadRequest, "bad JSON body: "+jsonErr(err))
		return false
	}
	return true
}

// jsonErr is a decoding error's message, without the input's values.
func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + strconv.Quote(te.Field) + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "unreadable"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
