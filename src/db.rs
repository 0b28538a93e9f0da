//! The SQLite pool: WAL, foreign keys on, migrations applied at start-up.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};
use tokio::sync::oneshot;

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

/// The process's one writer, with group commit.
///
/// SQLite allows a single writer, and under load a commit per transaction
/// (its WAL write and the hand-offs to the connection's thread) costs more
/// than the writes. So writers take turns on one connection inside a shared
/// transaction: each turn runs in a savepoint, released when the writer is
/// done or rolled back if it fails, and a committer task commits once the
/// writers queued before it have had their turns. [`Tx::commit`] returns
/// only after that commit, so nothing is reported done (no reply is sent,
/// no offset confirmed) that a crash could still undo.
#[derive(Clone, Default)]
pub struct WriteGate(Arc<Gate>);

#[derive(Default)]
struct Gate {
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// Wakes the committer when a writer has released its savepoint.
    released: Arc<tokio::sync::Notify>,
    committer: std::sync::OnceLock<()>,
    /// Commits made (the tests check that queued writers share them).
    commits: Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Default)]
struct Writer {
    conn: Option<sqlx::SqliteConnection>,
    /// A transaction is open on `conn`.
    open: bool,
    /// A writer went away without releasing its savepoint: undone by
    /// whoever takes the next turn (a `Drop` cannot wait for the database).
    abandoned: bool,
    /// Writers whose savepoints are released, waiting for the commit.
    members: Vec<oneshot::Sender<Result<(), String>>>,
    /// Set by SQLite's rollback hook: an error (disk full, I/O) rolled the
    /// whole transaction back, released savepoints included.
    rolled_back: Arc<AtomicBool>,
}

/// The savepoint a writer's turn runs in. Turns never overlap, so one name
/// will do.
const SAVEPOINT: &str = "SAVEPOINT todanpho_turn";
const BEGIN: &str = "BEGIN IMMEDIATE; SAVEPOINT todanpho_turn";
/// Ends a writer's turn; see [`Tx::commit_released`].
pub const END_TURN: &str = "RELEASE todanpho_turn";
const UNDO: &str = "ROLLBACK TO todanpho_turn";

impl WriteGate {
    /// Waits for this process's turn, then begins a savepoint in the shared
    /// write transaction.
    pub async fn begin(&self, db: &SqlitePool) -> sqlx::Result<Write> {
        Ok(Write(Held::Own(self.begin_tx(db).await?)))
    }

    /// Transactions committed so far.
    pub fn commits(&self) -> u64 {
        self.0.commits.load(Ordering::Relaxed)
    }

    async fn begin_tx(&self, db: &SqlitePool) -> sqlx::Result<Tx> {
        let gate = &self.0;
        gate.committer.get_or_init(|| {
            tokio::spawn(commit_groups(Arc::downgrade(&gate.writer), gate.released.clone(), gate.commits.clone()));
        });
        let mut writer = gate.writer.clone().lock_owned().await;
        if let Err(e) = writer.begin_turn(db).await {
            writer.fail_group(&e);
            return Err(e);
        }
        Ok(Tx { writer: Some(writer), released: gate.released.clone() })
    }
}

impl Writer {
    async fn begin_turn(&mut self, db: &SqlitePool) -> sqlx::Result<()> {
        if self.conn.is_none() {
            let mut conn = db.connect_options().connect().await?;
            let rolled_back = self.rolled_back.clone();
            conn.lock_handle().await?.set_rollback_hook(move || rolled_back.store(true, Ordering::SeqCst));
            self.conn = Some(conn);
        }
        self.undo_abandoned().await?;
        let begun = if self.open {
            self.run(SAVEPOINT).await
        } else {
            self.open = true;
            self.run(BEGIN).await
        };
        self.check(begun)
    }

    /// Ends this turn's savepoint, keeping its writes in the transaction.
    async fn release(&mut self) -> sqlx::Result<()> {
        self.check(Ok(()))?;
        let released = self.run(END_TURN).await;
        self.check(released)
    }

    /// Rolls back the turn of a writer that went away without releasing it
    /// (and checks the transaction is still there).
    async fn undo_abandoned(&mut self) -> sqlx::Result<()> {
        if std::mem::take(&mut self.abandoned) {
            let undone = self.run(UNDO).await;
            self.check(undone)?;
            let released = self.run(END_TURN).await;
            self.check(released)?;
        }
        self.check(Ok(()))
    }

    /// An error, or a rollback of the whole transaction behind our back,
    /// loses what the group wrote: everyone waiting is told so.
    fn check(&mut self, result: sqlx::Result<()>) -> sqlx::Result<()> {
        let lost = self.rolled_back.swap(false, Ordering::SeqCst);
        match result {
            Ok(()) if !lost => Ok(()),
            Ok(()) => {
                let e = sqlx::Error::Protocol("the write transaction was rolled back".into());
                self.fail_group(&e);
                Err(e)
            }
            Err(e) => {
                self.fail_group(&e);
                Err(e)
            }
        }
    }

    /// Gives up the shared transaction: its members are told their writes
    /// are lost, and the next turn begins a new one.
    fn fail_group(&mut self, why: &sqlx::Error) {
        for member in self.members.drain(..) {
            let _ = member.send(Err(format!("{why}")));
        }
        if self.open {
            self.open = false;
            // Closing the connection rolls back whatever is left of the
            // transaction; the next turn opens a fresh one.
            self.conn = None;
        }
        self.abandoned = false;
        self.rolled_back.store(false, Ordering::SeqCst);
    }

    async fn commit(&mut self) {
        if !self.open {
            return;
        }
        if self.undo_abandoned().await.is_err() {
            return;
        }
        let committed = self.run("COMMIT").await;
        if self.check(committed).is_err() {
            return;
        }
        self.open = false;
        for member in self.members.drain(..) {
            let _ = member.send(Ok(()));
        }
    }

    async fn run(&mut self, sql: &'static str) -> sqlx::Result<()> {
        let conn = self.conn.as_mut().ok_or_else(|| sqlx::Error::Protocol("the writer has no connection".into()))?;
        sqlx::query(sql).execute(conn).await.map(|_| ())
    }
}

/// Commits the shared transaction whenever writers have released their
/// savepoints. Waiting for the lock puts the committer behind the writers
/// already queued, so they join this commit: under load, one commit
/// serves many updates; when quiet, each gets its own at once.
async fn commit_groups(
    writer: std::sync::Weak<tokio::sync::Mutex<Writer>>,
    released: Arc<tokio::sync::Notify>,
    commits: Arc<std::sync::atomic::AtomicU64>,
) {
    loop {
        released.notified().await;
        let Some(writer) = writer.upgrade() else { return };
        let mut writer = writer.lock().await;
        if !writer.members.is_empty() {
            writer.commit().await;
            commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A writer's turn: a savepoint in the shared write transaction, holding
/// the process's turn until it ends.
pub struct Tx {
    writer: Option<tokio::sync::OwnedMutexGuard<Writer>>,
    released: Arc<tokio::sync::Notify>,
}

impl Tx {
    /// Releases the savepoint and waits until the transaction holding it is
    /// committed.
    pub async fn commit(mut self) -> sqlx::Result<()> {
        let Some(mut writer) = self.writer.take() else { return Ok(()) };
        writer.release().await?;
        self.join_commit(writer).await
    }

    /// Like [`Tx::commit`], for a caller whose last statement string ended
    /// with [`END_TURN`]: the savepoint is already released, a round trip
    /// saved on the busiest path.
    pub async fn commit_released(mut self) -> sqlx::Result<()> {
        let Some(mut writer) = self.writer.take() else { return Ok(()) };
        writer.check(Ok(()))?;
        self.join_commit(writer).await
    }

    async fn join_commit(&self, mut writer: tokio::sync::OwnedMutexGuard<Writer>) -> sqlx::Result<()> {
        let (done, committed) = oneshot::channel();
        writer.members.push(done);
        drop(writer);
        self.released.notify_one();
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(sqlx::Error::Protocol(format!("the write transaction failed: {why}"))),
            Err(_) => Err(sqlx::Error::Protocol("the committer has stopped".into())),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(writer) = &mut self.writer {
            writer.abandoned = true;
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        self.writer.as_ref().and_then(|w| w.conn.as_ref()).expect("a turn holds the writer until it ends")
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.writer.as_mut().and_then(|w| w.conn.as_mut()).expect("a turn holds the writer until it ends")
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&dir.path().join("t.db"), Durability::Normal).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)").execute(&db).await.unwrap();
        (dir, db)
    }

    async fn rows(db: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(db).await.unwrap()
    }

    async fn insert(conn: &mut sqlx::SqliteConnection, n: i64) {
        sqlx::query("INSERT INTO t (n) VALUES (?)").bind(n).execute(conn).await.unwrap();
    }

    #[tokio::test]
    async fn concurrent_writers_share_commits_and_each_sees_its_rows_committed() {
        let (_dir, db) = pool().await;
        let gate = WriteGate::default();
        let writers: Vec<_> = (0..100)
            .map(|n| {
                let (db, gate) = (db.clone(), gate.clone());
                tokio::spawn(async move {
                    let mut tx = gate.begin(&db).await.unwrap();
                    insert(&mut tx, n).await;
                    tx.commit().await.unwrap();
                    // Done means committed: another connection sees it.
                    let seen: Option<i64> =
                        sqlx::query_scalar("SELECT n FROM t WHERE n = ?").bind(n).fetch_optional(&db).await.unwrap();
                    assert_eq!(seen, Some(n));
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        assert_eq!(rows(&db).await, (0..100).collect::<Vec<_>>());
        assert!(gate.commits() < 50, "{} commits for 100 queued writers", gate.commits());
    }

    #[tokio::test]
    async fn a_writer_that_fails_loses_only_its_own_writes() {
        let (_dir, db) = pool().await;
        let gate = WriteGate::default();
        let mut first = gate.begin(&db).await.unwrap();
        insert(&mut first, 1).await;
        // Queued behind the first, so all three share one transaction.
        let failing = tokio::spawn({
            let (db, gate) = (db.clone(), gate.clone());
            async move {
                let mut tx = gate.begin(&db).await.unwrap();
                insert(&mut tx, 2).await;
                // Dropped without commit: a handler that failed.
            }
        });
        let third = tokio::spawn({
            let (db, gate) = (db.clone(), gate.clone());
            async move {
                let mut tx = gate.begin(&db).await.unwrap();
                insert(&mut tx, 3).await;
                tx.commit().await
            }
        });
        tokio::task::yield_now().await;
        first.commit().await.unwrap();
        failing.await.unwrap();
        third.await.unwrap().unwrap();
        assert_eq!(rows(&db).await, vec![1, 3]);
    }

    #[tokio::test]
    async fn a_rollback_of_the_whole_transaction_fails_everyone_in_it() {
        let (_dir, db) = pool().await;
        let gate = WriteGate::default();
        let mut first = gate.begin(&db).await.unwrap();
        insert(&mut first, 1).await;
        let breaking = tokio::spawn({
            let (db, gate) = (db.clone(), gate.clone());
            async move {
                let mut tx = gate.begin(&db).await.unwrap();
                insert(&mut tx, 2).await;
                // What SQLite does by itself on a full disk or an I/O error.
                sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
                tx.commit().await
            }
        });
        tokio::task::yield_now().await;
        let first = first.commit().await;
        assert!(first.is_err(), "the first writer was told its rolled-back rows are committed");
        assert!(breaking.await.unwrap().is_err());
        assert_eq!(rows(&db).await, Vec::<i64>::new());
        // The next writer starts afresh.
        let mut next = gate.begin(&db).await.unwrap();
        insert(&mut next, 4).await;
        next.commit().await.unwrap();
        assert_eq!(rows(&db).await, vec![4]);
    }
}
