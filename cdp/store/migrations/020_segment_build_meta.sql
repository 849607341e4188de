-- 020 (segments): what `cdp segment list/history` show besides sizes.
-- label/description come from the rule; run_id groups the builds of one
-- `cdp segment build` run (one transaction); duration_ms is the run's wall time.
ALTER TABLE segment_builds ADD COLUMN label VARCHAR;
ALTER TABLE segment_builds ADD COLUMN description VARCHAR;
ALTER TABLE segment_builds ADD COLUMN run_id BIGINT;
ALTER TABLE segment_builds ADD COLUMN duration_ms BIGINT;
CREATE SEQUENCE segment_run_seq START 1;
