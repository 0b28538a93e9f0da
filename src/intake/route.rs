//! The handler tree every platform's updates go through, once read into
//! the platform-neutral [`Inbound`]: messages and presses to their turn
//! ([`super::process`]), a chat's new id to the groups, the rest marked
//! handled. One tree, built once, for Telegram and Zalo alike.

use std::sync::{Arc, OnceLock};

use dptree::di::DependencyMap;
use dptree::prelude::*;
use tracing::Instrument;

use super::platform::Inbound;
use super::{process, Marks};
use crate::app::App;
use crate::channel::{Channel, ChatAddr, ChatKind, Incoming, Replies};
use crate::db::Database;

/// Which update is being routed, and from where.
#[derive(Clone)]
struct Update {
    channel: Channel,
    id: Arc<str>,
}

type Tree = Handler<'static, (), dptree::description::Unspecified>;

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        dptree::entry()
            .branch(dptree::case![Inbound::Incoming(incoming)].endpoint(on_incoming))
            .branch(dptree::case![Inbound::Moved { from, to }].endpoint(on_moved))
            .branch(dptree::case![Inbound::Anonymous(chat)].endpoint(on_anonymous))
            .endpoint(on_other)
    })
}

/// Routes one update, read, to what handles it. Everything logged while
/// it is handled carries its platform, id and kind of chat (never who or
/// what: those are personal data).
pub(super) async fn dispatch(app: &App, db: &Database, marks: &Marks, channel: Channel, id: &str, inbound: Inbound) {
    let chat = match &inbound {
        Inbound::Incoming(incoming) if incoming.chat_kind == ChatKind::Private => "private",
        Inbound::Incoming(_) | Inbound::Moved { .. } | Inbound::Anonymous(_) => "group",
        Inbound::Other => "unknown",
    };
    let span = tracing::info_span!("update", platform = channel.as_str(), update = id, chat);
    let update = Update { channel, id: id.into() };
    let deps: DependencyMap = dptree::deps![app.clone(), db.clone(), marks.clone(), update, inbound];
    let _ = tree().dispatch(deps).instrument(span).await;
}

async fn on_incoming(app: App, db: Database, marks: Marks, update: Update, incoming: Incoming) {
    process(&app, &db, &marks, update.channel, &update.id, incoming).await;
}

async fn on_moved(app: App, db: Database, marks: Marks, update: Update, (from, to): (ChatAddr, ChatAddr)) {
    if let Err(e) = crate::group::migrate(&app, &db, &from, &to).await {
        tracing::error!(error = %format!("{e:#}"), "cannot follow the chat migration");
    }
    mark(&marks, &update).await;
}

/// Nobody to answer in private: the group is told, within its limit.
async fn on_anonymous(app: App, marks: Marks, update: Update, chat: ChatAddr) {
    if app.flood.group_reply(&chat, app.clock.now()) {
        let mut reply = Replies::default();
        reply.send(
            &chat,
            "Bot không biết ai gửi lệnh này vì lệnh được gửi dưới tên kênh hoặc ẩn danh. Xin gửi lại bằng tài khoản cá nhân.",
        );
        for action in reply.actions {
            app.senders.deliver(update.channel, action).await;
        }
    }
    mark(&marks, &update).await;
}

async fn on_other(marks: Marks, update: Update) {
    tracing::debug!(update = &*update.id, "ignored update");
    mark(&marks, &update).await;
}

async fn mark(marks: &Marks, update: &Update) {
    if let Err(e) = marks.handled(update.channel, &update.id, None).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot mark the update handled");
    }
}
