-- Schema version 9: files taken from a watched folder, and digests posted to the team chat.
CREATE TABLE IF NOT EXISTS watched_files (
    sha256 VARCHAR PRIMARY KEY,       -- the content: the same bytes are stored once
    path VARCHAR NOT NULL,            -- where it was last seen
    size BIGINT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,          -- stored, nothing stored, rejected, failed
    message VARCHAR,                  -- the ingest summary or the reason it failed
    upload_id INTEGER
);
CREATE TABLE IF NOT EXISTS digest_posts (
    day DATE NOT NULL,                -- the day the digest is about
    hook VARCHAR NOT NULL,
    posted_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (day, hook)
);
