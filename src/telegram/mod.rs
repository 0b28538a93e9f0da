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

use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::Me;

use crate::app::App;
use crate::channel::{Action, Channel, ChatAddr, Incoming, Replies};
use crate::delivery::Deliver;
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

async fn process(app: App, marks: Marks, update: Update, incoming: Incoming) -> HandlerResult {
    updates::process(&app, &marks, Channel::Telegram, &update.id.0.to_string(), incoming).await;
    Ok(())
}

/// Carries actions out through the Bot API.
pub struct TelegramSender {
    pub bot: Bot,
    pub me: Me,
    pub db: sqlx::SqlitePool,
}

impl Deliver for TelegramSender {
    fn deliver(&self, action: Action) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(outbound::deliver(&self.bot, &self.me, &self.db, action))
    }
}

/// Replies committed before the process stopped but not sent: sent now,
/// before any new update is handled, so each chat sees them in order.
pub async fn send_unsent_replies(app: &App) {
    updates::send_unsent_replies(app, Channel::Telegram).await;
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
