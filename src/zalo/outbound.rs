//! Channel-neutral [`Action`]s → Zalo messages. Zalo can only send text
//! (up to 2,000 characters) and photos by URL: buttons become a numbered
//! list, edits become new messages, a map pin becomes a link, and what
//! cannot be sent (an Excel file) is said in words.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::api::{Client, ZaloError};
use super::menu;
use crate::channel::{Action, ButtonKind, Channel, ChatAddr, Keyboard};
use crate::clock::Clock;
use crate::delivery::Deliver;

const ATTEMPTS: u32 = 5;

/// Sends to Zalo at no more than the configured rate (Zalo publishes no
/// limits, so the default is cautious).
pub struct ZaloSender {
    client: Client,
    db: crate::db::Database,
    /// The bot's clock: when the options a chat was offered were shown.
    clock: Arc<dyn Clock>,
    gap: Duration,
    /// When the next request may go: pacing, on the monotonic clock.
    next: Arc<Mutex<Instant>>,
}

impl ZaloSender {
    pub fn new(client: Client, db: crate::db::Database, clock: Arc<dyn Clock>, per_second: f64) -> Self {
        let gap = Duration::from_secs_f64(1.0 / per_second.max(0.1));
        Self { client, db, clock, gap, next: Arc::new(Mutex::new(Instant::now())) }
    }

    async fn turn(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    async fn text(&self, chat: &str, text: &str) -> Result<(), ZaloError> {
        for part in crate::fit::split_text(text, super::LIMITS.text) {
            self.with_retries(|| self.client.send_message(chat, &part)).await?;
        }
        Ok(())
    }

    async fn with_retries<'a, F, Fut>(&'a self, call: F) -> Result<(), ZaloError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), ZaloError>>,
    {
        let mut pause = Duration::from_millis(300);
        let mut attempt = 1;
        loop {
            self.turn().await;
            match call().await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < ATTEMPTS && e.passing() => {
                    tracing::warn!(error = %e, attempt, "a request to Zalo failed; trying again");
                    metrics::counter!(crate::measure::RETRIED, "platform" => "zalo").increment(1);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 3).min(Duration::from_secs(10));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A message with its buttons as a list to answer. What a number or a
    /// label typed back picks was kept with the message, in the
    /// transaction that queued it (see `channel::menus`).
    async fn with_menu(&self, to: &ChatAddr, text: &str, keyboard: &Keyboard) -> Result<(), ZaloError> {
        let menu = menu::Menu::under(text, keyboard);
        let mut body = text.to_string();
        for button in keyboard.rows.iter().flatten() {
            if let ButtonKind::StartPrivate(payload) = &button.kind {
                // No deep links on Zalo: the same start, typed.
                body.push_str(&format!("\n\n{}: nhắn riêng cho bot «/start {payload}».", button.label));
            }
        }
        if !menu.options.is_empty() {
            body.push_str("\n\n");
            body.push_str(&menu::render(&menu));
        }
        self.text(&to.id, &body).await
    }

    /// Writes what a notice's part offered (now, on the bot's clock), so
    /// that the answer typed to it can be read, through the one writer. A
    /// failure is logged; the message still goes.
    async fn keep(
        &self,
        write: impl AsyncFnOnce(&mut sqlx::SqliteConnection, chrono::DateTime<chrono::Utc>) -> sqlx::Result<()>,
    ) {
        let kept = async {
            let mut tx = self.db.write().await?;
            write(&mut tx, self.clock.now()).await?;
            tx.commit().await
        };
        if let Err(e) = kept.await {
            tracing::warn!(error = %e, "cannot remember the options shown on Zalo");
        }
    }

    /// A message that comes on its own (a part of a notice): its options
    /// are answered in words, and kept beside the question the person is
    /// answering rather than in its place.
    pub async fn aside(&self, to: &ChatAddr, text: &str, keyboard: &Keyboard) -> bool {
        let options = menu::options(keyboard);
        let mut body = text.to_string();
        if options.len() > 1 {
            // A choice (a ballot): by number, or in words.
            body.push_str("\n\nBác trả lời bằng số:");
            for (i, (label, _)) in options.iter().enumerate() {
                body.push_str(&format!("\n{}. {}", i + 1, menu::word(label)));
            }
            self.keep(async |conn, now| menu::remember_aside(conn, &to.id, &options, now).await).await;
        } else if !options.is_empty() {
            let words: Vec<String> =
                options.iter().map(|(label, _)| format!("«{}»", menu::word(label).to_lowercase())).collect();
            body.push_str(&format!("\n\nBác gõ {} để báo cho tổ.", words.join(" hoặc ")));
            self.keep(async |conn, now| menu::remember_aside(conn, &to.id, &options, now).await).await;
        }
        match self.text(&to.id, &body).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "Zalo refused a request");
                false
            }
        }
    }

    async fn perform(&self, action: Action) -> Result<(), ZaloError> {
        match action {
            Action::Send { to, text, keyboard }
            | Action::Post { to, text, keyboard, .. }
            | Action::Edit { message: crate::channel::MessageRef { chat: to, .. }, text, keyboard, .. } => {
                self.with_menu(&to, &text, &keyboard).await
            }
            Action::Answer { callback_id, text } => match (callback_id.strip_prefix(PRESS_PREFIX), text) {
                // A "toast" on Telegram; on Zalo a short message.
                (Some(chat), Some(text)) => self.text(chat, &text).await,
                _ => Ok(()),
            },
            Action::SendPhoto { to, file_id, caption } => {
                if file_id.starts_with("http://") || file_id.starts_with("https://") {
                    self.with_retries(|| self.client.send_photo(&to.id, &file_id, caption.as_deref())).await
                } else {
                    // A photo sent on Telegram: Zalo cannot show it.
                    let note = caption.unwrap_or_default();
                    self.text(&to.id, &format!("{note}\n(Có ảnh kèm theo, xem trên Telegram.)").trim().to_string())
                        .await
                }
            }
            Action::SendLocation { to, latitude, longitude } => {
                self.text(&to.id, &format!("📍 Vị trí: https://maps.google.com/?q={latitude:.6},{longitude:.6}")).await
            }
            Action::SendHtml { to, html } => self.text(&to.id, &plain(&html)).await,
            // Forgotten with the message that said so (see `channel::menus`).
            Action::Forget { .. } => Ok(()),
            Action::SendDocument { to, file_name, .. } => {
                self.text(&to.id, &format!("Tệp {file_name} chỉ gửi được qua Telegram hoặc lấy từ cán bộ phường."))
                    .await
            }
            // An image the bot made (a VietQR code): Zalo takes photos only
            // by URL, and the bot has none to give; the transfer details
            // always follow in words.
            Action::SendImage { to, .. } => {
                self.text(&to.id, "(Mã QR không gửi được qua Zalo. Bác chuyển khoản theo thông tin ngay dưới đây.)")
                    .await
            }
        }
    }
}

/// Button presses from Zalo carry this and the chat in their callback id,
/// so that an acknowledgement can be said in that chat.
pub const PRESS_PREFIX: &str = "zalo:";

impl Deliver for ZaloSender {
    fn deliver(&self, action: Action) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            if action.chat().is_some_and(|c| c.channel != Channel::Zalo) {
                return false;
            }
            match self.perform(action).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "Zalo refused a request");
                    false
                }
            }
        })
    }
}

/// HTML made for Telegram, as plain text.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(plain("<pre>a &amp; b &lt;c&gt;</pre>"), "a & b <c>");
    }
}
