-- PostgreSQL's 0004 makes the raw columns text (SQLite's already are), compares the
-- indexed text columns bytewise (SQLite's default) and keys the per-client indexes on
-- a hash. This migration only keeps the two engines' versions in step.
SELECT 1;
