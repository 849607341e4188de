-- 010: the privacy layer's own tables (privacy/, cdp/compliance). Times are naive UTC.

-- set by erasure: the consent proof stays (legal obligation) but no longer links to the person
ALTER TABLE consent_events ADD COLUMN unlinked_at TIMESTAMP;
CREATE INDEX consent_events_digest ON consent_events (payload_digest);

-- the request register: access (DSAR) and erasure requests, KVKK Art. 13 / GDPR Art. 12(3)
CREATE TABLE privacy_requests (
    request_id   VARCHAR PRIMARY KEY,        -- e.g. ER-20261123-0001 / AR-...
    kind         VARCHAR NOT NULL,           -- erasure | access
    subject      VARCHAR,                    -- customer_id while open; NULL once an erasure is done
    subject_kind VARCHAR,                    -- email | phone | customer (how the person identified)
    reason       VARCHAR,
    status       VARCHAR NOT NULL,           -- open | done | not_found
    step         INTEGER NOT NULL DEFAULT 0, -- last completed erasure step (resumable job)
    received_at  TIMESTAMP NOT NULL,
    due_at       TIMESTAMP NOT NULL,         -- received_at + 30 days
    completed_at TIMESTAMP,
    details      JSON                        -- counts only, never identifiers
);

-- removal queue: destination-format match keys of an erased person, per destination they
-- were ever synced to (GDPR Art. 19, KVKK Art. 11(1)(f)); cdp.sync consumes and marks done.
CREATE TABLE removal_queue (
    request_id   VARCHAR NOT NULL,
    destination  VARCHAR NOT NULL,
    sync         VARCHAR,
    platform_key VARCHAR,                    -- sync_state.platform_key (e.g. Klaviyo profile id)
    match_keys   JSON NOT NULL,              -- {"email_sha256", "email_md5", "phone_sha256", "phone_digits_sha256"}
    status       VARCHAR NOT NULL,           -- pending | done | failed
    queued_at    TIMESTAMP NOT NULL,
    done_at      TIMESTAMP,
    error        VARCHAR,
    PRIMARY KEY (request_id, destination, sync)
);

-- destruction records (Regulation on Erasure, Destruction or Anonymization, Art. 7/11): kept 3 years
CREATE SEQUENCE destruction_seq START 1;
CREATE TABLE destruction_records (
    record_id  BIGINT PRIMARY KEY,
    run_id     VARCHAR NOT NULL,
    data_kind  VARCHAR NOT NULL,             -- events | inactive_customers | segment_history | sync_receipts | consent_proof | erasure
    method     VARCHAR NOT NULL,             -- deleted | redacted | key_destroyed
    rows       BIGINT NOT NULL,
    cutoff     TIMESTAMP,
    ran_at     TIMESTAMP NOT NULL,
    details    JSON
);

-- consents we collected ourselves, registered with IYS through `cdp consent export --iys`
CREATE TABLE iys_exports (
    seq         BIGINT PRIMARY KEY,
    exported_at TIMESTAMP NOT NULL,
    file        VARCHAR
);
