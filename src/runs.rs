//! Jobs that run once a period (the overdue reminder each day, the digital
//! teams' summary each week): `scheduled_runs` holds one row per job and
//! period. The scheduler looks every few seconds, so a read first: the
//! write lock (which other processes, such as an export, also need) is
//! taken once a period.

use chrono::{DateTime, Utc};

use crate::db::{Database, Tx};

/// Claims `job` for `period` (a day, `2026-11-30`), unless it already ran:
/// the transaction holding the claim, for the job to do its work in. The
/// claim commits with the work, so a restart never runs it twice, and a
/// failure leaves it to run again.
pub async fn claim(db: &Database, job: &str, period: &str, now: DateTime<Utc>) -> anyhow::Result<Option<Tx>> {
    let ran: Option<i64> = sqlx::query_scalar("SELECT 1 FROM scheduled_runs WHERE job = ? AND day = ?")
        .bind(job)
        .bind(period)
        .fetch_optional(&mut *db.read().await?)
        .await?;
    if ran.is_some() {
        return Ok(None);
    }
    let mut tx = db.write().await?;
    let claimed = sqlx::query("INSERT INTO scheduled_runs (job, day, ran_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        .bind(job)
        .bind(period)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    Ok(claimed.then_some(tx))
}
