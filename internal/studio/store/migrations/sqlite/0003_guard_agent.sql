-- guard-agent settings per project: the payload signing secret (and whether it is
-- required) and the payload encryption key, with the previous one kept during a
-- rotation. Keep in step with ../postgres/0003_guard_agent.sql.
CREATE TABLE guard_agent_settings (
	project_id        INTEGER PRIMARY KEY REFERENCES projects (id),
	signing_secret    TEXT    NOT NULL DEFAULT '',
	require_signature INTEGER NOT NULL DEFAULT 0,
	encryption_key    TEXT    NOT NULL DEFAULT '',
	previous_key      TEXT    NOT NULL DEFAULT '',
	updated           INTEGER NOT NULL
);
