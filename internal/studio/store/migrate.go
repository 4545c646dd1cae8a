package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrations embed.FS

// migration is one schema version.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrationsFor returns the engine's migrations in version order. A file is named
// NNNN_what.sql; the number is the version.
func migrationsFor(e Engine) ([]migration, error) {
	dir := path.Join("migrations", string(e))
	ents, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, ent := range ents {
		name := ent.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name is not NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return int(a.version - b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have one version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrationLock is the PostgreSQL advisory lock key that serializes migrations:
// the first 8 bytes of "vigil-studio-migrate" read as a big-endian integer.
const migrationLock int64 = 0x7669_6769_6c2d_7374

// migrate applies the missing migrations in one transaction. On SQLite the writer's
// transactions begin IMMEDIATE, which takes the database's write lock at once; on
// PostgreSQL the transaction takes migrationLock first. Either way a second process
// waits, then finds the versions recorded and applies nothing.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrationsFor(s.engine)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if s.engine == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, applied bigint NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	have, err := appliedVersions(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if len(have) > 0 && have[len(have)-1] > ms[len(ms)-1].version {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d", have[len(have)-1], ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if _, ok := slices.BinarySearch(have, m.version); ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
			m.version, m.name, nanos(time.Now())); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SchemaVersion returns the newest applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, nil
}
