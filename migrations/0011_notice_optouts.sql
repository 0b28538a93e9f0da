-- People who asked not to get notices in private (on Zalo, where notices
-- come one by one rather than in the group).
CREATE TABLE notice_optouts (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    at TEXT NOT NULL
);
