//! The database: the SQLite pool (WAL, foreign keys on, migrations applied
//! at start-up), and the one way to write to it.
//!
//! - `batch` — statements sent to the writer as one round trip.
//! - `writer` — the one writer: turns in savepoints of a shared write
//!   transaction, committed in groups ([`WriteGate`], [`Tx`]).
//! - `scope` — an update's transaction and its reads ([`UpdateScope`],
//!   [`Write`], [`Read`]).

mod batch;
mod scope;
mod writer;

pub use batch::{Batch, SetRow, Value};
pub use scope::{Read, Slot, UpdateScope, Write, Written};
pub use writer::{Tx, WriteGate, END_TURN};

/// The database as the parts of the bot outside an update's turn (the
/// platforms' senders, the notice drainers) hold it: reads from the pool,
/// every write through the one writer.
#[derive(Clone)]
pub struct Database {
    pool: SqlitePool,
    writes: WriteGate,
}

impl Database {
    pub fn new(pool: SqlitePool, writes: WriteGate) -> Self {
        Self { pool, writes }
    }

    /// A write, in turn with every other writer.
    pub async fn write(&self) -> sqlx::Result<Write> {
        Write::begin(&self.pool, &self.writes).await
    }
}

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
        // an fsync per commit (see docs/performance.md); for the writer's
        // group commits the committer does that fsync (see `Writer`).
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
        .after_release(|conn, _| {
            Box::pin(async move {
                if cfg!(debug_assertions) {
                    sqlx::query("PRAGMA query_only = OFF").execute(&mut *conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    sqlx::migrate!("./migrations").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}

#[cfg(test)]
mod tests;
