-- One row that /healthz writes, to know the database takes writes (a full
-- disk or a read-only file system refuses it).
CREATE TABLE ops_heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
