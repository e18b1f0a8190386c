-- Schema version 6: chat and e-mail transcripts, one row per message, for checking agent
-- replies (forbidden phrases). `sender` is as exported: agent/客服 or customer/买家 and the like.
CREATE TABLE messages (
    ticket_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    sender VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    sent_at TIMESTAMP,
    agent VARCHAR,
    upload_id BIGINT
);
