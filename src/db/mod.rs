//! The database: the SQLite pool (WAL, foreign keys on, migrations applied
//! at start-up), and the one way to write to it.
//!
//! - `batch` — statements sent to the writer as one round trip.
//! - `writer` — the one writer: turns in savepoints of a shared write
//!   transaction, committed in groups ([`WriteGate`], [`Tx`]).
//! - `update` — an update's transaction and its reads ([`UpdateTx`]).
//! - `upgrade` — new migrations at start-up, with a copy to go back to.

mod batch;
mod update;
pub mod upgrade;
mod writer;

pub use batch::{Batch, SetRow, Value};
pub use update::{Reading, UpdateTx, Written};
pub use writer::{Tx, WriteGate, END_TURN};

/// The database as the bot holds it: reads from the pool, every write
/// through the one writer. Work outside an update's turn (senders,
/// drainers, the scheduler) writes in transactions of its own
/// ([`Database::write`]); an update writes in its own one
/// ([`Database::update`]).
#[derive(Clone)]
pub struct Database {
    pool: SqlitePool,
    writes: WriteGate,
}

impl Database {
    fn new(pool: SqlitePool, writes: WriteGate) -> Self {
        Self { pool, writes }
    }

    /// Closes the pool's connections (the writer's goes with the last
    /// handle).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction of its own, in turn with every other writer;
    /// done when [`Tx::commit`] returns.
    pub async fn write(&self) -> sqlx::Result<Tx> {
        self.writes.begin(&self.pool).await
    }

    /// A connection for reading.
    pub async fn read(&self) -> sqlx::Result<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        self.pool.acquire().await
    }

    /// A write transaction of its own that begins with `batch` in the same
    /// round trip; with the ids the batch's statements returned.
    pub async fn write_with(&self, batch: Batch) -> sqlx::Result<(Tx, Vec<i64>)> {
        self.writes.begin_with(&self.pool, batch).await
    }

    /// Copies the database into `file` (`VACUUM INTO`), on a connection of
    /// its own: the pool's only read, and the copy is written.
    pub async fn copy_into(&self, file: &str) -> sqlx::Result<()> {
        let mut conn = self.pool.connect_options().connect().await?;
        sqlx::query("VACUUM INTO ?").bind(file).execute(&mut conn).await?;
        conn.close().await
    }

    /// Copies the write-ahead log into the database without holding
    /// anyone up (a passive checkpoint), on a connection of its own. The
    /// frames the log holds, and how many of them are now in the database:
    /// when all are, the next write starts the log afresh, and with
    /// `journal_size_limit = 0` its file is cut to nothing first.
    pub async fn checkpoint(&self) -> anyhow::Result<(i64, i64)> {
        let mut conn = self.pool.connect_options().connect().await?;
        let (_, log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut conn).await?;
        conn.close().await?;
        Ok((log, copied))
    }

    /// Copies every page of the write-ahead log into the database and
    /// truncates the log to nothing; waits (up to the busy timeout) for
    /// readers of older snapshots, holding writers back meanwhile. The
    /// last resort of [`crate::consultation::secrecy`], when the log never
    /// comes to an end of its own under load.
    pub async fn truncate_journal(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.connect_options().connect().await?;
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut conn).await?;
        conn.close().await?;
        anyhow::ensure!(busy == 0, "the journal is in use; it is truncated on the next try");
        Ok(())
    }

    /// Transactions the writer has committed (the tests count turns).
    pub fn commits(&self) -> u64 {
        self.writes.commits()
    }

    /// The database's file (none in memory).
    pub fn file(&self) -> Option<std::path::PathBuf> {
        let file = self.pool.connect_options().get_filename().to_path_buf();
        let name = file.file_name()?.to_string_lossy().to_string();
        (!name.is_empty() && name != ":memory:").then_some(file)
    }

    /// The transaction of one update's turn, begun on its first write;
    /// `now` is the update's time on the bot's clock.
    pub fn update(&self, now: chrono::DateTime<chrono::Utc>) -> UpdateTx {
        UpdateTx::new(self.clone(), now)
    }
}

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use sqlx::{ConnectOptions, Connection};

use crate::config::Durability;

/// Opens the database, upgrading it first with a copy kept beside it
/// (see `upgrade`).
pub async fn connect(path: &Path, durability: Durability) -> anyhow::Result<Database> {
    connect_with(path, durability, true).await
}

/// As [`connect`]; without `upgrade_backup`, no copy is made before new
/// migrations (`--no-upgrade-backup`).
pub async fn connect_with(path: &Path, durability: Durability, upgrade_backup: bool) -> anyhow::Result<Database> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode survives a crash of the process; only a power
        // loss can drop the last transactions. FULL closes that window with
        // an fsync per commit (see docs/performance.md); for the writer's
        // group commits the committer does that fsync (see `Writer`).
        .synchronous(match durability {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        })
        .foreign_keys(true)
        // Freed bytes and pages are overwritten, not left in the file: a
        // handled update's payload, a Zalo chat's forgotten options, a
        // finished dialogue (see `consultation::secrecy`).
        .pragma("secure_delete", "ON")
        // A log that starts afresh is cut to nothing first, so no frame
        // of the past lingers at its end (see `Database::checkpoint`).
        .pragma("journal_size_limit", "0")
        .busy_timeout(Duration::from_secs(10));
    upgrade::upgrade(path, &options, &upgrade::MIGRATIONS, upgrade_backup).await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A ping before every use is a round trip to the connection's
        // thread; a local file cannot go stale like a network connection.
        .test_before_acquire(false)
        // The pool only reads: every write goes through the one writer,
        // on a connection of its own. A write through a pooled connection
        // fails loudly instead of escaping the writer's order.
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("PRAGMA query_only = ON").execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    Ok(Database::new(pool, WriteGate::default()))
}

#[cfg(test)]
mod tests;
