-- Ingest cost, from measurement (BenchmarkIngest, PostgreSQL's CPU time per event):
--
-- The raw copy of each event and metric interval is text, not json. json's input
-- function parses every value to check it; Studio writes raw itself from a decoded
-- event (it is always valid JSON) and never queries inside it.
--
-- The indexed text columns compare bytewise (COLLATE "C"). Under a database's
-- default collation other than C (C.UTF-8, en_US.UTF-8, …) every comparison goes
-- through strcoll; byte order is all these keys (addresses, DNA IDs) need.
--
-- The per-client indexes key on a 64-bit hash of the address or DNA ID instead of
-- the text: each event inserts into them at a point of its own (one per client), and
-- a B-tree of fixed-width keys compares them without decoding the tuple and holds
-- more of them per page. They cost a third of the time per event that the text keys
-- did. Queries name the same expression and then the text itself (Store.Events), so
-- a hash collision only costs a row read. hashtextextended is what PostgreSQL's hash
-- partitioning uses; should a major version ever change it, REINDEX recomputes these.
--
-- Keep in step with ../sqlite/0004_raw_text.sql.
ALTER TABLE events
	ALTER COLUMN raw TYPE text,
	ALTER COLUMN client_ip TYPE text COLLATE "C",
	ALTER COLUMN dna_id TYPE text COLLATE "C";
ALTER TABLE metric_intervals ALTER COLUMN raw TYPE text;
DROP INDEX events_ip;
DROP INDEX events_dna;
CREATE INDEX events_ip ON events (project_id, hashtextextended(client_ip, 0), time, id);
CREATE INDEX events_dna ON events (project_id, hashtextextended(dna_id, 0), time, id);
