-- Schema version 4: alerts found in the data, what people did with them, webhook deliveries.
CREATE TABLE alerts (
    alert_key VARCHAR PRIMARY KEY,    -- rule, subject and first day: the same finding keeps one row
    rule VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- breach, sudden_change, backlog, unreplied
    severity VARCHAR NOT NULL,        -- info, warning, critical
    scope VARCHAR NOT NULL,           -- agent or team
    subject VARCHAR NOT NULL,         -- the agent or team name
    agent VARCHAR,                    -- set when the subject is an agent
    kpi VARCHAR,
    first_day DATE NOT NULL,
    last_day DATE NOT NULL,
    value DOUBLE,
    baseline DOUBLE,
    threshold DOUBLE,
    detail VARCHAR,                   -- the numbers behind it, as JSON
    status VARCHAR NOT NULL DEFAULT 'open',   -- open, acknowledged, resolved
    created_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE alert_events (
    alert_key VARCHAR NOT NULL,
    at_time TIMESTAMP NOT NULL,
    who VARCHAR NOT NULL,
    action VARCHAR NOT NULL,          -- acknowledged, resolved, reopened
    note VARCHAR
);
CREATE TABLE alert_deliveries (
    alert_key VARCHAR NOT NULL,
    hook VARCHAR NOT NULL,
    delivered_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (alert_key, hook)
);
