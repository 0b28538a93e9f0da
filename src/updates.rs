//! The inbox of incoming updates. A platform may deliver the same update
//! again (Telegram does when the bot did not confirm its offset); recording
//! every update here, with its payload, before confirming it means each one
//! is handled once, and one taken in before a crash is handled after it.
//!
//! Over 500 lines (about 200 of them tests) until issue 21 splits it along
//! its jobs: the inbox, the reply outbox and its sent logs, one update's turn.

use std::sync::Arc;

use chrono::Utc;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use futures_util::FutureExt;

use crate::app::App;
use crate::channel::{Action, Channel, ChatKind, Event, Incoming, Replies};
use crate::db::UpdateScope;
use crate::db::{Batch, SetRow, WriteGate, Written};

/// Records a batch of updates in one turn at the writer (one commit for
/// the whole batch rather than one per update). Returns the indexes of those
/// that are new, in order; the others were seen before (a second copy
/// within the batch counts as seen).
pub async fn record_batch(
    db: &SqlitePool,
    writes: &WriteGate,
    channel: Channel,
    batch: &[(String, String)],
) -> anyhow::Result<Vec<usize>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let mut firsts = std::collections::HashSet::new();
    let unique: Vec<usize> = (0..batch.len()).filter(|&i| firsts.insert(batch[i].0.as_str())).collect();
    let ids: Vec<&str> = unique.iter().map(|&i| batch[i].0.as_str()).collect();
    // The check, the inserts and the end of the turn go as one statement
    // string: one round trip while the writer is held. The check is exact
    // because the turn holds the writer: nothing else records meanwhile.
    let mut statements = Batch::default();
    statements
        .push(
            "SELECT key FROM json_each(?)
             WHERE NOT EXISTS (SELECT 1 FROM processed_updates WHERE channel = ? AND update_id = value)",
        )
        .bind(serde_json::to_string(&ids)?)
        .bind(channel.as_str());
    for chunk in unique.chunks(RECORD_CHUNK) {
        statements.push(&format!(
            "INSERT INTO processed_updates (channel, update_id, received_at, payload) VALUES {} ON CONFLICT DO NOTHING",
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        ));
        for &i in chunk {
            let (update_id, payload) = &batch[i];
            statements.bind(channel.as_str()).bind(update_id.as_str()).bind(now).bind(payload.as_str());
        }
    }
    statements.push(crate::db::END_TURN);
    let (tx, new) = writes.begin_with(db, statements).await?;
    tx.commit_released().await?;
    let mut fresh: Vec<usize> = new.into_iter().filter_map(|k| unique.get(usize::try_from(k).ok()?).copied()).collect();
    fresh.sort_unstable();
    Ok(fresh)
}

/// Updates recorded by one statement (4 parameters each, well under
/// SQLite's limit on parameters).
const RECORD_CHUNK: usize = 200;

/// Updates taken in but never handled, oldest first, with their payloads.
pub async fn unhandled(db: &SqlitePool, channel: Channel) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query_as(
        "SELECT update_id, payload FROM processed_updates
         WHERE channel = ? AND handled_at IS NULL AND payload IS NOT NULL
         ORDER BY received_at, rowid",
    )
    .bind(channel.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// How long a handled update is remembered. Telegram keeps an update for
/// 24 hours, so no copy of it can arrive later; and after a week without
/// updates it picks the next update id at random, which must not meet an
/// id remembered from before (the update would be taken for a copy and
/// dropped). Two days sits safely between the two.
pub const REMEMBER_HANDLED: chrono::Duration = chrono::Duration::days(2);

/// Forgets updates handled before `now - REMEMBER_HANDLED`. Returns how many.
pub async fn forget_handled(db: &SqlitePool, writes: &WriteGate, now: chrono::DateTime<Utc>) -> anyhow::Result<u64> {
    let mut tx = writes.begin(db).await?;
    let done = sqlx::query("DELETE FROM processed_updates WHERE handled_at IS NOT NULL AND handled_at < ?")
        .bind(now - REMEMBER_HANDLED)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// Marks the update handled, with the handler's error if it failed. The
/// payload is dropped: it may hold personal data and is no longer needed.
pub async fn mark_handled(
    db: &SqlitePool,
    channel: Channel,
    update_id: &str,
    error: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE processed_updates SET handled_at = ?, payload = NULL, error = ? WHERE channel = ? AND update_id = ?",
    )
    .bind(Utc::now())
    .bind(error)
    .bind(channel.as_str())
    .bind(update_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends an update that changed something: its "handled" mark and its
/// replies go into the update's transaction, which is then committed.
/// Returns the replies with their outbox rows, to be sent and then removed
/// with [`Marks::sent`]. An update that only deferred rows (most dialogue
/// answers) ends together with the others ending at the same moment: one
/// turn at the writer for all of them.
pub async fn commit_with_replies(
    marks: &Marks,
    written: Written,
    channel: Channel,
    update_id: &str,
    actions: Vec<Action>,
) -> anyhow::Result<Vec<(i64, Action)>> {
    let replies = actions.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    let ending = Ending { channel, update_id: update_id.to_string(), replies };
    let mut ids = match written {
        Written::Rows(rows) => marks.end(rows, ending).await?,
        // The update holds its turn at the writer: its ending goes there.
        Written::Open(mut tx) => {
            let mut last = Batch::default();
            ending_statements(std::slice::from_ref(&ending), Utc::now(), &mut last);
            last.push(crate::db::END_TURN);
            let ids = last.fetch_ids(&mut tx).await?;
            tx.commit_released().await?;
            ids
        }
    };
    anyhow::ensure!(ids.len() == actions.len(), "{} replies queued as {} rows", actions.len(), ids.len());
    // Row ids grow in the order the rows were inserted, which is the order
    // the replies are to be sent in.
    ids.sort_unstable();
    Ok(ids.into_iter().zip(actions).collect())
}

/// An update's "handled" mark and its replies (as stored in the outbox).
#[derive(Clone)]
struct Ending {
    channel: Channel,
    update_id: String,
    replies: Vec<String>,
}

/// The statements that mark `endings` handled and queue their replies, in
/// order. The same two statements for any number of updates (they take
/// JSON arrays), so SQLite prepares them once. Returns the outbox ids in
/// insertion order: each ending's replies, one ending after the other.
fn ending_statements(endings: &[Ending], now: chrono::DateTime<Utc>, batch: &mut Batch) {
    let marked: Vec<Mark> = endings.iter().map(|e| (e.channel.as_str(), e.update_id.as_str(), None)).collect();
    push_marks(&marked, now, batch);
    let replies: Vec<(&str, &str, &str)> = endings
        .iter()
        .flat_map(|e| e.replies.iter().map(|r| (e.channel.as_str(), e.update_id.as_str(), r.as_str())))
        .collect();
    if !replies.is_empty() {
        batch
            .push(
                "INSERT INTO reply_outbox (channel, update_id, action, created_at)
                 SELECT value ->> 0, value ->> 1, value ->> 2, ? FROM json_each(?) ORDER BY key RETURNING id",
            )
            .bind(now)
            .bind(serde_json::json!(replies).to_string());
    }
}

/// An update to mark handled: its channel, its id, and its handler's
/// error if it failed.
type Mark<'a> = (&'a str, &'a str, Option<&'a str>);

/// Appends the statement marking `marked` handled (dropping their
/// payloads): one statement text for any number of updates.
fn push_marks(marked: &[Mark], now: chrono::DateTime<Utc>, batch: &mut Batch) {
    batch
        .push(
            "UPDATE processed_updates SET handled_at = ?, payload = NULL, error = j.value ->> 2
             FROM json_each(?) AS j
             WHERE processed_updates.channel = j.value ->> 0 AND processed_updates.update_id = j.value ->> 1",
        )
        .bind(now)
        .bind(serde_json::json!(marked).to_string());
}

/// Replies committed but not sent when the process stopped, oldest first.
/// (Those the sent logs named were removed at start-up: see
/// [`settle_sent_logs`].) One that cannot be read any more is dropped with
/// an error in the log.
pub async fn unsent_replies(
    db: &SqlitePool,
    writes: &WriteGate,
    channel: Channel,
) -> anyhow::Result<Vec<(i64, Action)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, action FROM reply_outbox WHERE channel = ? ORDER BY id")
        .bind(channel.as_str())
        .fetch_all(db)
        .await?;
    let mut replies = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for (id, action) in rows {
        match serde_json::from_str(&action) {
            Ok(action) => replies.push((id, action)),
            Err(e) => {
                tracing::error!(reply = id, error = %e, "a stored reply cannot be read; dropped");
                unreadable.push(id);
            }
        }
    }
    remove_replies(db, writes, &unreadable).await?;
    Ok(replies)
}

/// Removes replies from the outbox, in one turn at the writer.
async fn remove_replies(db: &SqlitePool, writes: &WriteGate, ids: &[i64]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut statements = Batch::default();
    statements.push(REMOVE_REPLIES).bind(serde_json::to_string(ids)?);
    statements.push(crate::db::END_TURN);
    let (tx, _) = writes.begin_with(db, statements).await?;
    tx.commit_released().await?;
    Ok(())
}

const REMOVE_REPLIES: &str = "DELETE FROM reply_outbox WHERE id IN (SELECT value FROM json_each(?))";

/// At start-up, before any platform takes updates in: the replies the sent
/// logs name were sent before the process stopped, so they leave the outbox
/// and are not sent again; then the logs start empty. Outbox ids are never
/// reused (AUTOINCREMENT, migration 0014), so an id in a log is that reply
/// and no later one. The log of the versions before that migration, which
/// could name a later reply under a reused id, is dropped unread: its
/// replies may come twice, which is better than not at all.
pub async fn settle_sent_logs(db: &SqlitePool, writes: &WriteGate) -> anyhow::Result<()> {
    if let Some(legacy) = SentLog::legacy_path(db).filter(|p| p.exists()) {
        let named = std::fs::read_to_string(&legacy).unwrap_or_default().lines().count();
        if named > 0 {
            tracing::warn!(replies = named, "the old log of sent replies is dropped; those replies may be sent again");
        }
        std::fs::remove_file(&legacy)?;
    }
    for channel in [Channel::Telegram, Channel::Zalo] {
        let Some(path) = SentLog::path(db, channel).filter(|p| p.exists()) else { continue };
        let sent: Vec<i64> = std::fs::read_to_string(&path)?.lines().filter_map(|l| l.trim().parse().ok()).collect();
        remove_replies(db, writes, &sent).await?;
        std::fs::write(&path, "")?;
    }
    Ok(())
}

/// Writes to the inbox and the reply outbox done by one task in group
/// commits: jobs that arrive while a commit is under way go together in the
/// next one. Under load many updates share one commit instead of queueing
/// for the write lock one by one.
#[derive(Clone)]
pub struct Marks {
    tx: mpsc::UnboundedSender<Job>,
    sent: Option<Arc<SentLog>>,
    endings: mpsc::UnboundedSender<Ended>,
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
struct SentLog {
    file: std::sync::Mutex<(std::fs::File, u64)>,
    removed: std::sync::atomic::AtomicU64,
}

impl SentLog {
    /// `<database>.sent-<channel>`, next to the database file: one log per
    /// platform, since each empties its own when all it names are removed.
    fn path(db: &SqlitePool, channel: Channel) -> Option<std::path::PathBuf> {
        Self::beside(db, &format!("sent-{}", channel.as_str()))
    }

    /// The single log before migration 0014, which named reusable ids.
    fn legacy_path(db: &SqlitePool) -> Option<std::path::PathBuf> {
        Self::beside(db, "sent")
    }

    fn beside(db: &SqlitePool, suffix: &str) -> Option<std::path::PathBuf> {
        let file = db.connect_options().get_filename().to_path_buf();
        let name = file.file_name()?.to_string_lossy().to_string();
        (!name.is_empty() && name != ":memory:").then(|| file.with_file_name(format!("{name}.{suffix}")))
    }

    fn open(db: &SqlitePool, channel: Channel) -> Option<Self> {
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
    Handled { channel: Channel, update_id: String, error: Option<String>, done: oneshot::Sender<bool> },
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
    pub fn start(db: SqlitePool, writes: WriteGate, channel: Channel) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let sent = SentLog::open(&db, channel).map(Arc::new);
        let (endings, ended) = mpsc::unbounded_channel();
        tokio::spawn(end_updates(db.clone(), writes.clone(), ended));
        tokio::spawn(write_marks(db, writes, rx, sent.clone()));
        Self { tx, sent, endings }
    }

    /// Writes `rows` and `ending` with the other updates ending now, and
    /// waits for the commit; returns the outbox ids of the replies.
    async fn end(&self, rows: Vec<SetRow>, ending: Ending) -> anyhow::Result<Vec<i64>> {
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
        let (done, written) = oneshot::channel();
        let job = Job::Handled { channel, update_id: update_id.to_string(), error: error.map(str::to_string), done };
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
async fn end_updates(db: SqlitePool, writes: WriteGate, mut rx: mpsc::UnboundedReceiver<Ended>) {
    while let Some(group) = crate::gather::next_group(&mut rx, MAX_BATCH).await {
        match end_turn(&db, &writes, &group).await {
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
                    let (db, writes) = (db.clone(), writes.clone());
                    tokio::spawn(async move {
                        let group = vec![ended];
                        match end_turn(&db, &writes, &group).await {
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

async fn end_turn(db: &SqlitePool, writes: &WriteGate, group: &[Ended]) -> sqlx::Result<(crate::db::Tx, Vec<i64>)> {
    let now = Utc::now();
    let mut batch = Batch::default();
    let rows: Vec<SetRow> = group.iter().flat_map(|e| e.rows.iter().cloned()).collect();
    SetRow::write_all(&rows, now, &mut batch);
    let endings: Vec<Ending> = group.iter().map(|e| e.ending.clone()).collect();
    ending_statements(&endings, now, &mut batch);
    batch.push(crate::db::END_TURN);
    writes.begin_with(db, batch).await
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
    db: SqlitePool,
    writes: WriteGate,
    mut rx: mpsc::UnboundedReceiver<Job>,
    sent: Option<Arc<SentLog>>,
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
        let written = write_batch(&db, &writes, &batch).await;
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

async fn write_batch(db: &SqlitePool, writes: &WriteGate, batch: &[Job]) -> anyhow::Result<()> {
    let now = Utc::now();
    let marked: Vec<Mark> = batch
        .iter()
        .filter_map(|j| match j {
            Job::Handled { channel, update_id, error, .. } => {
                Some((channel.as_str(), update_id.as_str(), error.as_deref()))
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
    let (tx, _) = writes.begin_with(db, statements).await?;
    tx.commit_released().await?;
    Ok(())
}

/// Handles one update from the inbox: the handler runs in the update's
/// transaction, which is committed with the "handled" mark and the replies;
/// then the replies are sent. Errors and panics are recorded with the
/// update and answered with an apology; the caller goes on.
pub async fn process(app: &App, marks: &Marks, channel: Channel, update_id: &str, incoming: Incoming) {
    let started = std::time::Instant::now();
    let incoming = incoming.without_invisible();
    let kind = describe(&incoming);
    let chat_kind = incoming.chat_kind;
    let chat = incoming.chat.clone();
    let presser = incoming.from.addr.private_chat();
    let pressed = match &incoming.event {
        Event::Button { message: Some(message), shown: Some(shown), .. } => Some((message.clone(), shown.clone())),
        _ => None,
    };
    let callback = match &incoming.event {
        Event::Button { callback_id, .. } => Some(callback_id.clone()),
        _ => None,
    };
    // Everything the handler writes goes into one transaction (see
    // `UpdateScope`), committed below with the "handled" mark and the
    // replies, so a crash leaves all of it or none.
    let scope = UpdateScope::default();
    // A panic in one handler must not take the chat's worker (and the
    // updates queued behind it) down: it is caught and recorded like an
    // error.
    let handled = scope.run(std::panic::AssertUnwindSafe(crate::handle::handle(app, incoming)).catch_unwind()).await;
    let written = scope.take();
    let handled = handled.unwrap_or_else(|panic| Err(anyhow::anyhow!("panic: {}", panic_message(panic.as_ref()))));
    let (handled, written) = match written {
        Ok(written) => (handled, written),
        // Rolled back when the scope goes; the update counts as failed.
        Err(e) => (Err(anyhow::Error::from(e).context("ending the update's transaction")), None),
    };
    // The rules every update's replies keep, whichever flow built them.
    let handled = handled.map(|mut replies| {
        replies.drop_unchanged_edits(pressed.as_ref().map(|(m, s)| (m, s)));
        replies.confine_edits(&presser);
        replies.person_first(&chat);
        replies
    });
    let outcome = match (handled, written) {
        (Ok(replies), Some(written)) => {
            match commit_with_replies(marks, written, channel, update_id, replies.actions).await {
                Ok(queued) => Outcome::Committed(queued),
                Err(e) => Outcome::Failed(e.context("committing the update")),
            }
        }
        (Ok(replies), None) => Outcome::ReadOnly(replies.actions),
        // Dropping the transaction rolls back whatever the handler wrote.
        (Err(e), _) => Outcome::Failed(e),
    };
    let (sent, failed) = match outcome {
        Outcome::Committed(queued) => {
            let sent = queued.len();
            for (id, action) in queued {
                app.senders.deliver(channel, action).await;
                marks.sent(id);
            }
            (sent, false)
        }
        Outcome::ReadOnly(actions) => {
            // Nothing was written, so the replies need no outbox: handling
            // the update again after a crash would only answer again.
            let sent = actions.len();
            for action in actions {
                app.senders.deliver(channel, action).await;
            }
            mark(marks, channel, update_id, None).await;
            (sent, false)
        }
        Outcome::Failed(e) => {
            let error = format!("{e:#}");
            tracing::error!(update = update_id, kind, error = %error, "handler failed");
            let mut sorry = Replies::default();
            if let Some(id) = callback {
                sorry.answer(&id, Some("Xin lỗi, bot đang gặp sự cố. Xin thử lại sau ít phút.".into()));
            } else if chat_kind == ChatKind::Private {
                sorry.send(&chat, "Xin lỗi, bot đang gặp sự cố. Xin bác thử lại sau ít phút.");
            }
            for action in sorry.actions {
                app.senders.deliver(channel, action).await;
            }
            mark(marks, channel, update_id, Some(&error)).await;
            (0, true)
        }
    };
    // No message text or names at info level: they are personal data.
    tracing::info!(
        channel = channel.as_str(),
        update = update_id,
        kind,
        chat = if chat_kind == ChatKind::Private { "private" } else { "group" },
        actions = sent,
        failed,
        ms = started.elapsed().as_millis() as u64,
        "handled update"
    );
}

enum Outcome {
    /// The update changed something: committed with its replies, which
    /// are in the outbox under these ids.
    Committed(Vec<(i64, Action)>),
    ReadOnly(Vec<Action>),
    Failed(anyhow::Error),
}

async fn mark(marks: &Marks, channel: Channel, update_id: &str, error: Option<&str>) {
    if let Err(e) = marks.handled(channel, update_id, error).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
    }
}

/// Replies committed before the process stopped but not sent: sent now,
/// before any new update is handled, so each chat sees them in order.
pub async fn send_unsent_replies(app: &App, channel: Channel) {
    let unsent = match unsent_replies(&app.db, &app.writes, channel).await {
        Ok(unsent) if unsent.is_empty() => return,
        Ok(unsent) => unsent,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot read replies left from before the restart");
            return;
        }
    };
    tracing::info!(replies = unsent.len(), "sending replies left from before the restart");
    for (id, action) in unsent {
        app.senders.deliver(channel, action).await;
        if let Err(e) = remove_replies(&app.db, &app.writes, &[id]).await {
            tracing::error!(error = %format!("{e:#}"), "cannot remove a sent reply");
        }
    }
}

pub fn describe(incoming: &Incoming) -> &'static str {
    match &incoming.event {
        Event::Command { .. } => "command",
        Event::Text(_) => "text",
        Event::Photo { .. } => "photo",
        Event::Location { .. } => "location",
        Event::Button { .. } => "button",
        Event::Unsupported(_) => "unsupported",
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn database() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), crate::config::Durability::Normal).await.unwrap();
        (dir, db)
    }

    fn updates(ids: &[&str]) -> Vec<(String, String)> {
        ids.iter().map(|id| (id.to_string(), format!("{{\"update_id\":{id}}}"))).collect()
    }

    #[tokio::test]
    async fn an_update_is_new_once_whether_seen_before_or_twice_in_a_batch() {
        let (_dir, db) = database().await;
        let gate = WriteGate::default();
        assert_eq!(record_batch(&db, &gate, Channel::Telegram, &updates(&["1", "2"])).await.unwrap(), vec![0, 1]);
        // 2 was recorded before; 4 comes twice; Zalo's 1 is another update.
        let fresh = record_batch(&db, &gate, Channel::Telegram, &updates(&["2", "3", "4", "4", "5"])).await.unwrap();
        assert_eq!(fresh, vec![1, 2, 4]);
        assert_eq!(record_batch(&db, &gate, Channel::Zalo, &updates(&["1"])).await.unwrap(), vec![0]);
        let unhandled: Vec<String> =
            unhandled(&db, Channel::Telegram).await.unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(unhandled, ["1", "2", "3", "4", "5"]);
    }

    #[tokio::test]
    async fn marks_record_each_update_handled_with_its_own_error() {
        let (_dir, db) = database().await;
        let gate = WriteGate::default();
        record_batch(&db, &gate, Channel::Telegram, &updates(&["1", "2", "3"])).await.unwrap();
        let marks = Marks::start(db.clone(), gate.clone(), Channel::Telegram);
        let (a, b) = tokio::join!(
            marks.handled(Channel::Telegram, "1", None),
            marks.handled(Channel::Telegram, "2", Some("handler failed")),
        );
        a.unwrap();
        b.unwrap();
        let rows: Vec<(String, Option<String>, Option<String>, bool)> = sqlx::query_as(
            "SELECT update_id, payload, error, handled_at IS NOT NULL FROM processed_updates ORDER BY update_id",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(
            rows,
            vec![
                ("1".into(), None, None, true),
                ("2".into(), None, Some("handler failed".into()), true),
                ("3".into(), Some("{\"update_id\":3}".into()), None, false),
            ]
        );
    }

    fn reply(text: &str) -> Action {
        let to = crate::channel::ChatAddr { channel: Channel::Telegram, id: "300003".into() };
        Action::Send { to, text: text.into(), keyboard: crate::channel::Keyboard::none() }
    }

    async fn queue(marks: &Marks, update: &str, texts: &[&str]) -> Vec<i64> {
        let actions = texts.iter().map(|t| reply(t)).collect();
        let queued = commit_with_replies(marks, Written::Rows(Vec::new()), Channel::Telegram, update, actions);
        queued.await.unwrap().into_iter().map(|(id, _)| id).collect()
    }

    /// The kill of issue 18: B was sent, logged and removed; A was sent and
    /// logged, its removal not yet written; then C was committed and the
    /// process died. Before migration 0014, C took B's id and the restart
    /// dropped it as sent.
    #[tokio::test]
    async fn a_reply_logged_as_sent_never_hides_a_later_one_after_a_restart() {
        let (dir, db) = database().await;
        let gate = WriteGate::default();
        let marks = Marks::start(db.clone(), gate.clone(), Channel::Telegram);
        let [a, b] = queue(&marks, "1", &["A", "B"]).await[..] else { panic!("two replies") };
        let log = dir.path().join("t.db.sent-telegram");
        std::fs::write(&log, format!("{b}\n{a}\n")).unwrap();
        remove_replies(&db, &gate, &[b]).await.unwrap();
        let [c] = queue(&marks, "2", &["C"]).await[..] else { panic!("one reply") };
        assert_ne!(c, b, "an outbox id was handed out twice");
        db.close().await;

        let db = crate::db::connect(&dir.path().join("t.db"), crate::config::Durability::Normal).await.unwrap();
        let gate = WriteGate::default();
        settle_sent_logs(&db, &gate).await.unwrap();
        let unsent = unsent_replies(&db, &gate, Channel::Telegram).await.unwrap();
        assert_eq!(unsent, vec![(c, reply("C"))], "A was sent; C never was");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "", "the log starts empty");
    }

    /// A log from before migration 0014 may name a reused id: it is dropped
    /// unread, so its replies may come twice but none is lost.
    #[tokio::test]
    async fn the_old_log_of_sent_replies_is_dropped_unread() {
        let (dir, db) = database().await;
        let gate = WriteGate::default();
        let marks = Marks::start(db.clone(), gate.clone(), Channel::Telegram);
        let [a] = queue(&marks, "1", &["A"]).await[..] else { panic!("one reply") };
        let legacy = dir.path().join("t.db.sent");
        std::fs::write(&legacy, format!("{a}\n")).unwrap();
        settle_sent_logs(&db, &gate).await.unwrap();
        assert!(!legacy.exists());
        assert_eq!(unsent_replies(&db, &gate, Channel::Telegram).await.unwrap(), vec![(a, reply("A"))]);
    }

    #[tokio::test]
    async fn handled_updates_are_forgotten_after_two_days_and_unhandled_ones_kept() {
        let (_dir, db) = database().await;
        let gate = WriteGate::default();
        record_batch(&db, &gate, Channel::Telegram, &updates(&["1", "2", "3"])).await.unwrap();
        let marks = Marks::start(db.clone(), gate.clone(), Channel::Telegram);
        marks.handled(Channel::Telegram, "1", None).await.unwrap();
        marks.handled(Channel::Telegram, "2", None).await.unwrap();
        let now = Utc::now();
        assert_eq!(forget_handled(&db, &gate, now).await.unwrap(), 0, "handled just now");
        // Three days on, 1 and 2 are forgotten: after a week of silence
        // Telegram may give a new update id 1, and it is new.
        assert_eq!(forget_handled(&db, &gate, now + chrono::Duration::days(3)).await.unwrap(), 2);
        assert_eq!(record_batch(&db, &gate, Channel::Telegram, &updates(&["1", "3"])).await.unwrap(), vec![0]);
    }
}
