//! One platform's intake: updates recorded in the inbox (so each is handled
//! once, and one taken in before a crash is handled after it), then handled
//! one chat at a time, in the order they came, different chats side by side.
//! Written once; Telegram and Zalo each run one (see [`Platform`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::inbox::{mark_handled, record_batch, unhandled};
use super::platform::Platform;
use super::{route, send_unsent_replies, Marks};
use crate::app::App;
use crate::db::Database;

pub struct Intake<P: Platform> {
    shared: Arc<Shared<P>>,
    chats: Mutex<Chats<P::Update>>,
}

struct Shared<P> {
    app: App,
    db: Database,
    marks: Marks,
    platform: P,
    /// Updates queued and not yet handled: taking in waits when this many
    /// are (long polling then asks for no more).
    room: Arc<Semaphore>,
}

/// Updates taken in and waiting for their chat's turn, at most.
const QUEUE: usize = 256;

/// An update waiting in its chat's queue, holding its room.
type Queued<U> = (String, U, OwnedSemaphorePermit);

/// One queue and one worker per chat; workers stay for the life of the
/// intake (a ward has a few thousand chats; an idle worker is a few hundred
/// bytes). None once the intake is draining.
type Chats<U> = Option<HashMap<String, (mpsc::UnboundedSender<Queued<U>>, JoinHandle<()>)>>;

impl<P: Platform> Intake<P> {
    /// Sends the replies a crash left unsent, then queues the updates it
    /// left unhandled, before any new one: each chat sees them in order.
    pub async fn start(app: App, db: Database, platform: P) -> Arc<Self> {
        let channel = platform.channel();
        let marks = Marks::start(db.clone(), channel);
        send_unsent_replies(&app, &db, channel).await;
        let intake = Arc::new(Self {
            shared: Arc::new(Shared { app, db, marks, platform, room: Arc::new(Semaphore::new(QUEUE)) }),
            chats: Mutex::new(Some(HashMap::new())),
        });
        intake.replay().await;
        intake
    }

    pub fn platform(&self) -> &P {
        &self.shared.platform
    }

    /// Records a batch in the inbox (one transaction) and queues the
    /// updates not seen before. An error means nothing was recorded: the
    /// platform is to deliver the batch again.
    pub async fn take(&self, batch: Vec<(String, String, P::Update)>) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rows: Vec<(String, String)> = batch.iter().map(|(id, payload, _)| (id.clone(), payload.clone())).collect();
        let fresh = record_batch(&self.shared.db, self.shared.platform.channel(), &rows).await?;
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
        let chats = self.chats.lock().ok().and_then(|mut chats| chats.take()).unwrap_or_default();
        // Closing each queue ends its worker once the queue is empty.
        let workers: Vec<JoinHandle<()>> = chats.into_values().map(|(_, worker)| worker).collect();
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
                    let _ = mark_handled(&self.shared.db, channel, &id, Some(&error)).await;
                }
            }
        }
    }

    async fn queue(&self, id: String, update: P::Update) {
        let Ok(room) = self.shared.room.clone().acquire_owned().await else { return };
        let key = self.shared.platform.chat_of(&update).unwrap_or_default();
        let Ok(mut chats) = self.chats.lock() else { return };
        let Some(chats) = chats.as_mut() else {
            // Draining: it is recorded, and handled after the restart.
            return;
        };
        let (queue, _) = chats.entry(key).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Queued<P::Update>>();
            let shared = self.shared.clone();
            let worker = tokio::spawn(async move {
                while let Some((id, update, room)) = rx.recv().await {
                    shared.handle(&id, update).await;
                    drop(room);
                }
            });
            (tx, worker)
        });
        if queue.send((id, update, room)).is_err() {
            tracing::error!("a chat's worker has stopped; the update is handled after the restart");
        }
    }
}

impl<P: Platform> Shared<P> {
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
