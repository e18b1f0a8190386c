-- Schema version 8: each customer comment's sentiment, classified once per model and lexicon
-- version (`version`), with its evidence (JSON lists) and emotion tags, so that pages and KPIs
-- read the stored label instead of classifying the same comment again.
CREATE TABLE comment_sentiment (
    comment VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    score DOUBLE,
    lexicon VARCHAR,
    features VARCHAR,
    override VARCHAR,
    emotions VARCHAR,
    scored_at TIMESTAMP
);
