//! The inbox of incoming updates. A platform may deliver the same update
//! again (Telegram does when the bot did not confirm its offset); recording
//! every update here, with its payload, before confirming it means each one
//! is handled once, and one taken in before a crash is handled after it.

use chrono::Utc;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::channel::Channel;
use crate::db::WriteGate;

/// Records a batch of updates in one transaction (one commit for the whole
/// batch rather than one per update). Returns the indexes of those that are
/// new; the others were seen before.
pub async fn record_batch(
    db: &SqlitePool,
    writes: &WriteGate,
    channel: Channel,
    batch: &[(String, String)],
) -> anyhow::Result<Vec<usize>> {
    let mut fresh = Vec::new();
    if batch.is_empty() {
        return Ok(fresh);
    }
    let now = Utc::now();
    let mut tx = writes.begin(db).await?;
    for (i, (update_id, payload)) in batch.iter().enumerate() {
        let done = sqlx::query(
            "INSERT INTO processed_updates (channel, update_id, received_at, payload) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(channel.as_str())
        .bind(update_id)
        .bind(now)
        .bind(payload)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            fresh.push(i);
        }
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Updates taken in but never handled, oldest first, with their payloads.
pub async fn unhandled(db: &SqlitePool, channel: Channel) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query_as(
        "SELECT update_id, payload FROM processed_updates
         WHERE channel = ? AND handled_at IS NULL AND payload IS NOT NULL
         ORDER BY received_at, rowid",
    )
    .bind(channel.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Marks the update handled, with the handler's error if it failed. The
/// payload is dropped: it may hold personal data and is no longer needed.
pub async fn mark_handled(
    db: &SqlitePool,
    channel: Channel,
    update_id: &str,
    error: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE processed_updates SET handled_at = ?, payload = NULL, error = ? WHERE channel = ? AND update_id = ?",
    )
    .bind(Utc::now())
    .bind(error)
    .bind(channel.as_str())
    .bind(update_id)
    .execute(db)
    .await?;
    Ok(())
}

/// "Handled" marks, written by one task in group commits: marks that arrive
/// while a commit is under way go together in the next one. Each caller
/// still waits until its own mark is on disk, so nothing is weakened; under
/// load many updates share one commit instead of queueing for the write
/// lock one by one.
#[derive(Clone)]
pub struct Marks {
    tx: mpsc::UnboundedSender<Mark>,
}

struct Mark {
    channel: Channel,
    update_id: String,
    error: Option<String>,
    done: oneshot::Sender<bool>,
}

/// The most marks in one commit.
const MAX_BATCH: usize = 512;

impl Marks {
    pub fn start(db: SqlitePool, writes: WriteGate) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_marks(db, writes, rx));
        Self { tx }
    }

    pub async fn handled(&self, channel: Channel, update_id: &str, error: Option<&str>) -> anyhow::Result<()> {
        let (done, written) = oneshot::channel();
        let mark = Mark { channel, update_id: update_id.to_string(), error: error.map(str::to_string), done };
        self.tx.send(mark).map_err(|_| anyhow::anyhow!("the mark writer has stopped"))?;
        match written.await {
            Ok(true) => Ok(()),
            _ => anyhow::bail!("the update could not be marked handled"),
        }
    }
}

async fn write_marks(db: SqlitePool, writes: WriteGate, mut rx: mpsc::UnboundedReceiver<Mark>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(mark) => batch.push(mark),
                Err(_) => break,
            }
        }
        let written = write_batch(&db, &writes, &batch).await;
        if let Err(e) = &written {
            tracing::error!(error = %format!("{e:#}"), marks = batch.len(), "cannot mark updates handled");
        }
        for mark in batch {
            let _ = mark.done.send(written.is_ok());
        }
    }
}

async fn write_batch(db: &SqlitePool, writes: &WriteGate, batch: &[Mark]) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut tx = writes.begin(db).await?;
    for mark in batch {
        sqlx::query(
            "UPDATE processed_updates SET handled_at = ?, payload = NULL, error = ? WHERE channel = ? AND update_id = ?",
        )
        .bind(now)
        .bind(&mark.error)
        .bind(mark.channel.as_str())
        .bind(&mark.update_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
