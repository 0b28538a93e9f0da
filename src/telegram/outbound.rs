//! Channel-neutral [`Action`]s → Bot API requests.

use teloxide::prelude::*;
use teloxide::types::{
    ButtonRequest, CallbackQueryId, ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, KeyboardRemove, Me, MessageId, ParseMode, ReplyMarkup,
};
use teloxide::RequestError;

use crate::channel::{Action, ButtonKind, Channel, ChatAddr, Keyboard, ReplyKeyboard};
use crate::clock::Clock;

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

/// How many times a request is tried when Telegram is overloaded or the
/// connection fails.
const ATTEMPTS: u32 = 6;

/// One action, tried again while the failure is Telegram's or the
/// network's (429 after the time it asks for, 5xx and resets with growing
/// pauses). Returns false if it was given up. A request whose answer was
/// lost may have been carried out: trying it again can show a message
/// twice, which is better than not at all. A post is recorded in `db` at
/// the time of `clock`.
pub async fn deliver(bot: &Bot, me: &Me, db: &crate::db::Database, clock: &dyn Clock, action: Action) -> bool {
    let mut delivered = true;
    // A part given up does not stop the others: what arrives is better
    // than nothing.
    for part in crate::fit::parts(action, &super::LIMITS) {
        delivered &= deliver_one(bot, me, db, clock, part).await;
    }
    delivered
}

async fn deliver_one(bot: &Bot, me: &Me, db: &crate::db::Database, clock: &dyn Clock, action: Action) -> bool {
    let mut pause = std::time::Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        match perform_once(bot, me, db, clock, action.clone()).await {
            Ok(()) => return true,
            Err(e) if attempt < ATTEMPTS && passing(&e) => {
                let wait = match &e {
                    RequestError::RetryAfter(after) => {
                        metrics::counter!(crate::measure::RATE_LIMITED, "platform" => "telegram").increment(1);
                        after.duration()
                    }
                    _ => pause,
                };
                metrics::counter!(crate::measure::RETRIED, "platform" => "telegram").increment(1);
                tracing::warn!(error = %e, attempt, retry_in_ms = wait.as_millis() as u64, "a request to Telegram failed; trying again");
                tokio::time::sleep(wait).await;
                pause = (pause * 3).min(std::time::Duration::from_secs(10));
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "Telegram refused a request");
                return false;
            }
        }
    }
    false
}

/// Failures worth another try: rate limits, Telegram's own errors and the
/// network. A refusal of the request itself (blocked, not found) is final.
fn passing(e: &RequestError) -> bool {
    match e {
        RequestError::RetryAfter(_) | RequestError::Network(_) | RequestError::Io(_) => true,
        RequestError::InvalidJson { .. } => true,
        RequestError::Api(teloxide::ApiError::Unknown(description)) => {
            let d = description.to_ascii_lowercase();
            ["internal server error", "bad gateway", "service unavailable", "gateway timeout", "too many requests"]
                .iter()
                .any(|s| d.contains(s))
        }
        _ => false,
    }
}

async fn perform_once(
    bot: &Bot,
    me: &Me,
    db: &crate::db::Database,
    clock: &dyn Clock,
    action: Action,
) -> Result<(), RequestError> {
    {
        let result = match action {
            Action::Post { to, text, keyboard, tag } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                let mut req = bot.send_message(chat, text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(reply_markup(&keyboard, me));
                }
                match req.await {
                    Ok(sent) => {
                        if let Err(e) = crate::posts::record(db, &tag, &to, &sent.id.0.to_string(), clock.now()).await {
                            tracing::error!(error = %format!("{e:#}"), "cannot record a posted message");
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Action::SendHtml { to, html } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                bot.send_message(chat, html).parse_mode(ParseMode::Html).await.map(|_| ())
            }
            Action::SendDocument { to, bytes, file_name, caption } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                let mut req = bot.send_document(chat, InputFile::memory(bytes).file_name(file_name));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::SendImage { to, png, file_name, caption } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                let mut req = bot.send_photo(chat, InputFile::memory(png).file_name(file_name));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::Send { to, text, keyboard } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                let mut req = bot.send_message(chat, text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(reply_markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::Edit { message, text, keyboard, .. } => {
                let (Some(chat), Ok(id)) = (chat_id(&message.chat), message.message_id.parse::<i32>()) else {
                    return Ok(());
                };
                let mut req = bot.edit_message_text(chat, MessageId(id), text);
                if !keyboard.is_empty() {
                    req = req.reply_markup(markup(&keyboard, me));
                }
                req.await.map(|_| ())
            }
            Action::SendPhoto { to, file_id, caption } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                let mut req = bot.send_photo(chat, InputFile::file_id(FileId(file_id)));
                if let Some(caption) = caption {
                    req = req.caption(caption);
                }
                req.await.map(|_| ())
            }
            Action::SendLocation { to, latitude, longitude } => {
                let Some(chat) = chat_id(&to) else { return Ok(()) };
                bot.send_location(chat, latitude, longitude).await.map(|_| ())
            }
            // The options are on the messages, which the flow edits.
            Action::Forget { .. } => Ok(()),
            Action::Answer { callback_id, text } => {
                let mut req = bot.answer_callback_query(CallbackQueryId(callback_id));
                if let Some(text) = text {
                    req = req.text(text);
                }
                req.await.map(|_| ())
            }
        };
        result
    }
}
