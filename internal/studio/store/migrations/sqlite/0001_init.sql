-- Studio's schema, SQLite flavour. Every time is INTEGER Unix nanoseconds (UTC).
-- Keep it in step with ../postgres/0001_init.sql: same tables, columns and indexes.

CREATE TABLE projects (
	id       INTEGER PRIMARY KEY,
	name     TEXT    NOT NULL UNIQUE,
	created  INTEGER NOT NULL,
	revision INTEGER NOT NULL DEFAULT 0 -- one more with each control change
);

CREATE TABLE api_keys (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	scope      TEXT    NOT NULL CHECK (scope IN ('ingest', 'admin')),
	prefix     TEXT    NOT NULL,
	hash       BLOB    NOT NULL UNIQUE,
	created    INTEGER NOT NULL,
	revoked    INTEGER
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
	created       INTEGER NOT NULL
);
-- Names differ by more than case, so "Admin" cannot pose as "admin".
CREATE UNIQUE INDEX users_name_fold ON users (lower(name));

-- The projects an analyst or viewer may see; admins see every project.
CREATE TABLE user_projects (
	user_id    INTEGER NOT NULL REFERENCES users (id),
	project_id INTEGER NOT NULL REFERENCES projects (id),
	PRIMARY KEY (user_id, project_id)
) WITHOUT ROWID;

-- Browser sessions; hash is SHA-256 of the token, which is never stored.
CREATE TABLE sessions (
	hash    BLOB    PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users (id),
	csrf    TEXT    NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires);
CREATE INDEX sessions_user ON sessions (user_id);

-- events has no foreign key to projects: the ingest path has checked the project
-- (through its key) and a per-row check would cost ingest time.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	project_id  INTEGER NOT NULL,
	time        INTEGER NOT NULL,
	received    INTEGER NOT NULL,
	source      TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	request_id  TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	would_be    TEXT    NOT NULL,
	score       INTEGER NOT NULL,
	client_ip   TEXT    NOT NULL,
	dna_id      TEXT    NOT NULL,
	family      TEXT    NOT NULL,
	client_kind TEXT    NOT NULL,
	country     TEXT    NOT NULL,
	asn         INTEGER NOT NULL,
	method      TEXT    NOT NULL,
	host        TEXT    NOT NULL,
	path        TEXT    NOT NULL,
	user_agent  TEXT    NOT NULL,
	status      INTEGER NOT NULL,
	reasons     TEXT    NOT NULL, -- JSON array of the signal codes
	raw         TEXT    NOT NULL  -- the event as it arrived, JSON
);
-- An SQLite index ends with the rowid (id), so these serve ORDER BY time, id.
CREATE INDEX events_time ON events (project_id, time);
CREATE INDEX events_ip ON events (project_id, client_ip, time);
CREATE INDEX events_dna ON events (project_id, dna_id, time);
-- Threats: events the policy did not allow, from a known address. TopAttackers reads
-- only this index (would_be is in it because SQLite will not cover a query without it).
CREATE INDEX events_threat ON events (project_id, time, client_ip, would_be) WHERE would_be NOT IN ('', 'allow') AND client_ip <> '';

CREATE TABLE ingested_batches (
	project_id INTEGER NOT NULL,
	batch_id   TEXT    NOT NULL,
	received   INTEGER NOT NULL,
	events     INTEGER NOT NULL,
	PRIMARY KEY (project_id, batch_id)
) WITHOUT ROWID;

CREATE TABLE metric_intervals (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL,
	batch_id   TEXT    NOT NULL,
	start      INTEGER NOT NULL,
	"end"      INTEGER NOT NULL,
	raw        TEXT    NOT NULL
);
CREATE INDEX metric_intervals_time ON metric_intervals (project_id, start);
CREATE TABLE ingested_metric_batches (
	project_id INTEGER NOT NULL,
	batch_id   TEXT    NOT NULL,
	received   INTEGER NOT NULL,
	intervals  INTEGER NOT NULL,
	PRIMARY KEY (project_id, batch_id)
) WITHOUT ROWID;

-- AUTOINCREMENT: a replaced or removed ban's ID is never given to another ban.
CREATE TABLE bans (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	kind       TEXT    NOT NULL CHECK (kind IN ('ip', 'cidr', 'dna')),
	value      TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	until      INTEGER, -- NULL: no end
	created    INTEGER NOT NULL,
	created_by TEXT    NOT NULL
);
-- One row per target: adding a ban on a (kind, value) the project has a row for
-- deletes that row first, in the same transaction, so a target has at most one ban,
-- active or lapsed.
CREATE UNIQUE INDEX bans_target ON bans (project_id, kind, value);
CREATE INDEX bans_until ON bans (until) WHERE until IS NOT NULL;

CREATE TABLE policies (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	version    INTEGER NOT NULL,
	document   TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	created_by TEXT    NOT NULL,
	PRIMARY KEY (project_id, version)
);

CREATE TABLE audit_log (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER, -- NULL: an action outside any project
	time       INTEGER NOT NULL,
	actor      TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	detail     TEXT    NOT NULL
);
CREATE INDEX audit_log_project ON audit_log (project_id, id);

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	url        TEXT    NOT NULL,
	events     TEXT    NOT NULL, -- JSON array of event types
	secret     TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	disabled   INTEGER
);
CREATE INDEX webhooks_project ON webhooks (project_id);

CREATE TABLE webhook_deliveries (
	id          INTEGER PRIMARY KEY,
	webhook_id  INTEGER NOT NULL REFERENCES webhooks (id),
	event       TEXT    NOT NULL,
	payload     TEXT    NOT NULL,
	attempt     INTEGER NOT NULL,
	status      INTEGER NOT NULL, -- HTTP status; 0 when none came
	error       TEXT    NOT NULL,
	created     INTEGER NOT NULL,
	next_try    INTEGER, -- NULL: delivered or given up
	duration_ns INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_try) WHERE next_try IS NOT NULL;
