-- People the bot can write to in private: they have written to it there
-- (on Telegram a bot cannot open a private chat itself). A command that
-- answers only in private, typed in a group, is answered there for them;
-- anyone else is shown the way to the private chat.
CREATE TABLE private_chats (
    channel   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);

-- Who has written in private before this table: a dialogue in private chat,
-- a household, report or pledge of their own (all made in private), or a
-- Zalo account linked by the code it sent in private.
INSERT OR IGNORE INTO private_chats (channel, chat_id, opened_at)
    SELECT channel, chat_id, updated_at FROM dialogues WHERE chat_id = user_id;
INSERT OR IGNORE INTO private_chats (channel, chat_id, opened_at)
    SELECT u.channel, u.external_id, u.created_at FROM users u
    WHERE EXISTS (SELECT 1 FROM households h WHERE h.owner_user_id = u.id)
       OR EXISTS (SELECT 1 FROM reports r WHERE r.reporter_user_id = u.id)
       OR EXISTS (SELECT 1 FROM pledges p WHERE p.user_id = u.id);
INSERT OR IGNORE INTO private_chats (channel, chat_id, opened_at)
    SELECT channel, external_id, linked_at FROM user_aliases;
