//! `/thongbao`: a leader or official writes a notice, checks the preview in
//! private, and sends it now or later, pinned or not.
//!
//! ```text
//! (group)   Leader: /thongbao Chủ nhật 8h tổng vệ sinh ngõ 41   (or as a reply to a message)
//!           Bot:    Bot đã gửi bản xem trước cho bác trong tin nhắn riêng.
//! (private) Bot:    Xem trước TB3 … [📌 Ghim: không] [⏰ Hẹn giờ] [📤 Gửi] [❌ Huỷ]
//!           (officials also toggle groups: [✅ Tổ dân phố số 12] [✅ Thôn Song Phượng] …)
//! (groups)  📢 THÔNG BÁO … [👁 Đã xem]
//! (private) Bot:    ✅ Đã gửi xong TB3: 60/60 nhóm chat. [👁 Xem số hộ đã xem]
//! ```

use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::repo;
use super::{ack, schedule, Notice, NoticeCode, Status, TEXT_LIMIT};
use crate::app::App;
use crate::channel::{Button, ChatKind, Incoming, Keyboard, MessageRef, Replied, Replies};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState};
use crate::group::{self, Group};
use crate::roles::{self, Caller};

pub const TEXT_FLOW: &str = "notice";

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

const REFUSED: &str = "Xin lỗi, chỉ tổ trưởng, tổ phó và cán bộ phường mới gửi được thông báo.";

pub async fn command(
    app: &App,
    caller: &Caller,
    msg: &Incoming,
    args: &str,
    replied: Option<&Replied>,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let mut conn = app.read().await?;
    let allowed = allowed_groups(&mut conn, caller.id).await?;
    let targets: Vec<i64> = if msg.chat_kind == ChatKind::Group {
        match group::by_chat(&mut conn, &msg.chat).await? {
            Some(g) if allowed.iter().any(|a| a.id == g.id) => vec![g.id],
            Some(_) | None => {
                out.send(&msg.chat, REFUSED);
                return Ok(());
            }
        }
    } else {
        allowed.iter().map(|g| g.id).collect()
    };
    if targets.is_empty() {
        out.send(&msg.chat, REFUSED);
        return Ok(());
    }
    let text = crate::text::squash_lines(if args.trim().is_empty() {
        replied.and_then(|r| r.text.as_deref()).unwrap_or("")
    } else {
        args
    });
    let photo = replied.and_then(|r| r.photo.clone());
    if text.is_empty() && photo.is_none() {
        if msg.chat_kind == ChatKind::Private {
            let mut context = BTreeMap::new();
            context.insert("groups".to_string(), targets.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(","));
            drop(conn);
            return conversation::start(app, caller, context, None, TEXT_FLOW, None, out).await;
        }
        out.send(&msg.chat, "Xin gõ nội dung sau lệnh, ví dụ: /thongbao Sáng Chủ nhật 8 giờ tổng vệ sinh ngõ 41. Hoặc trả lời (reply) một tin nhắn bằng /thongbao để gửi tin đó.");
        return Ok(());
    }
    if let Some(problem) = too_long(&text) {
        out.send(&msg.chat, problem);
        return Ok(());
    }
    drop(conn);
    let mut tx = app.write().await?;
    let code = repo::create_draft(&mut tx, caller.id, &text, photo.as_deref(), &targets, app.clock.now()).await?;
    if msg.chat_kind == ChatKind::Group {
        out.send(&msg.chat, "Bot đã gửi bản xem trước cho bác trong tin nhắn riêng để xác nhận.");
    }
    show_preview(app, &mut tx, caller, code, None, 0, out).await?;
    tx.commit().await?;
    Ok(())
}

fn too_long(text: &str) -> Option<String> {
    (text.chars().count() > TEXT_LIMIT).then(|| {
        format!("Nội dung dài quá {} ký tự. Xin bác viết ngắn lại.", crate::domain::group_thousands(TEXT_LIMIT as i64))
    })
}

/// The official's `/thongbao` dialogue: text and an optional photo.
pub async fn complete_text(
    app: &App,
    tx: &mut SqliteConnection,
    caller: &Caller,
    state: &DialogueState,
    out: &mut Replies,
) -> anyhow::Result<Completion> {
    let Some(Answer::Text(text)) = state.answers.get("text") else {
        return Ok(Completion::Reask { key: "text", message: "Xin nhập nội dung thông báo.".into() });
    };
    let photo = match state.answers.get("photo") {
        Some(Answer::Photos(p)) => p.first().cloned(),
        _ => None,
    };
    if let Some(problem) = too_long(text) {
        return Ok(Completion::Reask { key: "text", message: problem });
    }
    let allowed: Vec<i64> = allowed_groups(tx, caller.id).await?.into_iter().map(|g| g.id).collect();
    if allowed.is_empty() {
        out.send(&caller.addr.private_chat(), REFUSED);
        return Ok(Completion::Abandoned);
    }
    let code = repo::create_draft(tx, caller.id, text, photo.as_deref(), &allowed, app.clock.now()).await?;
    show_preview(app, tx, caller, code, None, 0, out).await?;
    Ok(Completion::Done)
}

/// Groups on one page of the picker: with the other rows, well under
/// Telegram's 100 buttons, however many groups the ward has.
const PAGE: usize = 20;

/// A notice longer than this is shown in a message of its own above the
/// picker, which is edited on every press and must fit in one message.
const INLINE_TEXT: usize = 1500;

/// Names of the chosen groups are listed up to this many; beyond, a count.
const NAMED: usize = 10;

fn inline(notice: &Notice) -> bool {
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
async fn page_of(conn: &mut SqliteConnection, caller: &Caller, group: i64) -> anyhow::Result<usize> {
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

pub async fn on_button(
    app: &App,
    caller: &Caller,
    msg: &Incoming,
    button: NoticeButton,
    callback_id: &str,
    message: Option<&MessageRef>,
    out: &mut Replies,
) -> anyhow::Result<()> {
    match button {
        NoticeButton::Seen(code) => return ack::on_seen(app, caller, msg, code, callback_id, out).await,
        NoticeButton::Stats(code) => {
            out.answer(callback_id, None);
            return ack::show(app, caller, &caller.addr.private_chat(), Some(code), out).await;
        }
        _ => {}
    }
    let mut tx = app.write().await?;
    let code = match button {
        NoticeButton::Pin(c)
        | NoticeButton::Time(c)
        | NoticeButton::Toggle(c, _)
        | NoticeButton::All(c, _)
        | NoticeButton::None(c, _)
        | NoticeButton::Page(c, _)
        | NoticeButton::Send(c)
        | NoticeButton::Cancel(c)
        | NoticeButton::Seen(c)
        | NoticeButton::Stats(c) => c,
    };
    let notice = repo::get(&mut tx, code).await?;
    let Some(notice) = notice.filter(|n| n.sender == caller.id) else {
        out.answer(callback_id, Some("Xin lỗi, chỉ người soạn thông báo mới dùng được nút này.".into()));
        return Ok(());
    };
    let allowed: Vec<i64> = allowed_groups(&mut tx, caller.id).await?.into_iter().map(|g| g.id).collect();
    if allowed.is_empty() {
        out.answer(callback_id, Some(REFUSED.into()));
        return Ok(());
    }
    if let NoticeButton::Cancel(_) = button {
        let cancelled = repo::cancel(&mut tx, code, app.clock.now()).await?;
        tx.commit().await?;
        out.answer(callback_id, None);
        let text = if cancelled {
            format!("Đã huỷ thông báo {code}.")
        } else {
            format!("Thông báo {code} đã gửi đi, không huỷ được.")
        };
        match message {
            Some(m) => out.edit(m, text, Keyboard::none()),
            None => out.send(&caller.addr.private_chat(), text),
        }
        return Ok(());
    }
    if notice.status != Status::Draft {
        out.answer(callback_id, Some(format!("Thông báo {code} đã được gửi hoặc huỷ.")));
        return Ok(());
    }
    let mut page = 0;
    match button {
        NoticeButton::Pin(_) => repo::set_pin(&mut tx, code, !notice.pin).await?,
        NoticeButton::Page(_, p) => page = p,
        NoticeButton::Toggle(_, g) if allowed.contains(&g) => {
            let mut targets = repo::targets(&mut tx, code).await?;
            if let Some(i) = targets.iter().position(|t| *t == g) {
                targets.remove(i);
            } else {
                targets.push(g);
            }
            repo::set_targets(&mut tx, code, &targets).await?;
            page = page_of(&mut tx, caller, g).await?;
        }
        NoticeButton::All(_, p) => {
            repo::set_targets(&mut tx, code, &allowed).await?;
            page = p;
        }
        NoticeButton::None(_, p) => {
            repo::set_targets(&mut tx, code, &[]).await?;
            page = p;
        }
        NoticeButton::Time(_) => {
            tx.commit().await?;
            out.answer(callback_id, None);
            return schedule::ask_time(app, caller, code, out).await;
        }
        NoticeButton::Send(_) => {
            let targets = repo::targets(&mut tx, code).await?;
            // A role revoked since the draft was written no longer reaches.
            if targets.is_empty() || targets.iter().any(|t| !allowed.contains(t)) {
                out.answer(callback_id, Some("Xin chọn ít nhất một nhóm bác được phép gửi.".into()));
                return Ok(());
            }
            if notice.scheduled_for.is_some_and(|at| at <= app.clock.now()) {
                out.answer(callback_id, Some("Giờ hẹn đã qua. Xin bấm «Hẹn giờ» để chọn lại.".into()));
                return Ok(());
            }
            let Some(count) = repo::queue(&mut tx, code, app.clock.now()).await? else {
                out.answer(callback_id, Some(format!("Thông báo {code} đã được gửi.")));
                return Ok(());
            };
            if count == 0 {
                out.answer(callback_id, Some("Các tổ đã chọn chưa liên kết nhóm chat nào.".into()));
                return Ok(());
            }
            crate::audit::record(
                &mut tx,
                caller.id,
                "notice.send",
                &format!("notice:{}", code.id()),
                Some(&count.to_string()),
            )
            .await?;
            tx.commit().await?;
            app.outbox.notify_one();
            out.answer(callback_id, None);
            let text = match notice.scheduled_for {
                Some(at) => format!(
                    "⏰ Thông báo {code} sẽ được gửi tới {count} nhóm chat lúc {}. Gõ /henlich để xem hoặc huỷ.",
                    app.settings.show_time(at)
                ),
                None => format!("📤 Đang gửi thông báo {code} tới {count} nhóm chat. Bot sẽ báo khi gửi xong."),
            };
            match message {
                Some(m) if inline(&notice) => out.edit(m, format!("{}\n\n{text}", notice.text), Keyboard::none()),
                Some(m) => out.edit(m, text, Keyboard::none()),
                None => out.send(&caller.addr.private_chat(), text),
            }
            return Ok(());
        }
        _ => {
            out.answer(callback_id, Some("Nút này không còn dùng được.".into()));
            return Ok(());
        }
    }
    show_preview(app, &mut tx, caller, code, message, page, out).await?;
    tx.commit().await?;
    out.answer(callback_id, None);
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
