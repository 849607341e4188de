-- 004: identities keep id_hash unique through ingestion (identity resolution inserts only hashes
-- that are not stored yet, each once: cdp/ingest/identity.py) instead of a PRIMARY KEY and an
-- index on customer_id: DuckDB's ART indexes made inserting 5M identities of 1M customers ~9x
-- slower (docs/decisions.md, docs/performance.md). Lookups by customer scan a few MB.
CREATE TABLE identities_v4 AS SELECT * FROM identities;
DROP TABLE identities;
ALTER TABLE identities_v4 RENAME TO identities;
ALTER TABLE identities ALTER COLUMN id_hash SET NOT NULL;
ALTER TABLE identities ALTER COLUMN kind SET NOT NULL;
ALTER TABLE identities ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE identities ALTER COLUMN first_seen_at SET NOT NULL;
