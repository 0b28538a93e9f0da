-- Fundraising campaigns (vận động ủng hộ) and pledges.

CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    title              TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    target             INTEGER CHECK (target IS NULL OR target > 0),
    -- The last day (ward time, yyyy-mm-dd) pledges are taken.
    deadline           TEXT NOT NULL,
    accepts_cash       INTEGER NOT NULL CHECK (accepts_cash IN (0, 1)),
    bank_bin           TEXT,
    bank_name          TEXT,
    account_number     TEXT,
    account_holder     TEXT,
    ward_wide          INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by         INTEGER NOT NULL REFERENCES users (id),
    created_at         TEXT NOT NULL,
    closed_by          INTEGER REFERENCES users (id),
    closed_at          TEXT,
    -- The announcements show an older total; edits are throttled.
    progress_dirty     INTEGER NOT NULL DEFAULT 0,
    progress_edited_at TEXT,
    CHECK (accepts_cash = 1 OR account_number IS NOT NULL)
);

CREATE TABLE campaign_groups (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    PRIMARY KEY (campaign_id, group_id)
);

CREATE TABLE pledges (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    -- NULL for cash a leader records for someone not on the bot.
    user_id         INTEGER REFERENCES users (id),
    donor_name      TEXT NOT NULL,
    anonymous       INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    method          TEXT NOT NULL CHECK (method IN ('cash', 'transfer')),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    status          TEXT NOT NULL CHECK (status IN ('registered', 'received', 'not_received')),
    -- What was really received; only received money counts.
    received_amount INTEGER CHECK (received_amount IS NULL OR received_amount > 0),
    decided_by      INTEGER REFERENCES users (id),
    decided_at      TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX pledges_campaign ON pledges (campaign_id, status);

-- Messages the bot posted and edits later (campaign announcements), with
-- the id the platform gave them.
CREATE TABLE posted_messages (
    tag        TEXT NOT NULL,
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    posted_at  TEXT NOT NULL,
    PRIMARY KEY (tag, channel, chat_id)
);
