-- 050: campaigns measured against the segment's holdout (issue 9).
CREATE TABLE campaigns (
    name        VARCHAR PRIMARY KEY,
    segment     VARCHAR NOT NULL,
    start_date  DATE NOT NULL,             -- workspace-local, inclusive
    end_date    DATE NOT NULL,             -- workspace-local, inclusive
    outcome     VARCHAR NOT NULL,          -- event type counted as a response
    sync        VARCHAR,                   -- the sync that delivered it, if any
    purpose     VARCHAR,
    created_at  TIMESTAMP NOT NULL
);
