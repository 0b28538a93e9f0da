//! Dialogue state in our own table, keyed by chat *and* user: teloxide's
//! storage is keyed by chat only, which would mix residents in a group.

use chrono::{DateTime, Duration, Utc};
use sqlx::SqliteConnection;

use super::DialogueState;
use crate::channel::{ChatAddr, UserAddr};

/// A dialogue left silent this long is dropped.
pub const EXPIRY: Duration = Duration::hours(24);

pub enum Loaded {
    None,
    Expired,
    Active(DialogueState),
}

/// As [`load`], without removing an expired or unreadable state (for a
/// read-only connection; the caller removes it in a write).
pub async fn peek(conn: &mut SqliteConnection, chat: &ChatAddr, user: &UserAddr) -> anyhow::Result<Loaded> {
    let row: Option<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT state, updated_at FROM dialogues WHERE channel = ? AND chat_id = ? AND user_id = ?")
            .bind(chat.channel.as_str())
            .bind(&chat.id)
            .bind(&user.id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((state, updated_at)) = row else { return Ok(Loaded::None) };
    if Utc::now() - updated_at > EXPIRY {
        return Ok(Loaded::Expired);
    }
    Ok(serde_json::from_str(&state).map(Loaded::Active).unwrap_or(Loaded::Expired))
}

/// The person's dialogue in this chat; an expired or unreadable one (a
/// state written by an older, incompatible version: better to start over
/// than to be stuck) is removed.
pub async fn load(conn: &mut SqliteConnection, chat: &ChatAddr, user: &UserAddr) -> anyhow::Result<Loaded> {
    let loaded = peek(&mut *conn, chat, user).await?;
    if matches!(loaded, Loaded::Expired) {
        delete(conn, chat, user).await?;
    }
    Ok(loaded)
}

pub async fn save(
    conn: &mut SqliteConnection,
    chat: &ChatAddr,
    user: &UserAddr,
    state: &DialogueState,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO dialogues (channel, chat_id, user_id, flow, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, chat_id, user_id) DO UPDATE SET flow = excluded.flow, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(chat.channel.as_str())
    .bind(&chat.id)
    .bind(&user.id)
    .bind(&state.flow)
    .bind(serde_json::to_string(state)?)
    .bind(Utc::now())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut SqliteConnection, chat: &ChatAddr, user: &UserAddr) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM dialogues WHERE channel = ? AND chat_id = ? AND user_id = ?")
        .bind(chat.channel.as_str())
        .bind(&chat.id)
        .bind(&user.id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
