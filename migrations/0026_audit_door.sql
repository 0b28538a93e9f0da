-- Ward actions are called through several doors (Telegram, Zalo, the web
-- desk, scheduled jobs, `todanpho admin`): each audit row names the one it
-- came through. Rows written before this migration came from a chat, which
-- one is not known: NULL.
ALTER TABLE audit_log ADD COLUMN door TEXT;
