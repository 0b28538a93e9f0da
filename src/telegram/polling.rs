//! Long polling through the inbox. teloxide's own polling confirms an
//! update's offset as soon as it has queued it, so a crash loses what was in
//! flight. Here each batch from getUpdates is first recorded (one
//! transaction for the batch), and only then is its offset confirmed, by the
//! next getUpdates. Updates recorded but not handled before a crash are
//! handed to the dispatcher again at start-up; a batch Telegram delivers
//! again is recognised and skipped.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use teloxide::prelude::*;
use teloxide::stop::{mk_stop_token, StopFlag, StopToken};
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{StatefulListener, UpdateListener};
use teloxide::RequestError;
use tokio::sync::mpsc;

use crate::channel::Channel;
use crate::db::Database;
use crate::updates;

/// How long one getUpdates waits on Telegram's side for something new.
const LONG_POLL_SECS: u32 = 10;
/// Updates waiting for the dispatcher; polling pauses when it is full.
pub(super) const QUEUE: usize = 256;

pub struct Inbox {
    rx: mpsc::Receiver<Update>,
    stop: StopToken,
}

/// The stream the dispatcher reads: what the poller recorded, in order.
pub struct InboxStream<'a>(&'a mut mpsc::Receiver<Update>);

impl Stream for InboxStream<'_> {
    type Item = Result<Update, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|u| u.map(Ok))
    }
}

fn stream(inbox: &mut Inbox) -> InboxStream<'_> {
    InboxStream(&mut inbox.rx)
}

fn stop_token(inbox: &mut Inbox) -> StopToken {
    inbox.stop.clone()
}

/// Starts polling in the background and returns the listener the
/// dispatcher reads from. Stopping it ends polling; what was recorded but
/// not yet handled is handled after the next start.
pub fn listener(bot: Bot, db: Database) -> impl UpdateListener<Err = Infallible> + Send {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (stop, flag) = mk_stop_token();
    tokio::spawn(poll(bot, db, tx, flag));
    inbox_listener(rx, stop)
}

/// The dispatcher's side of the inbox: what was recorded, in order.
pub(super) fn inbox_listener(
    rx: mpsc::Receiver<Update>,
    stop: StopToken,
) -> impl UpdateListener<Err = Infallible> + Send {
    StatefulListener::new(
        Inbox { rx, stop },
        stream as for<'a> fn(&'a mut Inbox) -> InboxStream<'a>,
        stop_token as fn(&mut Inbox) -> StopToken,
    )
}

async fn poll(bot: Bot, db: Database, tx: mpsc::Sender<Update>, mut stop: StopFlag) {
    tokio::select! {
        _ = prepare(&bot, &db, &tx) => {}
        _ = &mut stop => return,
    }
    let mut offset: i32 = 0;
    let mut backoff = Duration::from_secs(1);
    loop {
        let request = bot.get_updates().offset(offset).timeout(LONG_POLL_SECS).allowed_updates([
            AllowedUpdate::Message,
            AllowedUpdate::EditedMessage,
            AllowedUpdate::CallbackQuery,
        ]);
        // Dropping a getUpdates in flight confirms nothing new: its updates
        // come again after the restart.
        let answer = tokio::select! {
            answer = request.send() => answer,
            _ = &mut stop => return,
        };
        let batch = match answer {
            Ok(batch) => {
                backoff = Duration::from_secs(1);
                batch
            }
            Err(e) => {
                let wait = match &e {
                    RequestError::RetryAfter(after) => after.duration(),
                    _ => backoff,
                };
                tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "getUpdates failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = &mut stop => return,
                }
            }
        };
        let Some(last) = batch.last().map(|u| u.id.0) else { continue };
        let rows: Vec<(String, String)> =
            batch.iter().map(|u| (u.id.0.to_string(), serde_json::to_string(u).unwrap_or_default())).collect();
        match updates::record_batch(&db, Channel::Telegram, &rows).await {
            Ok(fresh) => {
                let seen = batch.len() - fresh.len();
                if seen > 0 {
                    tracing::info!(updates = seen, "skipping updates already taken in");
                }
                let mut batch: Vec<Option<Update>> = batch.into_iter().map(Some).collect();
                for i in fresh {
                    if let Some(update) = batch[i].take() {
                        if tx.send(update).await.is_err() {
                            return;
                        }
                    }
                }
                // The next getUpdates confirms this batch, now on disk.
                offset = i32::try_from(last).unwrap_or(i32::MAX).saturating_add(1);
            }
            Err(e) => {
                // Not confirmed: Telegram gives the batch again.
                tracing::error!(error = %format!("{e:#}"), "cannot record incoming updates");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Drops a webhook left from an earlier set-up (getUpdates refuses to work
/// while one is set), then hands over what was taken in before a crash.
async fn prepare(bot: &Bot, db: &Database, tx: &mpsc::Sender<Update>) {
    match bot.get_webhook_info().await {
        Ok(info) if info.url.is_some() => {
            if let Err(e) = bot.delete_webhook().await {
                tracing::warn!(error = %e, "cannot remove the webhook; polling may fail");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the webhook settings"),
    }
    replay(db, tx).await;
}

/// Hands over what was taken in but not handled before a crash.
pub(super) async fn replay(db: &Database, tx: &mpsc::Sender<Update>) {
    let pending = match updates::unhandled(db, Channel::Telegram).await {
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
        match serde_json::from_str::<Update>(&payload) {
            Ok(update) => {
                if tx.send(update).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let error = format!("the stored update cannot be read: {e}");
                tracing::error!(update = %id, "{error}");
                let _ = updates::mark_handled(db, Channel::Telegram, &id, Some(&error)).await;
            }
        }
    }
}
