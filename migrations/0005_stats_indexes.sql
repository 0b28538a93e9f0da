-- Covering indexes for /thongke: the per-group household figures and the
-- reports closed in a period are read without touching the tables.
CREATE INDEX households_stats ON households (group_id, status, members, smartphone_users, has_epayment, vneid_level2);
CREATE INDEX reports_closed ON reports (closed_at, group_id, status, rating, created_at);
