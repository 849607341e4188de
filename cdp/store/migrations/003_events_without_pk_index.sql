-- 003: events keep event_id unique through ingestion (anti-join + in-batch dedupe, cdp/ingest/load.py)
-- instead of a PRIMARY KEY: DuckDB's ART index doubles the load time of 50M events and holds
-- gigabytes of memory (docs/decisions.md). CTAS keeps any columns added to events so far.
CREATE TABLE events_v3 AS SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
ALTER TABLE events ALTER COLUMN event_id SET NOT NULL;
ALTER TABLE events ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE events ALTER COLUMN event_type SET NOT NULL;
ALTER TABLE events ALTER COLUMN ts SET NOT NULL;
