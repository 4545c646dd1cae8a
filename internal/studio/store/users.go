package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Role is what a Studio user may do. The zero Role is none of the roles and is
// refused wherever a role is set.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"   // everything, in every project
	RoleAnalyst Role = "analyst" // read and control the projects granted
	RoleViewer  Role = "viewer"  // read the projects granted
)

func (r Role) valid() bool { return r == RoleAdmin || r == RoleAnalyst || r == RoleViewer }

// User is a Studio user: everything but the password. The zero User is no user
// (ID 0). A plain value, not safe for concurrent modification.
type User struct {
	ID      int64
	Name    string
	Role    Role
	Created time.Time
}

// ErrBadCredentials: no user has that name and password.
var ErrBadCredentials = errors.New("store: bad credentials")

// Limits on users' names and passwords, in bytes.
const (
	MaxUserNameLen    = 64
	MinPasswordLen    = 12
	MaxPasswordLen    = 1024
	argonSaltLen      = 16
	argonKeyLen       = 32
	maxArgonMemoryKiB = 1 << 21 // 2 GiB: a stored hash asking for more is corrupt
	maxArgonTime      = 64
)

// argonParams are argon2id's costs.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
}

// The argon2id parameters of new hashes: OWASP's first argon2id configuration
// (Password Storage Cheat Sheet: m=47104 KiB, t=1, p=1; its other configurations
// trade memory for passes at the same strength). Of those it takes the most memory,
// which is what makes a guess dear on GPUs and ASICs, and the fewest passes, which
// keeps a login short: about 30 ms of one core on the machine the tests run on (a
// 64 MiB, two-pass hash took 160 ms there). The hashes that run at once are bounded
// by GOMAXPROCS (Store.hashSem), so logins take at most GOMAXPROCS × 46 MiB. Each
// hash records its parameters, so raising these later leaves old hashes valid.
const (
	argonMemoryKiB = 47104
	argonTime      = 1
	argonThreads   = 1
)

// phc returns the PHC string of argon2id(password, salt) under p.
func (p argonParams) phc(password string, salt []byte) string {
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsePHC reads an argon2id PHC string: its parameters, salt and key.
func parsePHC(s string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errors.New("not an argon2id v19 PHC string")
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("parameter %q: %w", kv, err)
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("parameter %q out of range", kv)
			}
			p.threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("unknown parameter %q", kv)
		}
	}
	if p.time < 1 || p.time > maxArgonTime || p.threads < 1 || p.memory < 8*uint32(p.threads) || p.memory > maxArgonMemoryKiB {
		return p, nil, nil, fmt.Errorf("parameters %q out of range", parts[3])
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("bad key")
	}
	return p, salt, key, nil
}

// hashPassword returns the PHC string of password under s's parameters with a new
// random salt.
func (s *Store) hashPassword(ctx context.Context, password string) (string, error) {
	var salt [argonSaltLen]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", err
	}
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer s.releaseHash()
	return s.argon.phc(password, salt[:]), nil
}

// acquireHash waits for a turn to run argon2id; releaseHash ends it.
func (s *Store) acquireHash(ctx context.Context) error {
	select {
	case s.hashSem <- struct{}{}:
		s.hashes.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) releaseHash() { <-s.hashSem }

// checkUserName checks a user's name: 1–64 of [a-zA-Z0-9._@-].
func checkUserName(name string) error {
	if name == "" || len(name) > MaxUserNameLen {
		return invalidf("user name must be 1–%d characters, got %d", MaxUserNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return invalidf("user name may have only letters a–z and A–Z, digits and . _ @ -")
		}
	}
	return nil
}

func checkPassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return invalidf("password must be %d–%d bytes, got %d", MinPasswordLen, MaxPasswordLen, len(password))
	}
	return nil
}

func checkRole(r Role) error {
	if !r.valid() {
		return invalidf("role %.16q is not admin, analyst or viewer", r)
	}
	return nil
}

// CreateUser makes a user with name, password and role and returns it. The name is
// 1–MaxUserNameLen characters of [a-zA-Z0-9._@-], unique regardless of case (a
// login must match it exactly); the password MinPasswordLen–MaxPasswordLen bytes.
// The password is kept as an argon2id hash (a PHC string). A name taken is
// ErrExists; invalid input an error wrapping ErrInvalid.
func (s *Store) CreateUser(ctx context.Context, name, password string, role Role) (User, error) {
	if err := checkUserName(name); err != nil {
		return User{}, err
	}
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	if err := checkRole(role); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	u := User{Name: name, Role: role, Created: fromNanos(nanos(time.Now()))}
	// No conflict target: the name's unique index and its case-folded one both count.
	err = s.write.QueryRowContext(ctx, `INSERT INTO users (name, password_hash, role, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING id`, name, hash, string(role), nanos(u.Created)).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// dummySalt salts the hash CheckPassword spends on an unknown name.
const dummySalt = "vigil-no-user-16"

// CheckPassword returns the user named name if password is theirs, else
// ErrBadCredentials. It spends one argon2id hash whether or not the name exists
// (under the Store's parameters, which a user's hash has unless the parameters
// changed since it was made), so the time it takes does not tell which.
func (s *Store) CheckPassword(ctx context.Context, name, password string) (User, error) {
	if len(password) > MaxPasswordLen {
		return User{}, ErrBadCredentials // no hash: the length is no secret
	}
	var (
		u       User
		stored  string
		created int64
	)
	err := sql.ErrNoRows
	if checkUserName(name) == nil {
		err = s.read.QueryRowContext(ctx, `SELECT id, name, role, created, password_hash FROM users WHERE name = $1`, name).
			Scan(&u.ID, &u.Name, &u.Role, &created, &stored)
	}
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.acquireHash(ctx); err != nil {
			return User{}, err
		}
		s.argon.phc(password, []byte(dummySalt))
		s.releaseHash()
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("store: check password: %w", err)
	}
	p, salt, key, err := parsePHC(stored)
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: password hash: %w", u.ID, err)
	}
	if err := s.acquireHash(ctx); err != nil {
		return User{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	s.releaseHash()
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return User{}, ErrBadCredentials
	}
	u.Created = fromNanos(created)
	return u, nil
}

// Users returns every user, in ID order.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, created FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &created); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		u.Created = fromNanos(created)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// UserByID returns the user id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u := User{ID: id}
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT name, role, created FROM users WHERE id = $1`, id).Scan(&u.Name, &u.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user: %w", err)
	}
	u.Created = fromNanos(created)
	return u, nil
}

// CountUsers returns how many users there are (none: Studio is not set up yet).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// SetUserRole changes the user's role; it takes effect at once, sessions included.
// An unknown user is ErrNotFound, an unknown role an error wrapping ErrInvalid.
func (s *Store) SetUserRole(ctx context.Context, id int64, role Role) error {
	if err := checkRole(role); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `UPDATE users SET role = $1 WHERE id = $2`, string(role), id)
	if err != nil {
		return fmt.Errorf("store: set role: %w", err)
	}
	return rowOrNotFound(res, "user", id)
}

// rowOrNotFound turns an UPDATE or DELETE that changed no row into ErrNotFound.
func rowOrNotFound(res sql.Result, what string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// SetPassword changes the user's password and, in the same transaction, ends all
// of the user's sessions. An unknown user is ErrNotFound, a password out of
// MinPasswordLen–MaxPasswordLen bytes an error wrapping ErrInvalid.
func (s *Store) SetPassword(ctx context.Context, id int64, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	if err := rowOrNotFound(res, "user", id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}

// GrantProject lets the user see the project (admins see every project anyway).
// Granting twice is granting once; an unknown user or project is ErrNotFound.
func (s *Store) GrantProject(ctx context.Context, user, project int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: grant project: %w", err)
	}
	defer tx.Rollback()
	var ok bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AND EXISTS (SELECT 1 FROM projects WHERE id = $2)`,
		user, project).Scan(&ok)
	if err != nil {
		return fmt.Errorf("store: grant project: %w", err)
	}
	if !ok {
		return fmt.Errorf("user %d or project %d: %w", user, project, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_projects (user_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		user, project); err != nil {
		return fmt.Errorf("store: grant project: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: grant project: %w", err)
	}
	return nil
}

// RevokeProject takes back a GrantProject; revoking what was not granted does
// nothing.
func (s *Store) RevokeProject(ctx context.Context, user, project int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM user_projects WHERE user_id = $1 AND project_id = $2`, user, project); err != nil {
		return fmt.Errorf("store: revoke project: %w", err)
	}
	return nil
}

// UserProjects returns the projects the user may see, in ID order: every project
// for an admin, the projects granted for an analyst or a viewer. An unknown user
// is ErrNotFound.
func (s *Store) UserProjects(ctx context.Context, user int64) ([]Project, error) {
	u, err := s.UserByID(ctx, user)
	if err != nil {
		return nil, err
	}
	if u.Role == RoleAdmin {
		return s.Projects(ctx)
	}
	return s.queryProjects(ctx, `SELECT `+projectColumns+` FROM projects
		WHERE id IN (SELECT project_id FROM user_projects WHERE user_id = $1) ORDER BY id`, user)
}

// UserCanSee reports whether the user may see the project: an admin any project
// that exists, another user a project granted. An unknown user is ErrNotFound.
func (s *Store) UserCanSee(ctx context.Context, user, project int64) (bool, error) {
	var role string
	var exists, granted bool
	err := s.read.QueryRowContext(ctx, `SELECT u.role,
			EXISTS (SELECT 1 FROM projects WHERE id = $2),
			EXISTS (SELECT 1 FROM user_projects WHERE user_id = u.id AND project_id = $2)
		FROM users u WHERE u.id = $1`, user, project).Scan(&role, &exists, &granted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("user %d: %w", user, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("store: user can see: %w", err)
	}
	return exists && (Role(role) == RoleAdmin || granted), nil
}

// Session is a signed-in browser: its user (as the user is now, role included), the
// token its state-changing requests must also carry (CSRF), and its life. The zero
// Session is none. A plain value, not safe for concurrent modification.
type Session struct {
	User             User
	CSRF             string
	Created, Expires time.Time
}

// MaxSessionTTL is the longest session CreateSession makes: a year.
const MaxSessionTTL = 365 * 24 * time.Hour

// sessionTokenLen is the length of a session token: 32 bytes in unpadded base64url.
const sessionTokenLen = 43

// newToken returns 32 random bytes in unpadded base64url.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateSession starts a session of the user lasting ttl and returns its token and
// the session. The token (32 random bytes, base64url) is not stored, only its
// SHA-256, and cannot be had again; the CSRF token is 32 more random bytes. An
// unknown user is ErrNotFound; ttl not in (0, MaxSessionTTL] an error wrapping
// ErrInvalid.
func (s *Store) CreateSession(ctx context.Context, user int64, ttl time.Duration) (string, Session, error) {
	if ttl <= 0 || ttl > MaxSessionTTL {
		return "", Session{}, invalidf("session lifetime %v is not in (0, %v]", ttl, MaxSessionTTL)
	}
	token, err := newToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	csrf, err := newToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	now := fromNanos(nanos(time.Now()))
	sess := Session{CSRF: csrf, Created: now, Expires: now.Add(ttl)}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	defer tx.Rollback()
	var created int64
	sess.User.ID = user
	err = tx.QueryRowContext(ctx, `SELECT name, role, created FROM users WHERE id = $1`, user).
		Scan(&sess.User.Name, &sess.User.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return "", Session{}, fmt.Errorf("user %d: %w", user, ErrNotFound)
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	sess.User.Created = fromNanos(created)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, csrf, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash(token), user, csrf, nanos(sess.Created), nanos(sess.Expires)); err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", err)
	}
	return token, sess, nil
}

// Session returns the session whose token is token if it has not expired at now,
// else ErrNotFound. It reads by the token's SHA-256, so its time says nothing about
// how close a guess came.
func (s *Store) Session(ctx context.Context, token string, now time.Time) (Session, error) {
	if len(token) != sessionTokenLen {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	var (
		sess                      Session
		created, expires, userCre int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT s.csrf, s.created, s.expires, u.id, u.name, u.role, u.created
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1`, tokenHash(token)).
		Scan(&sess.CSRF, &created, &expires, &sess.User.ID, &sess.User.Name, &sess.User.Role, &userCre)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	if expires <= nanos(now) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	sess.Created, sess.Expires, sess.User.Created = fromNanos(created), fromNanos(expires), fromNanos(userCre)
	return sess, nil
}

// DeleteSession ends the session whose token is token; ending one that does not
// exist does nothing.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions expired at now and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= $1`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}
