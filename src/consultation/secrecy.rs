//! A secret ballot is secret in the files, not only on screen. What the
//! rest of the bot does for it:
//!
//! - the answer is stored apart from the "has answered" marker, with no
//!   household, person, chat or time, under a random key (see
//!   `answers::record`); no reply, outbox row or log line names the choice;
//! - the update that carried the press loses its payload when handled, in
//!   the same transaction as the answer (see `intake`); a Zalo chat's
//!   offered options are forgotten once it answers;
//! - every connection runs with `secure_delete`, so freed bytes and pages
//!   are overwritten rather than left in the file (see `db::connect`);
//! - and here: the write-ahead log, which still holds every page as it was
//!   written (the press's payload, the marker and the answer side by side
//!   in one commit), is checkpointed into the database and truncated soon
//!   after any secret answer, so what was once in it is gone from the
//!   files.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::Database;

/// How often the scrubber looks for new secret answers.
pub const EVERY: Duration = Duration::from_millis(500);

/// Scrubs the journal whenever secret answers were written since the last
/// scrub, until `stop` turns true.
pub async fn run(db: Database, mut stop: watch::Receiver<bool>) {
    let mut last = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = scrub_if_needed(&db, &mut last).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot scrub the journal after secret answers yet; trying again");
        }
    }
}

/// Scrubs the journal if secret answers were written since `last` (the
/// count of secret writes the last scrub covered). True if it scrubbed.
pub async fn scrub_if_needed(db: &Database, last: &mut Option<i64>) -> anyhow::Result<bool> {
    // Read before the checkpoint: an answer committed after this read
    // moves the count again, and the next round scrubs it.
    let writes: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(secret_writes), 0) FROM consultations")
        .fetch_one(&mut *db.read().await?)
        .await?;
    if *last == Some(writes) || (last.is_none() && writes == 0) {
        *last = Some(writes);
        return Ok(false);
    }
    db.scrub_journal().await?;
    metrics::counter!(crate::measure::JOURNAL_SCRUBS).increment(1);
    *last = Some(writes);
    Ok(true)
}

/// The row that marks a secret ballot's journal for scrubbing, written
/// with any update that could carry a choice (a press, even one refused;
/// a paper answer typed): the payload it carried is in the journal until
/// the scrub, answer or not.
pub fn pressed(code: super::ConsultationCode) -> crate::db::SetRow {
    crate::db::SetRow {
        statement: "UPDATE consultations SET secret_writes = secret_writes + 1
                    WHERE id IN (SELECT value FROM json_each(?)) AND ? IS NOT NULL",
        values: serde_json::json!(code.id()),
    }
}

/// As [`pressed`], for an update that may carry a choice for any open
/// secret ballot (a paper answer typed before its consultation is known).
pub fn typed() -> crate::db::SetRow {
    crate::db::SetRow {
        statement: "UPDATE consultations SET secret_writes = secret_writes + 1
                    WHERE status = 'open' AND ballot = 'secret' AND json_array_length(?) > 0 AND ? IS NOT NULL",
        values: serde_json::json!(true),
    }
}
