-- Consultations (lấy ý kiến nhân dân, issue 22): a question put to every
-- registered household (or person) of some groups, answered in private,
-- open or secret.
CREATE TABLE consultations (
    id              INTEGER PRIMARY KEY,
    creator_user_id INTEGER NOT NULL REFERENCES users (id),
    question        TEXT NOT NULL,
    explanation     TEXT,
    photo_file_id   TEXT,
    -- JSON array of the options' labels, in the order shown.
    options         TEXT NOT NULL,
    -- The option that asks for a short text ("Ý kiến khác"), if any.
    other_option    INTEGER,
    unit            TEXT NOT NULL CHECK (unit IN ('household', 'person')),
    ballot          TEXT NOT NULL CHECK (ballot IN ('open', 'secret')),
    closes_at       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'cancelled')),
    created_at      TEXT NOT NULL,
    opened_at       TEXT,
    closed_at       TEXT,
    closed_by       INTEGER REFERENCES users (id),
    -- The group posts show participation, edited at most once a minute.
    post_dirty      INTEGER NOT NULL DEFAULT 0,
    post_edited_at  TEXT,
    -- Bumped by every secret answer: the journal is scrubbed whenever the
    -- sum moved since the last scrub (src/consultation/secrecy.rs).
    secret_writes   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX consultations_open ON consultations (status, closes_at);

-- The groups asked, with how many were expected to answer when it was sent.
CREATE TABLE consultation_groups (
    consultation_id INTEGER NOT NULL REFERENCES consultations (id),
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    registered      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consultation_id, group_id)
);

-- "Has answered": one row per household (person = 0) or per person of a
-- household (person = their user id). Kept apart from what was answered.
CREATE TABLE consultation_answered (
    consultation_id INTEGER NOT NULL REFERENCES consultations (id),
    household_id    INTEGER NOT NULL REFERENCES households (id),
    person          INTEGER NOT NULL DEFAULT 0,
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    receipt         TEXT NOT NULL UNIQUE,
    via             TEXT NOT NULL CHECK (via IN ('telegram', 'zalo', 'paper')),
    recorded_by     INTEGER REFERENCES users (id),
    answered_at     TEXT NOT NULL,
    PRIMARY KEY (consultation_id, household_id, person)
);
CREATE INDEX consultation_answered_groups ON consultation_answered (consultation_id, group_id);

-- The answers of an open ballot, every one kept with who and when; the
-- latest of each voter is current.
CREATE TABLE consultation_votes (
    id              INTEGER PRIMARY KEY,
    consultation_id INTEGER NOT NULL REFERENCES consultations (id),
    household_id    INTEGER NOT NULL REFERENCES households (id),
    person          INTEGER NOT NULL DEFAULT 0,
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    user_id         INTEGER REFERENCES users (id),
    recorded_by     INTEGER REFERENCES users (id),
    option          INTEGER NOT NULL,
    other_text      TEXT,
    via             TEXT NOT NULL CHECK (via IN ('telegram', 'zalo', 'paper')),
    at              TEXT NOT NULL,
    current         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX consultation_votes_current ON consultation_votes (consultation_id, current, group_id, option);
CREATE INDEX consultation_votes_voter ON consultation_votes (consultation_id, household_id, person, current);

-- The answers of a secret ballot: nothing that refers to a household, a
-- person, a chat or a time, and no row id that would put them in the
-- order they came (the key is random). The group stays, for results per
-- group where a group has at least 10 answers.
CREATE TABLE ballot_box (
    consultation_id INTEGER NOT NULL REFERENCES consultations (id),
    token           BLOB NOT NULL,
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    option          INTEGER NOT NULL,
    other_text      TEXT,
    PRIMARY KEY (consultation_id, token)
) WITHOUT ROWID;
CREATE INDEX ballot_box_tally ON ballot_box (consultation_id, group_id, option);

-- A leader may propose someone for a household (/themvaoho); the head
-- still accepts.
ALTER TABLE household_join_requests ADD COLUMN proposed_by INTEGER REFERENCES users (id);

-- A notice may carry its own buttons for each platform (JSON: platform →
-- keyboard), shown under its text as it is; and what it is, for its
-- sender's summary ("phiếu lấy ý kiến YK3"). A consultation reaches the
-- groups as such notices: its post, and at the close its result.
ALTER TABLE notices ADD COLUMN keyboards TEXT;
ALTER TABLE notices ADD COLUMN about TEXT;
ALTER TABLE consultations ADD COLUMN post_notice_id INTEGER REFERENCES notices (id);
ALTER TABLE consultations ADD COLUMN result_notice_id INTEGER REFERENCES notices (id);
