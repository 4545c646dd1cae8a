package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/policy"
)

// The files the demo keeps in its data directory, next to Studio's database. They hold
// secrets of a demo setup in plain text, readable by the owner only (0600).
const (
	// PasswordFile holds the password of Studio's admin user, created on the demo's
	// first start, so that every later start can print it again.
	PasswordFile = "demo-admin-password"
	// KeyFile holds the ingest key the demo's agent reports with.
	KeyFile = "demo-ingest-key"
	// AgentDir is the agent's directory: its spool and the last policy from Studio.
	AgentDir = "demo-agent"
)

// AdminUser is the name of Studio's admin user, as `vigil studio` creates it.
const AdminUser = "admin"

// ProjectName is the Studio project the demo reports to.
const ProjectName = "default"

// login is what the demo prints about signing in to the dashboard.
type login struct {
	user string
	// password is empty when the demo does not know it: the data directory was set up
	// by `vigil studio`, which printed its password once.
	password string
	// file is where the password is kept; stale reports that the password there no
	// longer signs in (it was changed in the dashboard).
	file  string
	stale bool
	// created reports a first start.
	created bool
}

// setupStudio prepares Studio's database in dir for the demo: the admin user with a
// password kept in PasswordFile, the default project, an ingest key kept in KeyFile,
// and, while the project has no policy yet, the demo's policy as its first version, so
// that the dashboard's policy editor starts from what the guard runs. Everything that
// exists already is reused, so a second start finds the same credentials.
func setupStudio(ctx context.Context, st *store.Store, dir string, pol policy.Policy) (login, store.Project, string, error) {
	lg := login{user: AdminUser, file: filepath.Join(dir, PasswordFile)}
	pw, err := readSecret(lg.file)
	switch {
	case err == nil:
		lg.password = pw
		if _, err := st.CheckPassword(ctx, AdminUser, pw); errors.Is(err, store.ErrBadCredentials) {
			lg.stale = true
		} else if err != nil {
			return lg, store.Project{}, "", fmt.Errorf("demo: admin user: %w", err)
		}
	case errors.Is(err, os.ErrNotExist):
		n, err := st.CountUsers(ctx)
		if err != nil {
			return lg, store.Project{}, "", fmt.Errorf("demo: users: %w", err)
		}
		if n > 0 {
			break // set up by `vigil studio`: its admin password was printed there
		}
		pw := rand.Text()
		if err := writeSecret(lg.file, pw); err != nil {
			return lg, store.Project{}, "", err
		}
		if _, err := st.CreateUser(ctx, AdminUser, pw, store.RoleAdmin); err != nil {
			_ = os.Remove(lg.file)
			return lg, store.Project{}, "", fmt.Errorf("demo: admin user: %w", err)
		}
		_ = st.Audit(ctx, store.AuditEntry{Actor: "demo", Action: "user.create", Target: "user:" + AdminUser, Detail: "vigil demo first start"})
		lg.password, lg.created = pw, true
	default:
		return lg, store.Project{}, "", err
	}

	p, err := st.ProjectByName(ctx, ProjectName)
	if errors.Is(err, store.ErrNotFound) {
		if p, err = st.CreateProject(ctx, ProjectName); err != nil {
			return lg, p, "", fmt.Errorf("demo: project: %w", err)
		}
		_ = st.Audit(ctx, store.AuditEntry{Project: p.ID, Actor: "demo", Action: "project.create", Target: "project:" + ProjectName, Detail: "vigil demo first start"})
	} else if err != nil {
		return lg, p, "", fmt.Errorf("demo: project: %w", err)
	}

	keyFile := filepath.Join(dir, KeyFile)
	key, err := readSecret(keyFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return lg, p, "", err
	}
	if key != "" {
		// A key revoked in the dashboard, or one of another database, is replaced.
		if k, err := st.LookupKey(ctx, key); err != nil || k.ProjectID != p.ID || k.Scope != store.ScopeIngest {
			key = ""
		}
	}
	if key == "" {
		if key, _, err = st.CreateKey(ctx, p.ID, store.ScopeIngest); err != nil {
			return lg, p, "", fmt.Errorf("demo: ingest key: %w", err)
		}
		if err := writeSecret(keyFile, key); err != nil {
			return lg, p, "", err
		}
	}

	if _, err := st.Policy(ctx, p.ID); errors.Is(err, store.ErrNotFound) {
		doc, err := pol.JSON()
		if err != nil {
			return lg, p, "", fmt.Errorf("demo: policy: %w", err)
		}
		if _, _, err := st.PutPolicy(ctx, p.ID, doc, "demo"); err != nil {
			return lg, p, "", fmt.Errorf("demo: policy: %w", err)
		}
	} else if err != nil {
		return lg, p, "", fmt.Errorf("demo: policy: %w", err)
	}
	return lg, p, key, nil
}

// readSecret returns the trimmed content of a secret file.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeSecret writes value to path, readable by the owner only, replacing the file.
func writeSecret(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // an older file may have had other bits
		f.Close()
		return fmt.Errorf("demo: %w", err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("demo: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
