//! The SQLite pool: WAL, foreign keys on, migrations applied at start-up.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::config::Durability;

pub async fn connect(path: &Path, durability: Durability) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode survives a crash of the process; only a power
        // loss can drop the last transactions. FULL closes that window with
        // an fsync per commit (see README, Performance).
        .synchronous(match durability {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        })
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A ping before every use is a round trip to the connection's
        // thread; a local file cannot go stale like a network connection.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    sqlx::migrate!("./migrations").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}

/// One write transaction at a time, queued in the process. SQLite allows a
/// single writer; left to itself, a writer that finds the lock taken sleeps
/// in the busy handler (1, 2, 5, 10… ms) and retries, which under load
/// costs more than the writes. Waiting here instead wakes the next writer
/// the moment the previous one commits.
#[derive(Clone, Default)]
pub struct WriteGate(std::sync::Arc<tokio::sync::Mutex<()>>);

impl WriteGate {
    /// Waits for this process's turn, then takes SQLite's write lock.
    pub async fn begin(&self, db: &SqlitePool) -> sqlx::Result<Write> {
        let turn = self.0.clone().lock_owned().await;
        let tx = db.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Write { tx, _turn: turn })
    }
}

/// A write transaction holding the process's turn until it ends.
pub struct Write {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Write {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for Write {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
