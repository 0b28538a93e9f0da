-- Scene reports (phản ánh hiện trường).

-- Whether a group's chat gets the public feed of its reports.
ALTER TABLE groups ADD COLUMN public_feed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reports (
    id               INTEGER PRIMARY KEY,
    group_id         INTEGER NOT NULL REFERENCES groups (id),
    reporter_user_id INTEGER NOT NULL REFERENCES users (id),
    category         TEXT NOT NULL,
    description      TEXT NOT NULL,
    latitude         REAL,
    longitude        REAL,
    address          TEXT,
    status           TEXT NOT NULL CHECK (status IN ('new', 'accepted', 'in_progress', 'resolved', 'declined')),
    -- A dissatisfied reporter reopens a resolved case once.
    reopened         INTEGER NOT NULL DEFAULT 0,
    rating           TEXT CHECK (rating IN ('satisfied', 'dissatisfied')),
    -- A leader may choose to show the photos in the public feed.
    share_photos     INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    closed_at        TEXT
);
CREATE INDEX reports_group_status ON reports (group_id, status, created_at);
CREATE INDEX reports_status_created ON reports (status, created_at);
CREATE INDEX reports_reporter ON reports (reporter_user_id);

CREATE TABLE report_photos (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    position  INTEGER NOT NULL,
    file_id   TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);

-- Every change of status: who, when, from, to, and the note.
CREATE TABLE report_events (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    actor_user_id INTEGER REFERENCES users (id),
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    note          TEXT,
    at            TEXT NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, at);

-- Daily jobs already run, so a restart does not run them twice in a day.
CREATE TABLE scheduled_runs (
    job    TEXT NOT NULL,
    day    TEXT NOT NULL,
    ran_at TEXT NOT NULL,
    PRIMARY KEY (job, day)
);
