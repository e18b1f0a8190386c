-- Schema version 3: the coaching loop — feedback notes with their edit history, improvement
-- plans with their KPIs (baseline measured at the start) and check-ins.
CREATE SEQUENCE note_ids START 1;
CREATE TABLE notes (
    note_id BIGINT PRIMARY KEY DEFAULT nextval('note_ids'),
    agent VARCHAR NOT NULL,
    period VARCHAR,                   -- the period the note is about, e.g. 2026-10
    kind VARCHAR NOT NULL,            -- praise, concern, agreement, knowledge
    kpi VARCHAR,                      -- optional: the KPI it is about
    ticket_id VARCHAR,                -- optional: the ticket it is about
    body VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP,
    updated_by VARCHAR,
    acknowledged_at TIMESTAMP,        -- set by the agent
    reply VARCHAR,
    replied_at TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT false,
    is_demo BOOLEAN NOT NULL DEFAULT false   -- part of the demo data, cleared with it
);
CREATE TABLE note_history (           -- every earlier version of a note, as it was
    note_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    kind VARCHAR,
    kpi VARCHAR,
    body VARCHAR,
    edited_by VARCHAR,
    edited_at TIMESTAMP,
    PRIMARY KEY (note_id, version)
);
CREATE SEQUENCE plan_ids START 1;
CREATE TABLE plans (
    plan_id BIGINT PRIMARY KEY DEFAULT nextval('plan_ids'),
    agent VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    due_date DATE NOT NULL,
    owner VARCHAR NOT NULL,           -- the trainer or manager responsible
    mentor VARCHAR,
    modules VARCHAR,                  -- training module ids, comma-separated
    status VARCHAR NOT NULL DEFAULT 'open',   -- open, closed, cancelled
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP,
    is_demo BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE plan_kpis (
    plan_id BIGINT NOT NULL,
    kpi VARCHAR NOT NULL,
    baseline DOUBLE,                  -- the KPI over the same length of time before the start
    baseline_n DOUBLE,
    target DOUBLE NOT NULL,
    PRIMARY KEY (plan_id, kpi)
);
CREATE TABLE plan_checkins (
    plan_id BIGINT NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    author VARCHAR NOT NULL,
    body VARCHAR NOT NULL
);
