-- Schema version 2: versioned scoring schemes, and an id that tells stores apart in caches.
CREATE TABLE scheme_versions (
    scheme VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR,
    reason VARCHAR,
    body VARCHAR NOT NULL,            -- the scheme as YAML
    diff VARCHAR,                     -- what changed from the previous version, one change a line
    PRIMARY KEY (scheme, version)
);

INSERT INTO schema_meta VALUES ('store_id', CAST(uuid() AS VARCHAR)) ON CONFLICT DO NOTHING;

-- A QA criterion may be not applicable (N/A): its score is then empty and left out.
ALTER TABLE qa_reviews ALTER COLUMN score DROP NOT NULL;
