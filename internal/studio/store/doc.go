// Package store is Studio's storage: projects, API keys, the events agents send,
// the controls agents enforce (bans, policies) and their audit log, users and their
// sessions, in embedded SQLite (modernc.org/sqlite, pure Go) or in PostgreSQL
// (github.com/jackc/pgx/v5); and the notifications by which the Studio processes
// on one database tell each other what changed.
//
// # One type, two engines
//
// [Open] returns a *[Store] whatever the engine; the DSN chooses it. A Store keeps a
// *sql.DB for reads and one for writes and, on PostgreSQL, the pgxpool.Pool under
// them, which event ingest uses for COPY. Every statement but ingest, the migration
// lock, notifications and one index hint is one SQL text for both engines ($1-style
// placeholders, which SQLite also reads), so the shared test suite exercises the
// same statements on both.
//
// SQLite follows the project's write-path guidance: a writer pool of exactly one
// connection whose transactions begin IMMEDIATE, so writers queue in Go rather than
// fail with SQLITE_BUSY, and a separate read-only pool; journal_mode WAL,
// busy_timeout 5000, synchronous NORMAL (an application crash loses nothing; a power
// loss can lose the last commits). A new database gets 64 KiB pages: an event row is
// about 1.5 KB, and big pages cut the CPU time of an ingest batch by about a third
// (fewer WAL frames and write calls; see sqlitePageSize). Several processes may share a file: SQLite's lock serializes
// their writers within the busy timeout.
//
// # Schema
//
// The schema is versioned SQL embedded in the binary, one file per version and engine
// under migrations/; the engines differ only in types (INTEGER/bigint, BLOB/bytea,
// TEXT/json) and in SQLite's table options (WITHOUT ROWID, and AUTOINCREMENT where
// an ID must never be given twice: a deleted ban's). Open applies the missing versions in one transaction and records each in
// schema_migrations, so a second Open does nothing. On PostgreSQL the transaction first
// takes a transaction-scoped advisory lock, so two Studio processes starting at once
// against one database apply each version once; on SQLite the IMMEDIATE transaction is
// that lock.
//
// Every time is stored as a 64-bit integer of Unix nanoseconds, UTC, in both engines:
// event times keep their nanoseconds (PostgreSQL's timestamptz keeps microseconds),
// keyset cursors compare exactly, and time buckets are integer arithmetic that reads
// the same in both dialects.
//
// On PostgreSQL, events has a BRIN index on time rather than native time partitions.
// Agents send events in about time order, so BRIN stays a few pages for millions of
// rows and serves the cross-project time-range scans that retention needs, without a
// job that must create partitions ahead of the data, a default partition for late
// (spooled) batches, or time in every unique key. Per-project queries use B-tree
// indexes on (project_id, time, id), on (project_id, hash of client_ip, time, id) and
// (project_id, hash of dna_id, time, id) — fixed-width keys cost ingest a third of
// what the text did (migration 0004 says why) — plus a partial index on the events
// the policy did not allow (events_threat), from which TopAttackers reads. If
// DELETE-based retention becomes the bottleneck at scale, partitioning by time is the
// next step; the column is already a plain range key. The raw copy of an event is
// text (json's input check cost ingest time for JSON Studio wrote itself).
//
// # Tenancy and keys
//
// Every event query takes the project ID and every statement filters on it; the
// project comes from the caller's API key, never from the request. API keys are
// "vk_<scope>_" followed by 43 base62 characters (32 random bytes); the store keeps
// HMAC-SHA256(pepper, key) and a short display prefix, never the key, and returns the
// plaintext once, from [Store.CreateKey].
//
// # Controls and the audit log
//
// A project's controls are its bans and its policy. Every change ([Store.AddBan],
// [Store.RemoveBan], [Store.PutPolicy]) is one transaction that first adds one to
// the project's revision, then changes the control and writes an audit_log row:
// either all three happen or none. The revision is the version of the snapshot
// agents get, so each change gives a larger one; the row lock the first UPDATE takes
// on PostgreSQL also serializes a project's changes, so policy versions (1, 2, 3…)
// are never given twice and two changes never wait on each other's locks. A ban
// lapsing at its Until is not a change: [Store.Bans] leaves it out from then, and
// [Store.NextBanExpiry] says when the next one lapses.
//
// A ban target (kind and value, in normal form) has one row per project: adding a
// ban on it deletes the old row, active or lapsed, in the same transaction. Policy
// documents are JSON, stored byte for byte (PostgreSQL's json, not jsonb, which
// would reorder them). Input the store refuses is an error wrapping [ErrInvalid]
// whose message is fit to show the user.
//
// # Users and sessions
//
// Users are global; an admin sees every project, an analyst or viewer the projects
// granted ([Store.GrantProject]). Passwords are kept as argon2id PHC strings
// (golang.org/x/crypto/argon2) with OWASP's parameters, m=47104 KiB, t=1, p=1; at
// most GOMAXPROCS hashes run at once, so a burst of logins takes bounded memory.
// [Store.CheckPassword] spends one hash for an unknown name too. Sessions live in
// the database, so every Studio process knows them: the store keeps SHA-256 of the
// 32-byte token and returns the token once, from [Store.CreateSession]. A session
// reads its user's current role; [Store.SetPassword] ends the user's sessions.
//
// # Notifications
//
// [Store.Notify] and [Store.Subscribe] carry small messages (at most
// [MaxNotifyPayload] bytes) between the Studio processes on one database, such as
// "project 3 is at revision 8". On PostgreSQL they are pg_notify and a LISTEN on a
// connection of its own, which the first Subscribe opens and Close ends; when it
// drops, the Store reconnects with backoff and logs to Options.Logger. Every
// message travels on one PostgreSQL channel named after the schema, with the
// caller's channel name in the payload, so Stores on other schemas of the database
// hear nothing. On SQLite, notifications reach only the Stores of this process that
// opened the same file: several processes on one SQLite file share its data, not
// its notifications, so run one Studio process per SQLite file, or use PostgreSQL.
// That fan-out is the package's one piece of process-wide state.
//
// Delivery is at most once: a subscriber that is not reading loses messages beyond
// [SubscribeBuffer] rather than hold up the others ([Store.DroppedNotifications]
// counts them), and messages sent while the listener reconnects are lost. A
// subscriber that must not miss a change looks at the state now and then as well.
//
// # Ingest
//
// [Store.IngestEvents] stores a batch exactly once per (project, batch ID): the batch's
// row in ingested_batches is inserted in the same transaction as its events, so a
// retried or racing copy of a batch finds the row (on PostgreSQL, waits for the first
// transaction to end) and stores nothing. Events come from Vigil agents
// ([FromWire]) or guard-agent clients; [Event.Source] says which and [Event.Raw]
// keeps the event as it arrived, unknown fields included.
//
// On SQLite the events go in as INSERT OR FAIL statements of 100 rows, the full ones
// prepared once: with the default OR ABORT, SQLite would copy every page a statement
// touches to a statement journal, which cost a third of ingest's CPU time. On
// PostgreSQL they go in with one COPY whose binary rows the store encodes itself.
// Studio's ingest handler passes each event's bytes from the request body
// ([Store.IngestBatchRaw] with wire.DecodeEventsRaw), so nothing is encoded again;
// [Store.IngestBatch] encodes Raw with the wire package's encoder (the bytes
// json.Marshal writes). BenchmarkIngest (500-event batches of realistic events with
// rising times, 4 batches at once as from several agents, 200,000 events into a fresh
// database) measured, on a shared 2-core machine, medians of 3:
//
//	go test ./internal/studio/store -run '^$' -bench 'Ingest' -benchtime 400x -count 3
//
//	SQLite      35,600 events/s, 20 µs CPU per event
//	PostgreSQL 113,600 events/s, 1.5 µs Go CPU per event; the server spends about
//	           15 µs per event (migration 0004 took that from 19–24 µs)
//
// Through Studio's handler path from request bodies (BenchmarkIngestBody: decode,
// then IngestBatchRaw) SQLite stores about 30,000–35,000 and PostgreSQL 83,000–103,000
// events/s: decoding the JSON costs about 3 µs per event of the machine's two cores.
// SQLite's rate falls as the database grows, since each batch rewrites the pages of
// events_ip and events_dna where its clients' entries end: about 44k events/s into an
// empty database, 15k at 800,000 events.
//
// # Metrics, retention and webhooks
//
// [Store.IngestMetrics] stores agents' metric intervals once per (project, batch ID),
// as IngestEvents does events, each interval whole as JSON; [Store.MetricSums] adds up
// those overlapping a span. [Store.TopPaths] and [Store.TopReasons] rank a project's
// threat events through events_threat; [Store.Families] reads every event since its
// start.
//
// [Store.Prune] applies a [Retention]: events older than MaxAge (with the metric
// intervals, ingested-batch keys and finished webhook deliveries as old), then each
// project's oldest events beyond MaxEventsPerProject; a project's size is its event
// count. It deletes at most Retention.Chunk rows per statement, each its own
// transaction, so it runs beside ingest and other Prunes on both engines.
//
// A webhook keeps the secret its deliveries are signed with (package
// internal/studio/webhook signs and sends them). [Store.ClaimDue] leases due
// deliveries by moving their next try past the lease in one statement (PostgreSQL,
// FOR UPDATE SKIP LOCKED) or one IMMEDIATE transaction (SQLite), so Studio processes
// sharing a database never send one delivery at once. Beside ingest, these are the
// statements whose SQL differs by engine: ClaimDue, DeleteWebhook's row lock,
// TopReasons (json_each or json_array_elements_text) and Prune, which deletes
// PostgreSQL events by ctid since events has no primary key there.
package store
