//! An update's transaction: everything the update writes, its "handled"
//! mark and its replies, in one transaction (see `crate::updates`).

use std::sync::Arc;

use sqlx::SqlitePool;

use super::{Batch, SetRow, Tx, WriteGate};

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
    /// A turn of its own, outside any update.
    pub(super) fn own(tx: Tx) -> Self {
        Write(Held::Own(tx))
    }

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
