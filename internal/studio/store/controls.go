package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BanKind is what a ban matches: a client address, a network or a DNA ID. The
// zero BanKind is none of them, and AddBan refuses it.
type BanKind string

// The kinds of ban.
const (
	BanIP   BanKind = "ip"   // one address
	BanCIDR BanKind = "cidr" // a network, even of one address (a /32 or /128)
	BanDNA  BanKind = "dna"  // a client fingerprint's DNA ID
)

// Limits on a ban's text.
const (
	MaxBanDNALen    = 128
	MaxBanReasonLen = 512
)

// Ban is a project's ban of one target. As input to AddBan only Kind, Value, Reason
// and Until count; the store sets the rest. The zero Ban has no kind, so AddBan
// refuses it. A Ban is a plain value, not safe for concurrent modification.
type Ban struct {
	ID, Project int64
	Kind        BanKind
	// Value is the target in normal form: an address as netip.Addr.String writes
	// it (an IPv4-mapped IPv6 address as IPv4), a network masked to its prefix
	// (203.0.113.7/24 is 203.0.113.0/24), a DNA ID as given.
	Value  string
	Reason string
	// Until is when the ban ends; zero: it does not.
	Until     time.Time
	Created   time.Time
	CreatedBy string
}

// Limits on the text of an audit entry and on an actor.
const (
	MaxActorLen       = 256
	MaxAuditActionLen = 64
	MaxAuditTargetLen = 1024
	MaxAuditDetailLen = 64 << 10
)

// MaxPolicyLen bounds a policy document, in bytes.
const MaxPolicyLen = 1 << 20

// normalizeBan checks b's kind, value, reason and until and puts the value in its
// normal form.
func normalizeBan(b *Ban, now time.Time) error {
	switch b.Kind {
	case BanIP:
		a, err := netip.ParseAddr(b.Value)
		if err != nil {
			return invalidf("ban value %.64q is not an IP address", b.Value)
		}
		if a.Zone() != "" {
			return invalidf("ban value %.64q has a zone", b.Value)
		}
		b.Value = a.Unmap().String()
	case BanCIDR:
		p, err := netip.ParsePrefix(b.Value)
		if err != nil {
			return invalidf("ban value %.64q is not a network in CIDR notation", b.Value)
		}
		// An IPv4-mapped network is the IPv4 network clients are seen from.
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		b.Value = p.Masked().String()
	case BanDNA:
		if b.Value == "" || len(b.Value) > MaxBanDNALen {
			return invalidf("ban DNA ID must be 1–%d bytes, got %d", MaxBanDNALen, len(b.Value))
		}
		for i := 0; i < len(b.Value); i++ {
			if c := b.Value[i]; c <= ' ' || c > '~' {
				return invalidf("ban DNA ID %.64q has a byte that is not printable ASCII", b.Value)
			}
		}
	default:
		return invalidf("ban kind %.16q is not ip, cidr or dna", b.Kind)
	}
	if err := checkText("ban reason", b.Reason, MaxBanReasonLen); err != nil {
		return err
	}
	if !b.Until.IsZero() && !b.Until.After(now) {
		return invalidf("ban ends at %s, which is not in the future", b.Until.UTC().Format(time.RFC3339))
	}
	if b.Until.After(maxStoredTime) {
		return invalidf("ban ends after %d; for a ban without end, give no end", maxStoredTime.Year())
	}
	return nil
}

// checkText checks that s is UTF-8 without NUL bytes (PostgreSQL's text takes
// neither) and at most max bytes.
func checkText(what, s string, max int) error {
	switch {
	case len(s) > max:
		return invalidf("%s is %d bytes, at most %d", what, len(s), max)
	case !utf8.ValidString(s):
		return invalidf("%s is not valid UTF-8", what)
	case strings.IndexByte(s, 0) >= 0:
		return invalidf("%s has a NUL byte", what)
	}
	return nil
}

// checkActor checks the actor of a control change: required, as the audit log
// must say who made it.
func checkActor(actor string) error {
	if actor == "" {
		return invalidf("no actor: a control change must say who made it")
	}
	return checkText("actor", actor, MaxActorLen)
}

// bumpRevision adds one to the project's revision in tx and returns the new value,
// or ErrNotFound. It is the first write of every control change: on PostgreSQL the
// row lock it takes serializes the project's control changes, so they see one
// another's rows and never wait on each other's locks in different orders.
func bumpRevision(ctx context.Context, tx *sql.Tx, project int64) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx,
		`UPDATE projects SET revision = revision + 1 WHERE id = $1 RETURNING revision`, project).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("project %d: %w", project, ErrNotFound)
	}
	return rev, err
}

// insertAudit writes e in tx. e.Time must be set.
func insertAudit(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	var project sql.NullInt64
	if e.Project != 0 {
		project = sql.NullInt64{Int64: e.Project, Valid: true}
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log (project_id, time, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		project, nanos(e.Time), e.Actor, e.Action, e.Target, e.Detail)
	return err
}

// detailJSON encodes the detail of an audit entry the store writes.
func detailJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // maps of strings and numbers: cannot happen
		return "{}"
	}
	return string(b)
}

// nullNanos is t in stored form, NULL when zero.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(t), Valid: true}
}

// AddBan bans b's target in the project and returns the ban as stored and the
// project's new revision. A ban the project has on the same (kind, value), active
// or lapsed, is replaced: the target keeps one row, with a new ID. The ban, the new
// revision and an audit entry ("ban.add", by actor) are one transaction.
//
// Invalid input is an error wrapping ErrInvalid: an unknown kind, a value that is
// not of its kind (see Ban.Value; a DNA ID is 1–MaxBanDNALen bytes of printable
// ASCII without spaces), a reason over MaxBanReasonLen bytes or not UTF-8, an Until
// that is not in the future or is after the year 2262, an empty actor. An unknown
// project is ErrNotFound.
func (s *Store) AddBan(ctx context.Context, project int64, b Ban, actor string) (Ban, int64, error) {
	now := fromNanos(nanos(time.Now()))
	if err := normalizeBan(&b, now); err != nil {
		return Ban{}, 0, err
	}
	if err := checkActor(actor); err != nil {
		return Ban{}, 0, err
	}
	b.Project, b.Created, b.CreatedBy = project, now, actor
	if !b.Until.IsZero() {
		b.Until = fromNanos(nanos(b.Until))
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Ban{}, 0, fmt.Errorf("store: add ban: %w", err)
	}
	defer tx.Rollback()
	rev, err := bumpRevision(ctx, tx, project)
	if err != nil {
		return Ban{}, 0, fmt.Errorf("store: add ban: %w", err)
	}
	var replaced int64
	err = tx.QueryRowContext(ctx, `DELETE FROM bans WHERE project_id = $1 AND kind = $2 AND value = $3 RETURNING id`,
		project, string(b.Kind), b.Value).Scan(&replaced)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Ban{}, 0, fmt.Errorf("store: add ban: %w", err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO bans (project_id, kind, value, reason, until, created, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		project, string(b.Kind), b.Value, b.Reason, nullNanos(b.Until), nanos(b.Created), actor).Scan(&b.ID)
	if err != nil {
		return Ban{}, 0, fmt.Errorf("store: add ban: %w", err)
	}
	detail := map[string]any{"id": b.ID, "kind": b.Kind, "value": b.Value, "reason": b.Reason, "revision": rev}
	if !b.Until.IsZero() {
		detail["until"] = b.Until.Format(time.RFC3339Nano)
	}
	if replaced != 0 {
		detail["replaced"] = replaced
	}
	err = insertAudit(ctx, tx, AuditEntry{Project: project, Time: now, Actor: actor, Action: "ban.add",
		Target: string(b.Kind) + ":" + b.Value, Detail: detailJSON(detail)})
	if err != nil {
		return Ban{}, 0, fmt.Errorf("store: add ban: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Ban{}, 0, fmt.Errorf("store: add ban: %w", err)
	}
	return b, rev, nil
}

// RemoveBan deletes the project's ban id, active or lapsed, and returns the
// project's new revision. The deletion, the revision and an audit entry
// ("ban.remove", by actor) are one transaction. A ban of another project, or none,
// is ErrNotFound and changes nothing.
func (s *Store) RemoveBan(ctx context.Context, project, id int64, actor string) (int64, error) {
	if err := checkActor(actor); err != nil {
		return 0, err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: remove ban: %w", err)
	}
	defer tx.Rollback()
	rev, err := bumpRevision(ctx, tx, project)
	if err != nil {
		return 0, fmt.Errorf("store: remove ban: %w", err)
	}
	var kind, value string
	err = tx.QueryRowContext(ctx, `DELETE FROM bans WHERE id = $1 AND project_id = $2 RETURNING kind, value`,
		id, project).Scan(&kind, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("ban %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: remove ban: %w", err)
	}
	err = insertAudit(ctx, tx, AuditEntry{Project: project, Time: time.Now(), Actor: actor, Action: "ban.remove",
		Target: kind + ":" + value, Detail: detailJSON(map[string]any{"id": id, "revision": rev})})
	if err != nil {
		return 0, fmt.Errorf("store: remove ban: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: remove ban: %w", err)
	}
	return rev, nil
}

// Bans returns the project's bans active at now (no Until, or Until after now), in
// ID order.
func (s *Store) Bans(ctx context.Context, project int64, now time.Time) ([]Ban, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, kind, value, reason, until, created, created_by FROM bans
		WHERE project_id = $1 AND (until IS NULL OR until > $2) ORDER BY id`, project, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("store: bans: %w", err)
	}
	defer rows.Close()
	out := []Ban{}
	for rows.Next() {
		b := Ban{Project: project}
		var until sql.NullInt64
		var created int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Value, &b.Reason, &until, &created, &b.CreatedBy); err != nil {
			return nil, fmt.Errorf("store: bans: %w", err)
		}
		if until.Valid {
			b.Until = fromNanos(until.Int64)
		}
		b.Created = fromNanos(created)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bans: %w", err)
	}
	return out, nil
}

// NextBanExpiry returns the earliest end after now of a ban of any project, or the
// zero time when no ban ends after now: when it comes, a ban lapses and the
// project's agents need a snapshot without it.
func (s *Store) NextBanExpiry(ctx context.Context, now time.Time) (time.Time, error) {
	var next sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT min(until) FROM bans WHERE until > $1`, nanos(now)).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next ban expiry: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromNanos(next.Int64), nil
}

// PolicyVersion is one version of a project's policy document, as the store returns
// it; the zero value is no version. A PolicyVersion is a plain value; its Document
// is the caller's to keep.
type PolicyVersion struct {
	Project, Version int64
	// Document is the policy, JSON, byte for byte as it was put; nil in the list
	// PolicyVersions returns.
	Document  []byte
	Created   time.Time
	CreatedBy string
}

// PutPolicy stores doc as the project's next policy version (1 for the first) and
// returns it and the project's new revision. The version, the revision and an audit
// entry ("policy.put", by actor) are one transaction. The caller validates the
// policy; the store checks only that doc is UTF-8 JSON of at most MaxPolicyLen bytes (else
// an error wrapping ErrInvalid). An unknown project is ErrNotFound.
func (s *Store) PutPolicy(ctx context.Context, project int64, doc []byte, actor string) (PolicyVersion, int64, error) {
	switch {
	case len(doc) > MaxPolicyLen:
		return PolicyVersion{}, 0, invalidf("policy is %d bytes, at most %d", len(doc), MaxPolicyLen)
	case !json.Valid(doc):
		return PolicyVersion{}, 0, invalidf("policy is not valid JSON")
	case !utf8.Valid(doc):
		return PolicyVersion{}, 0, invalidf("policy is not valid UTF-8")
	}
	if err := checkActor(actor); err != nil {
		return PolicyVersion{}, 0, err
	}
	p := PolicyVersion{Project: project, Document: append([]byte(nil), doc...), Created: fromNanos(nanos(time.Now())), CreatedBy: actor}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: %w", err)
	}
	defer tx.Rollback()
	rev, err := bumpRevision(ctx, tx, project)
	if err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: %w", err)
	}
	// The revision's row lock serializes this with the project's other changes,
	// so max(version) is the latest.
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(max(version), 0) + 1 FROM policies WHERE project_id = $1`,
		project).Scan(&p.Version)
	if err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO policies (project_id, version, document, created, created_by)
		VALUES ($1, $2, $3, $4, $5)`, project, p.Version, string(doc), nanos(p.Created), actor)
	if err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: %w", err)
	}
	err = insertAudit(ctx, tx, AuditEntry{Project: project, Time: p.Created, Actor: actor, Action: "policy.put",
		Target: "policy:" + strconv.FormatInt(p.Version, 10),
		Detail: detailJSON(map[string]any{"version": p.Version, "bytes": len(doc), "revision": rev})})
	if err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return PolicyVersion{}, 0, fmt.Errorf("store: put policy: %w", err)
	}
	return p, rev, nil
}

// Policy returns the project's latest policy version, or ErrNotFound when it has
// none.
func (s *Store) Policy(ctx context.Context, project int64) (PolicyVersion, error) {
	return s.policy(ctx, project, `SELECT version, document, created, created_by FROM policies
		WHERE project_id = $1 ORDER BY version DESC LIMIT 1`, project)
}

// PolicyAt returns the project's policy version, or ErrNotFound.
func (s *Store) PolicyAt(ctx context.Context, project, version int64) (PolicyVersion, error) {
	return s.policy(ctx, project, `SELECT version, document, created, created_by FROM policies
		WHERE project_id = $1 AND version = $2`, project, version)
}

func (s *Store) policy(ctx context.Context, project int64, query string, args ...any) (PolicyVersion, error) {
	p := PolicyVersion{Project: project}
	var doc string
	var created int64
	err := s.read.QueryRowContext(ctx, query, args...).Scan(&p.Version, &doc, &created, &p.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return PolicyVersion{}, fmt.Errorf("policy: %w", ErrNotFound)
	}
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("store: policy: %w", err)
	}
	p.Document, p.Created = []byte(doc), fromNanos(created)
	return p, nil
}

// PolicyVersions returns the project's latest limit policy versions, newest first,
// without their documents. limit ≤ 0 means DefaultLimit; more than MaxLimit is
// MaxLimit.
func (s *Store) PolicyVersions(ctx context.Context, project int64, limit int) ([]PolicyVersion, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, created, created_by FROM policies
		WHERE project_id = $1 ORDER BY version DESC LIMIT $2`, project, pageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: policy versions: %w", err)
	}
	defer rows.Close()
	out := []PolicyVersion{}
	for rows.Next() {
		p := PolicyVersion{Project: project}
		var created int64
		if err := rows.Scan(&p.Version, &created, &p.CreatedBy); err != nil {
			return nil, fmt.Errorf("store: policy versions: %w", err)
		}
		p.Created = fromNanos(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: policy versions: %w", err)
	}
	return out, nil
}

// pageSize is limit within (0, MaxLimit], DefaultLimit when limit ≤ 0.
func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return min(limit, MaxLimit)
}

// AuditEntry is one line of the audit log: who did what to what, when. The zero
// value has no Action, which Audit requires. A plain value, not safe for concurrent
// modification.
type AuditEntry struct {
	// ID orders the log; Project is the project the action was in, 0 for one
	// outside any project (a user created, a failed login).
	ID, Project int64
	Time        time.Time
	// Actor is who acted: a user's name, an API key's prefix.
	Actor string
	// Action is what was done, a dotted name: "ban.add", "user.create".
	Action string
	// Target is what it was done to: "ip:203.0.113.7", a user's name.
	Target string
	// Detail says more, in free text; the store's own entries put a JSON object
	// there.
	Detail string
}

// Audit writes e to the audit log, for the actions the store does not log itself
// (AddBan, RemoveBan and PutPolicy do). Time zero is now; ID is ignored. Action is
// required (1–MaxAuditActionLen bytes); Actor, Target and Detail may be empty and
// are at most MaxActorLen, MaxAuditTargetLen and MaxAuditDetailLen bytes; all are
// UTF-8 without NUL; Time is within the years 1678–2262. Other input is an error
// wrapping ErrInvalid.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.Action == "" {
		return invalidf("audit entry has no action")
	}
	for _, f := range []struct {
		what, s string
		max     int
	}{
		{"audit actor", e.Actor, MaxActorLen},
		{"audit action", e.Action, MaxAuditActionLen},
		{"audit target", e.Target, MaxAuditTargetLen},
		{"audit detail", e.Detail, MaxAuditDetailLen},
	} {
		if err := checkText(f.what, f.s, f.max); err != nil {
			return err
		}
	}
	if e.Project < 0 {
		return invalidf("audit entry has project %d", e.Project)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Time.Before(time.Unix(0, math.MinInt64)) || e.Time.After(maxStoredTime) {
		return invalidf("audit time %s is out of range", e.Time.UTC().Format(time.RFC3339))
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	defer tx.Rollback()
	if err := insertAudit(ctx, tx, e); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditLog returns up to limit entries of the project's audit log, newest first,
// starting after the entry beforeID (0: with the newest). Project 0 is the log of
// actions outside any project, not every project's. limit ≤ 0 means DefaultLimit;
// more than MaxLimit is MaxLimit. The next page starts before the last entry's ID.
func (s *Store) AuditLog(ctx context.Context, project int64, limit int, beforeID int64) ([]AuditEntry, error) {
	var q query
	if project == 0 {
		q.add(`project_id IS NULL`)
	} else {
		q.add(`project_id = ?`, project)
	}
	if beforeID > 0 {
		q.add(`id < ?`, beforeID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, time, actor, action, target, detail FROM audit_log WHERE `+
		strings.Join(q.where, " AND ")+` ORDER BY id DESC LIMIT `+q.arg(pageSize(limit)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		e := AuditEntry{Project: project}
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.Time = fromNanos(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}
