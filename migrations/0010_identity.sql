-- One person on two platforms: a one-time code issued on Telegram and sent
-- to the bot on Zalo ties that Zalo account to the person (src/identity.rs).
CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE TABLE user_aliases (
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    linked_at TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
