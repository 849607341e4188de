-- 040: the sync engine's own state (cdp/sync). Times are naive UTC.

-- run-level receipt fields (DESTINATIONS.md, "Receipts")
ALTER TABLE sync_runs ADD COLUMN mode VARCHAR;
ALTER TABLE sync_runs ADD COLUMN justification_digest VARCHAR;
ALTER TABLE sync_runs ADD COLUMN sent BIGINT;
ALTER TABLE sync_runs ADD COLUMN accepted BIGINT;
ALTER TABLE sync_runs ADD COLUMN invalid BIGINT;
ALTER TABLE sync_runs ADD COLUMN failed_batches INTEGER;
ALTER TABLE sync_runs ADD COLUMN resumed_by BIGINT;       -- the run that finished this one's batches

-- the plan of a run: which customer goes in which batch, written before anything is sent
-- so a killed run resumes at its first unconfirmed batch with the same batches and keys.
-- customer_id is pseudonymous; platform_key is the destination's own match key
-- (sync_state.platform_key); both are deleted when the run is finished.
CREATE TABLE sync_plan (
    run_id       BIGINT NOT NULL,
    batch_no     INTEGER NOT NULL,
    op           VARCHAR NOT NULL,           -- add | remove
    customer_id  VARCHAR NOT NULL,
    platform_key VARCHAR,
    reason       VARCHAR,                    -- removals: left | revoked | erased
    consent_seq  BIGINT
);

-- the batches of a run as planned (seq/total per op for platform sessions)
ALTER TABLE sync_receipts ADD COLUMN seq INTEGER;
ALTER TABLE sync_receipts ADD COLUMN total INTEGER;
ALTER TABLE sync_receipts ADD COLUMN idempotency_key VARCHAR;
ALTER TABLE sync_receipts ADD COLUMN error VARCHAR;
ALTER TABLE sync_receipts ADD COLUMN attempts INTEGER;

-- the scheduler's memory: the last cron time each sync was run for (catch-up once)
CREATE TABLE sync_schedule (
    sync        VARCHAR PRIMARY KEY,
    last_fire_at TIMESTAMP NOT NULL,         -- UTC
    last_run_id BIGINT,
    last_status VARCHAR,
    updated_at  TIMESTAMP NOT NULL
);
