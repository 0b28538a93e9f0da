//! The inbox: every update recorded before it is confirmed to its platform.

use chrono::{DateTime, Utc};

use crate::channel::Channel;
use crate::db::{Batch, Database};

/// Records a batch of updates in one turn at the writer (one commit for
/// the whole batch rather than one per update), as received at `now` (the
/// bot's clock). Returns the indexes of those that are new, in order; the
/// others were seen before (a second copy within the batch counts as seen).
pub async fn record_batch(
    db: &Database,
    channel: Channel,
    batch: &[(String, String)],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<usize>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut firsts = std::collections::HashSet::new();
    let unique: Vec<usize> = (0..batch.len()).filter(|&i| firsts.insert(batch[i].0.as_str())).collect();
    let ids: Vec<&str> = unique.iter().map(|&i| batch[i].0.as_str()).collect();
    // The check, the inserts and the end of the turn go as one statement
    // string: one round trip while the writer is held. The check is exact
    // because the turn holds the writer: nothing else records meanwhile.
    let mut statements = Batch::default();
    statements
        .push(
            "SELECT key FROM json_each(?)
             WHERE NOT EXISTS (SELECT 1 FROM processed_updates WHERE channel = ? AND update_id = value)",
        )
        .bind(serde_json::to_string(&ids)?)
        .bind(channel.as_str());
    for chunk in unique.chunks(RECORD_CHUNK) {
        statements.push(&format!(
            "INSERT INTO processed_updates (channel, update_id, received_at, payload) VALUES {} ON CONFLICT DO NOTHING",
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        ));
        for &i in chunk {
            let (update_id, payload) = &batch[i];
            statements.bind(channel.as_str()).bind(update_id.as_str()).bind(now).bind(payload.as_str());
        }
    }
    statements.push(crate::db::END_TURN);
    let (tx, new) = db.write_with(statements).await?;
    tx.commit_released().await?;
    let mut fresh: Vec<usize> = new.into_iter().filter_map(|k| unique.get(usize::try_from(k).ok()?).copied()).collect();
    fresh.sort_unstable();
    Ok(fresh)
}

/// Updates recorded by one statement (4 parameters each, well under
/// SQLite's limit on parameters).
const RECORD_CHUNK: usize = 200;

/// Updates taken in but never handled, oldest first, with their payloads.
pub async fn unhandled(db: &Database, channel: Channel) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query_as(
        "SELECT update_id, payload FROM processed_updates
         WHERE channel = ? AND handled_at IS NULL AND payload IS NOT NULL
         ORDER BY received_at, rowid",
    )
    .bind(channel.as_str())
    .fetch_all(&mut *db.read().await?)
    .await?;
    Ok(rows)
}

/// Handled updates removed in one writer turn: pruning a busy ward's day
/// never holds the writer long.
const FORGET_AT_ONCE: i64 = 500;

/// Forgets updates handled before `now - keep` (see
/// [`crate::config::Ops::keep_handled`]), a few hundred at a time, each in
/// a turn of its own. Returns how many.
pub async fn forget_handled(db: &Database, now: DateTime<Utc>, keep: chrono::Duration) -> anyhow::Result<u64> {
    let mut forgotten = 0;
    loop {
        let mut tx = db.write().await?;
        let done = sqlx::query(
            "DELETE FROM processed_updates WHERE rowid IN (SELECT rowid FROM processed_updates
             WHERE handled_at IS NOT NULL AND handled_at < ? LIMIT ?)",
        )
        .bind(now - keep)
        .bind(FORGET_AT_ONCE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        forgotten += done.rows_affected();
        if done.rows_affected() < FORGET_AT_ONCE as u64 {
            return Ok(forgotten);
        }
        // Other writers take their turns between two batches.
        tokio::task::yield_now().await;
    }
}
