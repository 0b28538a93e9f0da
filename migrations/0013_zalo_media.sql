-- Photos residents send on Zalo arrive as URLs that may expire: the bytes
-- are fetched when the photo comes in and kept here, by URL.
CREATE TABLE zalo_media (
    url TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    content_type TEXT,
    fetched_at TEXT NOT NULL
);
