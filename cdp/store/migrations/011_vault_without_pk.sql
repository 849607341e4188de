-- 011: the vault keeps (customer_id, field) unique through Vault.put_many (the last value per
-- pair wins, the stored row is deleted before the new one is inserted) instead of a PRIMARY KEY:
-- DuckDB's ART index made writing the 3.3M contact fields of 1M customers several times slower
-- (docs/decisions.md, docs/performance.md).
CREATE TABLE vault_v11 AS SELECT * FROM vault;
DROP TABLE vault;
ALTER TABLE vault_v11 RENAME TO vault;
ALTER TABLE vault ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE vault ALTER COLUMN field SET NOT NULL;
ALTER TABLE vault ALTER COLUMN nonce SET NOT NULL;
ALTER TABLE vault ALTER COLUMN ciphertext SET NOT NULL;
ALTER TABLE vault ALTER COLUMN updated_at SET NOT NULL;
