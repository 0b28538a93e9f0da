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

use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::Me;

use crate::app::App;
use crate::channel::{Action, Channel, ChatAddr, Replies};
use crate::db::Database;
use crate::delivery::Deliver;
use crate::updates::{self, Marks};
use inbound::Inbound;

pub use broadcast::Limiter;
pub use menu::register_commands;
pub use polling::listener;
pub use webhook::{listener as webhook_listener, Webhook};

pub(crate) use broadcast::run as run_outbox;

type HandlerResult = anyhow::Result<()>;

/// The handler tree: one look at the update sorts it (see
/// [`inbound::classify`]; a branch per kind would clone the message for
/// each), then what happens next is decided in [`crate::handle`].
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .map(|update: Update, me: Me| Sorted { id: update.id.0.to_string(), inbound: inbound::classify(&update, &me) })
        .endpoint(on_update)
}

/// An update's id and what it is.
#[derive(Clone)]
struct Sorted {
    id: String,
    inbound: Inbound,
}

// Duplicates never reach here: the inbox (see `polling`) lets each update
// through once.
async fn on_update(bot: Bot, me: Me, app: App, db: Database, marks: Marks, sorted: Sorted) -> HandlerResult {
    let Sorted { id, inbound } = sorted;
    match inbound {
        Inbound::Incoming(incoming) => updates::process(&app, &db, &marks, Channel::Telegram, &id, incoming).await,
        Inbound::Migration(moved) => on_migration(&app, &db, &marks, &id, moved).await,
        Inbound::Anonymous(chat) => on_anonymous(&bot, &me, &app, &db, &marks, &id, chat).await,
        Inbound::Other => {
            mark_handled(&marks, &id, None).await;
            tracing::debug!(update = id, "ignored update");
        }
    }
    Ok(())
}

/// A dispatcher over `bot` running [`schema`], as the binary and the tests
/// use it.
pub fn dispatcher(bot: Bot, app: App, db: Database) -> Dispatcher<Bot, anyhow::Error, DefaultKey> {
    let marks = crate::updates::Marks::start(db.clone(), crate::channel::Channel::Telegram);
    Dispatcher::builder(bot, schema()).dependencies(dptree::deps![app, db, marks]).default_handler(|_| async {}).build()
}

/// Carries actions out through the Bot API.
pub struct TelegramSender {
    pub bot: Bot,
    pub me: Me,
    pub db: crate::db::Database,
}

impl Deliver for TelegramSender {
    fn deliver(&self, action: Action) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(outbound::deliver(&self.bot, &self.me, &self.db, action))
    }
}

/// Replies committed before the process stopped but not sent: sent now,
/// before any new update is handled, so each chat sees them in order.
pub async fn send_unsent_replies(app: &App, db: &Database) {
    updates::send_unsent_replies(app, db, Channel::Telegram).await;
}

async fn on_migration(app: &App, db: &Database, marks: &Marks, update_id: &str, moved: inbound::Migration) {
    if let Err(e) = crate::group::migrate(app, db, &moved.from, &moved.to).await {
        tracing::error!(error = %format!("{e:#}"), "cannot follow the chat migration");
    }
    mark_handled(marks, update_id, None).await;
}

async fn on_anonymous(bot: &Bot, me: &Me, app: &App, db: &Database, marks: &Marks, update_id: &str, chat: ChatAddr) {
    if app.flood.group_reply(&chat, app.clock.now()) {
        let mut reply = Replies::default();
        reply.send(
            &chat,
            "Bot không biết ai gửi lệnh này vì lệnh được gửi dưới tên kênh hoặc ẩn danh. Xin gửi lại bằng tài khoản cá nhân.",
        );
        outbound::perform(bot, me, db, reply.actions).await;
    }
    mark_handled(marks, update_id, None).await;
}

async fn mark_handled(marks: &Marks, update_id: &str, error: Option<&str>) {
    if let Err(e) = marks.handled(Channel::Telegram, update_id, error).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
    }
}
