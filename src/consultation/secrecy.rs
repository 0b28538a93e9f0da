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
    let mut scrubber = Scrubber::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = scrubber.round(&db).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot scrub the journal after secret answers yet; trying again");
        }
    }
}

/// Under a burst of answers the log rarely comes to an end of its own;
/// past this, it is truncated by force, holding writers back a moment.
pub const AT_MOST: Duration = Duration::from_secs(10);

/// What the scrubber knows between rounds.
#[derive(Default)]
pub struct Scrubber {
    /// The count of secret writes the last scrub covered.
    scrubbed: Option<i64>,
    /// Since when writes wait for a scrub.
    waiting_since: Option<std::time::Instant>,
}

impl Scrubber {
    /// One round: if secret answers were written since the last scrub,
    /// the log is copied into the database (without holding anyone up)
    /// and, once all of it is there, started afresh by a small write,
    /// which cuts its file to nothing (`journal_size_limit = 0`); when
    /// that has not come about for [`AT_MOST`], the log is truncated by
    /// force. True if the journal was scrubbed.
    pub async fn round(&mut self, db: &Database) -> anyhow::Result<bool> {
        // Read before the checkpoint: an answer committed after this read
        // moves the count again, and a later round scrubs it.
        let writes: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(secret_writes), 0) FROM consultations")
            .fetch_one(&mut *db.read().await?)
            .await?;
        if self.scrubbed == Some(writes) || (self.scrubbed.is_none() && writes == 0) {
            self.scrubbed = Some(writes);
            return Ok(false);
        }
        let since = *self.waiting_since.get_or_insert_with(std::time::Instant::now);
        let (log, copied) = db.checkpoint().await?;
        let fresh = log == copied && {
            // All of it is in the database: a write starts the log afresh.
            let mut tx = db.write().await?;
            // (A row in and out again: SQLite writes no page for an
            // update that changes nothing. It has no time: it is gone
            // before the commit.)
            for sql in [
                "INSERT INTO scheduled_runs (job, day, ran_at) VALUES ('journal_scrub', '-', '-')",
                "DELETE FROM scheduled_runs WHERE job = 'journal_scrub'",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            // It did unless a reader still held the old log: then the log
            // goes on from where it was, longer than the write alone.
            let (after, _) = db.checkpoint().await?;
            after < log || log == 0
        };
        if !fresh {
            if since.elapsed() < AT_MOST {
                return Ok(false);
            }
            db.truncate_journal().await?;
        }
        metrics::counter!(crate::measure::JOURNAL_SCRUBS).increment(1);
        self.scrubbed = Some(writes);
        self.waiting_since = None;
        Ok(true)
    }
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
