-- Zalo has no buttons: the options of the last message the bot sent to a
-- chat are kept here, so that a number or label typed back is that
-- button's press (see src/zalo/menu.rs).
CREATE TABLE zalo_menus (
    chat_id TEXT PRIMARY KEY,
    options TEXT NOT NULL,
    shown_at TEXT NOT NULL
);
