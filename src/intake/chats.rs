//! One platform's intake: updates recorded in the inbox (so each is handled
//! once, and one taken in before a crash is handled after it), then handled
//! one chat at a time, in the order they came, different chats side by side.
//! Written once; Telegram and Zalo each run one (see [`Platform`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::inbox::{record_batch, unhandled};
use super::platform::Platform;
use super::{route, send_unsent_replies, Marks};
use crate::app::App;
use crate::db::Database;

pub struct Intake<P: Platform> {
    shared: Arc<Shared<P>>,
}

struct Shared<P: Platform> {
    app: App,
    db: Database,
    marks: Marks,
    platform: P,
    /// Updates queued and not yet handled: taking in waits when this many
    /// are (long polling then asks for no more).
    room: Arc<Semaphore>,
    chats: Mutex<Chats<P::Update>>,
}

/// Updates taken in and waiting for their chat's turn, at most.
const QUEUE: usize = 256;

/// An update waiting in its chat's queue, holding its room.
type Queued<U> = (String, U, OwnedSemaphorePermit);

/// The chats with updates waiting, each with its queue and the one worker
/// handling it. A worker ends when its chat's queue is empty (a ward has
/// thousands of chats, most of them quiet: none holds memory while idle).
struct Chats<U> {
    waiting: HashMap<String, Chat<U>>,
    /// Shutting down: nothing more is taken in.
    draining: bool,
}

struct Chat<U> {
    queue: VecDeque<Queued<U>>,
    worker: Option<JoinHandle<()>>,
}

impl<P: Platform> Intake<P> {
    /// Sends the replies a crash left unsent, then queues the updates it
    /// left unhandled, before any new one: each chat sees them in order.
    pub async fn start(app: App, db: Database, platform: P) -> Arc<Self> {
        let channel = platform.channel();
        let marks = Marks::start(db.clone(), channel, app.clock.clone());
        send_unsent_replies(&app, &db, channel).await;
        let chats = Mutex::new(Chats { waiting: HashMap::new(), draining: false });
        let room = Arc::new(Semaphore::new(QUEUE));
        let intake = Arc::new(Self { shared: Arc::new(Shared { app, db, marks, platform, room, chats }) });
        intake.replay().await;
        intake
    }

    /// The marks of this platform's updates and sent replies: work outside
    /// updates (the scheduler's jobs) sends its committed replies through
    /// them on this platform's lane.
    pub fn marks(&self) -> Marks {
        self.shared.marks.clone()
    }

    /// The platform answered a request just now (a poll, a probe, a
    /// delivery to the webhook): it is alive (see `ops`).
    pub fn heard(&self) {
        let app = &self.shared.app;
        app.health.answered(self.shared.platform.channel(), app.clock.now());
    }

    /// Asks the platform every `[ops] probe_every_secs` whether it is
    /// there (`ask` says yes or no): a webhook hears nothing from a quiet
    /// ward for hours, and `/healthz` must still tell.
    pub fn keep_probing<F, Fut>(self: &Arc<Self>, ask: F) -> JoinHandle<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        let intake = self.clone();
        let every = std::time::Duration::from_secs(self.shared.app.settings.ops.probe_every_secs.max(1));
        tokio::spawn(async move {
            loop {
                if ask().await {
                    intake.heard();
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// Chats with a worker now.
    #[cfg(test)]
    pub(super) fn busy_chats(&self) -> usize {
        self.shared.chats.lock().map(|c| c.waiting.len()).unwrap_or(0)
    }

    #[cfg(test)]
    pub(super) fn database(&self) -> &Database {
        &self.shared.db
    }

    /// Records a batch in the inbox (one transaction) and queues the
    /// updates not seen before. An error means nothing was recorded: the
    /// platform is to deliver the batch again.
    pub async fn take(&self, batch: Vec<(String, String, P::Update)>) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rows: Vec<(String, String)> = batch.iter().map(|(id, payload, _)| (id.clone(), payload.clone())).collect();
        let now = self.shared.app.clock.now();
        let fresh = record_batch(&self.shared.db, self.shared.platform.channel(), &rows, now).await?;
        metrics::counter!(crate::measure::RECEIVED, "platform" => self.shared.platform.channel().as_str())
            .increment(fresh.len() as u64);
        if fresh.len() < batch.len() {
            tracing::info!(updates = batch.len() - fresh.len(), "skipping updates already taken in");
        }
        let mut batch: Vec<Option<(String, String, P::Update)>> = batch.into_iter().map(Some).collect();
        for i in fresh {
            if let Some((id, _, update)) = batch.get_mut(i).and_then(Option::take) {
                self.queue(id, update).await;
            }
        }
        Ok(())
    }

    /// Lets the updates queued so far be handled, takes no more, and
    /// returns when they are: nothing taken in is left half-done.
    pub async fn drain(&self) {
        let workers: Vec<JoinHandle<()>> = match self.shared.chats.lock() {
            Ok(mut chats) => {
                chats.draining = true;
                chats.waiting.values_mut().filter_map(|chat| chat.worker.take()).collect()
            }
            Err(_) => Vec::new(),
        };
        for worker in workers {
            let _ = worker.await;
        }
    }

    async fn replay(&self) {
        let channel = self.shared.platform.channel();
        let pending = match unhandled(&self.shared.db, channel).await {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "cannot read updates left from before the restart");
                return;
            }
        };
        if !pending.is_empty() {
            tracing::info!(updates = pending.len(), "handling updates taken in before the restart");
        }
        for (id, payload) in pending {
            match self.shared.platform.parse(&payload) {
                Ok(update) => self.queue(id, update).await,
                Err(e) => {
                    let error = format!("the stored update cannot be read: {e}");
                    tracing::error!(update = %id, "{error}");
                    let _ = self.shared.marks.handled(channel, &id, Some(&error)).await;
                }
            }
        }
    }

    /// Puts the update in its chat's queue, starting the chat's worker if
    /// it has none.
    async fn queue(&self, id: String, update: P::Update) {
        let Ok(room) = self.shared.room.clone().acquire_owned().await else { return };
        let key = self.shared.platform.chat_of(&update).unwrap_or_default();
        let Ok(mut chats) = self.shared.chats.lock() else { return };
        if chats.draining {
            // It is recorded, and handled after the restart.
            return;
        }
        match chats.waiting.get_mut(&key) {
            Some(chat) => chat.queue.push_back((id, update, room)),
            None => {
                let worker = tokio::spawn(self.shared.clone().work(key.clone()));
                let queue = VecDeque::from([(id, update, room)]);
                chats.waiting.insert(key, Chat { queue, worker: Some(worker) });
            }
        }
    }
}

impl<P: Platform> Shared<P> {
    /// Handles the chat's updates in order until its queue is empty, then
    /// ends (under the same lock as [`Intake::queue`], so no update is
    /// left behind).
    async fn work(self: Arc<Self>, key: String) {
        loop {
            let next = {
                let Ok(mut chats) = self.chats.lock() else { return };
                let Some(chat) = chats.waiting.get_mut(&key) else { return };
                match chat.queue.pop_front() {
                    Some(next) => next,
                    None => {
                        chats.waiting.remove(&key);
                        return;
                    }
                }
            };
            let (id, update, room) = next;
            // A panic here must not leave the chat's queue without a
            // worker (handlers' own panics are caught in `process`).
            if std::panic::AssertUnwindSafe(self.handle(&id, update)).catch_unwind().await.is_err() {
                tracing::error!(update = id, "reading an update panicked; it is handled after the restart");
            }
            drop(room);
        }
    }

    async fn handle(&self, id: &str, update: P::Update) {
        let channel = self.platform.channel();
        match self.platform.read(&self.db, update).await {
            Ok(inbound) => route::dispatch(&self.app, &self.db, &self.marks, channel, id, inbound).await,
            Err(e) => {
                let error = format!("reading the update: {e:#}");
                tracing::error!(update = id, "{error}");
                if let Err(e) = self.marks.handled(channel, id, Some(&error)).await {
                    tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
                }
            }
        }
    }
}
