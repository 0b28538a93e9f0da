//! The SQLite pool: WAL, foreign keys on, migrations applied at start-up.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
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

/// One write transaction at a time, queued in the process. SQLite allows a
/// single writer; left to itself, a writer that finds the lock taken sleeps
/// in the busy handler (1, 2, 5, 10… ms) and retries, which under load
/// costs more than the writes. Waiting here instead wakes the next writer
/// the moment the previous one commits.
#[derive(Clone, Default)]
pub struct WriteGate(Arc<tokio::sync::Mutex<()>>);

impl WriteGate {
    /// Waits for this process's turn, then takes SQLite's write lock.
    pub async fn begin(&self, db: &SqlitePool) -> sqlx::Result<Write> {
        Ok(Write(Held::Own(self.begin_tx(db).await?)))
    }

    async fn begin_tx(&self, db: &SqlitePool) -> sqlx::Result<Tx> {
        let turn = self.0.clone().lock_owned().await;
        let tx = db.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Tx { tx, _turn: turn })
    }
}

/// A write transaction holding the process's turn until it ends.
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The one transaction that everything an incoming update changes is
/// written in, together with its "handled" mark and its replies (see
/// [`crate::updates`]). A crash leaves either all of it or none, so a
/// replayed update can neither be applied twice nor lose its replies.
///
/// While a scope is active, [`crate::app::App::write`] hands out this
/// transaction (begun on first use) and its `commit` only says the caller
/// is done; whoever opened the scope commits at the end.
#[derive(Clone, Default)]
pub struct UpdateScope(Arc<tokio::sync::Mutex<Option<Tx>>>);

tokio::task_local! {
    static SCOPE: UpdateScope;
}

impl UpdateScope {
    /// Runs `work` with this scope active.
    pub async fn run<F: std::future::Future>(&self, work: F) -> F::Output {
        SCOPE.scope(self.clone(), work).await
    }

    /// The transaction, if the work wrote anything. An error if something
    /// still holds it: the work is over, so that is a bug, and what it wrote
    /// must not be taken for nothing.
    pub fn take(&self) -> sqlx::Result<Option<Tx>> {
        self.0.try_lock().map(|mut slot| slot.take()).map_err(|_| nested())
    }

    fn current() -> Option<UpdateScope> {
        SCOPE.try_with(|s| s.clone()).ok()
    }
}

/// The write transaction of [`crate::app::App::write`].
pub struct Write(Held);

enum Held {
    Own(Tx),
    Scoped(tokio::sync::OwnedMutexGuard<Option<Tx>>),
}

impl Write {
    /// Within an update's scope, a write transaction is the update's one;
    /// outside, a transaction of its own.
    pub(crate) async fn begin(db: &SqlitePool, gate: &WriteGate) -> sqlx::Result<Write> {
        let Some(scope) = UpdateScope::current() else { return gate.begin(db).await };
        let mut slot = scope.0.try_lock_owned().map_err(|_| nested())?;
        if slot.is_none() {
            *slot = Some(gate.begin_tx(db).await?);
        }
        Ok(Write(Held::Scoped(slot)))
    }

    /// Commits a transaction of its own; within an update's scope, only
    /// hands the transaction back (it is committed with the update).
    pub async fn commit(self) -> sqlx::Result<()> {
        match self.0 {
            Held::Own(tx) => tx.commit().await,
            Held::Scoped(_) => Ok(()),
        }
    }
}

/// A connection to read with. Within an update that has already written,
/// it is the update's transaction, so the update reads what it wrote.
pub enum Read {
    Pool(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Scoped(tokio::sync::OwnedMutexGuard<Option<Tx>>),
}

impl Read {
    pub(crate) async fn begin(db: &SqlitePool) -> sqlx::Result<Read> {
        if let Some(scope) = UpdateScope::current() {
            let slot = scope.0.try_lock_owned().map_err(|_| nested())?;
            if slot.is_some() {
                return Ok(Read::Scoped(slot));
            }
            drop(slot);
            let mut conn = db.acquire().await?;
            // In debug builds a write through a read connection inside an
            // update fails loudly: it would escape the update's transaction.
            // The pool turns it back off on release (see `connect`).
            if cfg!(debug_assertions) {
                sqlx::query("PRAGMA query_only = ON").execute(&mut *conn).await?;
            }
            return Ok(Read::Pool(conn));
        }
        Ok(Read::Pool(db.acquire().await?))
    }
}

fn nested() -> sqlx::Error {
    sqlx::Error::Protocol("a database connection of this update is still held (nested read/write)".into())
}

fn scoped(slot: &Option<Tx>) -> &Tx {
    slot.as_ref().expect("an update's transaction is begun before it is handed out")
}

fn scoped_mut(slot: &mut Option<Tx>) -> &mut Tx {
    slot.as_mut().expect("an update's transaction is begun before it is handed out")
}

impl std::ops::Deref for Write {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Held::Own(tx) => tx,
            Held::Scoped(slot) => scoped(slot),
        }
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.0 {
            Held::Own(tx) => tx,
            Held::Scoped(slot) => scoped_mut(slot),
        }
    }
}

impl std::ops::Deref for Read {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        match self {
            Read::Pool(conn) => conn,
            Read::Scoped(slot) => scoped(slot),
        }
    }
}

impl std::ops::DerefMut for Read {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Read::Pool(conn) => conn,
            Read::Scoped(slot) => scoped_mut(slot),
        }
    }
}
