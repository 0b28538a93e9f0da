//! The rows that end updates: their "handled" marks, their replies queued
//! in the outbox with the options they leave in chats without buttons, and
//! the removal of replies sent. One statement text for
//! any number of updates, so SQLite prepares each once.

use chrono::Utc;

use crate::channel::menus::{self, Kept};
use crate::channel::Channel;
use crate::db::{Batch, Database};

/// An update's "handled" mark and its replies (as stored in the outbox),
/// with what they leave in chats without buttons.
#[derive(Clone)]
pub(super) struct Ending {
    pub(super) channel: Channel,
    pub(super) update_id: String,
    pub(super) replies: Vec<String>,
    /// The kind of refusal the person was shown, if any (see
    /// [`crate::refusal::Refusal::kind`]).
    pub(super) refused: Option<&'static str>,
    pub(super) menus: Vec<Kept>,
}

/// The statements that mark `endings` handled, queue their replies and
/// keep their options (see [`menus`]), in order. The same statements for
/// any number of updates (they take
/// JSON arrays), so SQLite prepares them once. Returns the outbox ids in
/// insertion order: each ending's replies, one ending after the other.
pub(super) fn ending_statements(endings: &[Ending], now: chrono::DateTime<Utc>, batch: &mut Batch) {
    let marked: Vec<Mark> =
        endings.iter().map(|e| (e.channel.as_str(), e.update_id.as_str(), None, e.refused)).collect();
    push_marks(&marked, now, batch);
    let replies: Vec<(&str, &str, &str)> = endings
        .iter()
        .flat_map(|e| e.replies.iter().map(|r| (e.channel.as_str(), e.update_id.as_str(), r.as_str())))
        .collect();
    crate::outbox::push_replies(&replies, now, batch);
    menus::push_kept(endings.iter().flat_map(|e| &e.menus), now, batch);
}

/// An update to mark handled: its channel, its id, its handler's error if
/// it failed, and the kind of refusal it was answered with, if it was.
pub(super) type Mark<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// Appends the statement marking `marked` handled (dropping their
/// payloads): one statement text for any number of updates.
pub(super) fn push_marks(marked: &[Mark], now: chrono::DateTime<Utc>, batch: &mut Batch) {
    batch
        .push(
            "UPDATE processed_updates SET handled_at = ?, payload = NULL, error = j.value ->> 2,
                 refused = j.value ->> 3
             FROM json_each(?) AS j
             WHERE processed_updates.channel = j.value ->> 0 AND processed_updates.update_id = j.value ->> 1",
        )
        .bind(now)
        .bind(serde_json::json!(marked).to_string());
}

/// Removes replies from the outbox, in one turn at the writer.
pub(super) async fn remove_replies(db: &Database, ids: &[i64]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut statements = Batch::default();
    statements.push(REMOVE_REPLIES).bind(serde_json::to_string(ids)?);
    statements.push(crate::db::END_TURN);
    let (tx, _) = db.write_with(statements).await?;
    tx.commit_released().await?;
    Ok(())
}

pub(super) const REMOVE_REPLIES: &str = "DELETE FROM reply_outbox WHERE id IN (SELECT value FROM json_each(?))";
