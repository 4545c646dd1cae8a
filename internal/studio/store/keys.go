package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Scope is what an API key may do.
type Scope string

// The scopes.
const (
	// ScopeIngest keys may only send events, metrics and status.
	ScopeIngest Scope = "ingest"
	// ScopeAdmin keys may also read and control the project.
	ScopeAdmin Scope = "admin"
)

// Key is an API key as stored: everything but the key itself.
type Key struct {
	ID        int64
	ProjectID int64
	Scope     Scope
	// Prefix is the start of the key, for telling keys apart in a list:
	// "vk_ingest_" and the first 6 random characters.
	Prefix  string
	Created time.Time
	// Revoked is when the key was revoked; zero if it is not.
	Revoked time.Time
}

// keyRandLen is the length of a key's random part: 32 bytes in base62.
const keyRandLen = 43

// maxKeyLen bounds what LookupKey hashes.
const maxKeyLen = len("vk_ingest_") + keyRandLen

// CreateKey makes a key with scope for the project and returns it in plaintext with
// its record. The plaintext is not stored and cannot be had again.
func (s *Store) CreateKey(ctx context.Context, project int64, scope Scope) (string, Key, error) {
	if scope != ScopeIngest && scope != ScopeAdmin {
		return "", Key{}, fmt.Errorf("store: unknown key scope %q", scope)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Key{}, fmt.Errorf("store: key: %w", err)
	}
	r := new(big.Int).SetBytes(b[:]).Text(62)
	r = strings.Repeat("0", keyRandLen-len(r)) + r
	plain := "vk_" + string(scope) + "_" + r
	k := Key{ProjectID: project, Scope: scope, Prefix: "vk_" + string(scope) + "_" + r[:6], Created: time.Now().UTC()}
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO api_keys (project_id, scope, prefix, hash, created) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		project, string(scope), k.Prefix, s.keyHash(plain), nanos(k.Created)).Scan(&k.ID)
	if err != nil {
		return "", Key{}, fmt.Errorf("store: create key: %w", err)
	}
	return plain, k, nil
}

func (s *Store) keyHash(plain string) []byte {
	m := hmac.New(sha256.New, s.pepper)
	m.Write([]byte(plain))
	return m.Sum(nil)
}

// LookupKey returns the key whose plaintext is plain, or ErrNotFound when there is
// none or it is revoked. It reads by the key's HMAC, so the time it takes says
// nothing about how close a guess came.
func (s *Store) LookupKey(ctx context.Context, plain string) (Key, error) {
	if len(plain) > maxKeyLen || !strings.HasPrefix(plain, "vk_") {
		return Key{}, fmt.Errorf("key: %w", ErrNotFound)
	}
	h := s.keyHash(plain)
	var (
		k       Key
		stored  []byte
		created int64
		revoked sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT id, project_id, scope, prefix, hash, created, revoked FROM api_keys WHERE hash = $1`, h).
		Scan(&k.ID, &k.ProjectID, &k.Scope, &k.Prefix, &stored, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("key: %w", ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: key: %w", err)
	}
	if subtle.ConstantTimeCompare(h, stored) != 1 || revoked.Valid {
		return Key{}, fmt.Errorf("key: %w", ErrNotFound)
	}
	k.Created = fromNanos(created)
	return k, nil
}

// RevokeKey revokes the project's key id. Revoking a revoked key changes nothing; a
// key of another project, or none, is ErrNotFound.
func (s *Store) RevokeKey(ctx context.Context, project, id int64) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE api_keys SET revoked = COALESCE(revoked, $1) WHERE id = $2 AND project_id = $3`,
		nanos(time.Now()), id, project)
	if err != nil {
		return fmt.Errorf("store: revoke key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: revoke key: %w", err)
	} else if n == 0 {
		return fmt.Errorf("key %d: %w", id, ErrNotFound)
	}
	return nil
}

// Keys returns the project's keys, revoked ones included, oldest first.
func (s *Store) Keys(ctx context.Context, project int64) ([]Key, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, scope, prefix, created, revoked FROM api_keys WHERE project_id = $1 ORDER BY id`, project)
	if err != nil {
		return nil, fmt.Errorf("store: keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k := Key{ProjectID: project}
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Scope, &k.Prefix, &created, &revoked); err != nil {
			return nil, fmt.Errorf("store: keys: %w", err)
		}
		k.Created = fromNanos(created)
		if revoked.Valid {
			k.Revoked = fromNanos(revoked.Int64)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: keys: %w", err)
	}
	return out, nil
}
