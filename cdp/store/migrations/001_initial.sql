-- 001: the canonical tables of ARCHITECTURE.md.
-- `at` is reserved in DuckDB, so ARCHITECTURE.md's `at` columns are named merged_at,
-- effective_at, suppressed_at, logged_at, rejected_at, signed_at (docs/decisions.md).
-- Time convention (docs/decisions.md): events.ts is the naive wall-clock time in the
-- workspace time zone; every other *_at / timestamp column is naive UTC.

CREATE TABLE customers (
    customer_id   VARCHAR PRIMARY KEY,      -- keyed surrogate, never an identifier
    first_seen_at TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
    -- declared traits are added as columns by ingestion (ALTER TABLE ... ADD COLUMN)
);

CREATE TABLE identities (
    id_hash       VARCHAR PRIMARY KEY,      -- HMAC-SHA256(pseudonym_key, kind:normalized), hex
    kind          VARCHAR NOT NULL,         -- email | phone | tax_id | national_id | card | <source key kind>
    customer_id   VARCHAR NOT NULL,
    source        VARCHAR,
    first_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE customer_merges (
    old_id VARCHAR NOT NULL,
    new_id VARCHAR NOT NULL,
    merged_at TIMESTAMP NOT NULL
);

CREATE TABLE events (
    event_id    VARCHAR PRIMARY KEY,
    customer_id VARCHAR NOT NULL,
    event_type  VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,         -- workspace-local wall time
    amount      DECIMAL(18, 2),
    source      VARCHAR,
    properties  JSON                        -- undeclared-but-kept JSON properties (JSONL sources)
    -- declared properties are added as typed columns by ingestion
);

CREATE SEQUENCE consent_seq START 1;
CREATE TABLE consent_events (
    seq                BIGINT PRIMARY KEY,
    customer_id        VARCHAR,             -- null while pending (recipient not yet known)
    id_hash            VARCHAR,             -- identifier pseudonym the consent was given for
    purpose            VARCHAR NOT NULL,
    channel            VARCHAR NOT NULL,    -- email | sms | call | ads | any
    status             VARCHAR NOT NULL,    -- granted | withdrawn | refused
    basis              VARCHAR,             -- consent | opt_out | ...
    recipient_type     VARCHAR,             -- BIREYSEL | TACIR
    source             VARCHAR,             -- IYS source code or system
    notice_version     VARCHAR,
    text_version       VARCHAR,
    collection_method  VARCHAR,
    actor              VARCHAR,
    evidence           VARCHAR,
    iys_transaction_id VARCHAR,
    effective_at       TIMESTAMP NOT NULL,  -- UTC
    recorded_at        TIMESTAMP NOT NULL,  -- UTC
    expires_at         TIMESTAMP,           -- UTC
    payload            JSON,                -- canonical payload; null once redacted
    payload_digest     VARCHAR NOT NULL,    -- hex SHA-256 of canonical JSON payload
    prev_hash          VARCHAR NOT NULL,    -- hex
    hash               VARCHAR NOT NULL,    -- hex SHA-256(prev_hash || payload_digest), raw bytes
    redacted_at        TIMESTAMP
);
CREATE INDEX consent_events_customer ON consent_events (customer_id);

CREATE TABLE consent_checkpoints (
    seq        BIGINT NOT NULL,             -- head seq at checkpoint time
    hash       VARCHAR NOT NULL,
    signature  VARCHAR NOT NULL,            -- hex Ed25519 signature over "seq:hash"
    public_key VARCHAR NOT NULL,            -- hex raw Ed25519 public key
    signed_at  TIMESTAMP NOT NULL
);

CREATE TABLE objections (
    customer_id VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,           -- direct_marketing | profiling
    effective_at TIMESTAMP NOT NULL,        -- UTC
    recorded_at TIMESTAMP NOT NULL,
    source      VARCHAR
);

CREATE TABLE suppressions (
    id_hash VARCHAR PRIMARY KEY,
    kind    VARCHAR,
    reason  VARCHAR NOT NULL,               -- erased | opted_out | objection
    suppressed_at TIMESTAMP NOT NULL
);

CREATE TABLE vault (
    customer_id VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,           -- email | phone | full_name | first_name | last_name | ...
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,              -- AES-256-GCM under the customer's data key
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, field)
);

CREATE SEQUENCE build_seq START 1;
CREATE TABLE segment_builds (
    build_id   BIGINT PRIMARY KEY,
    segment    VARCHAR NOT NULL,
    as_of      TIMESTAMP NOT NULL,          -- workspace-local
    built_at   TIMESTAMP NOT NULL,          -- UTC
    engine     VARCHAR NOT NULL DEFAULT 'duckdb',
    rule_hash  VARCHAR,
    purposes   VARCHAR[],
    holdout_pct DOUBLE,
    members    BIGINT NOT NULL,             -- everyone matching the rule (control included)
    control    BIGINT NOT NULL
);

CREATE TABLE segment_members (
    build_id    BIGINT NOT NULL,
    segment     VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    control     BOOLEAN NOT NULL
);

CREATE TABLE models (
    name           VARCHAR NOT NULL,
    version        INTEGER NOT NULL,
    algorithm      VARCHAR NOT NULL,
    params         JSON NOT NULL,           -- never pickle
    metrics        JSON,
    features_hash  VARCHAR,
    trained_at     TIMESTAMP NOT NULL,
    as_of          TIMESTAMP,
    PRIMARY KEY (name, version)
);

CREATE TABLE model_scores (                 -- for algorithms not scorable by formula
    name        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    customer_id VARCHAR NOT NULL,
    label       VARCHAR,
    score       DOUBLE
);

CREATE SEQUENCE sync_run_seq START 1;
CREATE TABLE sync_runs (
    run_id          BIGINT PRIMARY KEY,
    sync            VARCHAR NOT NULL,
    destination     VARCHAR NOT NULL,
    segment         VARCHAR NOT NULL,
    build_id        BIGINT,
    purpose         VARCHAR,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,       -- running | ok | partial | failed | refused
    dry_run         BOOLEAN NOT NULL DEFAULT false,
    adds            BIGINT,
    removes         BIGINT,
    exclusions      JSON,                   -- reason -> count from the gate
    platform_counts JSON,
    error           VARCHAR
);

CREATE TABLE sync_state (
    sync         VARCHAR NOT NULL,
    destination  VARCHAR NOT NULL,
    customer_id  VARCHAR NOT NULL,
    platform_key VARCHAR,                   -- e.g. a Klaviyo profile id or a hashed match key
    synced_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (sync, destination, customer_id)
);

CREATE TABLE sync_receipts (
    run_id         BIGINT NOT NULL,
    batch_no       INTEGER NOT NULL,
    op             VARCHAR NOT NULL,        -- add | remove
    members        BIGINT NOT NULL,
    status         VARCHAR NOT NULL,        -- pending | confirmed | failed
    request_digest VARCHAR,
    consent_digest VARCHAR,
    response       JSON,                    -- platform counts only, no identifiers
    recorded_at    TIMESTAMP NOT NULL,
    confirmed_at   TIMESTAMP
);

CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit_log (
    seq     BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    actor   VARCHAR NOT NULL,
    action  VARCHAR NOT NULL,
    target  VARCHAR,                        -- pseudonymous reference only
    details JSON
);

CREATE SEQUENCE ingest_run_seq START 1;
CREATE TABLE ingest_runs (
    run_id          BIGINT PRIMARY KEY,
    source          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,       -- running | ok | failed
    rows_read       BIGINT,
    rows_loaded     BIGINT,
    rows_rejected   BIGINT,
    rows_skipped    BIGINT,                 -- suppressed identifiers, duplicates
    corrections     BIGINT,
    columns_dropped JSON
);

CREATE TABLE ingest_files (                 -- what has been read, to pick up new files/rows
    source     VARCHAR NOT NULL,
    path       VARCHAR NOT NULL,
    size       BIGINT,
    mtime      DOUBLE,
    digest     VARCHAR,
    run_id     BIGINT,
    PRIMARY KEY (source, path)
);

CREATE TABLE rejects (
    run_id      BIGINT,
    source      VARCHAR NOT NULL,
    file        VARCHAR,
    line        BIGINT,
    column_name VARCHAR,
    reason      VARCHAR NOT NULL,           -- never the rejected value of an identifier
    rejected_at TIMESTAMP NOT NULL
);

CREATE TABLE locks (
    name       VARCHAR PRIMARY KEY,
    holder     VARCHAR NOT NULL,
    acquired_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
