//! The durable outbox of notices, seen from the bot's side: what a group
//! receives, what the sender is told as the broadcast goes on and when it
//! ends. The channel's sender (for Telegram, `telegram::broadcast`) drains
//! the deliveries within the platform's limits.
//!
//! Guarantee: a delivery row is written for every target chat before
//! anything is sent, and is marked `sending` before its request and `sent`
//! with the platform's message id right after. A crash between the request
//! and that mark leaves a `sending` row; the platform offers no way to ask
//! whether the message arrived, so on restart it is sent again. Every chat
//! therefore receives the notice at least once, and exactly once unless the
//! process dies inside that window of a few milliseconds, where one chat
//! may see it twice. Losing a ward notice is worse than a rare duplicate.

use sqlx::SqliteConnection;

use super::preview::NoticeButton;
use super::repo::{self, Progress};
use super::{Notice, NoticeCode};
use crate::app::App;
use crate::channel::{Button, Keyboard, Replies};
use crate::{fit, roles};

/// Why a chat did not get the notice, as the sender reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The bot was removed from the group.
    Removed,
    /// The chat no longer exists.
    Gone,
    /// The bot may not post there.
    NoRights,
    /// Network or server errors, retried until the limit.
    GaveUp(String),
}

impl Failure {
    pub fn reason(&self) -> String {
        match self {
            Failure::Removed => "bot đã bị xoá khỏi nhóm".into(),
            Failure::Gone => "nhóm chat không còn tồn tại".into(),
            Failure::NoRights => "bot không có quyền gửi tin trong nhóm".into(),
            Failure::GaveUp(e) => format!("lỗi kết nối, đã thử nhiều lần ({e})"),
        }
    }
}

/// The notice's text as it appears in a group, with its **Đã xem** button.
/// A notice that carries its own buttons (see `repo::queue_own`) shows
/// its text as it is, with the buttons for the chat's platform.
pub async fn group_message(
    conn: &mut SqliteConnection,
    notice: &Notice,
    channel: crate::channel::Channel,
) -> anyhow::Result<(String, Keyboard)> {
    if let Some((keyboard, _)) = repo::own(&mut *conn, notice.code, channel).await? {
        return Ok((notice.text.clone(), keyboard));
    }
    let sender = roles::user_addr(&mut *conn, notice.sender).await?.map(|(_, n)| n).unwrap_or_default();
    let role = match roles::role_of(conn, notice.sender).await? {
        roles::Role::Official => "cán bộ phường",
        _ => "tổ trưởng",
    };
    let text = format!("📢 THÔNG BÁO {}\n\n{}\n\n— {sender}, {role}", notice.code, notice.text);
    Ok((text, Keyboard::single(Button::callback("👁 Đã xem", NoticeButton::Seen(notice.code).data()))))
}

/// One message of a notice in a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub text: String,
    pub photo: Option<String>,
    pub keyboard: Keyboard,
}

/// A notice in as many messages as a platform's limits need, in order: the
/// photo (if any) with the start of the text as its caption, then the
/// text, cut at line ends; the button on the last. Each is one part of the
/// chat's delivery, sent and counted on its own (see `repo::mark_part_sent`).
pub fn parts(text: &str, photo: Option<&str>, keyboard: Keyboard, limits: &fit::Limits) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text.to_string();
    if let Some(photo) = photo {
        let mut caption = fit::split_text(text, limits.caption);
        let first = caption.remove(0);
        rest = caption.join("\n");
        parts.push(Part { text: first, photo: Some(photo.to_string()), keyboard: Keyboard::none() });
    }
    if !rest.trim().is_empty() {
        parts.extend(fit::split_text(&rest, limits.text).into_iter().map(|text| Part {
            text,
            photo: None,
            keyboard: Keyboard::none(),
        }));
    }
    if let Some(last) = parts.last_mut() {
        last.keyboard = keyboard;
    }
    parts
}

fn progress_text(code: NoticeCode, p: &Progress) -> String {
    format!(
        "📤 Thông báo {code}: đã gửi {}/{} nhóm chat{}.",
        p.sent,
        p.total,
        if p.failed > 0 { format!(", {} lỗi", p.failed) } else { String::new() }
    )
}

/// After each delivery: progress for large broadcasts, and the summary once
/// every chat has been tried.
pub async fn after_delivery(
    app: &App,
    conn: &mut SqliteConnection,
    code: NoticeCode,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let Some(notice) = repo::get(&mut *conn, code).await? else { return Ok(()) };
    let Some((sender, _)) = roles::user_addr(&mut *conn, notice.sender).await? else { return Ok(()) };
    let chat = sender.private_chat();
    let p = repo::progress(&mut *conn, code).await?;
    let tag = format!("notice-progress:{}", code.id());
    // What it is, for a notice that carries its own buttons (no "Đã xem").
    let about = repo::about(&mut *conn, code).await?;
    if repo::finish_if_complete(&mut *conn, code, app.clock.now()).await? {
        let what = about.clone().unwrap_or_else(|| format!("thông báo {code}"));
        let mut text = format!("✅ Đã gửi xong {what}: {}/{} nhóm chat nhận được.", p.sent, p.total);
        let failures = repo::failures(&mut *conn, code).await?;
        if !failures.is_empty() {
            text.push_str("\nKhông gửi được:");
            for (group, reason) in failures {
                text.push_str(&format!("\n• {group}: {reason}"));
            }
        }
        for m in crate::posts::find(&mut *conn, &tag).await? {
            out.edit_public(&m, progress_text(code, &p), Keyboard::none());
        }
        match about {
            Some(_) => out.send(&chat, text),
            None => out.send_with(
                &chat,
                text,
                Keyboard::single(Button::callback("👁 Xem số hộ đã xem", NoticeButton::Stats(code).data())),
            ),
        }
        return Ok(());
    }
    // A progress line for large broadcasts, every tenth chat.
    let tried = p.sent + p.failed;
    if p.total >= 20 && tried % 10 == 0 && tried > 0 {
        let existing = crate::posts::find(&mut *conn, &tag).await?;
        match existing.first() {
            Some(m) => out.edit_public(m, progress_text(code, &p), Keyboard::none()),
            None => out.post(&chat, progress_text(code, &p), Keyboard::none(), &tag),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen() -> Keyboard {
        Keyboard::single(Button::callback("👁 Đã xem", "nt:seen:1"))
    }

    #[test]
    fn a_long_notice_goes_in_parts_with_the_button_on_the_last() {
        let text = "Lịch cắt điện ngõ 41.\n".repeat(220);
        let parts = parts(&text, None, seen(), &fit::Limits::of(crate::channel::Channel::Telegram.capabilities()));
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| fit::length(&p.text) <= 4096 && p.photo.is_none()));
        assert_eq!((parts[0].keyboard.is_empty(), parts[1].keyboard.is_empty()), (true, false));
        assert_eq!(parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n"), text.trim());
    }

    #[test]
    fn a_photo_carries_the_start_of_the_text() {
        let short =
            parts("Họp tổ", Some("ph"), seen(), &fit::Limits::of(crate::channel::Channel::Telegram.capabilities()));
        assert_eq!(short, vec![Part { text: "Họp tổ".into(), photo: Some("ph".into()), keyboard: seen() }]);
        let long = parts(
            &"Nội dung họp.\n".repeat(100),
            Some("ph"),
            seen(),
            &fit::Limits::of(crate::channel::Channel::Telegram.capabilities()),
        );
        assert!(long[0].photo.is_some() && fit::length(&long[0].text) <= 1024 && long[0].keyboard.is_empty());
        assert!(long[1].photo.is_none() && !long[1].keyboard.is_empty());
    }
}
