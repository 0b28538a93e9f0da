//! Channel-neutral [`Action`]s → Bot API requests.

use teloxide::prelude::*;
use teloxide::types::{
    ButtonRequest, CallbackQueryId, ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, KeyboardRemove, Me, MessageId, ParseMode, ReplyMarkup,
};

use crate::channel::{Action, ButtonKind, Channel, ChatAddr, Keyboard, ReplyKeyboard};

fn chat_id(addr: &ChatAddr) -> Option<ChatId> {
    (addr.channel == Channel::Telegram).then(|| addr.id.parse().ok().map(ChatId)).flatten()
}

/// A message carries one keyboard: the one under the typing field wins.
fn reply_markup(keyboard: &Keyboard, me: &Me) -> ReplyMarkup {
    match &keyboard.reply {
        Some(ReplyKeyboard::AskLocation { label, others }) => {
            let mut rows = vec![vec![KeyboardButton::new(label.clone()).request(ButtonRequest::Location)]];
            rows.extend(others.iter().map(|o| vec![KeyboardButton::new(o.clone())]));
            ReplyMarkup::Keyboard(KeyboardMarkup::new(rows).resize_keyboard().one_time_keyboard())
        }
        Some(ReplyKeyboard::Remove) => ReplyMarkup::KeyboardRemove(KeyboardRemove::new()),
        None => ReplyMarkup::InlineKeyboard(markup(keyboard, me)),
    }
}

pub fn inline_markup(keyboard: &Keyboard, me: &Me) -> InlineKeyboardMarkup {
    markup(keyboard, me)
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
pub async fn perform(bot: &Bot, me: &Me, db: &sqlx::SqlitePool, actions: Vec<Action>) {
    for action in actions {
        let result = match action {
            Action::Post { to, text, keyboard, tag } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_message(chat, text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(reply_markup(&keyboard, me));
                }
                match req.await {
                    Ok(sent) => {
                        if let Err(e) = crate::posts::record(db, &tag, &to, &sent.id.0.to_string()).await {
                            tracing::error!(error = %format!("{e:#}"), "cannot record a posted message");
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Action::SendHtml { to, html } => {
                let Some(chat) = chat_id(&to) else { continue };
                bot.send_message(chat, html).parse_mode(ParseMode::Html).await.map(|_| ())
            }
            Action::SendDocument { to, bytes, file_name, caption } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_document(chat, InputFile::memory(bytes).file_name(file_name));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::SendImage { to, png, file_name, caption } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_photo(chat, InputFile::memory(png).file_name(file_name));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::Send { to, text, keyboard } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_message(chat, text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(reply_markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::Edit { message, text, keyboard } => {
                let (Some(chat), Ok(id)) = (chat_id(&message.chat), message.message_id.parse::<i32>()) else {
                    continue;
                };
                let mut req = bot.edit_message_text(chat, MessageId(id), text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::SendPhoto { to, file_id, caption } => {
                let Some(chat) = chat_id(&to) else { continue };
                let mut req = bot.send_photo(chat, InputFile::file_id(FileId(file_id)));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::SendLocation { to, latitude, longitude } => {
                let Some(chat) = chat_id(&to) else { continue };
                bot.send_location(chat, latitude, longitude).await.map(|_| ())
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
