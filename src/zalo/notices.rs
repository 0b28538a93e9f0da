//! Notices to residents on Zalo. A bot account on Zalo may not join
//! groups, so a notice reaches each Zalo household of the target groups in
//! private, from the same durable outbox as Telegram's group chats (rows in
//! `notice_deliveries` with channel `zalo`, written when the notice is
//! queued), at Zalo's configured pace. "Đã xem" is answered by typing
//! `đã xem` (or `1` when no question is in hand: a number always answers
//! the question the resident is in the middle of, see `menu`); `dừng nhận`
//! (with or without accents) stops them.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use super::ZaloSender;
use crate::app::App;
use crate::channel::{Channel, ChatAddr, Keyboard};
use crate::db::Database;
use crate::notice::drain::{self, Carrier, Outcome};
use crate::notice::outbox::{self, Failure, Part};

/// Sends notices to Zalo households, in private.
struct Households {
    sender: Arc<ZaloSender>,
}

impl Carrier for Households {
    fn channel(&self) -> Channel {
        Channel::Zalo
    }

    /// Text only, with the way to stop them; no photo.
    fn parts(&self, text: &str, _photo: Option<&str>, keyboard: Keyboard) -> Vec<Part> {
        let text = format!("{text}\n\n(Không muốn nhận thông báo qua Zalo nữa, bác gõ: dừng nhận)");
        outbox::parts(&text, None, keyboard, &super::LIMITS)
    }

    /// Through the same sender (and so at the same pace) as every other
    /// message to Zalo, which tries again itself.
    fn send(&self, chat: ChatAddr, part: Part, _pin: bool) -> BoxFuture<'static, Outcome> {
        let sender = self.sender.clone();
        Box::pin(async move {
            if sender.aside(&chat, &part.text, &part.keyboard).await {
                Outcome::Sent(String::new())
            } else {
                Outcome::Failed(Failure::GaveUp("Zalo không nhận tin".into()))
            }
        })
    }
}

/// Drains Zalo's deliveries until `stop` turns true (see
/// [`crate::notice::drain`]).
pub async fn run(app: App, db: Database, sender: Arc<ZaloSender>, stop: watch::Receiver<bool>) {
    drain::run(Households { sender }, app, db, stop).await;
}
