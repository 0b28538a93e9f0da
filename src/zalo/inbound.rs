//! Zalo events → [`Incoming`].

use sqlx::SqliteConnection;

use super::api::ZaloUpdate;
use super::menu;
use super::outbound::PRESS_PREFIX;
use crate::channel::{parse_command, Channel, ChatAddr, ChatKind, Event, Incoming, Sender, Unsupported, UserAddr};

/// What the bot makes of an event; None for what is not its business
/// (other bots, chatter in groups).
pub async fn incoming(conn: &mut SqliteConnection, update: &ZaloUpdate) -> sqlx::Result<Option<Incoming>> {
    let m = &update.message;
    if m.from.is_bot {
        return Ok(None);
    }
    let private = !m.chat.chat_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("GROUP"));
    let chat = ChatAddr { channel: Channel::Zalo, id: m.chat.id.clone() };
    let from = Sender {
        addr: UserAddr { channel: Channel::Zalo, id: m.from.id.clone() },
        display_name: m.from.display_name.clone().unwrap_or_default(),
    };
    let text = m.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let event = if let Some((name, args)) = text.and_then(|t| parse_command(t, "")) {
        Event::Command { name, args, replied: None }
    } else if !private {
        return Ok(None);
    } else if let Some(text) = text {
        match menu::pick(conn, &chat.id, text).await? {
            Some(data) => {
                Event::Button { callback_id: format!("{PRESS_PREFIX}{}", chat.id), data, message: None, shown: None }
            }
            None => Event::Text(text.to_string()),
        }
    } else if let Some(url) = m.picture() {
        Event::Photo { file_id: url.to_string(), caption: m.caption.clone() }
    } else {
        Event::Unsupported(Unsupported::Other)
    };
    let chat_kind = if private { ChatKind::Private } else { ChatKind::Group };
    Ok(Some(Incoming { chat, chat_kind, from, event }))
}
