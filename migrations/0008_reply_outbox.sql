-- Replies of an update that changed something. They are written in the
-- update's own transaction, together with its effects and its "handled"
-- mark, and removed one by one as they are sent: replies left here by a
-- crash are sent after the restart, and the update is not handled again.
CREATE TABLE reply_outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    update_id TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TEXT NOT NULL
);
