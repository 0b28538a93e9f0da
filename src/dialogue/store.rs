//! Dialogue state in our own table, keyed by chat *and* user: teloxide's
//! storage is keyed by chat only, which would mix residents in a group.

use chrono::{DateTime, Duration, Utc};
use sqlx::SqliteConnection;

use super::DialogueState;
use crate::channel::{ChatAddr, UserAddr};
use crate::db::{Batch, SetRow};

/// A dialogue left silent this long is dropped.
pub const EXPIRY: Duration = Duration::hours(24);

pub enum Loaded {
    None,
    Expired,
    Active(DialogueState),
}

/// A dialogue row as stored: the state and when it was saved.
pub type Row = (String, DateTime<Utc>);

/// The person's dialogue in this chat. An expired or unreadable one (a
/// state written by an older, incompatible version: better to start over
/// than to be stuck) is reported, not removed: reading is done on a
/// read-only connection, and the caller removes it in a write.
/// `now` is the update's time on the bot's clock.
pub async fn peek(
    conn: &mut SqliteConnection,
    chat: &ChatAddr,
    user: &UserAddr,
    now: DateTime<Utc>,
) -> anyhow::Result<Loaded> {
    let row: Option<Row> =
        sqlx::query_as("SELECT state, updated_at FROM dialogues WHERE channel = ? AND chat_id = ? AND user_id = ?")
            .bind(chat.channel.as_str())
            .bind(&chat.id)
            .bind(&user.id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(interpret(row, now))
}

fn interpret(row: Option<Row>, now: DateTime<Utc>) -> Loaded {
    let Some((state, updated_at)) = row else { return Loaded::None };
    if now - updated_at > EXPIRY {
        return Loaded::Expired;
    }
    serde_json::from_str(&state).map(Loaded::Active).unwrap_or(Loaded::Expired)
}

/// A dialogue row read early in an update, with the caller (see
/// [`crate::roles::known`]), for the update's later look at it.
pub struct Prefetched {
    pub chat: ChatAddr,
    pub user: UserAddr,
    pub row: Option<Row>,
}

impl Prefetched {
    /// The dialogue as of `now`, if this is the row of `user` in `chat`.
    pub fn of(self, chat: &ChatAddr, user: &UserAddr, now: DateTime<Utc>) -> Option<Loaded> {
        (&self.chat == chat && &self.user == user).then(|| interpret(self.row, now))
    }
}

/// Saves the state at once, as saved at `now`.
pub async fn save(
    conn: &mut SqliteConnection,
    chat: &ChatAddr,
    user: &UserAddr,
    state: &DialogueState,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // The same statement as a deferred save, for one row.
    let mut batch = Batch::default();
    SetRow::write_all(&[saving_row(chat, user, state)?], now, &mut batch);
    batch.fetch_ids(conn).await?;
    Ok(())
}

/// Saves states given as a JSON array of `[channel, chat, user, flow,
/// state]`, at the time bound second.
const SAVE_ALL: &str = "WITH saved AS (SELECT value FROM json_each(?))
     INSERT INTO dialogues (channel, chat_id, user_id, flow, state, updated_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ? FROM saved WHERE true
     ON CONFLICT (channel, chat_id, user_id) DO UPDATE SET flow = excluded.flow, state = excluded.state, updated_at = excluded.updated_at";

/// [`save`] as a row for an update's last statements: the states of updates ending
/// together are saved by one statement.
pub fn saving_row(chat: &ChatAddr, user: &UserAddr, state: &DialogueState) -> anyhow::Result<SetRow> {
    let values =
        serde_json::json!([chat.channel.as_str(), chat.id, user.id, state.flow, serde_json::to_string(state)?]);
    Ok(SetRow { statement: SAVE_ALL, values })
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
