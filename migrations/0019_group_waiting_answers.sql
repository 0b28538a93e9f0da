-- Answers a busy group's limit held back (see `flood::waiting`): a
-- resident the bot cannot write to in private, who asked in the group
-- while the group had already heard the bot this minute, is answered in
-- one message with everyone else who asked, when the minute allows. Kept
-- here, written with the update that asked, so a restart loses none.
CREATE TABLE group_waiting (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    channel   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    -- How the answer names the person: "Nam" in "Mời bác Nam, bác Mai…".
    name      TEXT NOT NULL,
    -- The answer, as the outbox stores an action.
    action    TEXT NOT NULL,
    asked_at  TEXT NOT NULL
);
CREATE INDEX group_waiting_chat ON group_waiting (channel, chat_id, id);
