-- "Đã xem" counts once per household, for the household's own group,
-- whichever copy of the notice was pressed (a ward notice reaches every
-- group's chat): an acknowledgement names the household of the person who
-- pressed, and its group is that household's. Those already made are
-- brought in line.
ALTER TABLE notice_acks ADD COLUMN household_id INTEGER REFERENCES households (id);
UPDATE notice_acks SET household_id = (
    SELECT h.id FROM households h WHERE h.owner_user_id = notice_acks.user_id AND h.status = 'approved' ORDER BY h.id LIMIT 1
);
UPDATE notice_acks SET group_id = (SELECT h.group_id FROM households h WHERE h.id = notice_acks.household_id)
    WHERE household_id IS NOT NULL;
CREATE UNIQUE INDEX notice_acks_household ON notice_acks (notice_id, household_id) WHERE household_id IS NOT NULL;
