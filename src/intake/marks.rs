//! The "handled" marks, the endings of updates and the removal of sent
//! replies, written by one task each in group commits.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use crate::channel::Channel;
use crate::clock::Clock;
use crate::db::{Batch, Database, SetRow};

use super::rows::{ending_statements, push_marks, remove_replies, Ending, Mark, REMOVE_REPLIES};

/// Writes to the inbox and the reply outbox done by one task in group
/// commits: jobs that arrive while a commit is under way go together in the
/// next one. Under load many updates share one commit instead of queueing
/// for the write lock one by one.
#[derive(Clone)]
pub struct Marks {
    tx: mpsc::UnboundedSender<Job>,
    sent: Option<Arc<SentLog>>,
    endings: mpsc::UnboundedSender<Ended>,
    /// The bot's clock: "handled at" is read against it when the inbox is
    /// pruned.
    clock: Arc<dyn Clock>,
}

/// An update that only deferred rows, waiting to end with the others.
struct Ended {
    rows: Vec<SetRow>,
    ending: Ending,
    done: oneshot::Sender<Result<Vec<i64>, String>>,
}

/// Ids of outbox replies sent, each appended with one write(2) the moment
/// its request succeeds. A killed process loses nothing the kernel already
/// has, so this closes most of the gap between sending a reply and its
/// removal from the outbox, which waits its turn for the database: at the
/// restart the replies named here are not sent again. (A reply whose
/// request was under way at the kill can still come twice: Telegram has no
/// way to ask whether it arrived.) Emptied whenever every id in it has
/// been removed from the outbox.
pub(super) struct SentLog {
    file: std::sync::Mutex<(std::fs::File, u64)>,
    removed: std::sync::atomic::AtomicU64,
}

impl SentLog {
    /// `<database>.sent-<channel>`, next to the database file: one log per
    /// platform, since each empties its own when all it names are removed.
    pub(super) fn path(db: &Database, channel: Channel) -> Option<std::path::PathBuf> {
        Self::beside(db, &format!("sent-{}", channel.as_str()))
    }

    /// The single log before migration 0014, which named reusable ids.
    pub(super) fn legacy_path(db: &Database) -> Option<std::path::PathBuf> {
        Self::beside(db, "sent")
    }

    fn beside(db: &Database, suffix: &str) -> Option<std::path::PathBuf> {
        let file = db.file()?;
        let name = file.file_name()?.to_string_lossy().to_string();
        Some(file.with_file_name(format!("{name}.{suffix}")))
    }

    fn open(db: &Database, channel: Channel) -> Option<Self> {
        let path = Self::path(db, channel)?;
        match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => Some(Self { file: std::sync::Mutex::new((file, 0)), removed: Default::default() }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the log of sent replies; a crash may send some twice");
                None
            }
        }
    }

    fn append(&self, id: i64) {
        use std::io::Write;
        let Ok(mut guard) = self.file.lock() else { return };
        let (file, appended) = &mut *guard;
        if file.write_all(format!("{id}\n").as_bytes()).is_ok() {
            *appended += 1;
        }
    }

    /// `n` more sent replies are out of the outbox for good.
    fn removed(&self, n: u64) {
        let removed = self.removed.fetch_add(n, std::sync::atomic::Ordering::SeqCst) + n;
        let Ok(mut guard) = self.file.lock() else { return };
        let (file, appended) = &mut *guard;
        if *appended == removed && *appended > 0 {
            if file.set_len(0).is_ok() {
                *appended = 0;
                self.removed.fetch_sub(removed, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
}

enum Job {
    /// An update that changed nothing is handled (its replies are sent
    /// first: replaying it would only answer again). The caller waits
    /// until the mark is on disk.
    Handled {
        channel: Channel,
        update_id: String,
        error: Option<String>,
        refused: Option<&'static str>,
        done: oneshot::Sender<bool>,
    },
    /// A reply from the outbox has been sent. Nobody waits: if the process
    /// dies before this is written, the reply is sent again at the restart.
    Sent(i64),
}

/// The most jobs in one commit.
const MAX_BATCH: usize = 512;
/// How long sent replies are gathered before their removal is written.
const SENT_GATHER: std::time::Duration = std::time::Duration::from_millis(20);

impl Marks {
    /// The marks of one platform's updates (each has its own log of sent
    /// replies).
    pub fn start(db: Database, channel: Channel, clock: Arc<dyn Clock>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let sent = SentLog::open(&db, channel).map(Arc::new);
        let (endings, ended) = mpsc::unbounded_channel();
        tokio::spawn(end_updates(db.clone(), ended, clock.clone()));
        tokio::spawn(write_marks(db, rx, sent.clone(), clock.clone()));
        Self { tx, sent, endings, clock }
    }

    /// Now, on the bot's clock.
    pub(super) fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// Writes `rows` and `ending` with the other updates ending now, and
    /// waits for the commit; returns the outbox ids of the replies.
    pub(super) async fn end(&self, rows: Vec<SetRow>, ending: Ending) -> anyhow::Result<Vec<i64>> {
        let (done, ended) = oneshot::channel();
        self.endings
            .send(Ended { rows, ending, done })
            .map_err(|_| anyhow::anyhow!("the update writer has stopped"))?;
        match ended.await {
            Ok(Ok(ids)) => Ok(ids),
            Ok(Err(e)) => anyhow::bail!("ending the update: {e}"),
            Err(_) => anyhow::bail!("the update writer has stopped"),
        }
    }

    pub async fn handled(&self, channel: Channel, update_id: &str, error: Option<&str>) -> anyhow::Result<()> {
        self.handled_refused(channel, update_id, error, None).await
    }

    /// As [`Marks::handled`], with the kind of refusal the update was
    /// answered with.
    pub async fn handled_refused(
        &self,
        channel: Channel,
        update_id: &str,
        error: Option<&str>,
        refused: Option<&'static str>,
    ) -> anyhow::Result<()> {
        let (done, written) = oneshot::channel();
        let error = error.map(str::to_string);
        let job = Job::Handled { channel, update_id: update_id.to_string(), error, refused, done };
        self.tx.send(job).map_err(|_| anyhow::anyhow!("the mark writer has stopped"))?;
        match written.await {
            Ok(true) => Ok(()),
            _ => anyhow::bail!("the update could not be marked handled"),
        }
    }

    pub fn sent(&self, reply: i64) {
        if let Some(log) = &self.sent {
            log.append(reply);
        }
        if self.tx.send(Job::Sent(reply)).is_err() {
            tracing::warn!(reply, "the mark writer has stopped; the reply may be sent again after a restart");
        }
    }
}

/// Ends updates that only deferred rows, all those waiting in one turn at
/// the writer (their rows, marks and replies in set-wise statements). The
/// commit is awaited apart, so the next group can take its turn meanwhile.
async fn end_updates(db: Database, mut rx: mpsc::UnboundedReceiver<Ended>, clock: Arc<dyn Clock>) {
    while let Some(group) = crate::gather::next_group(&mut rx, MAX_BATCH).await {
        match end_turn(&db, &group, clock.now()).await {
            Ok((tx, ids)) => {
                tokio::spawn(async move {
                    let committed = tx.commit_released().await;
                    tell_ended(group, ids, committed.map_err(|e| e.to_string()));
                });
            }
            // One of them broke a statement: each goes alone, so that only
            // that one fails.
            Err(_) if group.len() > 1 => {
                for ended in group {
                    let db = db.clone();
                    let now = clock.now();
                    tokio::spawn(async move {
                        let group = vec![ended];
                        match end_turn(&db, &group, now).await {
                            Ok((tx, ids)) => {
                                let committed = tx.commit_released().await;
                                tell_ended(group, ids, committed.map_err(|e| e.to_string()));
                            }
                            Err(e) => tell_ended(group, Vec::new(), Err(e.to_string())),
                        }
                    });
                }
            }
            Err(e) => tell_ended(group, Vec::new(), Err(e.to_string())),
        }
    }
}

async fn end_turn(
    db: &Database,
    group: &[Ended],
    now: chrono::DateTime<Utc>,
) -> sqlx::Result<(crate::db::Tx, Vec<i64>)> {
    let mut batch = Batch::default();
    let rows: Vec<SetRow> = group.iter().flat_map(|e| e.rows.iter().cloned()).collect();
    // The rows are the handlers' (a dialogue's state) and the endings, all
    // on the bot's clock as the group ends (see `Marks`): one time for the
    // set-wise statements of updates that began apart.
    SetRow::write_all(&rows, now, &mut batch);
    let endings: Vec<Ending> = group.iter().map(|e| e.ending.clone()).collect();
    ending_statements(&endings, now, &mut batch);
    batch.push(crate::db::END_TURN);
    db.write_with(batch).await
}

/// Each update gets the outbox ids of its own replies.
fn tell_ended(group: Vec<Ended>, mut ids: Vec<i64>, committed: Result<(), String>) {
    ids.sort_unstable();
    let mut ids = ids.into_iter();
    for ended in group {
        let own: Vec<i64> = ids.by_ref().take(ended.ending.replies.len()).collect();
        let _ = ended.done.send(committed.clone().map(|()| own));
    }
}

async fn write_marks(
    db: Database,
    mut rx: mpsc::UnboundedReceiver<Job>,
    sent: Option<Arc<SentLog>>,
    clock: Arc<dyn Clock>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        // Removing sent replies can wait a moment (the sent log covers a
        // crash meanwhile), so many share one turn of the writer instead of
        // each taking its own; a handled mark has someone waiting and goes
        // at once.
        let gather_until = tokio::time::Instant::now() + SENT_GATHER;
        while batch.len() < MAX_BATCH {
            let next = match rx.try_recv() {
                Ok(job) => Some(job),
                Err(_) if batch.iter().any(|j| matches!(j, Job::Handled { .. })) => None,
                Err(_) => tokio::time::timeout_at(gather_until, rx.recv()).await.ok().flatten(),
            };
            match next {
                Some(job) => batch.push(job),
                None => break,
            }
        }
        let written = write_batch(&db, &batch, clock.now()).await;
        if let Err(e) = &written {
            tracing::error!(error = %format!("{e:#}"), marks = batch.len(), "cannot mark updates handled");
        }
        let removed = batch.iter().filter(|j| matches!(j, Job::Sent(_))).count() as u64;
        if let (Ok(()), Some(log), true) = (&written, &sent, removed > 0) {
            log.removed(removed);
        }
        for job in batch {
            if let Job::Handled { done, .. } = job {
                let _ = done.send(written.is_ok());
            }
        }
    }
}

async fn write_batch(db: &Database, batch: &[Job], now: chrono::DateTime<Utc>) -> anyhow::Result<()> {
    let marked: Vec<Mark> = batch
        .iter()
        .filter_map(|j| match j {
            Job::Handled { channel, update_id, error, refused, .. } => {
                Some((channel.as_str(), update_id.as_str(), error.as_deref(), *refused))
            }
            Job::Sent(_) => None,
        })
        .collect();
    let sent: Vec<i64> = batch.iter().filter_map(|j| if let Job::Sent(id) = j { Some(*id) } else { None }).collect();
    // Set-wise statements, the same text whatever the number of jobs, sent
    // with the end of the turn: one round trip while the writer is held.
    let mut statements = Batch::default();
    if !marked.is_empty() {
        push_marks(&marked, now, &mut statements);
    }
    if !sent.is_empty() {
        statements.push(REMOVE_REPLIES).bind(serde_json::to_string(&sent)?);
    }
    statements.push(crate::db::END_TURN);
    let (tx, _) = db.write_with(statements).await?;
    tx.commit_released().await?;
    Ok(())
}

/// At start-up, before any platform takes updates in: the replies the sent
/// logs name were sent before the process stopped, so they leave the outbox
/// and are not sent again; then the logs start empty. Outbox ids are never
/// reused (AUTOINCREMENT, migration 0014), so an id in a log is that reply
/// and no later one. The log of the versions before that migration, which
/// could name a later reply under a reused id, is dropped unread: its
/// replies may come twice, which is better than not at all.
pub async fn settle_sent_logs(db: &Database) -> anyhow::Result<()> {
    if let Some(legacy) = SentLog::legacy_path(db).filter(|p| p.exists()) {
        let named = std::fs::read_to_string(&legacy).unwrap_or_default().lines().count();
        if named > 0 {
            tracing::warn!(replies = named, "the old log of sent replies is dropped; those replies may be sent again");
        }
        std::fs::remove_file(&legacy)?;
    }
    for channel in Channel::ALL {
        let Some(path) = SentLog::path(db, channel).filter(|p| p.exists()) else { continue };
        let sent: Vec<i64> = std::fs::read_to_string(&path)?.lines().filter_map(|l| l.trim().parse().ok()).collect();
        remove_replies(db, &sent).await?;
        std::fs::write(&path, "")?;
    }
    Ok(())
}
