//! The reply outbox (`reply_outbox`): what must be told, queued in the
//! same transaction as the change that causes it, whatever the origin (an
//! update's turn, a scheduled job), then sent after the commit by the
//! origin platform's one path (`intake::outbox::send_queued`: fitted,
//! paced, retried, its sent log written) and removed. What a crash left
//! committed and unsent goes out when that platform's intake starts, before
//! anything new.
//!
//! A row's `channel` is its *origin lane*: the platform whose intake resends
//! it and whose sent log names it, not where it goes (each action names its
//! own chat). Jobs use the lane of the platform the scheduler runs beside.

use chrono::{DateTime, Utc};

use crate::channel::{menus, Action, Channel, Replies};
use crate::db::{Batch, Database, Tx};

/// The origin of replies queued by a door outside the bot's process
/// (`todanpho admin`): they wait in the outbox under this name until the
/// running bot's scheduler claims them for its lane and sends them (see
/// [`JobOutbox::adopt_beside`]).
pub const BESIDE: &str = "beside";

/// Queues `replies` in the transaction of the change that causes them, for
/// the running bot to send (see [`BESIDE`]). Returns how many.
pub async fn queue_beside(
    conn: &mut sqlx::SqliteConnection,
    replies: &Replies,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let stored = replies.actions.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<(&str, &str, &str)> = replies
        .actions
        .iter()
        .zip(&stored)
        // A reply that names no chat (a button's acknowledgement, which no
        // door outside a chat makes) still needs some platform's lane.
        .map(|(action, stored)| {
            (action.chat().map_or(Channel::Telegram, |c| c.channel).as_str(), BESIDE, stored.as_str())
        })
        .collect();
    let mut batch = Batch::default();
    push_replies(&rows, now, &mut batch);
    // What the messages offer in chats without buttons, kept with them.
    menus::push_kept(&menus::kept(&replies.actions, None), now, &mut batch);
    Ok(batch.fetch_ids(conn).await?.len())
}

/// Appends the statement queueing `rows` (origin lane, source, the action as
/// stored JSON) in order: one statement text for any number of rows, so
/// SQLite prepares it once. It returns the new ids, in insertion order.
pub fn push_replies(rows: &[(&str, &str, &str)], now: DateTime<Utc>, batch: &mut Batch) {
    if rows.is_empty() {
        return;
    }
    batch
        .push(
            "INSERT INTO reply_outbox (channel, update_id, action, created_at)
             SELECT value ->> 0, value ->> 1, value ->> 2, ? FROM json_each(?) ORDER BY key RETURNING id",
        )
        .bind(now)
        .bind(serde_json::json!(rows).to_string());
}

/// Replies queued and committed, with their outbox ids, in the order they
/// are to be sent.
pub type Queued = Vec<(i64, Action)>;

/// What a scheduled job must tell, committed with the job's own change (its
/// claim in `scheduled_runs`, the waiting rows it removed, the post it
/// marked current): a job ends each of its transactions with
/// [`JobOutbox::commit`] instead of `Tx::commit`, and the scheduler sends
/// what was queued once the job returns. A kill between the two loses
/// nothing: the rows go out at the restart.
pub struct JobOutbox {
    lane: Channel,
    /// Names the rows' origin (`job:<name>`), for the logs and `/metrics`.
    source: String,
    now: DateTime<Utc>,
    queued: Queued,
}

impl JobOutbox {
    /// For the job `job`, on the origin lane `lane`, at `now` on the bot's
    /// clock.
    pub fn new(lane: Channel, job: &str, now: DateTime<Utc>) -> Self {
        Self { lane, source: format!("job:{job}"), now, queued: Vec::new() }
    }

    /// Queues `replies` in `tx` and commits it: the job's change, what it
    /// must tell and the options that leaves to answer, together or not at
    /// all.
    pub async fn commit(&mut self, mut tx: Tx, replies: Replies) -> anyhow::Result<()> {
        let stored = replies.actions.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<(&str, &str, &str)> =
            stored.iter().map(|a| (self.lane.as_str(), self.source.as_str(), a.as_str())).collect();
        let mut batch = Batch::default();
        push_replies(&rows, self.now, &mut batch);
        // What the messages offer in chats without buttons, kept with them
        // (see `channel::menus`): a job speaks to chats' own persons.
        menus::push_kept(&menus::kept(&replies.actions, None), self.now, &mut batch);
        let mut ids = batch.fetch_ids(&mut tx).await?;
        anyhow::ensure!(
            ids.len() == replies.actions.len(),
            "{} replies queued as {} rows",
            replies.actions.len(),
            ids.len()
        );
        tx.commit().await?;
        ids.sort_unstable();
        self.queued.extend(ids.into_iter().zip(replies.actions));
        Ok(())
    }

    /// Claims the replies a door outside the process queued ([`BESIDE`]) for
    /// this lane, as the job's own: committed on the lane before they are
    /// sent, so a kill in between leaves them to the lane's restart like
    /// any other. Returns how many.
    pub async fn adopt_beside(&mut self, db: &Database) -> anyhow::Result<usize> {
        // Looked at every round: the writer only when there is something.
        let waiting: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM reply_outbox WHERE update_id = ?)")
            .bind(BESIDE)
            .fetch_one(&mut *db.read().await?)
            .await?;
        if !waiting {
            return Ok(0);
        }
        let mut tx = db.write().await?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE reply_outbox SET channel = ?, update_id = ? WHERE update_id = ? RETURNING id, action",
        )
        .bind(self.lane.as_str())
        .bind(&self.source)
        .bind(BESIDE)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for (id, action) in rows {
            match serde_json::from_str::<Action>(&action) {
                Ok(action) => claimed.push((id, action)),
                Err(e) => {
                    tracing::error!(reply = id, error = %e, "a reply queued beside the bot cannot be read; dropped");
                    sqlx::query("DELETE FROM reply_outbox WHERE id = ?").bind(id).execute(&mut *tx).await?;
                }
            }
        }
        tx.commit().await?;
        claimed.sort_unstable_by_key(|(id, _)| *id);
        let n = claimed.len();
        self.queued.extend(claimed);
        Ok(n)
    }

    /// The replies committed so far, to be sent; the outbox starts empty again.
    pub fn take(&mut self) -> Queued {
        std::mem::take(&mut self.queued)
    }
}
