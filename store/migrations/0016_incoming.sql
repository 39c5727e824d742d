-- The durable inbound queue (store/repos/incoming.py; docs/architecture.md "The path of
-- one update"): a Telegram update is kept here, committed, and only then confirmed to
-- Telegram (getUpdates' offset moves past it), so the poller never waits for a person's
-- step before it may see the next updates. A row lives until its update was handled: the
-- poller deletes it right after, and replays what is left, in update order, at the next
-- start. `body` is the update as Telegram sent it (the person's words, their name),
-- sealed with the data key like an answer, `bot:update` as context; `sender` is the
-- person's Telegram id as `people.external_id` holds it, so their erasure deletes their
-- unhandled rows too. No foreign keys: a row may come from someone not yet known.
CREATE TABLE incoming (
    bot_id          TEXT NOT NULL,
    update_id       INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    sender          TEXT,
    body            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (bot_id, update_id)
);
CREATE INDEX incoming_by_sender ON incoming (channel, sender);
