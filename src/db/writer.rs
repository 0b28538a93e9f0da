//! The one writer: each turn is a savepoint in a shared write transaction,
//! and a committer commits once the turns queued before it are done.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::{ConnectOptions, SqlitePool};
use tokio::sync::oneshot;

use super::Batch;

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
    /// The WAL to fsync after each commit, when durability is `full`.
    wal: Option<std::path::PathBuf>,
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
    pub async fn begin(&self, db: &SqlitePool) -> sqlx::Result<Tx> {
        Ok(self.begin_with(db, Batch::default()).await?.0)
    }

    /// Transactions committed so far.
    pub fn commits(&self) -> u64 {
        self.0.commits.load(Ordering::Relaxed)
    }

    /// Waits for this process's turn and begins it with `batch` in the same
    /// statement string: one round trip for both. Returns the turn and the
    /// ids the batch's statements returned.
    pub async fn begin_with(&self, db: &SqlitePool, batch: Batch) -> sqlx::Result<(Tx, Vec<i64>)> {
        let gate = &self.0;
        gate.committer.get_or_init(|| {
            tokio::spawn(commit_groups(Arc::downgrade(&gate.writer), gate.released.clone(), gate.commits.clone()));
        });
        let mut writer = gate.writer.clone().lock_owned().await;
        let opening = match writer.prepare_turn(db).await {
            Ok(opening) => opening,
            Err(e) => {
                writer.fail_group(&e);
                return Err(e);
            }
        };
        let mut opened = Batch::default();
        opened.push(opening);
        opened.extend(batch);
        match writer.fetch_ids(opened).await {
            Ok(ids) => {
                writer.check(Ok(()))?;
                Ok((Tx { writer: Some(writer), released: gate.released.clone() }, ids))
            }
            Err(e) => {
                // Undoes whatever part of the batch ran. If the opening
                // itself failed there is no savepoint: the undo fails too,
                // and the next turn starts a fresh transaction.
                writer.abandoned = true;
                let _ = writer.undo_abandoned().await;
                Err(e)
            }
        }
    }
}

impl Writer {
    /// Connects if need be and undoes an abandoned turn. Returns the
    /// statement that opens this turn, to be run before anything in it.
    async fn prepare_turn(&mut self, db: &SqlitePool) -> sqlx::Result<&'static str> {
        if self.conn.is_none() {
            let mut conn = db.connect_options().connect().await?;
            let rolled_back = self.rolled_back.clone();
            conn.lock_handle().await?.set_rollback_hook(move || rolled_back.store(true, Ordering::SeqCst));
            // `full` (2) or `extra` (3): SQLite would fsync the WAL inside
            // every COMMIT, holding the writer meanwhile. The writer commits
            // at `normal` instead and the committer fsyncs the WAL itself
            // after letting go of the writer, before telling anyone the
            // commit is done: the same durability, and the next group's
            // turns go on during the fsync.
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut conn).await?;
            if level >= 2 {
                sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut conn).await?;
                let file = db.connect_options().get_filename().to_path_buf();
                self.wal = Some(wal_path(&file));
            }
            self.conn = Some(conn);
        }
        self.undo_abandoned().await?;
        if self.open {
            Ok(SAVEPOINT)
        } else {
            self.open = true;
            Ok(BEGIN)
        }
    }

    async fn fetch_ids(&mut self, batch: Batch) -> sqlx::Result<Vec<i64>> {
        let conn = self.conn.as_mut().ok_or_else(|| sqlx::Error::Protocol("the writer has no connection".into()))?;
        batch.fetch_ids(conn).await
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

    /// Commits; returns the members to tell once the commit is durable,
    /// and the WAL to fsync first (see [`Writer::prepare_turn`]).
    async fn commit(&mut self) -> Option<(Vec<oneshot::Sender<Result<(), String>>>, Option<std::path::PathBuf>)> {
        if !self.open {
            return None;
        }
        if self.undo_abandoned().await.is_err() {
            return None;
        }
        let committed = self.run("COMMIT").await;
        if self.check(committed).is_err() {
            return None;
        }
        self.open = false;
        Some((std::mem::take(&mut self.members), self.wal.clone()))
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
        if writer.members.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let committed = writer.commit().await;
        drop(writer);
        commits.fetch_add(1, Ordering::Relaxed);
        let Some((members, wal)) = committed else { continue };
        // The next group may commit while this one's fsync runs; the WAL
        // is appended in order, so each fsync covers every commit before it.
        tokio::spawn(async move {
            let durable = match wal {
                Some(wal) => tokio::task::spawn_blocking(move || sync_file(&wal))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
                    .map_err(|e| format!("cannot sync the database's log: {e}")),
                None => Ok(()),
            };
            if let Err(e) = &durable {
                tracing::error!(error = %e, "a commit may not survive a power cut");
            }
            metrics::histogram!(crate::measure::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
            for member in members {
                let _ = member.send(durable.clone());
            }
        });
    }
}

/// SQLite's write-ahead log next to the database file.
fn wal_path(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    std::path::PathBuf::from(name)
}

/// fsync(2) of the WAL's data: flushes what any descriptor wrote to it.
/// Without a WAL (the database left WAL mode), the database file itself.
fn sync_file(wal: &Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let database = wal.to_string_lossy();
            std::fs::File::open(database.strip_suffix("-wal").unwrap_or(&database))?.sync_data()
        }
        Err(e) => Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Durability;
    use crate::db::connect;

    #[tokio::test]
    async fn under_full_the_writer_leaves_the_fsync_to_the_committer() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&dir.path().join("t.db"), Durability::Full).await.unwrap();
        let gate = db.writes.clone();
        let mut tx = db.write().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)").execute(&mut *tx).await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (1)").execute(&mut *tx).await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(level, 1, "the writer commits at normal");
        tx.commit().await.unwrap();
        let writer = gate.0.writer.lock().await;
        assert_eq!(writer.wal.as_deref(), Some(dir.path().join("t.db-wal").as_path()));
        assert!(writer.wal.as_deref().is_some_and(|wal| sync_file(wal).is_ok()));
        drop(writer);
        // Other connections keep `full`.
        let mut conn = db.read().await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(level, 2);
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t").fetch_all(&mut *conn).await.unwrap();
        assert_eq!(rows, vec![1]);
    }
}
