//! Messages the bot posts and later edits in place (a campaign's progress).
//! The platform tells the message id only after sending, so the channel
//! adapter records it here under the tag the flow chose.

use chrono::{DateTime, Utc};

use crate::channel::{Channel, ChatAddr, MessageRef};

/// Records the message posted under `tag` in `chat`, at `at` (the bot's
/// clock).
pub async fn record(
    db: &crate::db::Database,
    tag: &str,
    chat: &ChatAddr,
    message_id: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO posted_messages (tag, channel, chat_id, message_id, posted_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tag, channel, chat_id) DO UPDATE SET message_id = excluded.message_id, posted_at = excluded.posted_at",
    )
    .bind(tag)
    .bind(chat.channel.as_str())
    .bind(&chat.id)
    .bind(message_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn find(conn: &mut sqlx::SqliteConnection, tag: &str) -> anyhow::Result<Vec<MessageRef>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT channel, chat_id, message_id FROM posted_messages WHERE tag = ? ORDER BY posted_at")
            .bind(tag)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(channel, chat, message_id)| {
            Some(MessageRef { chat: ChatAddr { channel: Channel::parse(&channel)?, id: chat }, message_id })
        })
        .collect())
}
