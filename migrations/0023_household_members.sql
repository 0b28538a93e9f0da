-- The people of a household besides its head (nhân khẩu) who use the bot
-- (issue 22): they see the household in /hocuatoi, and a consultation
-- counts them. One joins by the head's code, once the head accepts.
CREATE TABLE household_members (
    household_id INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    accepted_at  TEXT NOT NULL,
    PRIMARY KEY (household_id, user_id)
);
CREATE INDEX household_members_user ON household_members (user_id);

-- The code a head shares, one per household; a new one replaces it.
CREATE TABLE household_invites (
    household_id INTEGER PRIMARY KEY REFERENCES households (id) ON DELETE CASCADE,
    code         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);

-- Someone asking to join a household, until its head answers.
CREATE TABLE household_join_requests (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    requested_at TEXT NOT NULL,
    decided_at   TEXT
);
CREATE INDEX household_join_requests_household ON household_join_requests (household_id, status);
