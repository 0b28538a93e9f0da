//! The preview of a notice in private chat, with its buttons: pin, time,
//! the groups it goes to (paged), send and cancel. Both writing a notice
//! (`compose`) and setting its time (`schedule`) come back to it.

use sqlx::SqliteConnection;

use super::repo;
use super::{Notice, NoticeCode};
use crate::app::App;
use crate::channel::{Button, Keyboard, MessageRef, Replies};
use crate::group::{self, Group};
use crate::roles::{self, Caller};

/// Callback data `nt:<op>:<notice>[:<group>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeButton {
    Pin(NoticeCode),
    Time(NoticeCode),
    Toggle(NoticeCode, i64),
    /// Choose every group; shown on a page of the picker.
    All(NoticeCode, usize),
    None(NoticeCode, usize),
    /// Another page of the group picker.
    Page(NoticeCode, usize),
    Send(NoticeCode),
    Cancel(NoticeCode),
    Seen(NoticeCode),
    Stats(NoticeCode),
}

impl NoticeButton {
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.strip_prefix("nt:")?.split(':');
        let op = parts.next()?;
        let code = NoticeCode::new(parts.next()?.parse::<i64>().ok().filter(|n| *n > 0)?);
        let extra = parts.next();
        if parts.next().is_some() {
            return None;
        }
        Some(match (op, extra) {
            ("pin", None) => Self::Pin(code),
            ("time", None) => Self::Time(code),
            ("tg", Some(g)) => Self::Toggle(code, g.parse().ok()?),
            ("all", None) => Self::All(code, 0),
            ("all", Some(p)) => Self::All(code, p.parse().ok()?),
            ("none", None) => Self::None(code, 0),
            ("none", Some(p)) => Self::None(code, p.parse().ok()?),
            ("pg", Some(p)) => Self::Page(code, p.parse().ok()?),
            ("send", None) => Self::Send(code),
            ("cx", None) => Self::Cancel(code),
            ("seen", None) => Self::Seen(code),
            ("ds", None) => Self::Stats(code),
            _ => return None,
        })
    }

    pub fn data(self) -> String {
        match self {
            Self::Pin(c) => format!("nt:pin:{}", c.id()),
            Self::Time(c) => format!("nt:time:{}", c.id()),
            Self::Toggle(c, g) => format!("nt:tg:{}:{g}", c.id()),
            Self::All(c, 0) => format!("nt:all:{}", c.id()),
            Self::All(c, p) => format!("nt:all:{}:{p}", c.id()),
            Self::None(c, 0) => format!("nt:none:{}", c.id()),
            Self::None(c, p) => format!("nt:none:{}:{p}", c.id()),
            Self::Page(c, p) => format!("nt:pg:{}:{p}", c.id()),
            Self::Send(c) => format!("nt:send:{}", c.id()),
            Self::Cancel(c) => format!("nt:cx:{}", c.id()),
            Self::Seen(c) => format!("nt:seen:{}", c.id()),
            Self::Stats(c) => format!("nt:ds:{}", c.id()),
        }
    }
}

/// The groups the caller may send notices to: all for officials, their own
/// for leaders, none for residents.
pub async fn allowed_groups(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Vec<Group>> {
    if roles::is_official(&mut *conn, user_id).await? {
        group::all(conn).await
    } else {
        group::led_by(conn, user_id).await
    }
}

/// Groups on one page of the picker: with the other rows, well under
/// Telegram's 100 buttons, however many groups the ward has.
const PAGE: usize = 20;

/// A notice longer than this is shown in a message of its own above the
/// picker, which is edited on every press and must fit in one message.
const INLINE_TEXT: usize = 1500;

/// Names of the chosen groups are listed up to this many; beyond, a count.
const NAMED: usize = 10;

pub(super) fn inline(notice: &Notice) -> bool {
    crate::fit::length(&notice.text) <= INLINE_TEXT
}

/// The preview's picker on `page`: the notice (when short), where it goes,
/// pin and time, and the buttons. Its length is bounded whatever the text
/// and the number of groups, so every edit of it fits.
pub async fn preview(
    app: &App,
    conn: &mut SqliteConnection,
    caller: &Caller,
    notice: &Notice,
    page: usize,
) -> anyhow::Result<(String, Keyboard)> {
    let allowed = allowed_groups(&mut *conn, caller.id).await?;
    let targets = repo::targets(&mut *conn, notice.code).await?;
    let chosen: Vec<&Group> = allowed.iter().filter(|g| targets.contains(&g.id)).collect();
    let when = match notice.scheduled_for {
        Some(at) => format!("hẹn gửi lúc {}", app.settings.show_time(at)),
        None => "gửi ngay khi bấm «Gửi»".to_string(),
    };
    let to = match chosen.len() {
        0 => "chưa chọn nhóm nào".to_string(),
        n if n == allowed.len() && n > NAMED => format!("tất cả {n} nhóm"),
        n if n > NAMED => format!("{n}/{} nhóm", allowed.len()),
        _ => chosen.iter().map(|g| short(&g.name)).collect::<Vec<_>>().join(", "),
    };
    let body =
        if inline(notice) { notice.text.clone() } else { "(Nội dung ở tin nhắn ngay phía trên.)".to_string() };
    let text = format!(
        "Xem trước thông báo {}{}:\n\n{body}\n\nGửi tới: {to}\nGhim trong nhóm: {}\nThời gian: {when}",
        notice.code,
        if notice.photo.is_some() { " (kèm ảnh)" } else { "" },
        if notice.pin { "có" } else { "không" },
    );
    let code = notice.code;
    let mut rows = vec![vec![
        Button::callback(if notice.pin { "📌 Ghim: có" } else { "📌 Ghim: không" }, NoticeButton::Pin(code).data()),
        Button::callback("⏰ Hẹn giờ", NoticeButton::Time(code).data()),
    ]];
    if allowed.len() > 1 {
        let page = page.min(allowed.len().div_ceil(PAGE) - 1);
        let choices = allowed
            .iter()
            .map(|g| {
                let mark = if targets.contains(&g.id) { "✅ " } else { "⬜ " };
                Button::callback(format!("{mark}{}", short(&g.name)), NoticeButton::Toggle(code, g.id).data())
            })
            .collect();
        rows.extend(Keyboard::page_of(choices, page, PAGE, |p| NoticeButton::Page(code, p).data()));
        rows.push(vec![
            Button::callback("Chọn tất cả", NoticeButton::All(code, page).data()),
            Button::callback("Bỏ chọn tất cả", NoticeButton::None(code, page).data()),
        ]);
    }
    rows.push(vec![
        Button::callback("📤 Gửi", NoticeButton::Send(code).data()),
        Button::callback("❌ Huỷ", NoticeButton::Cancel(code).data()),
    ]);
    Ok((text, Keyboard::rows(rows)))
}

/// A group's name as a label: long names are cut, so a page of them fits.
fn short(name: &str) -> String {
    const MAX: usize = 40;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(MAX - 1).collect::<String>())
    }
}

/// The page of the picker that shows `group`.
pub(super) async fn page_of(conn: &mut SqliteConnection, caller: &Caller, group: i64) -> anyhow::Result<usize> {
    let allowed = allowed_groups(conn, caller.id).await?;
    Ok(allowed.iter().position(|g| g.id == group).unwrap_or(0) / PAGE)
}

/// Shows the preview, editing `message` when the press came from it. A new
/// preview of a long notice shows the notice in a message of its own first.
pub async fn show_preview(
    app: &App,
    conn: &mut SqliteConnection,
    caller: &Caller,
    code: NoticeCode,
    message: Option<&MessageRef>,
    page: usize,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let Some(notice) = repo::get(&mut *conn, code).await? else { return Ok(()) };
    let (text, keyboard) = preview(app, conn, caller, &notice, page).await?;
    match message {
        Some(m) => out.edit(m, text, keyboard),
        None => {
            if !inline(&notice) {
                out.send(&caller.addr.private_chat(), format!("Nội dung thông báo {code}:\n\n{}", notice.text));
            }
            out.send_with(&caller.addr.private_chat(), text, keyboard)
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_round_trip() {
        let c = NoticeCode::new(7);
        for b in [
            NoticeButton::Pin(c),
            NoticeButton::Time(c),
            NoticeButton::Toggle(c, 12),
            NoticeButton::All(c, 0),
            NoticeButton::All(c, 3),
            NoticeButton::None(c, 0),
            NoticeButton::None(c, 2),
            NoticeButton::Page(c, 4),
            NoticeButton::Send(c),
            NoticeButton::Cancel(c),
            NoticeButton::Seen(c),
            NoticeButton::Stats(c),
        ] {
            assert_eq!(NoticeButton::parse(&b.data()), Some(b));
        }
        for junk in ["nt:send", "nt:send:0", "nt:tg:1", "nt:tg:1:x", "nt:zz:1", "nt:send:1:2"] {
            assert_eq!(NoticeButton::parse(junk), None, "{junk}");
        }
    }
}
