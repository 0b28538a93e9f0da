//! The names of what the bot counts and times where it happens, with the
//! `metrics` crate's macros; `ops` shows them at `/metrics`. Labels hold a
//! platform, a kind of update, a status or a table name: never personal
//! data.

/// Updates taken in, by platform.
pub const RECEIVED: &str = "todanpho_updates_received_total";
/// Updates handled, by platform and kind (command, text, button …).
pub const HANDLED: &str = "todanpho_updates_handled_total";
/// Handlers that failed (an error or a panic), by platform and kind.
pub const FAILED: &str = "todanpho_handler_failures_total";
/// Requests to a platform tried again, by platform.
pub const RETRIED: &str = "todanpho_sends_retried_total";
/// "Slow down" answers (HTTP 429), by platform.
pub const RATE_LIMITED: &str = "todanpho_rate_limited_total";
/// How long the writer's commits take, in seconds.
pub const COMMIT_SECONDS: &str = "todanpho_writer_commit_seconds";
/// When the last daily backup was made, in Unix seconds.
pub const LAST_BACKUP: &str = "todanpho_last_backup_timestamp_seconds";
/// Times the journal was checkpointed and truncated after secret answers
/// (see `consultation::secrecy`).
pub const JOURNAL_SCRUBS: &str = "todanpho_journal_scrubs_total";
