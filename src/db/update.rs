//! An update's transaction: everything the update writes, its "handled"
//! mark and its replies, in one transaction (see `crate::intake`).

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

use super::{Batch, Database, SetRow, Tx};

/// The one transaction that everything an incoming update changes is
/// written in, together with its "handled" mark and its replies (see
/// [`crate::intake`]). A crash leaves either all of it or none, so a
/// replayed update can neither be applied twice nor lose its replies.
///
/// It is a value owned by the update's turn ([`crate::turn::Turn`]): a
/// handler writes through it and never commits; whoever began the turn
/// ends it with [`UpdateTx::finish`]. Reads before the first write use a
/// pooled connection, so an update that changes nothing never waits for
/// the writer. Rows that can wait ([`UpdateTx::defer`]) are kept until
/// the update ends and sent with its last statements, in one round trip.
///
/// It carries the update's time, read once from the bot's clock when the
/// update began: the rows it writes are stamped with it.
pub struct UpdateTx {
    db: Database,
    tx: Option<Tx>,
    rows: Vec<SetRow>,
    now: DateTime<Utc>,
}

/// What an update wrote, to be ended with its handled mark and replies
/// (see [`crate::intake::commit_with_replies`]).
pub enum Written {
    /// Its turn at the writer is under way.
    Open(Tx),
    /// Only deferred rows: its turn has not begun, and the rows can go with
    /// other updates' in set-wise statements (see [`crate::intake`]),
    /// stamped with the time that group ends.
    Rows(Vec<SetRow>),
}

/// A connection to read with: the pool's, or the update's transaction once
/// it has written, so the update reads what it wrote.
pub enum Reading<'a> {
    Pool(PoolConnection<Sqlite>),
    Update(&'a mut Tx),
}

impl UpdateTx {
    pub fn new(db: Database, now: DateTime<Utc>) -> Self {
        Self { db, tx: None, rows: Vec::new(), now }
    }

    /// When the update began, on the bot's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The update's transaction, begun (with the rows deferred so far) on
    /// first use.
    pub async fn write(&mut self) -> sqlx::Result<&mut SqliteConnection> {
        Ok(self.open().await?)
    }

    /// A connection for reading. Once the update has written (or deferred
    /// a row), the update's transaction, so the read sees it.
    pub async fn read(&mut self) -> sqlx::Result<Reading<'_>> {
        if self.tx.is_some() || !self.rows.is_empty() {
            return Ok(Reading::Update(self.open().await?));
        }
        // Read-only, as every pooled connection (see `connect`).
        Ok(Reading::Pool(self.db.pool.acquire().await?))
    }

    /// Writes `row` with the update's last statements (see
    /// [`Written::Rows`]); at once if the transaction is already under way,
    /// keeping the order of its writes. Reads and writes later in the
    /// update see it: they send it first.
    pub async fn defer(&mut self, row: SetRow) -> sqlx::Result<()> {
        let Some(tx) = self.tx.as_mut() else {
            self.rows.push(row);
            return Ok(());
        };
        let mut batch = Batch::default();
        SetRow::write_all(&[row], self.now, &mut batch);
        batch.fetch_ids(tx).await?;
        Ok(())
    }

    /// What the update wrote, if anything.
    pub fn finish(self) -> Option<Written> {
        match self.tx {
            Some(tx) => Some(Written::Open(tx)),
            None => (!self.rows.is_empty()).then_some(Written::Rows(self.rows)),
        }
    }

    async fn open(&mut self) -> sqlx::Result<&mut Tx> {
        let tx = match self.tx.take() {
            Some(tx) => tx,
            None => {
                let mut deferred = Batch::default();
                SetRow::write_all(&self.rows, self.now, &mut deferred);
                let (tx, _) = self.db.writes.begin_with(&self.db.pool, deferred).await?;
                self.rows.clear();
                tx
            }
        };
        Ok(self.tx.insert(tx))
    }
}

impl std::ops::Deref for Reading<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &Self::Target {
        match self {
            Reading::Pool(conn) => conn,
            Reading::Update(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for Reading<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Reading::Pool(conn) => conn,
            Reading::Update(tx) => tx,
        }
    }
}
