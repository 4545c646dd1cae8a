package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Count is one key's share of a project's events.
type Count struct {
	// Key is what the events are grouped by: a path, a signal code.
	Key string
	// Events is the number of events counted under Key.
	Events int64
	// Blocked is how many of them the policy did not allow (WouldBe neither "allow"
	// nor empty, so monitor mode counts). TopPaths and TopReasons count only such
	// events, so there it equals Events.
	Blocked int64
}

// threatWhere selects a project's threat events since a time: the predicate of the
// partial index events_threat (would_be not ” or 'allow', a known client address),
// repeated so both engines may read that index instead of every event since since.
// $1 is the project, $2 the time.
const threatWhere = `project_id = $1 AND time >= $2 AND would_be NOT IN ('', 'allow') AND client_ip <> ''`

// threatHint is the SQLite index hint that goes with threatWhere (see TopAttackers:
// without statistics SQLite would read events_time instead).
func (s *Store) threatHint() string {
	if s.engine == SQLite {
		return " INDEXED BY events_threat"
	}
	return ""
}

// TopPaths returns the n (at most MaxLimit; zero: DefaultLimit) paths with the most
// threat events since since, most first; ties go to the lower path. Threat events are
// the ones TopAttackers counts: the policy did not allow them and they have a client
// address. The query reads the partial index events_threat, then each event's row
// for its path.
func (s *Store) TopPaths(ctx context.Context, project int64, since time.Time, n int) ([]Count, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT path, count(*) AS n FROM events`+s.threatHint()+`
		WHERE `+threatWhere+`
		GROUP BY path ORDER BY n DESC, path LIMIT $3`, project, nanos(since), int64(limit(n)))
	if err != nil {
		return nil, fmt.Errorf("store: top paths: %w", err)
	}
	out, err := scanCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: top paths: %w", err)
	}
	return out, nil
}

// TopReasons returns the n (at most MaxLimit; zero: DefaultLimit) signal codes found
// in the most threat events (as TopPaths) since since, most first; ties go to the
// lower code. An event counts once per code, however many of its signals have it.
// Like TopPaths it reads events_threat, then each event's reasons, a JSON array that
// json_each (SQLite) or json_array_elements_text (PostgreSQL) opens.
func (s *Store) TopReasons(ctx context.Context, project int64, since time.Time, n int) ([]Count, error) {
	q := `SELECT code, count(*) AS n FROM (
		SELECT DISTINCT e.id, j.value AS code FROM events AS e` + s.threatHint() + `, json_each(e.reasons) AS j
		WHERE ` + threatWhereAliased + ` AND e.reasons <> '[]'
	) AS c GROUP BY code ORDER BY n DESC, code LIMIT $3`
	if s.engine == Postgres {
		q = `SELECT code, count(*) AS n FROM (
			SELECT DISTINCT e.id, j.code FROM events AS e CROSS JOIN LATERAL json_array_elements_text(e.reasons::json) AS j (code)
			WHERE ` + threatWhereAliased + ` AND e.reasons <> '[]'
		) AS c GROUP BY code ORDER BY n DESC, code LIMIT $3`
	}
	rows, err := s.read.QueryContext(ctx, q, project, nanos(since), int64(limit(n)))
	if err != nil {
		return nil, fmt.Errorf("store: top reasons: %w", err)
	}
	out, err := scanCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: top reasons: %w", err)
	}
	return out, nil
}

// threatWhereAliased is threatWhere for events named e.
const threatWhereAliased = `e.project_id = $1 AND e.time >= $2 AND e.would_be NOT IN ('', 'allow') AND e.client_ip <> ''`

// scanCounts reads (key, count) rows, threat events only, so Blocked is the count.
func scanCounts(rows *sql.Rows) ([]Count, error) {
	defer rows.Close()
	out := []Count{}
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Key, &c.Events); err != nil {
			return nil, err
		}
		c.Blocked = c.Events
		out = append(out, c)
	}
	return out, rows.Err()
}

// Spoof finding codes Families counts as spoofed (internal/detect/spoof's
// CodeSpoofed and CodeMismatch; a test keeps them equal): the TLS or HTTP/2
// fingerprint contradicts the client the User-Agent claims. The weaker
// header_order_mismatch does not count.
const (
	codeSpoofed  = "spoofed_client"
	codeMismatch = "fingerprint_mismatch"
)

// Family is one client family's share of a project's events.
type Family struct {
	// Family is the DNA's client family ("chrome", "curl", …); Kind the client kind
	// the guard classified the client as ("browser", "library", "scanner", …). A
	// family seen with two kinds is two Family values.
	Family, Kind string
	// DNAs is the number of distinct DNA IDs among the events.
	DNAs int64
	// Events is the number of events; Blocked how many of them the policy did not
	// allow (as in Count).
	Events, Blocked int64
	// Spoofed is the number of events with a spoofed_client or fingerprint_mismatch
	// finding: the connection contradicts the family the client claims.
	Spoofed int64
}

// Families returns the n (at most MaxLimit; zero: DefaultLimit) (family, kind)
// groups with the most events since since, most first; ties go to the lower family,
// then kind. Events without a family are left out. It reads every event of the
// project since since, through events_time (project_id, time, …): there is no index
// by family, so keep since recent (hours to days) on big projects.
func (s *Store) Families(ctx context.Context, project int64, since time.Time, n int) ([]Family, error) {
	// The LIKE patterns escape the "_" of the codes; a code is matched with its
	// quotes, so only a whole array element matches.
	rows, err := s.read.QueryContext(ctx, `SELECT family, client_kind,
			count(DISTINCT CASE WHEN dna_id <> '' THEN dna_id END),
			count(*) AS n,
			sum(CASE WHEN would_be NOT IN ('', 'allow') THEN 1 ELSE 0 END),
			sum(CASE WHEN reasons LIKE $4 ESCAPE '\' OR reasons LIKE $5 ESCAPE '\' THEN 1 ELSE 0 END)
		FROM events
		WHERE project_id = $1 AND time >= $2 AND family <> ''
		GROUP BY family, client_kind ORDER BY n DESC, family, client_kind LIMIT $3`,
		project, nanos(since), int64(limit(n)), likeElement(codeSpoofed), likeElement(codeMismatch))
	if err != nil {
		return nil, fmt.Errorf("store: families: %w", err)
	}
	defer rows.Close()
	out := []Family{}
	for rows.Next() {
		var f Family
		if err := rows.Scan(&f.Family, &f.Kind, &f.DNAs, &f.Events, &f.Blocked, &f.Spoofed); err != nil {
			return nil, fmt.Errorf("store: families: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: families: %w", err)
	}
	return out, nil
}

// likeElement returns a LIKE pattern (escape character '\') matching a JSON array
// text that has the string code as an element. code must be a plain identifier (no
// quotes or backslashes), as signal codes are.
func likeElement(code string) string {
	var b []byte
	b = append(b, `%"`...)
	for i := 0; i < len(code); i++ {
		if c := code[i]; c == '_' || c == '%' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, code[i])
	}
	return string(append(b, `"%`...))
}
