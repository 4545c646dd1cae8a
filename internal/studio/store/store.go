package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Errors the Store returns; test for them with errors.Is.
var (
	// ErrNotFound: no such project or key, or the key is revoked.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a project with that name exists already.
	ErrExists = errors.New("store: already exists")
)

// MinPepperLen is the shortest pepper Open accepts, in bytes.
const MinPepperLen = 32

// Options configures a Store.
type Options struct {
	// Pepper is the server secret API keys are hashed with (HMAC-SHA256). It is
	// required, at least MinPepperLen bytes, and must stay the same for the life of
	// the database: a Store opened with another pepper finds none of the keys.
	Pepper []byte
	// ReadConns is the size of the SQLite read pool; zero means max(4, GOMAXPROCS).
	// PostgreSQL ignores it (pgxpool's pool_max_conns in the DSN sizes the pool).
	ReadConns int
}

// Engine names a database engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store is Studio's storage over one database. Make it with Open; the zero value is
// not usable. A Store is safe for concurrent use; several Stores (in one process or
// several) may share one database.
type Store struct {
	engine Engine
	read   *sql.DB       // queries
	write  *sql.DB       // SQLite: one connection, IMMEDIATE transactions; PostgreSQL: = read
	pool   *pgxpool.Pool // PostgreSQL only
	pepper []byte
	// insertFull is insertSQL(sqliteRowsPerInsert), prepared once on the SQLite writer.
	insertFull *sql.Stmt
}

// Open opens the database dsn names and brings its schema up to date. dsn is a
// postgres:// or postgresql:// URL (pgx syntax, so pool_max_conns and search_path
// may be set in it), or else an SQLite database: a file path, created if missing, or
// a file: URI. The SQLite pragmas Store needs are added to it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if len(opts.Pepper) < MinPepperLen {
		return nil, fmt.Errorf("store: pepper is %d bytes, need at least %d", len(opts.Pepper), MinPepperLen)
	}
	s := &Store{pepper: append([]byte(nil), opts.Pepper...)}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = s.openPostgres(ctx, dsn)
	} else {
		err = s.openSQLite(dsn, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.engine == SQLite {
		if s.insertFull, err = s.write.PrepareContext(ctx, insertSQL(sqliteRowsPerInsert)); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
	}
	return s, nil
}

// sqlitePageSize is the page size of a new SQLite database. Events are about 1.5 KB
// a row; bigger pages than the default 4 KiB mean fewer pages, fewer WAL frames and
// fewer write calls per batch: BenchmarkIngest/sqlite spent 52 µs of CPU per event
// with 4 KiB pages, 45 µs with 16 KiB and 35 µs with 64 KiB.
const sqlitePageSize = 65536

// sqlitePragmas are the DSN parameters of the writer; the readers add query_only.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

func (s *Store) openSQLite(dsn string, opts Options) error {
	if dsn == "" {
		return errors.New("store: empty database name")
	}
	if !strings.HasPrefix(dsn, "file:") && strings.ContainsAny(dsn, "?#") {
		return fmt.Errorf("store: sqlite path %q has '?' or '#'; use a file: URI", dsn)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// A new database gets its page size before anything else: WAL fixes it.
	boot, err := sql.Open("sqlite", dsn+sep+"_pragma=busy_timeout(5000)&_pragma=page_size("+strconv.Itoa(sqlitePageSize)+")")
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	_, err = boot.Exec(`PRAGMA journal_mode = WAL`)
	boot.Close()
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	base := dsn + sep + sqlitePragmas
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-65536)") // 64 MiB
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-16384)") // 16 MiB each
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.engine, s.read, s.write = SQLite, r, w
	return nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: postgres dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("store: open postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s.engine, s.pool, s.read, s.write = Postgres, pool, db, db
	return nil
}

// Engine reports which engine s runs on.
func (s *Store) Engine() Engine { return s.engine }

// Close closes the database. Calls in flight may fail.
func (s *Store) Close() error {
	var err error
	if s.insertFull != nil {
		err = s.insertFull.Close()
	}
	err = errors.Join(err, s.read.Close())
	if s.write != s.read {
		err = errors.Join(err, s.write.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// nanos and fromNanos convert times to and from the stored form.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Project is a tenant: every key, event and control belongs to one.
type Project struct {
	ID      int64
	Name    string
	Created time.Time
}

// CreateProject makes a project named name (1–128 bytes). It returns ErrExists when
// the name is taken.
func (s *Store) CreateProject(ctx context.Context, name string) (Project, error) {
	if name == "" || len(name) > 128 {
		return Project{}, fmt.Errorf("store: project name must be 1–128 bytes, got %d", len(name))
	}
	p := Project{Name: name, Created: time.Now().UTC()}
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO projects (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
		name, nanos(p.Created)).Scan(&p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %q: %w", name, ErrExists)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: create project: %w", err)
	}
	return p, nil
}

// ProjectByName returns the project named name, or ErrNotFound.
func (s *Store) ProjectByName(ctx context.Context, name string) (Project, error) {
	p := Project{Name: name}
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, created FROM projects WHERE name = $1`, name).Scan(&p.ID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: project: %w", err)
	}
	p.Created = fromNanos(created)
	return p, nil
}
