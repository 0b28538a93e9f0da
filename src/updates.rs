//! Incoming updates already taken in. A platform may deliver the same update
//! again (Telegram does after a restart before the offset was confirmed);
//! claiming it here first means it is handled once.

use chrono::Utc;
use sqlx::SqlitePool;

use crate::channel::Channel;

/// True if this update is new and now ours to handle.
pub async fn claim(db: &SqlitePool, channel: Channel, update_id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO processed_updates (channel, update_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(channel.as_str())
    .bind(update_id)
    .bind(Utc::now())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_handled(db: &SqlitePool, channel: Channel, update_id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE processed_updates SET handled_at = ? WHERE channel = ? AND update_id = ?")
        .bind(Utc::now())
        .bind(channel.as_str())
        .bind(update_id)
        .execute(db)
        .await?;
    Ok(())
}
