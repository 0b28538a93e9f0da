-- The inbox: an update is recorded with its payload before its offset is
-- confirmed to Telegram, so one taken in but not yet handled when the
-- process died is handled after the restart. A handler's error is kept.
ALTER TABLE processed_updates ADD COLUMN payload TEXT;
ALTER TABLE processed_updates ADD COLUMN error TEXT;
CREATE INDEX processed_updates_unhandled ON processed_updates (channel, received_at) WHERE handled_at IS NULL;
