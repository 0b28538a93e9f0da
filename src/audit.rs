//! The audit log of privileged actions: who, through which door, what,
//! when.

use sqlx::SqliteConnection;

use crate::action::Actor;

/// One row: `actor` did `action` to `subject`, through their door, at their
/// time (the bot's clock).
pub async fn record(
    conn: &mut SqliteConnection,
    actor: &Actor,
    action: &str,
    subject: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit_log (actor_user_id, action, subject, detail, at, door) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(actor.user)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(actor.at)
        .bind(actor.door.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
