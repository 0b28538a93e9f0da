-- Notices (thông báo) and their durable outbox.

CREATE TABLE notices (
    id             INTEGER PRIMARY KEY,
    sender_user_id INTEGER NOT NULL REFERENCES users (id),
    text           TEXT NOT NULL,
    photo_file_id  TEXT,
    pin            INTEGER NOT NULL DEFAULT 0,
    -- NULL: as soon as it is queued.
    scheduled_for  TEXT,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'done', 'cancelled')),
    created_at     TEXT NOT NULL,
    queued_at      TEXT,
    finished_at    TEXT
);
CREATE INDEX notices_status ON notices (status, scheduled_for);

-- The groups a draft is for (the sender toggles them before sending).
CREATE TABLE notice_targets (
    notice_id INTEGER NOT NULL REFERENCES notices (id),
    group_id  INTEGER NOT NULL REFERENCES groups (id),
    PRIMARY KEY (notice_id, group_id)
);

-- One row per target chat, written before anything is sent.
CREATE TABLE notice_deliveries (
    id              INTEGER PRIMARY KEY,
    notice_id       INTEGER NOT NULL REFERENCES notices (id),
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    message_id      TEXT,
    error           TEXT,
    sent_at         TEXT,
    UNIQUE (notice_id, channel, chat_id)
);
CREATE INDEX notice_deliveries_due ON notice_deliveries (status, next_attempt_at);

-- "Đã xem": once per notice and person.
CREATE TABLE notice_acks (
    notice_id INTEGER NOT NULL REFERENCES notices (id),
    user_id   INTEGER NOT NULL REFERENCES users (id),
    group_id  INTEGER REFERENCES groups (id),
    at        TEXT NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
