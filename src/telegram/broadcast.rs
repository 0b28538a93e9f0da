//! Drains the notice outbox through the Bot API within Telegram's limits:
//! a sliding window per second for the bot and per minute for each group,
//! a few requests in flight, 429 answered by waiting `retry_after`,
//! network and server errors retried with backoff, a migrated chat
//! followed, a chat the bot was removed from marked failed. See
//! `notice::outbox` for the delivery guarantee.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{ChatId, FileId, InputFile, Me};
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::outbound;
use crate::app::App;
use crate::channel::{Channel, ChatAddr, Replies};
use crate::db::Database;
use crate::notice::outbox::{self, Failure};
use crate::notice::repo::{self, Delivery};

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

    /// Telegram said to wait (429 `retry_after`).
    pub fn block(&mut self, chat: &str, until: Instant) {
        self.blocked.insert(chat.to_string(), until);
    }
}

enum Outcome {
    Sent(String),
    RetryAfter(Duration),
    Moved(i64),
    Failed(Failure),
    Transient(String),
}

fn classify(error: &RequestError) -> Outcome {
    match error {
        RequestError::RetryAfter(s) => Outcome::RetryAfter(s.duration()),
        RequestError::MigrateToChatId(id) => Outcome::Moved(id.0),
        RequestError::Api(ApiError::BotKicked | ApiError::BotKickedFromSupergroup | ApiError::BotBlocked) => {
            Outcome::Failed(Failure::Removed)
        }
        RequestError::Api(ApiError::ChatNotFound | ApiError::GroupDeactivated) => Outcome::Failed(Failure::Gone),
        RequestError::Api(ApiError::NotEnoughRightsToPostMessages) => Outcome::Failed(Failure::NoRights),
        // "Forbidden: bot was kicked from the group chat" and other refusals
        // the library does not name are final; server errors are not.
        RequestError::Api(ApiError::Unknown(text)) if text.starts_with("Forbidden") => {
            Outcome::Failed(Failure::Removed)
        }
        RequestError::Api(ApiError::Unknown(text)) if text.starts_with("Bad Request") => Outcome::Failed(Failure::Gone),
        other => Outcome::Transient(other.to_string()),
    }
}

/// Sends one part of a notice; the first is pinned when the notice asks.
async fn send(bot: Bot, chat: i64, part: outbox::Part, me: Me, pin: bool) -> Outcome {
    let markup = outbound::inline_markup(&part.keyboard, &me);
    let result = match part.photo {
        Some(file_id) => {
            bot.send_photo(ChatId(chat), InputFile::file_id(FileId(file_id)))
                .caption(part.text)
                .reply_markup(markup)
                .await
        }
        None => bot.send_message(ChatId(chat), part.text).reply_markup(markup).await,
    };
    match result {
        Ok(message) => {
            if pin {
                if let Err(e) = bot.pin_chat_message(ChatId(chat), message.id).await {
                    tracing::warn!(error = %e, "cannot pin a notice (the bot may not be an admin)");
                }
            }
            Outcome::Sent(message.id.0.to_string())
        }
        Err(e) => classify(&e),
    }
}

/// Runs until `stop` turns true, then lets the requests in flight finish and
/// records them.
pub async fn run(bot: Bot, app: App, db: Database, mut stop: watch::Receiver<bool>) {
    let me = loop {
        match bot.get_me().await {
            Ok(me) => break me,
            Err(e) => {
                tracing::warn!(error = %e, "the notice sender waits for the Bot API");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    };
    let reset = async {
        let mut tx = db.write().await?;
        let n = repo::reset_sending(&mut tx, Channel::Telegram).await?;
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
            match start_due(&bot, &me, &app, &db, &mut limiter, &mut in_flight).await {
                Ok(w) => wait = wait.min(w),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "the notice outbox failed"),
            }
        }
        tokio::select! {
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                match done {
                    Ok((delivery, last, outcome)) => {
                        if let Err(e) = record(&bot, &me, &app, &db, &mut limiter, delivery, last, outcome).await {
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
async fn start_due(
    bot: &Bot,
    me: &Me,
    app: &App,
    db: &Database,
    limiter: &mut Limiter,
    in_flight: &mut JoinSet<(Delivery, bool, Outcome)>,
) -> anyhow::Result<Duration> {
    let due = repo::due(&mut *db.read().await?, Channel::Telegram, app.clock.now(), 200).await?;
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
        let Ok(chat) = delivery.chat.id.parse::<i64>() else {
            repo::mark_failed(&mut tx, delivery.id, &Failure::Gone.reason()).await?;
            continue;
        };
        if let Err(w) = limiter.try_take(&delivery.chat.id, Instant::now()) {
            // One busy group does not hold up the others.
            wait = wait.min(w);
            continue;
        }
        let Some(notice) = crate::notice::repo::get(&mut tx, delivery.notice).await? else { continue };
        if !repo::mark_sending(&mut tx, delivery.id).await? {
            continue;
        }
        let (text, keyboard) = outbox::group_message(&mut tx, &notice).await?;
        let parts = outbox::parts(&text, notice.photo.as_deref(), keyboard, &crate::fit::TELEGRAM);
        // The parts already sent are not sent again: this one is the next.
        let index = usize::try_from(delivery.parts_sent).unwrap_or(0).min(parts.len() - 1);
        let last = index + 1 == parts.len();
        starting.push((delivery, last, chat, parts[index].clone(), notice.pin && index == 0));
    }
    tx.commit().await?;
    for (delivery, last, chat, part, pin) in starting {
        let task = send(bot.clone(), chat, part, me.clone(), pin);
        in_flight.spawn(async move { (delivery, last, task.await) });
    }
    Ok(wait)
}

async fn record(
    bot: &Bot,
    me: &Me,
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
            tracing::warn!(seconds = after.as_secs(), "Telegram asked to slow down");
            repo::mark_retry(&mut tx, delivery.id, now, "429", false).await?;
        }
        Outcome::Moved(new_id) => {
            let to = ChatAddr { channel: Channel::Telegram, id: new_id.to_string() };
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
                repo::mark_retry(&mut tx, delivery.id, now + backoff, &error, true).await?;
            }
        }
    }
    let mut out = Replies::default();
    if ended || ended_by_giving_up {
        outbox::after_delivery(app, &mut tx, delivery.notice, &mut out).await?;
    }
    tx.commit().await?;
    for action in &out.actions {
        if matches!(action, crate::channel::Action::Send { .. } | crate::channel::Action::Post { .. }) {
            limiter.take_global().await;
        }
    }
    outbound::perform(bot, me, db, out.actions).await;
    Ok(())
}
