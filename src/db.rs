//! The SQLite pool: WAL, foreign keys on, migrations applied at start-up.
//!
//! Over 500 lines until issue 21 splits it along its jobs (pool, statement
//! batches, the one writer and its group commit), with the writer made the
//! only way to write.

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
        // an fsync per commit (see README, Performance); for the writer's
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

/// Statements sent to the writer as one string, with their values in
/// order: each statement is a round trip to the connection's thread, and
/// the writer is held while it is made. Only statements that return ids (or
/// nothing) belong in a batch.
#[derive(Debug, Default)]
pub struct Batch {
    sql: String,
    values: Vec<Value>,
}

/// A value bound to a statement of a [`Batch`].
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Value {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Value::Time(t)
    }
}

impl Batch {
    /// Appends a statement; its `?` take the values bound next.
    pub fn push(&mut self, statement: &str) -> &mut Self {
        self.sql.push_str(statement);
        self.sql.push_str(";\n");
        self
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self
    }

    pub fn extend(&mut self, other: Batch) {
        self.sql.push_str(&other.sql);
        self.values.extend(other.values);
    }

    /// Runs the batch; returns the ids its statements returned, in order.
    pub async fn fetch_ids(self, conn: &mut sqlx::SqliteConnection) -> sqlx::Result<Vec<i64>> {
        use sqlx::Arguments;
        let mut args = sqlx::sqlite::SqliteArguments::default();
        for value in self.values {
            let added = match value {
                Value::Int(n) => args.add(n),
                Value::Text(s) => args.add(s),
                Value::Time(t) => args.add(t),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        sqlx::query_scalar_with::<_, i64, _>(&self.sql, args).fetch_all(conn).await
    }
}

/// A row deferred to a set-wise statement: `statement` writes the rows of
/// every update ending together, given as one JSON array (its first `?`)
/// and the time (its second). One statement text whatever the number of
/// rows, so SQLite prepares it once.
#[derive(Debug, Clone)]
pub struct SetRow {
    pub statement: &'static str,
    pub values: serde_json::Value,
}

impl SetRow {
    /// Appends the statements writing `rows` (grouped by statement) to
    /// `batch`.
    pub fn write_all(rows: &[SetRow], now: chrono::DateTime<chrono::Utc>, batch: &mut Batch) {
        let mut statements: Vec<&'static str> = rows.iter().map(|r| r.statement).collect();
        statements.sort_unstable();
        statements.dedup();
        for statement in statements {
            let values: Vec<&serde_json::Value> =
                rows.iter().filter(|r| r.statement == statement).map(|r| &r.values).collect();
            batch
                .push(statement)
                .bind(serde_json::Value::from(values.into_iter().cloned().collect::<Vec<_>>()).to_string())
                .bind(now);
        }
    }
}

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
        Ok(self.begin_with(db, Batch::default()).await?.0)
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

/// The one transaction that everything an incoming update changes is
/// written in, together with its "handled" mark and its replies (see
/// [`crate::updates`]). A crash leaves either all of it or none, so a
/// replayed update can neither be applied twice nor lose its replies.
///
/// While a scope is active, [`crate::app::App::write`] hands out this
/// transaction (begun on first use) and its `commit` only says the caller
/// is done; whoever opened the scope commits at the end. Writes that can
/// wait ([`crate::app::App::defer`]) are kept until then and sent with the
/// update's last statements, in one round trip.
#[derive(Clone, Default)]
pub struct UpdateScope {
    slot: Arc<tokio::sync::Mutex<Slot>>,
    /// Something read early in the update for a later step of it.
    stash: Arc<std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>>,
}

/// An update's transaction, or the rows it deferred while it has none.
#[derive(Default)]
pub struct Slot {
    tx: Option<Tx>,
    rows: Vec<SetRow>,
}

tokio::task_local! {
    static SCOPE: UpdateScope;
}

/// What an update wrote, to be ended with its handled mark and replies
/// (see [`crate::updates::commit_with_replies`]).
pub enum Written {
    /// Its turn at the writer is under way.
    Open(Tx),
    /// Only deferred rows: its turn has not begun, and the rows can go with
    /// other updates' in set-wise statements (see [`crate::updates`]).
    Rows(Vec<SetRow>),
}

impl UpdateScope {
    /// Runs `work` with this scope active.
    pub async fn run<F: std::future::Future>(&self, work: F) -> F::Output {
        SCOPE.scope(self.clone(), work).await
    }

    /// What the work wrote, if anything. An error if something still holds
    /// the transaction: the work is over, so that is a bug, and what it
    /// wrote must not be taken for nothing.
    pub fn take(&self) -> sqlx::Result<Option<Written>> {
        let mut slot = self.slot.try_lock().map_err(|_| nested())?;
        if let Some(tx) = slot.tx.take() {
            return Ok(Some(Written::Open(tx)));
        }
        Ok((!slot.rows.is_empty()).then(|| Written::Rows(std::mem::take(&mut slot.rows))))
    }

    fn current() -> Option<UpdateScope> {
        SCOPE.try_with(|s| s.clone()).ok()
    }

    /// Keeps `value` for a later step of the current update (nothing is
    /// kept outside an update). One value at a time.
    pub fn stash<T: std::any::Any + Send>(value: T) {
        if let Some(scope) = Self::current() {
            if let Ok(mut stash) = scope.stash.lock() {
                *stash = Some(Box::new(value));
            }
        }
    }

    /// The value kept by [`UpdateScope::stash`], if it is a `T`.
    pub fn take_stash<T: std::any::Any + Send>() -> Option<T> {
        let scope = Self::current()?;
        let mut stash = scope.stash.lock().ok()?;
        match stash.take()?.downcast::<T>() {
            Ok(value) => Some(*value),
            Err(other) => {
                *stash = Some(other);
                None
            }
        }
    }

    /// Writes `row` with the current update's last statements (see
    /// [`Written::Rows`]); at once if the update's transaction is already
    /// under way (keeping the order of its writes), or outside an update.
    /// Reads and writes later in the update see it: they send it first.
    pub(crate) async fn defer(db: &SqlitePool, gate: &WriteGate, row: SetRow) -> sqlx::Result<()> {
        let mut batch = Batch::default();
        if let Some(scope) = Self::current() {
            let mut slot = scope.slot.try_lock_owned().map_err(|_| nested())?;
            let Some(tx) = slot.tx.as_mut() else {
                slot.rows.push(row);
                return Ok(());
            };
            SetRow::write_all(&[row], chrono::Utc::now(), &mut batch);
            batch.fetch_ids(tx).await?;
            return Ok(());
        }
        SetRow::write_all(&[row], chrono::Utc::now(), &mut batch);
        let (tx, _) = gate.begin_with(db, batch).await?;
        tx.commit().await
    }
}

/// The write transaction of [`crate::app::App::write`].
pub struct Write(Held);

enum Held {
    Own(Tx),
    Scoped(tokio::sync::OwnedMutexGuard<Slot>),
}

/// Begins the update's transaction, with the rows deferred so far.
async fn open_scoped(slot: &mut Slot, db: &SqlitePool, gate: &WriteGate) -> sqlx::Result<()> {
    if slot.tx.is_none() {
        let mut deferred = Batch::default();
        SetRow::write_all(&std::mem::take(&mut slot.rows), chrono::Utc::now(), &mut deferred);
        slot.tx = Some(gate.begin_with(db, deferred).await?.0);
    }
    Ok(())
}

impl Write {
    /// Within an update's scope, a write transaction is the update's one;
    /// outside, a transaction of its own.
    pub(crate) async fn begin(db: &SqlitePool, gate: &WriteGate) -> sqlx::Result<Write> {
        let Some(scope) = UpdateScope::current() else { return gate.begin(db).await };
        let mut slot = scope.slot.try_lock_owned().map_err(|_| nested())?;
        open_scoped(&mut slot, db, gate).await?;
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
    Scoped(tokio::sync::OwnedMutexGuard<Slot>),
}

impl Read {
    pub(crate) async fn begin(db: &SqlitePool, gate: &WriteGate) -> sqlx::Result<Read> {
        if let Some(scope) = UpdateScope::current() {
            let mut slot = scope.slot.try_lock_owned().map_err(|_| nested())?;
            if !slot.rows.is_empty() {
                open_scoped(&mut slot, db, gate).await?;
            }
            if slot.tx.is_some() {
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

fn scoped(slot: &Slot) -> &Tx {
    slot.tx.as_ref().expect("an update's transaction is begun before it is handed out")
}

fn scoped_mut(slot: &mut Slot) -> &mut Tx {
    slot.tx.as_mut().expect("an update's transaction is begun before it is handed out")
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

    /// A pool, its gate, and a first writer holding the turn with row 1
    /// written: writers started now queue behind it, into one transaction.
    async fn first_writer() -> (tempfile::TempDir, SqlitePool, WriteGate, Write) {
        let (dir, db) = pool().await;
        let gate = WriteGate::default();
        let mut first = gate.begin(&db).await.unwrap();
        insert(&mut first, 1).await;
        (dir, db, gate, first)
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
        let (_dir, db, gate, first) = first_writer().await;
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
        let (_dir, db, gate, first) = first_writer().await;
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
    fn inserting(n: i64) -> Batch {
        let mut batch = Batch::default();
        batch.push("INSERT INTO t (n) VALUES (?)").bind(n);
        batch
    }

    /// A row of a set-wise insert into `t`.
    fn row(n: i64) -> SetRow {
        SetRow {
            statement:
                "WITH r AS (SELECT value FROM json_each(?)) INSERT INTO t (n) SELECT value FROM r WHERE ? IS NOT NULL",
            values: serde_json::json!(n),
        }
    }

    #[tokio::test]
    async fn deferred_rows_go_with_the_last_statements_and_later_reads_see_them() {
        let (_dir, db) = pool().await;
        let gate = WriteGate::default();
        let scope = UpdateScope::default();
        scope
            .run(async {
                UpdateScope::defer(&db, &gate, row(1)).await.unwrap();
                // Not written yet: nothing began a turn.
                assert_eq!(rows(&db).await, Vec::<i64>::new());
                UpdateScope::defer(&db, &gate, row(2)).await.unwrap();
            })
            .await;
        let Some(Written::Rows(deferred)) = scope.take().unwrap() else { panic!("the rows were not deferred") };
        // As the update's ending writes them (see `updates::end_turn`).
        let mut batch = Batch::default();
        SetRow::write_all(&deferred, chrono::Utc::now(), &mut batch);
        batch.extend(inserting(3));
        batch.push(END_TURN);
        let (tx, _) = gate.begin_with(&db, batch).await.unwrap();
        tx.commit_released().await.unwrap();
        assert_eq!(rows(&db).await, vec![1, 2, 3]);

        // A read later in the update sends the deferred row first and
        // reads it in the update's transaction.
        let scope = UpdateScope::default();
        let seen: Vec<i64> = scope
            .run(async {
                UpdateScope::defer(&db, &gate, row(4)).await.unwrap();
                let mut read = Read::begin(&db, &gate).await.unwrap();
                sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(&mut *read).await.unwrap()
            })
            .await;
        assert_eq!(seen, vec![1, 2, 3, 4]);
        let Some(Written::Open(tx)) = scope.take().unwrap() else { panic!("the read did not begin the turn") };
        tx.commit().await.unwrap();
        assert_eq!(rows(&db).await, vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_failing_batch_loses_only_its_own_deferred_writes() {
        let (_dir, db, gate, first) = first_writer().await;
        let failing = tokio::spawn({
            let (db, gate) = (db.clone(), gate.clone());
            async move {
                let mut batch = inserting(2);
                // The same key again: the batch fails half-way.
                batch.extend(inserting(1));
                batch.push(END_TURN);
                gate.begin_with(&db, batch).await.map(|_| ())
            }
        });
        tokio::task::yield_now().await;
        first.commit().await.unwrap();
        assert!(failing.await.unwrap().is_err());
        let (next, _) = gate.begin_with(&db, inserting(3)).await.unwrap();
        next.commit().await.unwrap();
        assert_eq!(rows(&db).await, vec![1, 3]);
    }
    #[tokio::test]
    async fn under_full_the_writer_leaves_the_fsync_to_the_committer() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&dir.path().join("t.db"), Durability::Full).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)").execute(&db).await.unwrap();
        let gate = WriteGate::default();
        let mut tx = gate.begin(&db).await.unwrap();
        insert(&mut tx, 1).await;
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(level, 1, "the writer commits at normal");
        tx.commit().await.unwrap();
        let writer = gate.0.writer.lock().await;
        assert_eq!(writer.wal.as_deref(), Some(dir.path().join("t.db-wal").as_path()));
        assert!(writer.wal.as_deref().is_some_and(|wal| sync_file(wal).is_ok()));
        drop(writer);
        // Other connections keep `full`.
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&db).await.unwrap();
        assert_eq!(level, 2);
        assert_eq!(rows(&db).await, vec![1]);
    }
}
