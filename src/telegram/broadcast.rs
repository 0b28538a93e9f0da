//! Notices through the Bot API: how a part is sent, pinned and its failure
//! read (see [`crate::notice::drain`], which keeps Telegram's limits).

use std::time::Duration;

use futures_util::future::BoxFuture;
use teloxide::prelude::*;
use teloxide::types::{ChatId, FileId, InputFile, Me};
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;

use super::outbound;
use crate::app::App;
use crate::channel::{Channel, ChatAddr, Keyboard};
use crate::db::Database;
use crate::notice::drain::{self, Carrier, Outcome};
use crate::notice::outbox::{self, Failure, Part};

/// Sends notices to Telegram group chats.
struct Groups {
    bot: Bot,
    me: Me,
}

impl Carrier for Groups {
    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    fn parts(&self, text: &str, photo: Option<&str>, keyboard: Keyboard) -> Vec<Part> {
        outbox::parts(text, photo, keyboard, &super::LIMITS)
    }

    fn send(&self, chat: ChatAddr, part: Part, pin: bool) -> BoxFuture<'static, Outcome> {
        let (bot, me) = (self.bot.clone(), self.me.clone());
        Box::pin(async move {
            match chat.id.parse::<i64>() {
                Ok(chat) => send(bot, chat, part, me, pin).await,
                Err(_) => Outcome::Failed(Failure::Gone),
            }
        })
    }
}

/// Waits for the Bot API (the deep links under a notice need the bot's
/// name), then drains Telegram's deliveries until `stop` turns true.
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
    drain::run(Groups { bot, me }, app, db, stop).await;
}

fn classify(error: &RequestError) -> Outcome {
    match error {
        RequestError::RetryAfter(s) => Outcome::RetryAfter(s.duration()),
        RequestError::MigrateToChatId(id) => Outcome::Moved(super::inbound::chat_addr(*id)),
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
