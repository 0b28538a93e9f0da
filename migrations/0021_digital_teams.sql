-- Community digital teams (tổ công nghệ số cộng đồng, issue 23): the teams,
-- the groups each covers and its members; the visits members record; and
-- every change to a household's digital indicators, with who made it and
-- from where, so that nothing is overwritten silently.

CREATE TABLE digital_teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL
);

CREATE TABLE digital_team_groups (
    team_id  INTEGER NOT NULL REFERENCES digital_teams (id),
    group_id INTEGER NOT NULL REFERENCES groups (id),
    PRIMARY KEY (team_id, group_id)
);
CREATE INDEX digital_team_groups_group ON digital_team_groups (group_id);

-- A member removed is deleted: their role ends with the row.
CREATE TABLE digital_team_members (
    team_id  INTEGER NOT NULL REFERENCES digital_teams (id),
    user_id  INTEGER NOT NULL REFERENCES users (id),
    added_by INTEGER NOT NULL REFERENCES users (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX digital_team_members_user ON digital_team_members (user_id);

-- Facts the registration form does not ask: the ward's app installed, the
-- household in the group's chat. No row: neither yet.
CREATE TABLE household_digital (
    household_id INTEGER PRIMARY KEY REFERENCES households (id) ON DELETE CASCADE,
    ward_app     INTEGER NOT NULL DEFAULT 0 CHECK (ward_app IN (0, 1)),
    joined_group INTEGER NOT NULL DEFAULT 0 CHECK (joined_group IN (0, 1))
);

-- Where /tiendo measures from: the figures given at registration, or for a
-- household registered before this migration, its figures when it ran.
CREATE TABLE household_baselines (
    household_id     INTEGER PRIMARY KEY REFERENCES households (id) ON DELETE CASCADE,
    smartphone_users INTEGER NOT NULL,
    has_epayment     INTEGER NOT NULL,
    vneid_level2     INTEGER NOT NULL,
    since            TEXT NOT NULL
);
INSERT INTO household_baselines (household_id, smartphone_users, has_epayment, vneid_level2, since)
    SELECT id, smartphone_users, has_epayment, vneid_level2, created_at FROM households;
-- In the database, so that no way of registering can forget it.
CREATE TRIGGER household_baseline AFTER INSERT ON households BEGIN
    INSERT INTO household_baselines (household_id, smartphone_users, has_epayment, vneid_level2, since)
    VALUES (NEW.id, NEW.smartphone_users, NEW.has_epayment, NEW.vneid_level2, NEW.created_at);
END;

CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    household_id    INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    -- The recorder's team covering the household's group; none for a
    -- leader or an official who is on no such team.
    team_id         INTEGER REFERENCES digital_teams (id),
    by_user_id      INTEGER NOT NULL REFERENCES users (id),
    visited_on      TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('helped', 'not_home', 'declined')),
    vneid_added     INTEGER NOT NULL DEFAULT 0 CHECK (vneid_added >= 0),
    epayment_opened INTEGER NOT NULL DEFAULT 0 CHECK (epayment_opened IN (0, 1)),
    ward_app        INTEGER NOT NULL DEFAULT 0 CHECK (ward_app IN (0, 1)),
    joined_group    INTEGER NOT NULL DEFAULT 0 CHECK (joined_group IN (0, 1)),
    public_service  INTEGER NOT NULL DEFAULT 0 CHECK (public_service IN (0, 1)),
    note            TEXT,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_on);
CREATE INDEX visits_group ON visits (group_id, visited_on);
CREATE INDEX visits_team ON visits (team_id, visited_on);
CREATE INDEX visits_by ON visits (by_user_id, visited_on);

CREATE TABLE indicator_events (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    indicator    TEXT NOT NULL
                 CHECK (indicator IN ('smartphone_users', 'has_epayment', 'vneid_level2', 'ward_app', 'joined_group')),
    before       INTEGER NOT NULL,
    after        INTEGER NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('visit', 'resident', 'leader')),
    visit_id     INTEGER REFERENCES visits (id) ON DELETE CASCADE,
    by_user_id   INTEGER NOT NULL REFERENCES users (id),
    at           TEXT NOT NULL
);
CREATE INDEX indicator_events_household ON indicator_events (household_id, id);
CREATE INDEX indicator_events_at ON indicator_events (at);
