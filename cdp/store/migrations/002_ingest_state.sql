-- 002: ingestion state (the foundation's range is 002-009).
-- ingest_files remembers how many data rows of a file were read (an appended file is
-- read from there) and, for database sources, the highest cursor value read.
ALTER TABLE ingest_files ADD COLUMN rows BIGINT;
ALTER TABLE ingest_files ADD COLUMN cursor VARCHAR;
ALTER TABLE ingest_runs ADD COLUMN details JSON;          -- counts per reason, warnings (never values)
CREATE INDEX customer_merges_old ON customer_merges (old_id);
