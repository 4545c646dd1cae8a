// Package store is Studio's storage: projects, API keys, users and the events agents
// send, in embedded SQLite (modernc.org/sqlite, pure Go) or in PostgreSQL
// (github.com/jackc/pgx/v5).
//
// # One type, two engines
//
// [Open] returns a *[Store] whatever the engine; the DSN chooses it. A Store keeps a
// *sql.DB for reads and one for writes and, on PostgreSQL, the pgxpool.Pool under
// them, which event ingest uses for COPY. Every statement but ingest, the migration
// lock and one index hint is one SQL text for both engines ($1-style placeholders,
// which SQLite also reads), so the shared test suite exercises the same statements
// on both.
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
// TEXT/json). Open applies the missing versions in one transaction and records each in
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
// indexes on (project_id, time, id), (project_id, client_ip, time, id) and
// (project_id, dna_id, time, id), plus a partial index on the events the policy did
// not allow (events_threat), from which TopAttackers reads. If DELETE-based retention becomes the bottleneck at scale, partitioning
// by time is the next step; the column is already a plain range key.
//
// # Tenancy and keys
//
// Every event query takes the project ID and every statement filters on it; the
// project comes from the caller's API key, never from the request. API keys are
// "vk_<scope>_" followed by 43 base62 characters (32 random bytes); the store keeps
// HMAC-SHA256(pepper, key) and a short display prefix, never the key, and returns the
// plaintext once, from [Store.CreateKey].
//
// # Ingest
//
// [Store.IngestEvents] stores a batch exactly once per (project, batch ID): the batch's
// row in ingested_batches is inserted in the same transaction as its events, so a
// retried or racing copy of a batch finds the row (on PostgreSQL, waits for the first
// transaction to end) and stores nothing. Events come from Vigil agents
// ([FromWire]) or guard-agent clients; [Event.Source] says which and [Event.Raw]
// keeps the event as it arrived, unknown fields included.
package store
