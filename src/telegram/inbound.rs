//! Telegram updates → channel-neutral [`Incoming`].

/// Sorts an update, looking at it in place: the order of the checks is the
/// order of precedence (a migration notice is never a message to answer,
/// a command is never a dialogue answer).
pub fn classify(update: &Update, me: &Me) -> Inbound {
    let found = match &update.kind {
        UpdateKind::Message(msg) => migration(msg)
            .or_else(|| command(msg, me).map(Inbound::Incoming))
            .or_else(|| anonymous_command(msg, me).map(Inbound::Anonymous))
            .or_else(|| private_message(msg).map(Inbound::Incoming)),
        UpdateKind::CallbackQuery(q) => button(q).map(Inbound::Incoming),
        UpdateKind::EditedMessage(msg) => edited_private_message(msg).map(Inbound::Incoming),
        _ => None,
    };
    found.unwrap_or(Inbound::Other)
}

use teloxide::types::{CallbackQuery, Chat, Me, Message, Update, UpdateKind, User};

use crate::channel::{
    parse_command, Button, ButtonKind, Channel, ChatAddr, ChatKind, Event, Incoming, Keyboard, MessageRef, Replied,
    Sender, Shown, Unsupported, UserAddr,
};
use crate::intake::Inbound;

pub fn chat_addr(id: teloxide::types::ChatId) -> ChatAddr {
    ChatAddr { channel: Channel::Telegram, id: id.0.to_string() }
}

fn chat_kind(chat: &Chat) -> ChatKind {
    if chat.is_private() {
        ChatKind::Private
    } else {
        ChatKind::Group
    }
}

fn sender(user: &User) -> Sender {
    let name = crate::domain::family_first(&user.first_name, user.last_name.as_deref());
    Sender { addr: UserAddr { channel: Channel::Telegram, id: user.id.0.to_string() }, display_name: name }
}

fn command(msg: &Message, me: &Me) -> Option<Incoming> {
    let text = msg.text()?;
    let (name, args) = parse_command(text, me.username())?;
    let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
    let replied = msg.reply_to_message().map(|r| Replied {
        from: r.from.as_ref().filter(|u| !u.is_bot).map(sender),
        text: r.text().or(r.caption()).map(str::to_string),
        photo: r.photo().and_then(|sizes| sizes.last()).map(|p| p.file.id.to_string()),
    });
    Some(Incoming {
        chat: chat_addr(msg.chat.id),
        chat_kind: chat_kind(&msg.chat),
        from: sender(from),
        event: Event::Command { name, args, replied },
    })
}

/// Text, a photo or a location in the private chat: dialogue answers.
/// A command sent in a group under a channel's or the group's own name
/// (anonymous admins): there is no person to check the role of. The chat
/// it came from, to say so.
fn anonymous_command(msg: &Message, me: &Me) -> Option<ChatAddr> {
    msg.sender_chat.as_ref()?;
    parse_command(msg.text()?, me.username())?;
    Some(chat_addr(msg.chat.id))
}

fn private_message(msg: &Message) -> Option<Incoming> {
    if !msg.chat.is_private() {
        return None;
    }
    let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
    let event = if let Some(text) = msg.text() {
        Event::Text(text.to_string())
    } else if let Some(sizes) = msg.photo() {
        // Telegram lists the sizes smallest first.
        let largest = sizes.last()?;
        Event::Photo { file_id: largest.file.id.to_string(), caption: msg.caption().map(str::to_string) }
    } else if let Some(loc) = msg.location() {
        Event::Location { latitude: loc.latitude, longitude: loc.longitude }
    } else if msg.migrate_from_chat_id().is_some() || msg.migrate_to_chat_id().is_some() {
        return None;
    } else {
        // Stickers, voice notes, documents…: the person deserves an answer.
        Event::Unsupported(Unsupported::Other)
    };
    Some(Incoming { chat: chat_addr(msg.chat.id), chat_kind: ChatKind::Private, from: sender(from), event })
}

fn button(q: &CallbackQuery) -> Option<Incoming> {
    let data = q.data.clone()?;
    let message =
        q.message.as_ref().map(|m| MessageRef { chat: chat_addr(m.chat().id), message_id: m.id().0.to_string() });
    let (chat, kind) = match &q.message {
        Some(m) => (chat_addr(m.chat().id), chat_kind(m.chat())),
        None => (ChatAddr { channel: Channel::Telegram, id: q.from.id.0.to_string() }, ChatKind::Private),
    };
    Some(Incoming {
        chat,
        chat_kind: kind,
        from: sender(&q.from),
        event: Event::Button {
            callback_id: q.id.0.clone(),
            data,
            message,
            shown: q.message.as_ref().and_then(|m| m.regular_message()).and_then(shown),
        },
    })
}

/// What a message shows, in the bot's own terms; None when a button is one
/// the bot does not make (so no edit is taken for a repeat of it).
fn shown(m: &Message) -> Option<Shown> {
    use teloxide::types::InlineKeyboardButtonKind;
    let text = m.text().or(m.caption()).unwrap_or("").to_string();
    let rows = match m.reply_markup() {
        None => Vec::new(),
        Some(markup) => markup
            .inline_keyboard
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| {
                        let kind = match &b.kind {
                            InlineKeyboardButtonKind::CallbackData(data) => ButtonKind::Callback(data.clone()),
                            InlineKeyboardButtonKind::Url(url) => ButtonKind::StartPrivate(
                                url.query_pairs().find(|(k, _)| k == "start").map(|(_, v)| v.to_string())?,
                            ),
                            _ => return None,
                        };
                        Some(Button { label: b.text.clone(), kind })
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()?,
    };
    Some(Shown { text, keyboard: Keyboard::rows(rows) })
}

/// A group became a supergroup: Telegram posts one service message in the old
/// chat (migrate_to) and one in the new (migrate_from). Either moves the link.
fn migration(msg: &Message) -> Option<Inbound> {
    if let Some(to) = msg.migrate_to_chat_id() {
        return Some(Inbound::Moved { from: chat_addr(msg.chat.id), to: chat_addr(*to) });
    }
    msg.migrate_from_chat_id().map(|from| Inbound::Moved { from: chat_addr(*from), to: chat_addr(msg.chat.id) })
}

/// An edit of an earlier private message: answers are never changed
/// retroactively, but the person is told to send a new message.
fn edited_private_message(msg: &Message) -> Option<Incoming> {
    if !msg.chat.is_private() {
        return None;
    }
    let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
    Some(Incoming {
        chat: chat_addr(msg.chat.id),
        chat_kind: ChatKind::Private,
        from: sender(from),
        event: Event::Unsupported(Unsupported::Edited),
    })
}
