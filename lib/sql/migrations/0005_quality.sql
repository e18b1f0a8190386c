-- Schema version 5: quality reviews — rubric versions and the criteria in force (read by the
-- review scores), the review queue built by sampling, disputes, and the earlier scores of
-- reviews changed on a dispute.
CREATE TABLE qa_rubric_versions (
    version INTEGER PRIMARY KEY,
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR,
    reason VARCHAR,
    body VARCHAR NOT NULL             -- the rubric as YAML
);
CREATE TABLE qa_criteria (            -- one row per name a criterion is known by
    name_key VARCHAR PRIMARY KEY,     -- lower-cased id, label or alias
    criterion VARCHAR NOT NULL,       -- the rubric's criterion id
    weight DOUBLE NOT NULL,
    points DOUBLE NOT NULL,
    critical BOOLEAN NOT NULL
);
CREATE SEQUENCE qa_queue_ids START 1;
CREATE TABLE qa_queue (
    item_id BIGINT PRIMARY KEY DEFAULT nextval('qa_queue_ids'),
    period VARCHAR NOT NULL,          -- e.g. 2026-10
    ticket_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,          -- random, per_agent, low_csat, slow_response, negative_comment, escalated
    status VARCHAR NOT NULL DEFAULT 'open',   -- open, done, skipped
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR,
    review_id VARCHAR,                -- the review that closed it
    UNIQUE (ticket_id, reviewer)
);
CREATE SEQUENCE qa_dispute_ids START 1;
CREATE TABLE qa_disputes (
    dispute_id BIGINT PRIMARY KEY DEFAULT nextval('qa_dispute_ids'),
    review_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    opened_by VARCHAR NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'open',   -- open, upheld, changed
    decided_by VARCHAR,
    decided_at TIMESTAMP,
    decision VARCHAR,                 -- the manager's words
    score_before DOUBLE,
    score_after DOUBLE
);
CREATE TABLE qa_review_history (      -- a review's criterion scores before a dispute changed them
    review_id VARCHAR NOT NULL,
    criterion VARCHAR NOT NULL,
    score DOUBLE,
    critical_failed BOOLEAN,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL,
    dispute_id BIGINT
);
