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
        .max_connections(std::env::var("TODANPHO_DB_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(4))
        // A ping before every use is a round trip to the connection's
        // thread; a local file cannot go stale like a network connection.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    sqlx::migrate!("./migrations").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}
