-- guard-agent settings per project: the payload signing secret (and whether it is
-- required) and the payload encryption key, with the previous one kept during a
-- rotation. Keep in step with ../sqlite/0003_guard_agent.sql.
CREATE TABLE guard_agent_settings (
	project_id        bigint  PRIMARY KEY REFERENCES projects (id),
	signing_secret    text    NOT NULL DEFAULT '',
	require_signature boolean NOT NULL DEFAULT false,
	encryption_key    text    NOT NULL DEFAULT '',
	previous_key      text    NOT NULL DEFAULT '',
	updated           bigint  NOT NULL
);
