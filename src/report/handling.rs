//! Leaders and officials take a report through its lifecycle; the reporter
//! is told at each step and rates the result.
//!
//! ```text
//! (leader)   [📥 Tiếp nhận] → reporter: "Phản ánh PA-000123 đã được tiếp nhận."
//!            /xuly PA-000123 daxuly Đã thay bóng đèn
//!            → reporter: "✅ … đã được xử lý. Ghi chú: Đã thay bóng đèn" [Hài lòng] [Không hài lòng]
//! (reporter) [Không hài lòng] → the case is reopened once, leaders are told
//! (leader)   [🚫 Không xử lý] → asks the reason in private, then closes
//! ```
//!
//! Every change is checked on the server (role, transition), written with
//! its event and audit row in one transaction, and refused otherwise.

use crate::turn::{Turn, TurnDb};
use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::{feed, repo, Place, Report, ReportCode, Status};
use crate::app::App;
use crate::channel::{Button, Keyboard, MessageRef, Replies, UserAddr};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState};
use crate::group;
use crate::refusal::{Handled, Refusal, Stop};
use crate::roles::{self, Caller};

pub const DECLINE_FLOW: &str = "report_decline";

/// The form this flow saves (see `crate::forms`).
pub const DECLINE_FORM: crate::conversation::Form = crate::conversation::Form {
    id: DECLINE_FLOW,
    needs: &[("reason", "text")],
    counts: &[],
    complete: |turn, state| Box::pin(complete_decline(turn, state)),
};

/// Callback data: `rp:st:<id>:<status word>`, `rp:rt:<id>:<y|n>`,
/// `rp:sh:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportButton {
    Move { code: ReportCode, to: Status },
    Rate { code: ReportCode, satisfied: bool },
    SharePhotos { code: ReportCode },
}

impl ReportButton {
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.strip_prefix("rp:")?.split(':');
        let op = parts.next()?;
        let code = ReportCode::parse(parts.next()?)?;
        let arg = parts.next();
        if parts.next().is_some() {
            return None;
        }
        match (op, arg) {
            ("st", Some(word)) => Some(Self::Move { code, to: Status::from_word(word)? }),
            ("rt", Some("y")) => Some(Self::Rate { code, satisfied: true }),
            ("rt", Some("n")) => Some(Self::Rate { code, satisfied: false }),
            ("sh", None) => Some(Self::SharePhotos { code }),
            _ => None,
        }
    }

    pub fn data(self) -> String {
        match self {
            Self::Move { code, to } => format!("rp:st:{}:{}", code.id(), to.word()),
            Self::Rate { code, satisfied } => format!("rp:rt:{}:{}", code.id(), if satisfied { "y" } else { "n" }),
            Self::SharePhotos { code } => format!("rp:sh:{}", code.id()),
        }
    }
}

fn action_label(to: Status) -> &'static str {
    match to {
        Status::New => "Mới",
        Status::Accepted => "📥 Tiếp nhận",
        Status::InProgress => "🔧 Đang xử lý",
        Status::Resolved => "✅ Đã xử lý",
        Status::Declined => "🚫 Không xử lý",
    }
}

/// The buttons a leader sees under a report: the moves allowed from its
/// status, and sharing photos with the feed.
fn staff_keyboard(report: &Report) -> Keyboard {
    let moves: Vec<Button> = report
        .status
        .next()
        .iter()
        .map(|to| Button::callback(action_label(*to), ReportButton::Move { code: report.code, to: *to }.data()))
        .collect();
    let mut rows: Vec<Vec<Button>> = moves.chunks(2).map(|c| c.to_vec()).collect();
    if !report.photos.is_empty() && !report.share_photos && !report.status.is_closed() {
        rows.push(vec![Button::callback(
            "📷 Đăng ảnh lên bảng tin nhóm",
            ReportButton::SharePhotos { code: report.code }.data(),
        )]);
    }
    Keyboard::rows(rows)
}

/// Leaders of the group and every official, each once.
async fn staff(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<Vec<UserAddr>> {
    let mut to: Vec<UserAddr> = roles::leaders_of(&mut *conn, group_id).await?.into_iter().map(|(_, a)| a).collect();
    for (_, official) in roles::officials(conn).await? {
        if !to.contains(&official) {
            to.push(official);
        }
    }
    Ok(to)
}

async fn staff_text(app: &App, conn: &mut SqliteConnection, report: &Report, headline: &str) -> anyhow::Result<String> {
    let group = group::by_id(&mut *conn, report.group_id).await?.map(|g| g.name).unwrap_or_default();
    let reporter = roles::user_addr(conn, report.reporter_user_id).await?.map(|(_, name)| name).unwrap_or_default();
    let now = app.clock.now();
    Ok(format!(
        "{headline} {} — {group}\nLoại: {}\nNội dung: {}\nVị trí: {}\nẢnh: {}\nNgười gửi: {reporter}\nGửi lúc: {} ({} trước)\nTrạng thái: {}",
        report.code,
        app.settings.reports.category_label(&report.category),
        report.description,
        report.place_text(),
        if report.photos.is_empty() { "không có".to_string() } else { format!("{} ảnh (gửi kèm)", report.photos.len()) },
        app.settings.show_time(report.created_at),
        app.settings.age(report.created_at, now),
        report.status.label(),
    )
    .replace("(vừa xong trước)", "(vừa xong)"))
}

/// A new report goes to the group's leaders and to every official: its
/// photos, its pin, then the text with the buttons.
pub async fn notify_new(
    app: &App,
    conn: &mut SqliteConnection,
    report: &Report,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let text = staff_text(app, conn, report, "📣 Phản ánh mới").await?;
    for addr in staff(conn, report.group_id).await? {
        send_case(out, &addr, report, text.clone());
    }
    Ok(())
}

fn send_case(out: &mut Replies, to: &UserAddr, report: &Report, text: String) {
    let chat = to.private_chat();
    let n = report.photos.len();
    for (i, file_id) in report.photos.iter().enumerate() {
        out.photo(&chat, file_id, Some(format!("{} · ảnh {}/{n}", report.code, i + 1)));
    }
    if let Place::Pin { latitude, longitude } = report.place {
        out.location(&chat, latitude, longitude);
    }
    out.send_with(&chat, text, staff_keyboard(report));
}

pub async fn on_button(
    turn: &mut Turn,
    button: ReportButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    match button {
        ReportButton::Move { code, to: Status::Declined } => {
            // The reason is asked first; nothing changes until it is given.
            let mut conn = db.read().await?;
            let report = managed(&mut conn, caller, code).await?;
            if !report.status.can_move_to(Status::Declined) {
                return Err(Refusal::state(format!(
                    "Phản ánh này đang ở trạng thái «{}», không chuyển được.",
                    report.status.label()
                ))
                .into());
            }
            drop(conn);
            out.answer(callback_id, None);
            let mut context = BTreeMap::new();
            context.insert("report".to_string(), code.to_string());
            context.insert("report_id".to_string(), code.id().to_string());
            conversation::start(turn, context, None, DECLINE_FLOW, None).await
        }
        ReportButton::Move { code, to } => {
            let report = apply(app, db.write().await?, caller, code, to, None, out).await?;
            out.answer(callback_id, Some(format!("Đã chuyển sang «{}».", to.label())));
            if let Some(message) = message {
                let text = staff_text(app, &mut *db.read().await?, &report, "📣 Phản ánh").await?;
                let when = app.settings.show_time(app.clock.now());
                out.edit(
                    message,
                    format!("{text}\n\n➜ {} bởi {} lúc {when}", to.label(), caller.name),
                    staff_keyboard(&report),
                );
            }
            Ok(())
        }
        ReportButton::Rate { code, satisfied } => {
            rate(app, db, caller, code, satisfied, callback_id, message, out).await
        }
        ReportButton::SharePhotos { code } => {
            let mut tx = db.write().await?;
            let report = managed(&mut tx, caller, code).await?;
            if !feed::enabled(&mut tx, report.group_id).await? {
                return Err(Refusal::state("Nhóm chưa bật bảng tin. Gõ /bangtin bat trong nhóm để bật.").into());
            }
            if repo::set_share_photos(&mut tx, code).await? {
                crate::audit::record(
                    &mut tx,
                    &crate::action::Actor::new(caller.id, caller.addr.channel, app.clock.now()),
                    "report.share_photos",
                    &format!("report:{}", code.id()),
                    None,
                )
                .await?;
                feed::post_photos(&mut tx, &report, out).await?;
            }
            out.answer(callback_id, Some("Đã đăng ảnh lên bảng tin nhóm.".into()));
            Ok(())
        }
    }
}

/// `/xuly PA-000123 <tiepnhan|dangxuly|daxuly|khongxuly> [ghi chú]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    const USAGE: &str = "Cách dùng: /xuly PA-000123 <tiepnhan | dangxuly | daxuly | khongxuly> [ghi chú]\nVí dụ: /xuly PA-000123 daxuly Đã thay bóng đèn\nVới «khongxuly», xin ghi lý do.";
    let mut words = args.split_whitespace();
    let code = words.next().and_then(ReportCode::parse);
    let to = words.next().and_then(Status::from_word);
    let note = words.collect::<Vec<_>>().join(" ");
    let note = crate::text::squash(&note);
    let (Some(code), Some(to)) = (code, to) else {
        return Err(Refusal::input(USAGE).into());
    };
    if to == Status::Declined && note.is_empty() {
        return Err(Refusal::input(format!("Xin ghi lý do không xử lý.\n\n{USAGE}")).into());
    }
    if note.chars().count() > 500 {
        return Err(Refusal::input("Ghi chú dài quá 500 ký tự. Xin viết ngắn lại.").into());
    }
    let note = Some(note.as_str()).filter(|n| !n.is_empty());
    apply(app, db.write().await?, caller, code, to, note, out).await?;
    out.send(&msg.chat, format!("Đã chuyển {code} sang «{}». Người phản ánh đã được báo.", to.label()));
    Ok(())
}

/// The leader gave the reason for "không xử lý".
pub async fn complete_decline(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
    let Some(Answer::Text(reason)) = state.answers.get("reason") else {
        return Ok(Completion::Reask { key: "reason", message: "Xin ghi lý do.".into() });
    };
    let Some(code) = state.context.get("report_id").and_then(|id| id.parse().ok()).map(ReportCode::new) else {
        return Ok(Completion::Abandoned);
    };
    match apply(app, tx, caller, code, Status::Declined, Some(reason), out).await {
        Ok(_) => out.send(
            &caller.addr.private_chat(),
            format!("Đã đóng {code} với trạng thái «không xử lý». Người phản ánh đã được báo lý do."),
        ),
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    }
    Ok(Completion::Done)
}

/// Checks and applies one move; nothing is changed when it is refused.
async fn apply(
    app: &App,
    tx: &mut SqliteConnection,
    caller: &Caller,
    code: ReportCode,
    to: Status,
    note: Option<&str>,
    out: &mut Replies,
) -> Handled<Report> {
    let report = managed(tx, caller, code).await?;
    if !report.status.can_move_to(to) {
        return Err(Refusal::State(format!(
            "Phản ánh {code} đang ở trạng thái «{}», không chuyển sang «{}» được.",
            report.status.label(),
            to.label()
        ))
        .into());
    }
    let now = app.clock.now();
    if !repo::set_status(tx, code, report.status, to, now).await? {
        return Err(Refusal::Overtaken { what: format!("Phản ánh {code}") }.into());
    }
    repo::add_event(tx, code.id(), Some(caller.id), Some(report.status), to, note, now).await?;
    crate::audit::record(
        tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        "report.status",
        &format!("report:{}", code.id()),
        Some(to.code()),
    )
    .await?;
    let report = repo::get(tx, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;

    if let Some((reporter, _)) = roles::user_addr(tx, report.reporter_user_id).await? {
        let chat = reporter.private_chat();
        let note_line = note.map(|n| format!("\nGhi chú: {n}")).unwrap_or_default();
        match to {
            Status::Accepted => out.send(&chat, format!("📥 Phản ánh {code} của bác đã được tiếp nhận.{note_line}")),
            Status::InProgress => out.send(&chat, format!("🔧 Phản ánh {code} của bác đang được xử lý.{note_line}")),
            Status::Resolved => out.send_with(
                &chat,
                format!("✅ Phản ánh {code} của bác đã được xử lý.{note_line}\n\nBác có hài lòng với kết quả không ạ?"),
                Keyboard::rows(vec![vec![
                    Button::callback("😊 Hài lòng", ReportButton::Rate { code, satisfied: true }.data()),
                    Button::callback("😞 Không hài lòng", ReportButton::Rate { code, satisfied: false }.data()),
                ]]),
            ),
            Status::Declined => out.send(
                &chat,
                format!(
                    "Phản ánh {code} của bác không thuộc phạm vi tổ xử lý.\nLý do: {}",
                    note.unwrap_or("không ghi")
                ),
            ),
            Status::New => {}
        }
    }
    if to.is_closed() {
        feed::post(app, tx, &report, out).await?;
    }
    Ok(report)
}

/// The report `code`, if the caller may handle it: staff of its group.
async fn managed(conn: &mut SqliteConnection, caller: &Caller, code: ReportCode) -> Handled<Report> {
    let Some(report) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("phản ánh", code).into());
    };
    if !roles::can_manage_group(conn, caller.id, report.group_id).await? {
        tracing::warn!(user = caller.id, "report move refused: not staff of the group");
        return Err(Refusal::no_right("xử lý phản ánh của tổ này").into());
    }
    Ok(report)
}

async fn rate(
    app: &App,
    db: &mut TurnDb,
    caller: &Caller,
    code: ReportCode,
    satisfied: bool,
    callback_id: &str,
    message: Option<&MessageRef>,
    out: &mut Replies,
) -> Handled {
    let mut tx = db.write().await?;
    let report = repo::get(&mut tx, code).await?.filter(|r| r.reporter_user_id == caller.id);
    let Some(report) = report else {
        return Err(Refusal::OnlyFor { who: "người gửi phản ánh", to: "đánh giá được" }.into());
    };
    if !repo::rate(&mut tx, code, satisfied).await? {
        return Err(Refusal::state("Phản ánh này đã được đánh giá, hoặc chưa xử lý xong.").into());
    }
    let now = app.clock.now();
    let reopen = !satisfied && !report.reopened;
    if reopen {
        repo::set_status(&mut tx, code, Status::Resolved, Status::InProgress, now).await?;
        repo::mark_reopened(&mut tx, code).await?;
        repo::add_event(
            &mut tx,
            code.id(),
            Some(caller.id),
            Some(Status::Resolved),
            Status::InProgress,
            Some("Người phản ánh chưa hài lòng, mở lại"),
            now,
        )
        .await?;
    }
    let staff_to = staff(&mut tx, report.group_id).await?;
    let report = repo::get(&mut tx, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;
    if !satisfied {
        let headline = if reopen {
            "🔁 Mở lại vì người phản ánh chưa hài lòng:"
        } else {
            "😞 Người phản ánh vẫn chưa hài lòng:"
        };
        let text = staff_text(app, &mut tx, &report, headline).await?;
        for addr in &staff_to {
            out.send_with(&addr.private_chat(), text.clone(), staff_keyboard(&report));
        }
    }
    out.answer(callback_id, None);
    let thanks = match (satisfied, reopen) {
        (true, _) => format!("Cảm ơn bác đã đánh giá phản ánh {code}: hài lòng."),
        (false, true) => format!("Cảm ơn bác. Phản ánh {code} đã được mở lại và báo tổ trưởng xử lý tiếp."),
        (false, false) => {
            format!("Cảm ơn bác. Ý kiến chưa hài lòng về {code} đã được báo tới tổ trưởng và cán bộ phường.")
        }
    };
    match message {
        Some(m) => out.edit(m, thanks, Keyboard::none()),
        None => out.send(&caller.addr.private_chat(), thanks),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_round_trips_and_rejects_junk() {
        let code = ReportCode::new(42);
        for b in [
            ReportButton::Move { code, to: Status::Resolved },
            ReportButton::Rate { code, satisfied: false },
            ReportButton::SharePhotos { code },
        ] {
            assert!(b.data().len() <= 64);
            assert_eq!(ReportButton::parse(&b.data()), Some(b));
        }
        for junk in ["rp:st:42", "rp:st:42:xx", "rp:rt:42:maybe", "rp:st:abc:daxuly", "rp:sh:42:1", "rp:"] {
            assert_eq!(ReportButton::parse(junk), None, "{junk}");
        }
    }
}
