-- Outbox ids are never handed out twice. The log of sent replies
-- (`<database>.sent-replies`) names rows by id; with a plain INTEGER
-- PRIMARY KEY, SQLite gave a deleted row's id to the next reply, and a
-- restart then took that unsent reply for the sent one and dropped it.
-- AUTOINCREMENT keeps every id ever used out of reach; ids still grow in
-- the order rows are inserted, which is the order replies are sent in.
CREATE TABLE reply_outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    update_id TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO reply_outbox_new (id, channel, update_id, action, created_at)
    SELECT id, channel, update_id, action, created_at FROM reply_outbox ORDER BY id;
DROP TABLE reply_outbox;
ALTER TABLE reply_outbox_new RENAME TO reply_outbox;

-- The inbox keeps handled updates only as long as a platform may deliver
-- them again (Telegram keeps an update for 24 hours); older ones are
-- removed by age, and this index finds them.
CREATE INDEX processed_updates_handled ON processed_updates (handled_at) WHERE handled_at IS NOT NULL;
