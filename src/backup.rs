//! Backups of the live database: `VACUUM INTO` reads one consistent
//! snapshot (a WAL read transaction) while the bot keeps writing, and writes
//! a compact copy that is checked before it counts. `todanpho backup`, the
//! daily backup with retention, and `todanpho restore` all live here.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;

use crate::db::Database;

use crate::config::Backup as Settings;

/// What a finished backup holds.
#[derive(Debug)]
pub struct Made {
    pub path: PathBuf,
    pub bytes: u64,
    pub households: i64,
}

/// Copies the database to `to`, a file that must not exist yet, and checks
/// the copy. A copy that fails the check is removed.
pub async fn backup(db: &Database, to: &Path) -> anyhow::Result<Made> {
    anyhow::ensure!(!to.exists(), "{} already exists; choose another file name", to.display());
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let target = to.to_str().with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    db.copy_into(target).await.context("copying the database")?;
    match check(to).await {
        Ok(households) => {
            let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
            Ok(Made { path: to.to_path_buf(), bytes, households })
        }
        Err(e) => {
            let _ = std::fs::remove_file(to);
            Err(e.context(format!("the copy {} failed its check and was removed", to.display())))
        }
    }
}

/// Opens a backup read-only and runs SQLite's integrity and foreign-key
/// checks. Returns how many households it holds.
pub async fn check(path: &Path) -> anyhow::Result<i64> {
    let mut conn = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await?;
    anyhow::ensure!(integrity == "ok", "integrity check: {integrity}");
    let broken: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut conn).await?;
    anyhow::ensure!(broken.is_empty(), "{} rows point at rows that do not exist", broken.len());
    let households: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM households")
        .fetch_one(&mut conn)
        .await
        .context("this file is not a todanpho database")?;
    Ok(households)
}

/// Puts a checked backup in place of the database. The bot must be
/// stopped; the database being replaced is kept beside it.
pub async fn restore(backup: &Path, database: &Path, now: DateTime<Utc>) -> anyhow::Result<Option<PathBuf>> {
    check(backup).await.with_context(|| format!("{} cannot be restored", backup.display()))?;
    let mut kept = None;
    if database.exists() {
        let aside = PathBuf::from(format!("{}.before-restore-{}", database.display(), now.format("%Y%m%d-%H%M%S")));
        std::fs::rename(database, &aside).with_context(|| format!("cannot move {} aside", database.display()))?;
        kept = Some(aside);
    }
    // The old journal belongs to the old file, and so do the logs of sent
    // replies: their ids name the old file's rows, not the copy's.
    for suffix in ["-wal", "-shm", ".sent", ".sent-telegram", ".sent-zalo"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::copy(backup, database).with_context(|| format!("cannot copy to {}", database.display()))?;
    Ok(kept)
}

fn daily_name(day: NaiveDate) -> String {
    format!("todanpho-{}.db", day.format("%Y-%m-%d"))
}

/// Today's backup if it is due (past `[backup] hour` in the ward's zone and
/// not yet made), then removes all but the newest `keep`.
pub async fn daily(
    db: &Database,
    settings: &Settings,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Made>> {
    let Some(dir) = &settings.dir else { return Ok(None) };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let local = now.with_timezone(&tz);
    let mut made = None;
    let path = dir.join(daily_name(local.date_naive()));
    if chrono::Timelike::hour(&local) >= settings.hour && !path.exists() {
        made = Some(backup(db, &path).await?);
    }
    // The newest copy kept, made now or before a restart: the operator's
    // "last backup" (see `ops`).
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("todanpho-"))
        .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
        .max();
    if let Some(at) = newest.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()) {
        metrics::gauge!(crate::measure::LAST_BACKUP).set(at.as_secs_f64());
    }
    prune(dir, settings.keep)?;
    Ok(made)
}

/// Keeps the newest `keep` daily backups (their names sort by date).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let mut daily: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix("todanpho-")
                    .and_then(|r| r.strip_suffix(".db"))
                    .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
            })
        })
        .collect();
    daily.sort();
    let excess = daily.len().saturating_sub(keep.max(1));
    for old in daily.into_iter().take(excess) {
        std::fs::remove_file(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

/// Looks every ten minutes whether the daily backup is due.
pub async fn run_daily(app: crate::app::App, db: Database, settings: Settings) {
    if settings.dir.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match daily(&db, &settings, app.settings.timezone, app.clock.now()).await {
            Ok(Some(made)) => {
                tracing::info!(file = %made.path.display(), bytes = made.bytes, "daily backup made")
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "the daily backup failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_daily_backups() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=9 {
            std::fs::write(dir.path().join(format!("todanpho-2026-11-0{day}.db")), b"x").unwrap();
        }
        std::fs::write(dir.path().join("manual-copy.db"), b"x").unwrap();
        prune(dir.path(), 3).unwrap();
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            ["manual-copy.db", "todanpho-2026-11-07.db", "todanpho-2026-11-08.db", "todanpho-2026-11-09.db"]
        );
    }
}
