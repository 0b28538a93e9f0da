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

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use std::collections::BTreeMap;

pub use super::preview::NoticeButton;
use super::preview::{allowed_groups, inline, page_of, show_preview};
use super::repo;
use super::{ack, schedule, Status, TEXT_LIMIT};
use crate::channel::{ChatKind, Keyboard, MessageRef};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState};
use crate::group;

pub const TEXT_FLOW: &str = "notice";

/// The form this flow saves (see `crate::forms`).
pub const TEXT_FORM: crate::conversation::Form = crate::conversation::Form {
    id: TEXT_FLOW,
    needs: &[("text", "text")],
    counts: &[],
    complete: |turn, state| Box::pin(complete_text(turn, state)),
};

const REFUSED: Refusal =
    Refusal::OnlyFor { who: "tổ trưởng, tổ phó và cán bộ phường", to: "gửi được thông báo" };

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let replied = msg.replied();
    let mut conn = db.read().await?;
    let allowed = allowed_groups(&mut conn, caller.id).await?;
    let targets: Vec<i64> = if msg.chat_kind == ChatKind::Group {
        match group::by_chat(&mut conn, &msg.chat).await? {
            Some(g) if allowed.iter().any(|a| a.id == g.id) => vec![g.id],
            Some(_) | None => return Err(REFUSED.into()),
        }
    } else {
        allowed.iter().map(|g| g.id).collect()
    };
    if targets.is_empty() {
        return Err(REFUSED.into());
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
            return conversation::start(turn, context, None, TEXT_FLOW, None).await;
        }
        return Err(Refusal::input("Xin gõ nội dung sau lệnh, ví dụ: /thongbao Sáng Chủ nhật 8 giờ tổng vệ sinh ngõ 41. Hoặc trả lời (reply) một tin nhắn bằng /thongbao để gửi tin đó.").into());
    }
    if let Some(problem) = too_long(&text) {
        return Err(Refusal::input(problem).into());
    }
    drop(conn);
    let mut tx = db.write().await?;
    let code = repo::create_draft(&mut tx, caller.id, &text, photo.as_deref(), &targets, app.clock.now()).await?;
    if msg.chat_kind == ChatKind::Group {
        out.send(&msg.chat, "Bot đã gửi bản xem trước cho bác trong tin nhắn riêng để xác nhận.");
    }
    show_preview(app, &mut tx, caller, code, None, 0, out).await?;
    Ok(())
}

fn too_long(text: &str) -> Option<String> {
    (text.chars().count() > TEXT_LIMIT).then(|| {
        format!("Nội dung dài quá {} ký tự. Xin bác viết ngắn lại.", crate::domain::group_thousands(TEXT_LIMIT as i64))
    })
}

/// The official's `/thongbao` dialogue: text and an optional photo.
pub async fn complete_text(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
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
        return Ok(Completion::Refused(REFUSED));
    }
    let code = repo::create_draft(tx, caller.id, text, photo.as_deref(), &allowed, app.clock.now()).await?;
    show_preview(app, tx, caller, code, None, 0, out).await?;
    Ok(Completion::Done)
}

pub async fn on_button(
    turn: &mut Turn,
    button: NoticeButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    match button {
        NoticeButton::Seen(code) => return ack::on_seen(turn, code, callback_id).await,
        NoticeButton::Stats(code) => {
            out.answer(callback_id, None);
            let private = caller.addr.private_chat();
            return ack::show(turn, &private, Some(code)).await;
        }
        _ => {}
    }
    let mut tx = db.write().await?;
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
        return Err(Refusal::OnlyFor { who: "người soạn thông báo", to: "dùng được nút này" }.into());
    };
    let allowed: Vec<i64> = allowed_groups(&mut tx, caller.id).await?.into_iter().map(|g| g.id).collect();
    if allowed.is_empty() {
        return Err(REFUSED.into());
    }
    if let NoticeButton::Cancel(_) = button {
        let cancelled = repo::cancel(&mut tx, code, app.clock.now()).await?;
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
        return Err(Refusal::state(format!("Thông báo {code} đã được gửi hoặc huỷ.")).into());
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
            out.answer(callback_id, None);
            return schedule::ask_time(turn, code).await;
        }
        NoticeButton::Send(_) => {
            let targets = repo::targets(&mut tx, code).await?;
            // A role revoked since the draft was written no longer reaches.
            if targets.is_empty() || targets.iter().any(|t| !allowed.contains(t)) {
                return Err(Refusal::input("Xin chọn ít nhất một nhóm bác được phép gửi.").into());
            }
            if notice.scheduled_for.is_some_and(|at| at <= app.clock.now()) {
                return Err(Refusal::input("Giờ hẹn đã qua. Xin bấm «Hẹn giờ» để chọn lại.").into());
            }
            let Some(count) = repo::queue(&mut tx, code, app.clock.now()).await? else {
                return Err(Refusal::state(format!("Thông báo {code} đã được gửi.")).into());
            };
            if count == 0 {
                return Err(Refusal::state("Các tổ đã chọn chưa liên kết nhóm chat nào.").into());
            }
            crate::audit::record(
                &mut tx,
                &crate::action::Actor::new(caller.id, caller.addr.channel, app.clock.now()),
                "notice.send",
                &format!("notice:{}", code.id()),
                Some(&count.to_string()),
            )
            .await?;
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
        _ => return Err(Refusal::StaleButton.into()),
    }
    show_preview(app, &mut tx, caller, code, message, page, out).await?;
    out.answer(callback_id, None);
    Ok(())
}
