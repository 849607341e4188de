-- 012: the consent ledger's lookups (dedupe by payload digest, a customer's history) are joins
-- or scans; the two ART indexes only cost time: updating them was ~10 s of appending 2.45M
-- consent events (docs/decisions.md, docs/performance.md).
DROP INDEX IF EXISTS consent_events_customer;
DROP INDEX IF EXISTS consent_events_digest;
