//! The Telegram side: the dptree handler tree that turns updates into
//! [`Incoming`](crate::channel::Incoming), and the code that carries the
//! resulting actions out through the Bot API. Nothing outside this module
//! sees a teloxide type.

mod broadcast;
mod inbound;
mod menu;
mod outbound;
mod polling;
mod webhook;

use std::time::Instant;

use futures_util::FutureExt;

use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::Me;

use crate::app::App;
use crate::channel::{Action, Channel, ChatAddr, ChatKind, Event, Incoming, Replies};
use crate::db::UpdateScope;
use crate::updates::{self, Marks};

pub use broadcast::Limiter;
pub use menu::register_commands;
pub use polling::listener;
pub use webhook::{listener as webhook_listener, Webhook};

pub(crate) use broadcast::run as run_outbox;

type HandlerResult = anyhow::Result<()>;

/// The handler tree. Each branch only recognises its kind of update and
/// translates it; what happens next is decided in [`crate::handle`].
pub fn schema() -> UpdateHandler<anyhow::Error> {
    let migrations = Update::filter_message().filter_map(inbound::migration).endpoint(on_migration);
    let commands = Update::filter_message().filter_map(inbound::command).endpoint(process);
    let anonymous = Update::filter_message().filter_map(inbound::anonymous_command).endpoint(on_anonymous);
    let buttons = Update::filter_callback_query().filter_map(inbound::button).endpoint(process);
    let private = Update::filter_message().filter_map(inbound::private_message).endpoint(process);
    let edited = Update::filter_edited_message().filter_map(inbound::edited_private_message).endpoint(process);

    // Duplicates never reach here: the inbox (see `polling`) lets each
    // update through once.
    dptree::entry()
        .branch(migrations)
        .branch(commands)
        .branch(anonymous)
        .branch(buttons)
        .branch(private)
        .branch(edited)
        .branch(dptree::endpoint(ignore))
}

/// A dispatcher over `bot` running [`schema`], as the binary and the tests
/// use it.
pub fn dispatcher(bot: Bot, app: App) -> Dispatcher<Bot, anyhow::Error, DefaultKey> {
    let marks = crate::updates::Marks::start(app.db.clone(), app.writes.clone());
    Dispatcher::builder(bot, schema()).dependencies(dptree::deps![app, marks]).default_handler(|_| async {}).build()
}

async fn process(bot: Bot, me: Me, app: App, marks: Marks, update: Update, incoming: Incoming) -> HandlerResult {
    let started = Instant::now();
    let update_id = update.id.0.to_string();
    let kind = describe(&incoming);
    let chat_kind = incoming.chat_kind;
    let chat = incoming.chat.clone();
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
    let handled = scope.run(std::panic::AssertUnwindSafe(crate::handle::handle(&app, incoming)).catch_unwind()).await;
    let written = scope.take();
    let handled = handled.unwrap_or_else(|panic| Err(anyhow::anyhow!("panic: {}", panic_message(panic.as_ref()))));
    let outcome = match (handled, written) {
        (Ok(mut replies), Some(tx)) => {
            replies.person_first(&chat);
            match updates::commit_with_replies(tx, Channel::Telegram, &update_id, replies.actions).await {
                Ok(queued) => Outcome::Committed(queued),
                Err(e) => Outcome::Failed(e.context("committing the update")),
            }
        }
        (Ok(mut replies), None) => {
            replies.person_first(&chat);
            Outcome::ReadOnly(replies.actions)
        }
        // Dropping the transaction rolls back whatever the handler wrote.
        (Err(e), _) => Outcome::Failed(e),
    };
    let (sent, failed) = match outcome {
        Outcome::Committed(queued) => {
            let sent = queued.len();
            for (id, action) in queued {
                outbound::deliver(&bot, &me, &app.db, action).await;
                marks.sent(id);
            }
            (sent, false)
        }
        Outcome::ReadOnly(actions) => {
            // Nothing was written, so the replies need no outbox: handling
            // the update again after a crash would only answer again.
            let sent = actions.len();
            outbound::perform(&bot, &me, &app.db, actions).await;
            mark_handled(&marks, &update_id, None).await;
            (sent, false)
        }
        Outcome::Failed(e) => {
            let error = format!("{e:#}");
            tracing::error!(update = update.id.0, kind, error = %error, "handler failed");
            let mut sorry = Replies::default();
            if let Some(id) = callback {
                sorry.answer(&id, Some("Xin lỗi, bot đang gặp sự cố. Xin thử lại sau ít phút.".into()));
            } else if chat_kind == ChatKind::Private {
                sorry.send(&chat, "Xin lỗi, bot đang gặp sự cố. Xin bác thử lại sau ít phút.");
            }
            outbound::perform(&bot, &me, &app.db, sorry.actions).await;
            mark_handled(&marks, &update_id, Some(&error)).await;
            (0, true)
        }
    };
    // No message text or names at info level: they are personal data.
    tracing::info!(
        update = update.id.0,
        kind,
        chat = if chat_kind == ChatKind::Private { "private" } else { "group" },
        actions = sent,
        failed,
        ms = started.elapsed().as_millis() as u64,
        "handled update"
    );
    Ok(())
}

enum Outcome {
    /// The update changed something: committed with its replies, which
    /// are in the outbox under these ids.
    Committed(Vec<(i64, Action)>),
    ReadOnly(Vec<Action>),
    Failed(anyhow::Error),
}

/// Replies committed before the process stopped but not sent: sent now,
/// before any new update is handled, so each chat sees them in order.
pub async fn send_unsent_replies(bot: &Bot, app: &App) {
    let unsent = match updates::unsent_replies(&app.db, Channel::Telegram).await {
        Ok(unsent) if unsent.is_empty() => return,
        Ok(unsent) => unsent,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot read replies left from before the restart");
            return;
        }
    };
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(e) => {
            tracing::warn!(error = %e, "cannot send replies left from before the restart yet");
            return;
        }
    };
    tracing::info!(replies = unsent.len(), "sending replies left from before the restart");
    for (id, action) in unsent {
        outbound::deliver(bot, &me, &app.db, action).await;
        if let Err(e) = sqlx::query("DELETE FROM reply_outbox WHERE id = ?").bind(id).execute(&app.db).await {
            tracing::error!(error = %e, "cannot remove a sent reply");
        }
    }
}

/// Time-driven work (the daily reminder of overdue reports, the last edit of
/// campaign announcements), checked every
/// `[reports] check_every_secs`.
pub async fn run_scheduler(bot: Bot, app: App) {
    let me = loop {
        match bot.get_me().await {
            Ok(me) => break me,
            Err(e) => {
                tracing::warn!(error = %e, "scheduler waits for the Bot API");
                tokio::time::sleep(app.settings.reports.check_every.max(std::time::Duration::from_secs(1))).await;
            }
        }
    };
    let mut tick = tokio::time::interval(app.settings.reports.check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::report::deadline::run_due(&app).await {
            Ok(replies) => outbound::perform(&bot, &me, &app.db, replies.actions).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "the deadline reminder failed"),
        }
        match crate::campaign::progress::flush_due(&app).await {
            Ok(replies) => outbound::perform(&bot, &me, &app.db, replies.actions).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "updating campaign announcements failed"),
        }
    }
}

async fn on_migration(app: App, marks: Marks, update: Update, moved: inbound::Migration) -> HandlerResult {
    if let Err(e) = crate::group::migrate(&app, &moved.from, &moved.to).await {
        tracing::error!(error = %format!("{e:#}"), "cannot follow the chat migration");
    }
    mark_handled(&marks, &update.id.0.to_string(), None).await;
    Ok(())
}

async fn on_anonymous(bot: Bot, me: Me, app: App, marks: Marks, update: Update, chat: ChatAddr) -> HandlerResult {
    if app.flood.group_reply(&chat, Instant::now()) {
        let mut reply = Replies::default();
        reply.send(
            &chat,
            "Bot không biết ai gửi lệnh này vì lệnh được gửi dưới tên kênh hoặc ẩn danh. Xin gửi lại bằng tài khoản cá nhân.",
        );
        outbound::perform(&bot, &me, &app.db, reply.actions).await;
    }
    mark_handled(&marks, &update.id.0.to_string(), None).await;
    Ok(())
}

async fn ignore(marks: Marks, update: Update) -> HandlerResult {
    mark_handled(&marks, &update.id.0.to_string(), None).await;
    tracing::debug!(update = update.id.0, "ignored update");
    Ok(())
}

async fn mark_handled(marks: &Marks, update_id: &str, error: Option<&str>) {
    if let Err(e) = marks.handled(Channel::Telegram, update_id, error).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn describe(incoming: &Incoming) -> &'static str {
    match &incoming.event {
        Event::Command { .. } => "command",
        Event::Text(_) => "text",
        Event::Photo { .. } => "photo",
        Event::Location { .. } => "location",
        Event::Button { .. } => "button",
        Event::Unsupported(_) => "unsupported",
    }
}
