//! The audit log of privileged actions: who, what, when.

use chrono::Utc;
use sqlx::SqliteConnection;

pub async fn record(
    conn: &mut SqliteConnection,
    actor: i64,
    action: &str,
    subject: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit_log (actor_user_id, action, subject, detail, at) VALUES (?, ?, ?, ?, ?)")
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(Utc::now())
        .execute(conn)
        .await?;
    Ok(())
}
