//! The audit log of privileged actions: who, what, when.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One row: `actor` did `action` to `subject` at `at` (the bot's clock).
pub async fn record(
    conn: &mut SqliteConnection,
    actor: i64,
    action: &str,
    subject: &str,
    detail: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit_log (actor_user_id, action, subject, detail, at) VALUES (?, ?, ?, ?, ?)")
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}
