package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook event types: what a webhook may subscribe to and a delivery carries.
const (
	WebhookHighThreat     = "high_threat"      // an event the policy blocked with a high score
	WebhookNewFingerprint = "new_fingerprint"  // a DNA the project had not seen
	WebhookHoneypot       = "honeypot_trigger" // a client touched a honeypot
	WebhookBan            = "ban"              // a client was banned
	// WebhookPing is the test delivery a user sends from the dashboard. No webhook
	// subscribes to it; EnqueueDelivery accepts it for any webhook.
	WebhookPing = "ping"
)

// webhookEvents are the types CreateWebhook accepts, sorted.
var webhookEvents = [...]string{WebhookBan, WebhookHighThreat, WebhookHoneypot, WebhookNewFingerprint}

// MaxWebhookURLLen is the longest webhook URL CreateWebhook accepts, in bytes.
const MaxWebhookURLLen = 2048

// maxDeliveryError is the longest error text RecordAttempt keeps, in bytes.
const maxDeliveryError = 1024

// Webhook is an HTTP endpoint that receives a project's events of some types.
type Webhook struct {
	ID, Project int64
	// URL is the absolute http or https URL deliveries are POSTed to.
	URL string
	// Events are the event types it subscribes to, sorted, without repeats.
	Events []string
	// Secret signs the deliveries (see internal/studio/webhook): 64 hex characters,
	// 32 random bytes the store made. The signing key is this text, as is. It is
	// stored in plaintext because signing needs it; show it only to admins.
	Secret  string
	Created time.Time
	// Disabled reports a webhook that gets no deliveries: WebhooksFor leaves it out
	// and ClaimDue leaves its pending deliveries waiting.
	Disabled bool
}

// CreateWebhook adds a webhook to the project that POSTs events of the given types
// (a non-empty subset of the Webhook* types but WebhookPing) to rawURL, which must be
// an absolute http or https URL with a host and no fragment, at most
// MaxWebhookURLLen bytes. It makes the webhook's secret and returns it in the
// Webhook. An invalid URL or event list gives an error wrapping ErrInvalid.
func (s *Store) CreateWebhook(ctx context.Context, project int64, rawURL string, events []string) (Webhook, error) {
	if err := validWebhookURL(rawURL); err != nil {
		return Webhook{}, err
	}
	evs, err := validWebhookEvents(events)
	if err != nil {
		return Webhook{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Webhook{}, fmt.Errorf("store: webhook secret: %w", err)
	}
	w := Webhook{Project: project, URL: rawURL, Events: evs, Secret: hex.EncodeToString(b[:]), Created: time.Now().UTC()}
	js, _ := json.Marshal(evs) // strings: cannot fail
	err = s.write.QueryRowContext(ctx, `INSERT INTO webhooks (project_id, url, events, secret, created)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, project, rawURL, string(js), w.Secret, nanos(w.Created)).Scan(&w.ID)
	if err != nil {
		return Webhook{}, fmt.Errorf("store: create webhook: %w", err)
	}
	return w, nil
}

func validWebhookURL(raw string) error {
	if raw == "" || len(raw) > MaxWebhookURLLen {
		return invalidf("webhook URL must be 1–%d bytes", MaxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("webhook URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return invalidf("webhook URL %q is not an absolute http or https URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalidf("webhook URL %q has a fragment", raw)
	}
	return nil
}

func validWebhookEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, invalidf("a webhook must subscribe to at least one event")
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if _, ok := slices.BinarySearch(webhookEvents[:], e); !ok {
			return nil, invalidf("webhook event %q is not one of %s", e, strings.Join(webhookEvents[:], ", "))
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

const webhookColumns = `id, project_id, url, events, secret, created, disabled`

func scanWebhooks(rows *sql.Rows) ([]Webhook, error) {
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		var (
			w        Webhook
			events   string
			created  int64
			disabled sql.NullInt64
		)
		if err := rows.Scan(&w.ID, &w.Project, &w.URL, &events, &w.Secret, &created, &disabled); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
			return nil, fmt.Errorf("webhook %d events: %w", w.ID, err)
		}
		w.Created, w.Disabled = fromNanos(created), disabled.Valid
		out = append(out, w)
	}
	return out, rows.Err()
}

// Webhooks returns the project's webhooks, oldest first.
func (s *Store) Webhooks(ctx context.Context, project int64) ([]Webhook, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE project_id = $1 ORDER BY id`, project)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	ws, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	return ws, nil
}

// WebhooksFor returns the project's enabled webhooks that subscribe to event,
// oldest first.
func (s *Store) WebhooksFor(ctx context.Context, project int64, event string) ([]Webhook, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE project_id = $1 AND disabled IS NULL ORDER BY id`, project)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	ws, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	return slices.DeleteFunc(ws, func(w Webhook) bool { return !slices.Contains(w.Events, event) }), nil
}

// SetWebhookDisabled disables or enables the project's webhook id; ErrNotFound when
// the project has no such webhook. A disabled webhook's pending deliveries wait, and
// go out when it is enabled again.
func (s *Store) SetWebhookDisabled(ctx context.Context, project, id int64, disabled bool) error {
	var at any // NULL: enabled
	if disabled {
		at = nanosNow()
	}
	res, err := s.write.ExecContext(ctx, `UPDATE webhooks SET disabled = $1 WHERE id = $2 AND project_id = $3`, at, id, project)
	if err != nil {
		return fmt.Errorf("store: disable webhook: %w", err)
	}
	return oneRow(res, fmt.Sprintf("webhook %d", id))
}

// DeleteWebhook deletes the project's webhook id and all its deliveries, in one
// transaction; ErrNotFound when the project has no such webhook. A Sender that has
// claimed one of the deliveries finds it gone when it records the attempt.
func (s *Store) DeleteWebhook(ctx context.Context, project, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	defer tx.Rollback()
	// Lock the webhook row first (PostgreSQL), so a concurrent EnqueueDelivery
	// either lands before the deliveries are deleted or fails its foreign key.
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE"
	}
	var found int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM webhooks WHERE id = $1 AND project_id = $2`+lock, id, project).Scan(&found)
	if errNoRows(err) {
		return fmt.Errorf("webhook %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id); err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: delete webhook: %w", err)
	}
	return nil
}

// oneRow turns an UPDATE or DELETE that matched no row into ErrNotFound.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// Delivery is one event sent, or to be sent, to one webhook, with the outcome of
// its latest attempt.
type Delivery struct {
	ID      int64
	Webhook int64
	// Event is the event type (a Webhook* constant); Payload the JSON body.
	Event   string
	Payload []byte
	// Attempt is the number of attempts made.
	Attempt int
	// Status is the HTTP status of the latest attempt; 0 when none came (or no
	// attempt yet). Error is what went wrong with it; "" when nothing did.
	Status int
	Error  string
	// Created is when the delivery was enqueued.
	Created time.Time
	// NextTry is when the next attempt is due (from ClaimDue: when its lease ends);
	// zero when the delivery is finished: delivered or given up.
	NextTry time.Time
	// Duration is how long the latest attempt took.
	Duration time.Duration
	// URL and Secret are the webhook's, set by ClaimDue only, for the sender.
	URL, Secret string
}

// EnqueueDelivery adds a delivery of event with payload (a JSON value) to webhook,
// due at now, and returns its ID. The caller has the webhook from WebhooksFor (or
// checked it is the project's); a webhook that does not exist is an error. event is
// a Webhook* type and payload must be valid JSON, or the error wraps ErrInvalid.
func (s *Store) EnqueueDelivery(ctx context.Context, webhook int64, event string, payload []byte, now time.Time) (int64, error) {
	if _, ok := slices.BinarySearch(webhookEvents[:], event); !ok && event != WebhookPing {
		return 0, invalidf("delivery event %q is not a webhook event", event)
	}
	if !json.Valid(payload) {
		return 0, invalidf("delivery payload is not JSON")
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO webhook_deliveries
		(webhook_id, event, payload, attempt, status, error, created, next_try, duration_ns)
		VALUES ($1, $2, $3, 0, 0, '', $4, $4, 0) RETURNING id`,
		webhook, event, string(payload), nanos(now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: enqueue delivery: %w", err)
	}
	return id, nil
}

// deliveryColumns are the columns scanDelivery reads, for a table named d.
const deliveryColumns = `d.id, d.webhook_id, d.event, d.payload, d.attempt, d.status, d.error, d.created, d.next_try, d.duration_ns`

// scanDelivery scans deliveryColumns and then extra.
func scanDelivery(rows *sql.Rows, extra ...any) (Delivery, error) {
	var (
		d                 Delivery
		payload           string
		attempt, status   int64
		created, duration int64
		next              sql.NullInt64
	)
	dest := append([]any{&d.ID, &d.Webhook, &d.Event, &payload, &attempt, &status, &d.Error, &created, &next, &duration}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.Payload, d.Attempt, d.Status = []byte(payload), int(attempt), int(status)
	d.Created, d.Duration = fromNanos(created), time.Duration(duration)
	if next.Valid {
		d.NextTry = fromNanos(next.Int64)
	}
	return d, nil
}

// ClaimDue leases up to n deliveries that are due (next_try ≤ now) to enabled
// webhooks, oldest due first: it moves their next_try to now+lease in the same
// statement (PostgreSQL: UPDATE of rows picked FOR UPDATE SKIP LOCKED) or
// transaction (SQLite: one IMMEDIATE transaction), so two Studio processes never
// claim one delivery at once. The caller must record the attempt (RecordAttempt)
// before the lease ends, or the delivery is due again and another claim may send it
// a second time. The Deliveries have URL and Secret set and NextTry at the lease's
// end. It reads the partial index webhook_deliveries_due.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Delivery, error) {
	if n <= 0 || lease <= 0 {
		return nil, invalidf("claim deliveries: need n > 0 and lease > 0")
	}
	until := nanos(now.Add(lease))
	if s.engine == Postgres {
		rows, err := s.write.QueryContext(ctx, `WITH due AS (
				SELECT d.id FROM webhook_deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id
				WHERE d.next_try IS NOT NULL AND d.next_try <= $1 AND w.disabled IS NULL
				ORDER BY d.next_try, d.id LIMIT $3
				FOR UPDATE OF d SKIP LOCKED)
			UPDATE webhook_deliveries AS d SET next_try = $2 FROM due, webhooks AS w
			WHERE d.id = due.id AND w.id = d.webhook_id
			RETURNING `+deliveryColumns+`, w.url, w.secret`, nanos(now), until, int64(n))
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		ds, err := scanClaimed(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		slices.SortFunc(ds, func(a, b Delivery) int { return cmp.Compare(a.ID, b.ID) })
		return ds, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, w.url, w.secret
		FROM webhook_deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id
		WHERE d.next_try IS NOT NULL AND d.next_try <= $1 AND w.disabled IS NULL
		ORDER BY d.next_try, d.id LIMIT $2`, nanos(now), int64(n))
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	ds, err := scanClaimed(rows)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	for i := range ds {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_try = $1 WHERE id = $2`, until, ds[i].ID); err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		ds[i].NextTry = fromNanos(until)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return ds, nil
}

func scanClaimed(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var u, secret string
		d, err := scanDelivery(rows, &u, &secret)
		if err != nil {
			return nil, err
		}
		d.URL, d.Secret = u, secret
		out = append(out, d)
	}
	return out, rows.Err()
}

// RecordAttempt records an attempt at delivery id: one more attempt, its HTTP status
// (0 when none came), its error text ("" when none; made valid UTF-8 without NULs and
// cut to 1 KiB), how long it took, and when to try next; a zero next finishes the
// delivery (delivered, or given up). ErrNotFound when the delivery is gone (its
// webhook was deleted).
func (s *Store) RecordAttempt(ctx context.Context, id int64, status int, errText string, dur time.Duration, next time.Time) error {
	errText = cutText(errText, maxDeliveryError)
	var nextTry any // NULL: finished
	if !next.IsZero() {
		nextTry = nanos(next)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE webhook_deliveries
		SET attempt = attempt + 1, status = $1, error = $2, duration_ns = $3, next_try = $4 WHERE id = $5`,
		int64(status), errText, int64(dur), nextTry, id)
	if err != nil {
		return fmt.Errorf("store: record attempt: %w", err)
	}
	return oneRow(res, fmt.Sprintf("delivery %d", id))
}

// Deliveries returns the newest n (see Filter.Limit) deliveries of the project's
// webhook, newest first; ErrNotFound when the project has no such webhook. URL and
// Secret are not set.
func (s *Store) Deliveries(ctx context.Context, project, webhook int64, n int) ([]Delivery, error) {
	var found int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM webhooks WHERE id = $1 AND project_id = $2`, webhook, project).Scan(&found)
	if errNoRows(err) {
		return nil, fmt.Errorf("webhook %d: %w", webhook, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries AS d
		JOIN webhooks AS w ON w.id = d.webhook_id
		WHERE d.webhook_id = $1 AND w.project_id = $2
		ORDER BY d.created DESC, d.id DESC LIMIT $3`, webhook, project, int64(limit(n)))
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	return out, nil
}

// cutText returns s as valid UTF-8 without NUL bytes (PostgreSQL text refuses
// them), cut at a rune boundary to at most n bytes.
func cutText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
