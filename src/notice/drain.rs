//! Drains the notice outbox on any platform, within its limits: a sliding
//! window per second for the bot and per minute for each chat, a few
//! requests in flight, a "slow down" answered by waiting what it asks,
//! network and server errors retried with backoff, a moved chat followed,
//! a chat the bot was removed from marked failed. Written once; each
//! platform gives how a part is sent ([`Carrier`]). See `outbox` for the
//! delivery guarantee.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::outbox::{self, Failure, Part};
use super::repo::{self, Delivery};
use crate::app::App;
use crate::channel::{Channel, ChatAddr, Keyboard, Replies};
use crate::db::Database;

/// How a platform sends a notice's parts.
pub trait Carrier: Send + Sync + 'static {
    fn channel(&self) -> Channel;

    /// The notice as this platform shows it, in as many parts as its
    /// limits need.
    fn parts(&self, text: &str, photo: Option<&str>, keyboard: Keyboard) -> Vec<Part>;

    /// Sends one part; the first is pinned when the notice asks (where the
    /// platform can).
    fn send(&self, chat: ChatAddr, part: Part, pin: bool) -> BoxFuture<'static, Outcome>;
}

/// What became of one part.
pub enum Outcome {
    /// Sent, with the platform's id of the message.
    Sent(String),
    /// The platform asked to wait before the next message to the chat.
    RetryAfter(Duration),
    /// The chat has a new id: follow it and send again.
    Moved(ChatAddr),
    /// It cannot be delivered there.
    Failed(Failure),
    /// The network or the platform's server: worth another try.
    Transient(String),
}

/// Sliding-window limits, in real time (not the app's clock).
pub struct Limiter {
    per_second: usize,
    per_chat_per_minute: usize,
    global: VecDeque<Instant>,
    chats: HashMap<String, VecDeque<Instant>>,
    blocked: HashMap<String, Instant>,
}

/// A little slack so that requests that leave together but arrive apart do
/// not cross the server's window.
const MARGIN: Duration = Duration::from_millis(30);

impl Limiter {
    /// Starts as if the last second had been used up: after a restart the
    /// server still counts what the previous process sent.
    pub fn new(per_second: u32, per_chat_per_minute: u32) -> Self {
        let now = Instant::now();
        Self {
            per_second: per_second as usize,
            per_chat_per_minute: per_chat_per_minute as usize,
            global: std::iter::repeat_n(now, per_second as usize).collect(),
            chats: HashMap::new(),
            blocked: HashMap::new(),
        }
    }

    /// Takes a slot for `chat` now, or says how long to wait.
    pub fn try_take(&mut self, chat: &str, now: Instant) -> Result<(), Duration> {
        let second = Duration::from_secs(1) + MARGIN;
        let minute = Duration::from_secs(60) + MARGIN;
        while self.global.front().is_some_and(|t| now.duration_since(*t) >= second) {
            self.global.pop_front();
        }
        if let Some(until) = self.blocked.get(chat).filter(|u| **u > now) {
            return Err(*until - now);
        }
        if self.global.len() >= self.per_second {
            return Err(second - now.duration_since(self.global[0]));
        }
        let window = self.chats.entry(chat.to_string()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= minute) {
            window.pop_front();
        }
        if window.len() >= self.per_chat_per_minute {
            return Err(minute - now.duration_since(window[0]));
        }
        window.push_back(now);
        self.global.push_back(now);
        Ok(())
    }

    /// A slot in the bot's overall budget for a message that is not a
    /// delivery (the sender's progress and summary), waiting for it.
    pub async fn take_global(&mut self) {
        loop {
            let now = Instant::now();
            let second = Duration::from_secs(1) + MARGIN;
            while self.global.front().is_some_and(|t| now.duration_since(*t) >= second) {
                self.global.pop_front();
            }
            if self.global.len() < self.per_second {
                self.global.push_back(now);
                return;
            }
            tokio::time::sleep(second - now.duration_since(self.global[0])).await;
        }
    }

    /// The platform said to wait (Telegram's 429 `retry_after`).
    pub fn block(&mut self, chat: &str, until: Instant) {
        self.blocked.insert(chat.to_string(), until);
    }
}

/// Runs until `stop` turns true, then lets the requests in flight finish
/// and records them.
pub async fn run<C: Carrier>(carrier: C, app: App, db: Database, mut stop: watch::Receiver<bool>) {
    let carrier = std::sync::Arc::new(carrier);
    let reset = async {
        let mut tx = db.write().await?;
        let n = repo::reset_sending(&mut tx, carrier.channel()).await?;
        tx.commit().await?;
        anyhow::Ok(n)
    };
    match reset.await {
        Ok(n) if n > 0 => tracing::warn!(deliveries = n, "resending notices interrupted by a restart"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot reset interrupted notices"),
    }
    let settings = &app.settings.notices;
    let mut limiter = Limiter::new(settings.per_second, settings.per_group_per_minute);
    let mut in_flight: JoinSet<(Delivery, bool, Outcome)> = JoinSet::new();
    loop {
        let stopping = *stop.borrow();
        if stopping && in_flight.is_empty() {
            break;
        }
        let mut wait = Duration::from_millis(200);
        if !stopping && in_flight.len() < settings.in_flight {
            match start_due(&carrier, &app, &db, &mut limiter, &mut in_flight).await {
                Ok(w) => wait = wait.min(w),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "the notice outbox failed"),
            }
        }
        tokio::select! {
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                match done {
                    Ok((delivery, last, outcome)) => {
                        if let Err(e) = record(&carrier, &app, &db, &mut limiter, delivery, last, outcome).await {
                            tracing::error!(error = %format!("{e:#}"), "cannot record a notice delivery");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "a notice send task failed"),
                }
            }
            _ = app.outbox.notified(), if !stopping => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed(), if !stopping => {}
        }
    }
}

/// Starts the deliveries the limits allow now; how long until the next one
/// could go.
async fn start_due<C: Carrier>(
    carrier: &std::sync::Arc<C>,
    app: &App,
    db: &Database,
    limiter: &mut Limiter,
    in_flight: &mut JoinSet<(Delivery, bool, Outcome)>,
) -> anyhow::Result<Duration> {
    let due = repo::due(&mut *db.read().await?, carrier.channel(), app.clock.now(), 200).await?;
    let mut wait = Duration::from_millis(200);
    if due.is_empty() {
        return Ok(wait);
    }
    // Marked "sending" and committed before any request goes: a restart
    // finds them (see `reset_sending`) instead of sending them twice.
    let mut tx = db.write().await?;
    let mut starting = Vec::new();
    for delivery in due {
        if in_flight.len() + starting.len() >= app.settings.notices.in_flight {
            wait = Duration::from_millis(5);
            break;
        }
        if let Err(w) = limiter.try_take(&delivery.chat.id, Instant::now()) {
            // One busy group does not hold up the others.
            wait = wait.min(w);
            continue;
        }
        let Some(notice) = crate::notice::repo::get(&mut tx, delivery.notice).await? else { continue };
        if !repo::mark_sending(&mut tx, delivery.id).await? {
            continue;
        }
        let (text, keyboard) = outbox::group_message(&mut tx, &notice, carrier.channel()).await?;
        let parts = carrier.parts(&text, notice.photo.as_deref(), keyboard);
        // The parts already sent are not sent again: this one is the next.
        let index = usize::try_from(delivery.parts_sent).unwrap_or(0).min(parts.len() - 1);
        let last = index + 1 == parts.len();
        starting.push((delivery, last, parts[index].clone(), notice.pin && index == 0));
    }
    tx.commit().await?;
    for (delivery, last, part, pin) in starting {
        let task = carrier.send(delivery.chat.clone(), part, pin);
        in_flight.spawn(async move { (delivery, last, task.await) });
    }
    Ok(wait)
}

#[allow(clippy::too_many_arguments)]
async fn record<C: Carrier>(
    carrier: &std::sync::Arc<C>,
    app: &App,
    db: &Database,
    limiter: &mut Limiter,
    delivery: Delivery,
    last: bool,
    outcome: Outcome,
) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    let now = app.clock.now();
    // Only a delivery that has ended (every part sent, or given up) moves
    // the sender's progress.
    let ended = matches!(outcome, Outcome::Sent(_) if last) || matches!(outcome, Outcome::Failed(_));
    let mut ended_by_giving_up = false;
    match outcome {
        Outcome::Sent(message_id) if last => repo::mark_sent(&mut tx, delivery.id, &message_id, now).await?,
        Outcome::Sent(message_id) => repo::mark_part_sent(&mut tx, delivery.id, &message_id).await?,
        Outcome::RetryAfter(after) => {
            limiter.block(&delivery.chat.id, Instant::now() + after);
            tracing::warn!(seconds = after.as_secs(), "the platform asked to slow down");
            metrics::counter!(crate::measure::RATE_LIMITED, "platform" => carrier.channel().as_str()).increment(1);
            repo::mark_retry(&mut tx, delivery.id, now, "429", false).await?;
        }
        Outcome::Moved(to) => {
            crate::group::migrate_on(&mut tx, &delivery.chat, &to).await?;
            repo::move_chat(&mut tx, &delivery.chat, &to).await?;
            repo::mark_retry(&mut tx, delivery.id, now, "migrated", false).await?;
        }
        Outcome::Failed(failure) => {
            tracing::warn!(reason = ?failure, "a notice could not be delivered");
            repo::mark_failed(&mut tx, delivery.id, &failure.reason()).await?;
        }
        Outcome::Transient(error) => {
            if delivery.attempts + 1 >= i64::from(app.settings.notices.attempts) {
                repo::mark_failed(&mut tx, delivery.id, &Failure::GaveUp(error).reason()).await?;
                ended_by_giving_up = true;
            } else {
                let backoff = chrono::Duration::seconds(1 << (delivery.attempts + 1).min(6));
                tracing::warn!(error, "a notice send failed; retrying");
                metrics::counter!(crate::measure::RETRIED, "platform" => carrier.channel().as_str()).increment(1);
                repo::mark_retry(&mut tx, delivery.id, now + backoff, &error, true).await?;
            }
        }
    }
    let mut out = Replies::default();
    if ended || ended_by_giving_up {
        outbox::after_delivery(app, &mut tx, delivery.notice, &mut out).await?;
    }
    // Sent below without the reply outbox: the options they offer in chats
    // without buttons are kept with this change.
    crate::channel::menus::keep(&mut tx, &out.actions, now).await?;
    tx.commit().await?;
    for action in &out.actions {
        if matches!(action, crate::channel::Action::Send { .. } | crate::channel::Action::Post { .. }) {
            limiter.take_global().await;
        }
    }
    for action in out.actions {
        app.senders.deliver(carrier.channel(), action).await;
    }
    Ok(())
}
