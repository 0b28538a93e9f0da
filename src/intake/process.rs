//! One update's turn: the handler runs in the update's transaction, which
//! is committed with the "handled" mark and the replies; then the replies
//! are sent.

use futures_util::FutureExt;

use crate::app::App;
use crate::channel::{menus, Action, Channel, ChatKind, Event, Incoming, Replies};
use crate::db::{Database, Written};
use crate::turn::Turn;

use super::marks::Marks;
use super::outbox::{commit_with_replies, send_queued, unsent_replies};
use super::rows::remove_replies;

/// Handles one update from the inbox: the handler runs in the update's
/// transaction, which is committed with the "handled" mark and the replies;
/// then the replies are sent. Errors and panics are recorded with the
/// update and answered with an apology; the caller goes on.
pub async fn process(
    app: &App,
    database: &Database,
    marks: &Marks,
    channel: Channel,
    update_id: &str,
    incoming: Incoming,
) {
    let started = std::time::Instant::now();
    let incoming = incoming.without_invisible();
    let kind = describe(&incoming);
    let chat_kind = incoming.chat_kind;
    let chat = incoming.chat.clone();
    let sender = incoming.from.addr.clone();
    let presser = sender.private_chat();
    let pressed = match &incoming.event {
        Event::Button { message: Some(message), shown: Some(shown), .. } => Some((message.clone(), shown.clone())),
        _ => None,
    };
    let callback = match &incoming.event {
        Event::Button { callback_id, .. } => Some(callback_id.clone()),
        _ => None,
    };
    // Everything the handler writes goes into the turn's one transaction,
    // committed below with the "handled" mark and the replies, so a crash
    // leaves all of it or none. A panic in one handler must not take the
    // chat's worker (and the updates queued behind it) down: it is caught
    // and recorded like an error, and the turn is dropped (rolled back).
    let mut turn = None;
    let handled = std::panic::AssertUnwindSafe(async {
        let turn = turn.insert(Turn::begin(app, database, incoming).await?);
        crate::handle::handle(turn).await
    })
    .catch_unwind()
    .await;
    let handled = handled.unwrap_or_else(|panic| Err(anyhow::anyhow!("panic: {}", panic_message(panic.as_ref()))));
    let (handled, written) = match (handled, turn) {
        (Ok(()), Some(turn)) => {
            let (replies, written) = turn.finish();
            (Ok(replies), written)
        }
        (Ok(()), None) => (Err(anyhow::anyhow!("the turn was not begun")), None),
        (Err(e), _) => (Err(e), None),
    };
    // The rules every update's replies keep, whichever flow built them.
    let handled = handled.map(|mut replies| {
        replies.drop_unchanged_edits(pressed.as_ref().map(|(m, s)| (m, s)));
        replies.confine_edits(&presser);
        replies.person_first(&chat);
        replies
    });
    // The options the replies leave in chats without buttons are rows of
    // the update too: a turn that wrote nothing else commits them all the
    // same, so a number typed back never means what the bot has not said.
    let kept = match &handled {
        Ok(replies) => menus::kept(&replies.actions, Some((&chat, &sender))),
        Err(_) => Vec::new(),
    };
    let written = match written {
        None if !kept.is_empty() => Some(Written::Rows(Vec::new())),
        written => written,
    };
    let outcome = match (handled, written) {
        (Ok(replies), Some(written)) => {
            match commit_with_replies(marks, written, channel, update_id, replies.actions, replies.refused, kept).await
            {
                Ok(queued) => Outcome::Committed(queued),
                Err(e) => Outcome::Failed(e.context("committing the update")),
            }
        }
        (Ok(replies), None) => Outcome::ReadOnly(replies.actions, replies.refused),
        // Dropping the transaction rolls back whatever the handler wrote.
        (Err(e), _) => Outcome::Failed(e),
    };
    let (sent, failed) = match outcome {
        Outcome::Committed(queued) => {
            let sent = queued.len();
            send_queued(app, marks, channel, queued).await;
            (sent, false)
        }
        Outcome::ReadOnly(actions, refused) => {
            // Nothing was written, so the replies need no outbox: handling
            // the update again after a crash would only answer again.
            let sent = actions.len();
            for action in actions {
                app.senders.deliver(channel, action).await;
            }
            if let Err(e) = marks.handled_refused(channel, update_id, None, refused).await {
                tracing::error!(update = update_id, error = %format!("{e:#}"), "cannot mark the update handled");
            }
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
    let platform = channel.as_str();
    metrics::counter!(crate::measure::HANDLED, "platform" => platform, "kind" => kind).increment(1);
    if failed {
        metrics::counter!(crate::measure::FAILED, "platform" => platform, "kind" => kind).increment(1);
    }
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
    /// Nothing written: the replies, and the kind of refusal among them.
    ReadOnly(Vec<Action>, Option<&'static str>),
    Failed(anyhow::Error),
}

async fn mark(marks: &Marks, channel: Channel, update_id: &str, error: Option<&str>) {
    if let Err(e) = marks.handled(channel, update_id, error).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
    }
}

/// Replies committed before the process stopped but not sent: sent now,
/// before any new update is handled, so each chat sees them in order.
pub async fn send_unsent_replies(app: &App, database: &Database, channel: Channel) {
    let unsent = match unsent_replies(database, channel).await {
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
        if let Err(e) = remove_replies(database, &[id]).await {
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
