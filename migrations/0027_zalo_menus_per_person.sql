-- A Zalo chat's numbered options belong to the person they were shown to:
-- in a group chat two residents answering must not take each other's
-- numbers. Rebuilt keyed by (chat, person); the rows before this were all
-- private chats', whose person's id is the chat's id. Written now in the
-- transaction that queues the message (see src/channel/menus.rs).
CREATE TABLE zalo_menus_per_person (
    chat_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    options TEXT NOT NULL,
    aside TEXT,
    shown_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, person_id)
);
INSERT INTO zalo_menus_per_person (chat_id, person_id, options, aside, shown_at)
SELECT chat_id, chat_id, options, aside, shown_at FROM zalo_menus;
DROP TABLE zalo_menus;
ALTER TABLE zalo_menus_per_person RENAME TO zalo_menus;
