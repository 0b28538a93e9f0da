//! The Telegram side: receiving updates (long polling or webhook) into the
//! intake, reading each into [`Inbound`], and carrying actions out through
//! the Bot API. Nothing outside this module sees a teloxide type.

mod broadcast;
mod inbound;
mod menu;
mod outbound;
mod polling;
mod webhook;

use futures_util::future::BoxFuture;
use teloxide::prelude::*;
use teloxide::types::Me;

use crate::channel::{Action, Channel};
use crate::db::Database;
use crate::delivery::Deliver;
use crate::intake::{Inbound, Platform};

pub use menu::register_commands;
pub use polling::receive as poll;
pub use webhook::{receive as serve_webhook, Webhook};

pub(crate) use broadcast::run as run_outbox;

/// What one Telegram message may hold (see `channel::Capabilities`).
const LIMITS: crate::fit::Limits = crate::fit::Limits::of(Channel::Telegram.capabilities());

/// Telegram's updates for the intake: parsed from the Bot API's JSON, each
/// sorted in one look (see `inbound::classify`).
pub struct Updates {
    pub me: Me,
}

impl Platform for Updates {
    type Update = Update;

    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    fn parse(&self, payload: &str) -> Result<Update, String> {
        serde_json::from_str(payload).map_err(|e| e.to_string())
    }

    /// A chat's updates in order; a press on a message goes with its chat.
    fn chat_of(&self, update: &Update) -> Option<String> {
        update.chat().map(|c| c.id.0.to_string()).or_else(|| update.from().map(|u| format!("user:{}", u.id.0)))
    }

    fn read<'a>(&'a self, _: &'a Database, update: Update) -> BoxFuture<'a, anyhow::Result<Inbound>> {
        Box::pin(async move { Ok(inbound::classify(&update, &self.me)) })
    }
}

/// Carries actions out through the Bot API.
pub struct TelegramSender {
    pub bot: Bot,
    pub me: Me,
    pub db: crate::db::Database,
    /// The bot's clock: when a post was made.
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl Deliver for TelegramSender {
    fn deliver(&self, action: Action) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(outbound::deliver(&self.bot, &self.me, &self.db, self.clock.as_ref(), action))
    }
}
