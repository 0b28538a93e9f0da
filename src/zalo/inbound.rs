//! Zalo events → [`Incoming`]. In a group only commands and the answers
//! to the options shown to their sender there are the bot's business.

use sqlx::SqliteConnection;

use futures_util::future::BoxFuture;

use super::api::{Client, ZaloUpdate};
use super::menu;
use super::outbound::PRESS_PREFIX;
use crate::channel::{parse_command, Channel, ChatAddr, ChatKind, Event, Incoming, Sender, Unsupported, UserAddr};
use crate::db::Database;
use crate::intake::{Inbound, Platform};

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
    let picked = match text {
        Some(text) if parse_command(text, "").is_none() => menu::pick(conn, &chat.id, &from.addr.id, text).await?,
        _ => None,
    };
    let event = if let Some((name, args)) = text.and_then(|t| parse_command(t, "")) {
        Event::Command { name, args, replied: None }
    } else if let Some(data) = picked {
        // The options shown to this person in this chat: in a group, each
        // resident's own.
        Event::Button { callback_id: format!("{PRESS_PREFIX}{}", chat.id), data, message: None, shown: None }
    } else if !private {
        return Ok(None);
    } else if let Some(text) = text {
        Event::Text(text.to_string())
    } else if let Some(url) = m.picture() {
        Event::Photo { file_id: url.to_string(), caption: m.caption.clone() }
    } else {
        Event::Unsupported(Unsupported::Other)
    };
    let chat_kind = if private { ChatKind::Private } else { ChatKind::Group };
    Ok(Some(Incoming { chat, chat_kind, from, event }))
}

/// Events as the inbox stores them: id, payload, event.
pub(super) fn rows(batch: Vec<ZaloUpdate>) -> Vec<(String, String, ZaloUpdate)> {
    batch
        .into_iter()
        .map(|u| (u.message.message_id.clone(), serde_json::to_string(&u).unwrap_or_default(), u))
        .collect()
}

/// Zalo's events for the intake.
pub struct Updates {
    pub(super) client: Client,
    /// The bot's clock: when a photo was kept.
    pub(super) clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl Platform for Updates {
    type Update = ZaloUpdate;

    fn channel(&self) -> Channel {
        Channel::Zalo
    }

    fn parse(&self, payload: &str) -> Result<ZaloUpdate, String> {
        serde_json::from_str(payload).map_err(|e| e.to_string())
    }

    fn chat_of(&self, update: &ZaloUpdate) -> Option<String> {
        Some(update.message.chat.id.clone())
    }

    /// Keeps a photo's bytes before its URL expires, then reads the event
    /// (a number answers the options the chat was offered last).
    fn read<'a>(&'a self, db: &'a Database, update: ZaloUpdate) -> BoxFuture<'a, anyhow::Result<Inbound>> {
        Box::pin(async move {
            keep_photo(db, &self.client, &update, self.clock.now()).await;
            let incoming = incoming(&mut *db.read().await?, &update).await?;
            Ok(incoming.map_or(Inbound::Other, Inbound::Incoming))
        })
    }
}

/// The most a kept photo may weigh.
const PHOTO_LIMIT: usize = 10 * 1024 * 1024;

/// Keeps the bytes of a photo the person sent, before its URL expires;
/// fetched outside any transaction, as kept at `now`. A failure is logged:
/// the URL remains.
async fn keep_photo(db: &Database, client: &Client, update: &ZaloUpdate, now: chrono::DateTime<chrono::Utc>) {
    let Some(url) = update.message.picture() else { return };
    match client.fetch(url, PHOTO_LIMIT).await {
        Ok((bytes, content_type)) => {
            let stored = async {
                let mut tx = db.write().await?;
                sqlx::query(
                    "INSERT INTO zalo_media (url, bytes, content_type, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(url)
                .bind(bytes)
                .bind(content_type)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            };
            if let Err(e) = stored.await {
                tracing::warn!(error = %e, "cannot keep a photo from Zalo");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot fetch a photo from Zalo; only its URL is kept"),
    }
}
