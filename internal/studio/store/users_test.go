package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// openFast opens dsn with the least argon2id cost (store.SetTestArgon2).
func openFast(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s := open(t, dsn)
	store.SetTestArgon2(s)
	return s
}

const password = "correct horse battery staple"

func createUser(t *testing.T, s *store.Store, name string, role store.Role) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, password, role)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func TestUsers(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := openFast(t, e.dsn(t))
		ctx := context.Background()
		if n, err := s.CountUsers(ctx); err != nil || n != 0 {
			t.Errorf("CountUsers on a new database = %d, %v; want 0", n, err)
		}
		admin := createUser(t, s, "admin", store.RoleAdmin)
		ann := createUser(t, s, "ann.lee_2@example-corp.com", store.RoleAnalyst)
		if admin.ID == 0 || admin.Name != "admin" || admin.Role != store.RoleAdmin || time.Since(admin.Created) > time.Minute {
			t.Errorf("CreateUser = %+v", admin)
		}
		for _, name := range []string{"admin", "Admin", "ADMIN"} {
			if _, err := s.CreateUser(ctx, name, password, store.RoleViewer); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateUser(%q) with admin taken = %v, want ErrExists", name, err)
			}
		}
		for _, c := range []struct {
			name, user, password string
			role                 store.Role
		}{
			{"name_empty", "", password, store.RoleViewer},
			{"name_too_long", strings.Repeat("a", store.MaxUserNameLen+1), password, store.RoleViewer},
			{"name_space", "ann lee", password, store.RoleViewer},
			{"name_slash", "ann/lee", password, store.RoleViewer},
			{"name_non_ascii", "zoë", password, store.RoleViewer},
			{"name_nul", "ann\x00", password, store.RoleViewer},
			{"password_short", "ann2", strings.Repeat("p", store.MinPasswordLen-1), store.RoleViewer},
			{"password_long", "ann2", strings.Repeat("p", store.MaxPasswordLen+1), store.RoleViewer},
			{"role_unknown", "ann2", password, "root"},
			{"role_empty", "ann2", password, ""},
		} {
			if u, err := s.CreateUser(ctx, c.user, c.password, c.role); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: CreateUser = %+v, %v; want ErrInvalid", c.name, u, err)
			}
		}
		edge := []string{strings.Repeat("a", store.MaxUserNameLen), "x"}
		for _, name := range edge {
			if _, err := s.CreateUser(ctx, name, strings.Repeat("p", store.MinPasswordLen), store.RoleViewer); err != nil {
				t.Errorf("CreateUser(%q) with a %d-byte password: %v", name, store.MinPasswordLen, err)
			}
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 4 {
			t.Errorf("CountUsers = %d, %v; want 4", n, err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 4 {
			t.Fatalf("Users = %+v, %v; want 4", users, err)
		}
		if diff := cmp.Diff([]store.User{admin, ann}, users[:2]); diff != "" {
			t.Errorf("Users (-want +got):\n%s", diff)
		}
		got, err := s.UserByID(ctx, ann.ID)
		if diff := cmp.Diff(ann, got); diff != "" || err != nil {
			t.Errorf("UserByID: %v (-want +got):\n%s", err, diff)
		}
		if _, err := s.UserByID(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByID(missing) = %v, want ErrNotFound", err)
		}
		if err := s.SetUserRole(ctx, ann.ID, store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, ann.ID); got.Role != store.RoleViewer {
			t.Errorf("role after SetUserRole = %q, want viewer", got.Role)
		}
		if err := s.SetUserRole(ctx, ann.ID, "root"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetUserRole(root) = %v, want ErrInvalid", err)
		}
		if err := s.SetUserRole(ctx, 9999, store.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetUserRole(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := openFast(t, e.dsn(t))
		ctx := context.Background()
		u := createUser(t, s, "ann", store.RoleAnalyst)
		got, err := s.CheckPassword(ctx, "ann", password)
		if diff := cmp.Diff(u, got); err != nil || diff != "" {
			t.Errorf("CheckPassword(right): %v (-want +got):\n%s", err, diff)
		}
		for _, c := range []struct {
			name, user, password string
		}{
			{"wrong_password", "ann", password + "!"},
			{"password_prefix", "ann", password[:len(password)-1]},
			{"empty_password", "ann", ""},
			{"unknown_user", "bob", password},
			{"name_other_case", "Ann", password},
			{"invalid_name", "ann lee", password},
			{"password_too_long", "ann", strings.Repeat("p", store.MaxPasswordLen+1)},
		} {
			if got, err := s.CheckPassword(ctx, c.user, c.password); !errors.Is(err, store.ErrBadCredentials) || got != (store.User{}) {
				t.Errorf("%s: CheckPassword = %+v, %v; want ErrBadCredentials", c.name, got, err)
			}
		}
		// An unknown user costs a hash, as a known one does.
		for _, name := range []string{"ann", "bob", "not a name"} {
			before := store.Hashes(s)
			s.CheckPassword(ctx, name, "wrong password!")
			if n := store.Hashes(s) - before; n != 1 {
				t.Errorf("CheckPassword(%q) ran %d hashes, want 1", name, n)
			}
		}
		if err := s.SetPassword(ctx, u.ID, "a new password, long enough"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckPassword(ctx, "ann", password); !errors.Is(err, store.ErrBadCredentials) {
			t.Errorf("old password after SetPassword = %v, want ErrBadCredentials", err)
		}
		if _, err := s.CheckPassword(ctx, "ann", "a new password, long enough"); err != nil {
			t.Errorf("new password after SetPassword: %v", err)
		}
		if err := s.SetPassword(ctx, u.ID, "short"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetPassword(short) = %v, want ErrInvalid", err)
		}
		if err := s.SetPassword(ctx, 9999, password); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetPassword(missing) = %v, want ErrNotFound", err)
		}
	})
}

// Hashes made by the reference implementation (Debian's argon2 0~20171227):
//
//	echo -n "correct horse battery staple" | argon2 vigilsaltsalt16b -id -t 2 -m 10 -p 1 -l 32 -e
//	echo -n "correct horse battery staple" | argon2 vigilsaltsalt16b -id -t 2 -k 65536 -p 1 -l 32 -e
const (
	refHashSmall = "$argon2id$v=19$m=1024,t=2,p=1$dmlnaWxzYWx0c2FsdDE2Yg$tGFB2yg2skWQEkNJlZ0CLWY/TMzzUKCgvk7G8zoH+z0"
	refHash64MiB = "$argon2id$v=19$m=65536,t=2,p=1$dmlnaWxzYWx0c2FsdDE2Yg$PdmzItICLA+TcLUUS89PT8A/CjucRrvx0Aqp9fklw+Y"
)

// setHash overwrites the user's stored password hash.
func setHash(t *testing.T, e engine, dsn string, user int64, hash string) {
	t.Helper()
	if _, err := rawDB(t, e, dsn).Exec(`UPDATE users SET password_hash = $1 WHERE id = $2`, hash, user); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordHashes checks the stored form against the reference implementation
// of argon2id and a stored hash that is corrupt or asks for absurd costs.
func TestPasswordHashes(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := openFast(t, dsn)
		ctx := context.Background()
		u := createUser(t, s, "ann", store.RoleViewer)
		for _, c := range []struct {
			name string
			hash string
			ok   bool // the password matches; else an error that is not ErrBadCredentials
		}{
			{"reference", refHashSmall, true},
			{"wrong_key", strings.Replace(refHashSmall, "$tGFB", "$uGFB", 1), false},
			{"other_version", strings.Replace(refHashSmall, "v=19", "v=16", 1), false},
			{"argon2i", strings.Replace(refHashSmall, "argon2id", "argon2i", 1), false},
			{"huge_memory", strings.Replace(refHashSmall, "m=1024", "m=4294967295", 1), false},
			{"huge_time", strings.Replace(refHashSmall, "t=2", "t=100000", 1), false},
			{"zero_threads", strings.Replace(refHashSmall, "p=1", "p=0", 1), false},
			{"unknown_param", strings.Replace(refHashSmall, "p=1", "p=1,x=2", 1), false},
			{"bad_salt", strings.Replace(refHashSmall, "$dmln", "$!mln", 1), false},
			{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", false},
			{"empty", "", false},
		} {
			setHash(t, e, dsn, u.ID, c.hash)
			got, err := s.CheckPassword(ctx, "ann", password)
			switch {
			case c.ok && (err != nil || got.ID != u.ID):
				t.Errorf("%s: CheckPassword = %+v, %v; want ann", c.name, got, err)
			case !c.ok && c.name == "wrong_key" && !errors.Is(err, store.ErrBadCredentials):
				t.Errorf("%s: CheckPassword = %v, want ErrBadCredentials", c.name, err)
			case !c.ok && c.name != "wrong_key" && (err == nil || errors.Is(err, store.ErrBadCredentials)):
				t.Errorf("%s: CheckPassword = %v; want an error about the stored hash", c.name, err)
			}
		}
	})
}

// TestPasswordProductionParams hashes with the Store's own argon2id parameters
// (OWASP's m=47104 KiB, t=1, p=1) and checks a 64 MiB reference hash.
func TestPasswordProductionParams(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := open(t, dsn)
		ctx := context.Background()
		u := createUser(t, s, "ann", store.RoleViewer)
		var hash string
		if err := rawDB(t, e, dsn).QueryRow(`SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(hash, "$")
		if len(parts) != 6 || !strings.HasPrefix(hash, "$argon2id$v=19$m=47104,t=1,p=1$") {
			t.Fatalf("stored hash %q: want $argon2id$v=19$m=47104,t=1,p=1$salt$key", hash)
		}
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
		key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
			t.Errorf("stored hash %q: want a 16-byte salt and a 32-byte key in unpadded base64", hash)
		}
		if strings.Contains(hash, password) {
			t.Errorf("stored hash %q has the password in it", hash)
		}
		if _, err := s.CheckPassword(ctx, "ann", password); err != nil {
			t.Errorf("CheckPassword(right): %v", err)
		}
		if _, err := s.CheckPassword(ctx, "ann", "wrong password!"); !errors.Is(err, store.ErrBadCredentials) {
			t.Errorf("CheckPassword(wrong) = %v, want ErrBadCredentials", err)
		}
		// Another user with the same password gets another salt.
		u2 := createUser(t, s, "bob", store.RoleViewer)
		var hash2 string
		rawDB(t, e, dsn).QueryRow(`SELECT password_hash FROM users WHERE id = $1`, u2.ID).Scan(&hash2)
		if hash2 == hash {
			t.Error("two users with one password have one hash")
		}
		setHash(t, e, dsn, u2.ID, refHash64MiB)
		if _, err := s.CheckPassword(ctx, "bob", password); err != nil {
			t.Errorf("CheckPassword against the 64 MiB reference hash: %v", err)
		}
	})
}

func TestProjectMembership(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		store.SetTestArgon2(f.s)
		ctx := context.Background()
		admin := createUser(t, f.s, "admin", store.RoleAdmin)
		ann := createUser(t, f.s, "ann", store.RoleAnalyst)
		vic := createUser(t, f.s, "vic", store.RoleViewer)
		names := func(user int64) []string {
			t.Helper()
			ps, err := f.s.UserProjects(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, p := range ps {
				out = append(out, p.Name)
			}
			return out
		}
		if err := f.s.GrantProject(ctx, ann.ID, f.b.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.GrantProject(ctx, ann.ID, f.b.ID); err != nil {
			t.Errorf("granting twice: %v", err)
		}
		for _, c := range []struct {
			name string
			user int64
			want []string
		}{
			{"admin", admin.ID, []string{"alpha", "beta"}},
			{"analyst", ann.ID, []string{"beta"}},
			{"viewer", vic.ID, []string{}},
		} {
			if diff := cmp.Diff(c.want, names(c.user)); diff != "" {
				t.Errorf("%s: UserProjects (-want +got):\n%s", c.name, diff)
			}
		}
		for _, c := range []struct {
			name          string
			user, project int64
			want          bool
		}{
			{"admin_a", admin.ID, f.a.ID, true},
			{"admin_missing", admin.ID, 9999, false},
			{"analyst_granted", ann.ID, f.b.ID, true},
			{"analyst_not_granted", ann.ID, f.a.ID, false},
			{"viewer", vic.ID, f.b.ID, false},
		} {
			if got, err := f.s.UserCanSee(ctx, c.user, c.project); err != nil || got != c.want {
				t.Errorf("%s: UserCanSee = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
		if _, err := f.s.UserCanSee(ctx, 9999, f.a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserCanSee(missing user) = %v, want ErrNotFound", err)
		}
		// A promoted analyst sees everything; demoted again, the grants are back.
		f.s.SetUserRole(ctx, ann.ID, store.RoleAdmin)
		if got := names(ann.ID); len(got) != 2 {
			t.Errorf("UserProjects(promoted) = %q, want both", got)
		}
		f.s.SetUserRole(ctx, ann.ID, store.RoleAnalyst)
		if err := f.s.RevokeProject(ctx, ann.ID, f.b.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RevokeProject(ctx, ann.ID, f.b.ID); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		if got := names(ann.ID); len(got) != 0 {
			t.Errorf("UserProjects after revoke = %q, want none", got)
		}
		if err := f.s.GrantProject(ctx, ann.ID, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GrantProject(missing project) = %v, want ErrNotFound", err)
		}
		if err := f.s.GrantProject(ctx, 9999, f.a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GrantProject(missing user) = %v, want ErrNotFound", err)
		}
		if _, err := f.s.UserProjects(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserProjects(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := openFast(t, dsn)
		ctx := context.Background()
		ann := createUser(t, s, "ann", store.RoleAnalyst)
		bob := createUser(t, s, "bob", store.RoleViewer)
		token, sess, err := s.CreateSession(ctx, ann.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for what, v := range map[string]string{"token": token, "csrf": sess.CSRF} {
			if b, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(b) != 32 {
				t.Errorf("%s %q: want 32 bytes in unpadded base64url", what, v)
			}
		}
		if sess.CSRF == token || sess.User != ann || sess.Expires.Sub(sess.Created) != time.Hour {
			t.Errorf("CreateSession = %+v; want ann's, an hour long, with a CSRF token of its own", sess)
		}
		// Only the token's SHA-256 is stored.
		var stored []byte
		if err := rawDB(t, e, dsn).QueryRow(`SELECT hash FROM sessions`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256([]byte(token)); string(stored) != string(h[:]) {
			t.Errorf("stored %x, want SHA-256 of the token", stored)
		}
		got, err := s.Session(ctx, token, time.Now())
		if diff := cmp.Diff(sess, got); err != nil || diff != "" {
			t.Errorf("Session: %v (-want +got):\n%s", err, diff)
		}
		for _, c := range []struct {
			name  string
			token string
			at    time.Time
		}{
			{"at_expiry", token, sess.Expires},
			{"after_expiry", token, sess.Expires.Add(time.Minute)},
			{"other_token", flipLast(token), time.Now()},
			{"csrf_as_token", sess.CSRF, time.Now()},
			{"empty", "", time.Now()},
			{"long", token + "A", time.Now()},
		} {
			if got, err := s.Session(ctx, c.token, c.at); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: Session = %+v, %v; want ErrNotFound", c.name, got, err)
			}
		}
		// A role change shows in the session at once.
		s.SetUserRole(ctx, ann.ID, store.RoleViewer)
		if got, _ := s.Session(ctx, token, time.Now()); got.User.Role != store.RoleViewer {
			t.Errorf("session's role after SetUserRole = %q, want viewer", got.User.Role)
		}
		if err := s.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Session after DeleteSession = %v, want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, token); err != nil {
			t.Errorf("DeleteSession twice: %v", err)
		}
		// SetPassword ends the user's sessions, not others'.
		t1, _, _ := s.CreateSession(ctx, ann.ID, time.Hour)
		t2, _, _ := s.CreateSession(ctx, ann.ID, time.Hour)
		tb, _, _ := s.CreateSession(ctx, bob.ID, time.Hour)
		if err := s.SetPassword(ctx, ann.ID, "another long password"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{t1, t2} {
			if _, err := s.Session(ctx, tok, time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ann's session after SetPassword = %v, want ErrNotFound", err)
			}
		}
		if _, err := s.Session(ctx, tb, time.Now()); err != nil {
			t.Errorf("bob's session after ann's SetPassword: %v", err)
		}
		// Expired sessions are deleted, live ones kept.
		short, _, _ := s.CreateSession(ctx, ann.ID, time.Minute)
		n, err := s.DeleteExpiredSessions(ctx, time.Now().Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
		}
		if _, err := s.Session(ctx, short, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session = %v, want ErrNotFound", err)
		}
		if _, err := s.Session(ctx, tb, time.Now()); err != nil {
			t.Errorf("live session after DeleteExpiredSessions: %v", err)
		}
		if _, _, err := s.CreateSession(ctx, 9999, time.Hour); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateSession(missing user) = %v, want ErrNotFound", err)
		}
		for _, ttl := range []time.Duration{0, -time.Hour, store.MaxSessionTTL + 1} {
			if _, _, err := s.CreateSession(ctx, ann.ID, ttl); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateSession(ttl %v) = %v, want ErrInvalid", ttl, err)
			}
		}
	})
}

// flipLast returns s with its last character changed.
func flipLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
