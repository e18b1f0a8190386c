-- Schema version 11: shops and platforms, accounts linked to people, period reports and
-- the platforms' peer benchmarks.
-- Rows stored before this version belong to one default shop ('' on no named platform), and
-- each row's account is its agent as stored.
ALTER TABLE tickets ADD COLUMN shop VARCHAR DEFAULT '';
ALTER TABLE tickets ADD COLUMN platform VARCHAR DEFAULT '';
ALTER TABLE tickets ADD COLUMN account VARCHAR;
UPDATE tickets SET account = agent;
ALTER TABLE csat_responses ADD COLUMN shop VARCHAR DEFAULT '';
ALTER TABLE csat_responses ADD COLUMN platform VARCHAR DEFAULT '';
ALTER TABLE csat_responses ADD COLUMN account VARCHAR;
UPDATE csat_responses SET account = agent;
ALTER TABLE orders ADD COLUMN shop VARCHAR DEFAULT '';
ALTER TABLE orders ADD COLUMN platform VARCHAR DEFAULT '';
ALTER TABLE orders ADD COLUMN account VARCHAR;
UPDATE orders SET account = agent;
ALTER TABLE agent_daily ADD COLUMN shop VARCHAR DEFAULT '';
ALTER TABLE agent_daily ADD COLUMN platform VARCHAR DEFAULT '';
ALTER TABLE agent_daily ADD COLUMN account VARCHAR;
UPDATE agent_daily SET account = agent;
-- A period report (no date column) is stored for the period the uploader states: `date` is
-- its first day and `period_end` its last; daily rows leave period_end empty.
ALTER TABLE agent_daily ADD COLUMN period_end DATE;
-- Several reports can give different columns of one agent's day (京东's service, sales and
-- reviews): each keeps its own row, named by the mapping that read it.
ALTER TABLE agent_daily ADD COLUMN report VARCHAR DEFAULT '';
UPDATE agent_daily SET report = coalesce(
    (SELECT u.mapping FROM uploads u WHERE u.upload_id = agent_daily.upload_id), '');
ALTER TABLE agent_daily ADD COLUMN reply_30s_rate DOUBLE;
ALTER TABLE agent_daily ADD COLUMN service_score DOUBLE;
ALTER TABLE agent_daily ADD COLUMN lost_inquiries BIGINT;
ALTER TABLE agent_daily ADD COLUMN answer_ratio DOUBLE;
ALTER TABLE agent_daily ADD COLUMN no_service_rate DOUBLE;
ALTER TABLE agent_daily ADD COLUMN bad_review_rate DOUBLE;
ALTER TABLE agent_daily ADD COLUMN conversion_rate DOUBLE;
-- Uploads stored before shops were recorded: when a later upload restates their rows under a
-- shop (or a sub-account), it replaces them rather than adding a second copy.
ALTER TABLE uploads ADD COLUMN before_shops BOOLEAN DEFAULT false;
UPDATE uploads SET before_shops = true;
ALTER TABLE uploads ADD COLUMN period_from DATE;
ALTER TABLE uploads ADD COLUMN period_to DATE;
-- One person, many accounts: a platform account in a shop belongs to one agent (person).
CREATE TABLE accounts (
    platform VARCHAR NOT NULL,
    shop VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    previous VARCHAR,                 -- the agent its rows had before, restored on unlinking
    linked_by VARCHAR NOT NULL,
    linked_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (platform, shop, account)
);
-- The platform's own reference rows of a report (同行同层优秀/均值, 全店平均值 …): one value
-- per shop, period, kind and agent_daily column.
CREATE TABLE benchmarks (
    platform VARCHAR NOT NULL,
    shop VARCHAR NOT NULL,
    date DATE NOT NULL,
    period_end DATE,
    kind VARCHAR NOT NULL,            -- peer_best | peer_average | shop_total | shop_average
    label VARCHAR NOT NULL,           -- the row's label as the export wrote it
    "column" VARCHAR NOT NULL,
    value DOUBLE,
    upload_id BIGINT
);
