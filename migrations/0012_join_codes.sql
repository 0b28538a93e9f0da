-- Joining a group without deep links (Zalo): each group has a short code
-- leaders hand out (/mato); a resident who sends it is bound to the group.
ALTER TABLE groups ADD COLUMN join_code TEXT;
CREATE UNIQUE INDEX groups_join_code ON groups (join_code);
CREATE TABLE group_members (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    group_id INTEGER NOT NULL REFERENCES groups (id),
    joined_at TEXT NOT NULL
);
