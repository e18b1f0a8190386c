-- Schema version 1: canonical tables, upload log and quarantine.
-- Keys are enforced by ingestion (re-uploads upsert by key); upload_id records the upload that last wrote a row.

CREATE SEQUENCE IF NOT EXISTS upload_id_seq START 1;

CREATE TABLE uploads (
    upload_id BIGINT PRIMARY KEY DEFAULT nextval('upload_id_seq'),
    file_name VARCHAR NOT NULL,
    file_hash VARCHAR,
    file_bytes BIGINT,
    kind VARCHAR,
    mapping VARCHAR,
    sheet VARCHAR,
    uploaded_by VARCHAR,
    uploaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    status VARCHAR NOT NULL,          -- stored | rejected
    message VARCHAR,
    rows_read BIGINT DEFAULT 0,
    accepted BIGINT DEFAULT 0,
    inserted BIGINT DEFAULT 0,
    updated BIGINT DEFAULT 0,
    duplicates BIGINT DEFAULT 0,
    quarantined BIGINT DEFAULT 0,
    is_demo BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE quarantine (
    upload_id BIGINT NOT NULL,
    file_name VARCHAR NOT NULL,
    row_number BIGINT,
    "column" VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    raw_row VARCHAR                   -- the source row as JSON, so it can be fixed and re-uploaded
);

CREATE TABLE tickets (
    ticket_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    first_response_at TIMESTAMP,
    resolved_at TIMESTAMP,
    channel VARCHAR,
    priority VARCHAR,
    status VARCHAR,
    team VARCHAR,
    customer_id VARCHAR,
    category VARCHAR,
    contacts BIGINT,
    agent_replies BIGINT,
    reopens BIGINT,
    transferred BOOLEAN,
    escalated BOOLEAN,
    is_complaint BOOLEAN,
    handle_time_s DOUBLE,
    csat DOUBLE,
    comment VARCHAR,
    upload_id BIGINT
);

CREATE TABLE csat_responses (
    ticket_id VARCHAR NOT NULL,
    rating DOUBLE NOT NULL,
    agent VARCHAR,
    responded_at TIMESTAMP,
    scale BIGINT,
    comment VARCHAR,
    upload_id BIGINT
);

CREATE TABLE orders (
    order_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    amount DOUBLE NOT NULL,
    paid_at TIMESTAMP,
    status VARCHAR,
    refund_amount DOUBLE,
    customer_id VARCHAR,
    ticket_id VARCHAR,
    upload_id BIGINT
);

CREATE TABLE agent_daily (
    date DATE NOT NULL,
    agent VARCHAR NOT NULL,
    inquiries BIGINT,
    receptions BIGINT,
    paying_customers BIGINT,
    orders BIGINT,
    sales_amount DOUBLE,
    refund_amount DOUBLE,
    avg_response_s DOUBLE,
    first_response_s DOUBLE,
    reply_rate DOUBLE,
    reply_3min_rate DOUBLE,
    satisfaction_rate DOUBLE,
    good_reviews BIGINT,
    bad_reviews BIGINT,
    unreplied BIGINT,
    transfers BIGINT,
    upload_id BIGINT
);

CREATE TABLE qa_reviews (
    review_id VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    criterion VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    ticket_id VARCHAR,
    reviewed_at TIMESTAMP,
    max_score DOUBLE,
    critical_failed BOOLEAN,
    comment VARCHAR,
    upload_id BIGINT
);

CREATE TABLE peer_reviews (
    period VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    comment VARCHAR,
    upload_id BIGINT
);

CREATE TABLE roster (
    agent VARCHAR NOT NULL,
    display_name VARCHAR,
    team VARCHAR,
    supervisor VARCHAR,
    hire_date DATE,
    shift VARCHAR,
    active BOOLEAN,
    upload_id BIGINT
);
