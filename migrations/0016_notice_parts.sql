-- A notice longer than one message goes to a chat in parts, in order, each
-- sent once as a whole delivery is: the parts already sent are counted, so
-- a restart goes on with the first part not yet sent. `message_id` is the
-- first part's (the one pinned).
ALTER TABLE notice_deliveries ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
