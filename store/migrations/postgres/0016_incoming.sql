-- Hearth schema for PostgreSQL: the twin of ../0016_incoming.sql (the durable inbound
-- queue; no foreign keys, same reason as there).
CREATE TABLE incoming (
    bot_id          TEXT NOT NULL,
    update_id       BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    sender          TEXT,
    body            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (bot_id, update_id)
);
CREATE INDEX incoming_by_sender ON incoming (channel, sender);
