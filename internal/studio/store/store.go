package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Errors the Store returns; test for them with errors.Is.
var (
	// ErrNotFound: no such project or key, or the key is revoked.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a project or user with that name exists already.
	ErrExists = errors.New("store: already exists")
	// ErrInvalid: the input breaks a rule of the store (a malformed ban value, a
	// short password, an unknown role…). The message of an error that wraps it
	// says which rule, in words fit to show the user who sent the input.
	ErrInvalid = errors.New("store: invalid input")
)

// invalidError is an input error: its message is for the user and it matches
// ErrInvalid.
type invalidError struct{ msg string }

// Error returns the message for the user.
func (e *invalidError) Error() string { return e.msg }

// Is makes errors.Is(e, ErrInvalid) true.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf returns an error wrapping ErrInvalid whose message is the format's.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

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
	// Logger receives what the Store reports on its own, outside any call: the
	// notification listener losing and regaining PostgreSQL, and a subscriber
	// starting to drop messages. Nil discards it.
	Logger *slog.Logger
}

// Engine names a database engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store is Studio's storage over one database. Make it with Open and end it with
// Close; the zero value is not usable. A Store is safe for concurrent use; several
// Stores (in one process or several) may share one database, and their
// notifications (see Subscribe).
type Store struct {
	engine Engine
	read   *sql.DB       // queries
	write  *sql.DB       // SQLite: one connection, IMMEDIATE transactions; PostgreSQL: = read
	pool   *pgxpool.Pool // PostgreSQL only
	pepper []byte
	// insertFull is insertSQL(sqliteRowsPerInsert), prepared once on the SQLite writer.
	insertFull *sql.Stmt
	// copyBufs holds *[]byte buffers for the COPY data of PostgreSQL ingest.
	copyBufs sync.Pool
	log      *slog.Logger

	// argon is how new passwords are hashed; hashSem bounds the argon2id hashes
	// that run at once, and so the memory they take.
	argon   argonParams
	hashSem chan struct{}
	hashes  atomic.Int64 // argon2id hashes begun, for tests

	// hub holds this Store's subscribers; sqliteKey is the file whose Stores share
	// notifications (SQLite); pgChannel is the PostgreSQL channel that carries them
	// and listen the connection that receives them (PostgreSQL).
	hub          *hub
	sqliteKey    string
	pgChannel    string
	listenMu     sync.Mutex
	listen       *listener // nil until the first Subscribe
	listenClosed bool      // under listenMu: Close has stopped the listener
	closed       atomic.Bool
	closeOnce    sync.Once
}

// Open opens the database dsn names and brings its schema up to date. dsn is a
// postgres:// or postgresql:// URL (pgx syntax, so pool_max_conns and search_path
// may be set in it), or else an SQLite database: a file path, created if missing, or
// a file: URI. The SQLite pragmas Store needs are added to it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if len(opts.Pepper) < MinPepperLen {
		return nil, fmt.Errorf("store: pepper is %d bytes, need at least %d", len(opts.Pepper), MinPepperLen)
	}
	s := &Store{
		pepper:  append([]byte(nil), opts.Pepper...),
		log:     opts.Logger,
		argon:   argonParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads},
		hashSem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hub = newHub(s.log)
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
	if err := s.setupNotify(ctx, dsn); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePageSize is the page size of a new SQLite database. Events are about 1.5 KB
// a row; bigger pages than the default 4 KiB mean fewer pages, fewer WAL frames and
// fewer write calls per batch: BenchmarkIngest/sqlite (-benchtime 400x) spent 35 µs
// of CPU per event with 4 KiB pages, 31 µs with 8 KiB, 29 µs with 16 KiB, 27 µs with
// 32 KiB and 22 µs with 64 KiB.
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
	// Turning a new database to WAL takes an exclusive lock, and SQLite answers
	// SQLITE_BUSY at once, without its busy handler, when another process opening the
	// same new file holds a lock just then: so that several Studios can start on one
	// file at once, a busy answer is retried for as long as busy_timeout would wait.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err = boot.Exec(`PRAGMA journal_mode = WAL`); err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
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

// Close closes the database and ends every subscription (see Subscribe). Calls in
// flight may fail. Close waits for the Store's goroutines to end; calling it again
// does nothing.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

func (s *Store) close() error {
	s.stopNotify()
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

// maxStoredTime is the latest time the stored form (int64 Unix nanoseconds) holds:
// in the year 2262.
var maxStoredTime = time.Unix(0, math.MaxInt64)

// nanos and fromNanos convert times to and from the stored form.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Project is a tenant: every key, event and control belongs to one.
type Project struct {
	ID      int64
	Name    string
	Created time.Time
	// Revision counts the project's control changes (ban added or removed, policy
	// put): 0 for a new project, one more with each change, in the change's own
	// transaction. It is the version of the snapshot agents are sent.
	Revision int64
}

// projectColumns are the columns scanProject reads.
const projectColumns = `id, name, created, revision`

// scanProject reads a row of projectColumns.
func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var p Project
	var created int64
	if err := row.Scan(&p.ID, &p.Name, &created, &p.Revision); err != nil {
		return Project{}, err
	}
	p.Created = fromNanos(created)
	return p, nil
}

// CreateProject makes a project named name (1–128 bytes). It returns ErrExists when
// the name is taken.
func (s *Store) CreateProject(ctx context.Context, name string) (Project, error) {
	if name == "" || len(name) > 128 {
		return Project{}, fmt.Errorf("store: project name must be 1–128 bytes, got %d", len(name))
	}
	p := Project{Name: name, Created: fromNanos(nanos(time.Now()))}
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
	p, err := scanProject(s.read.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: project: %w", err)
	}
	return p, nil
}

// ProjectByID returns the project id, or ErrNotFound.
func (s *Store) ProjectByID(ctx context.Context, id int64) (Project, error) {
	p, err := scanProject(s.read.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: project: %w", err)
	}
	return p, nil
}

// Projects returns every project, in ID order.
func (s *Store) Projects(ctx context.Context) ([]Project, error) {
	return s.queryProjects(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY id`)
}

// queryProjects runs a query of projectColumns.
func (s *Store) queryProjects(ctx context.Context, query string, args ...any) ([]Project, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: projects: %w", err)
	}
	defer rows.Close()
	out := []Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("store: projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: projects: %w", err)
	}
	return out, nil
}

// Revision returns the project's revision (see Project.Revision), or ErrNotFound.
func (s *Store) Revision(ctx context.Context, project int64) (int64, error) {
	var rev int64
	err := s.read.QueryRowContext(ctx, `SELECT revision FROM projects WHERE id = $1`, project).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("project %d: %w", project, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: revision: %w", err)
	}
	return rev, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY ("database is locked").
func isBusy(err error) bool {
	return strings.Contains(err.Error(), "SQLITE_BUSY")
}
