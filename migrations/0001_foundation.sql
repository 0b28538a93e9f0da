-- People the bot has met, on any channel.
CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    UNIQUE (channel, external_id)
);

-- Ward officials (cán bộ phường). Seeded from config, appointed by officials.
CREATE TABLE officials (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id),
    appointed_by INTEGER REFERENCES users (id),
    appointed_at TEXT NOT NULL
);

-- Groups of the ward (tổ dân phố / thôn).
CREATE TABLE groups (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL,
    name_folded         TEXT NOT NULL UNIQUE,
    expected_households INTEGER,
    created_at          TEXT NOT NULL
);

-- The chat(s) linked to a group. A chat belongs to at most one group.
CREATE TABLE group_chats (
    channel   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    group_id  INTEGER NOT NULL REFERENCES groups (id),
    linked_by INTEGER REFERENCES users (id),
    linked_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX group_chats_group ON group_chats (group_id);

-- Leaders (tổ trưởng, tổ phó) of a group.
CREATE TABLE leaders (
    group_id     INTEGER NOT NULL REFERENCES groups (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    appointed_by INTEGER REFERENCES users (id),
    appointed_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX leaders_user ON leaders (user_id);

-- Dialogues in progress, keyed by chat and user.
CREATE TABLE dialogues (
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    flow       TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id, user_id)
);

CREATE TABLE households (
    id                INTEGER PRIMARY KEY,
    group_id          INTEGER NOT NULL REFERENCES groups (id),
    owner_user_id     INTEGER NOT NULL REFERENCES users (id),
    head_name         TEXT NOT NULL,
    head_name_folded  TEXT NOT NULL,
    house_number      TEXT NOT NULL,
    lane              TEXT,
    street            TEXT NOT NULL,
    phone             TEXT NOT NULL,
    members           INTEGER NOT NULL CHECK (members BETWEEN 1 AND 50),
    smartphone_users  INTEGER NOT NULL CHECK (smartphone_users >= 0),
    has_epayment      INTEGER NOT NULL CHECK (has_epayment IN (0, 1)),
    vneid_level2      INTEGER NOT NULL CHECK (vneid_level2 >= 0),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    decided_by        INTEGER REFERENCES users (id),
    decided_at        TEXT
);
CREATE INDEX households_group_status ON households (group_id, status);
CREATE INDEX households_owner ON households (owner_user_id);
CREATE INDEX households_name ON households (head_name_folded);

CREATE TABLE household_circumstances (
    household_id INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    circumstance TEXT NOT NULL CHECK (circumstance IN ('poor', 'near_poor', 'policy', 'lonely_elderly', 'disability')),
    PRIMARY KEY (household_id, circumstance)
);

-- A change to an approved household waits here until a leader decides;
-- the household keeps its approved details meanwhile.
CREATE TABLE household_updates (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id),
    details      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    submitted_at TEXT NOT NULL,
    decided_by   INTEGER REFERENCES users (id),
    decided_at   TEXT
);
CREATE INDEX household_updates_household ON household_updates (household_id, status);

-- Who did what privileged thing, and when.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users (id),
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    detail        TEXT,
    at            TEXT NOT NULL
);

-- Updates already taken in, so a redelivered update is not handled twice.
CREATE TABLE processed_updates (
    channel     TEXT NOT NULL,
    update_id   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    handled_at  TEXT,
    PRIMARY KEY (channel, update_id)
);
