-- The kind of refusal an update was answered with (`NoRight`, `WrongPlace`,
-- `State`, … as named by `Refusal::kind`): why the bot did not do what was
-- asked, for the logs of an update and for the role matrix's tests. NULL
-- when the update was not refused.
ALTER TABLE processed_updates ADD COLUMN refused TEXT;
