//! Channel-neutral [`Action`]s → Bot API requests.

use teloxide::prelude::*;
use teloxide::types::{CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, Me, MessageId};

use crate::channel::{Action, ButtonKind, Channel, ChatAddr, Keyboard};

fn chat_id(addr: &ChatAddr) -> Option<ChatId> {
    (addr.channel == Channel::Telegram).then(|| addr.id.parse().ok().map(ChatId)).flatten()
}

fn markup(keyboard: &Keyboard, me: &Me) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(keyboard.rows.iter().map(|row| {
        row.iter()
            .map(|b| match &b.kind {
                ButtonKind::Callback(data) => InlineKeyboardButton::callback(b.label.clone(), data.clone()),
                ButtonKind::StartPrivate(payload) => {
                    let mut url = me.tme_url();
                    url.query_pairs_mut().append_pair("start", payload);
                    InlineKeyboardButton::url(b.label.clone(), url)
                }
            })
            .collect::<Vec<_>>()
    }))
}

/// Carries out the actions in order. A refusal (the person never started
/// the bot, the message is too old to edit) is logged and the rest go on.
pub async fn perform(bot: &Bot, me: &Me, actions: Vec<Action>) {
    for action in actions {
        let result = match action {
            Action::Send { to, text, keyboard } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_message(chat, text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::Edit { message, text, keyboard } => {
                let (Some(chat), Ok(id)) = (chat_id(&message.chat), message.message_id.parse::<i32>()) else { continue };
                let mut req = bot.edit_message_text(chat, MessageId(id), text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::Answer { callback_id, text } => {
                let mut req = bot.answer_callback_query(CallbackQueryId(callback_id));
                if let Some(text) = text {
                    req = req.text(text);
                }
                req.await.map(|_| ())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "Telegram refused a request");
        }
    }
}
