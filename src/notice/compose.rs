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

use crate::refusal::{Handled, Refusal, Stop};
use crate::turn::Turn;
use std::collections::BTreeMap;

use super::actions::{self, Draft, Edit, Reach};
pub use super::preview::NoticeButton;
use super::preview::{inline, page_of, show_preview};
use super::{ack, schedule};
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

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let replied = turn.msg.replied();
    let in_group = turn.msg.chat_kind == ChatKind::Group;
    let reach = if in_group {
        match group::by_chat(&mut *turn.db.read().await?, &turn.msg.chat).await? {
            Some(g) => Reach::Group(g.id),
            None => return Err(actions::NOT_STAFF.into()),
        }
    } else {
        Reach::All
    };
    let text = crate::text::squash_lines(if args.trim().is_empty() {
        replied.and_then(|r| r.text.as_deref()).unwrap_or("")
    } else {
        args
    });
    let photo = replied.and_then(|r| r.photo.clone());
    if text.is_empty() && photo.is_none() {
        // Someone who may not write one is refused before being asked for it.
        let groups = actions::groups_for(&mut *turn.db.read().await?, turn.caller.id, reach).await?;
        if !in_group {
            let mut context = BTreeMap::new();
            context.insert("groups".to_string(), groups.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(","));
            return conversation::start(turn, context, None, TEXT_FLOW, None).await;
        }
        return Err(Refusal::input("Xin gõ nội dung sau lệnh, ví dụ: /thongbao Sáng Chủ nhật 8 giờ tổng vệ sinh ngõ 41. Hoặc trả lời (reply) một tin nhắn bằng /thongbao để gửi tin đó.").into());
    }
    let actor = turn.actor();
    let Turn { app, caller, msg, db, out } = turn;
    let tx = db.write().await?;
    let done = actions::create(&mut *tx, &actor, Draft { text, photo, reach }).await?;
    if in_group {
        out.send(&msg.chat, "Bot đã gửi bản xem trước cho bác trong tin nhắn riêng để xác nhận.");
    }
    show_preview(app, tx, caller, done.outcome.code, None, 0, out).await?;
    Ok(())
}

/// The official's `/thongbao` dialogue: text and an optional photo.
pub async fn complete_text(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let actor = turn.actor();
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
    let Some(Answer::Text(text)) = state.answers.get("text") else {
        return Ok(Completion::Reask { key: "text", message: "Xin nhập nội dung thông báo.".into() });
    };
    let photo = match state.answers.get("photo") {
        Some(Answer::Photos(p)) => p.first().cloned(),
        _ => None,
    };
    let draft = Draft { text: text.clone(), photo, reach: Reach::All };
    let code = match actions::create(&mut *tx, &actor, draft).await {
        Ok(done) => done.outcome.code,
        Err(Stop::Refused(Refusal::Input(message))) => return Ok(Completion::Reask { key: "text", message }),
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    show_preview(app, tx, caller, code, None, 0, out).await?;
    Ok(Completion::Done)
}

pub async fn on_button(
    turn: &mut Turn,
    button: NoticeButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    let (code, change, page) = match button {
        NoticeButton::Seen(code) => return ack::on_seen(turn, code, callback_id).await,
        NoticeButton::Stats(code) => {
            turn.out.answer(callback_id, None);
            let private = turn.caller.addr.private_chat();
            return ack::show(turn, &private, Some(code)).await;
        }
        NoticeButton::Cancel(code) => return on_cancel(turn, code, callback_id, message).await,
        NoticeButton::Send(code) => return on_send(turn, code, callback_id, message).await,
        NoticeButton::Time(code) => {
            actions::own_draft(turn.db.write().await?, actor.user, code).await?;
            turn.out.answer(callback_id, None);
            return schedule::ask_time(turn, code).await;
        }
        NoticeButton::Page(code, page) => {
            actions::own_draft(turn.db.write().await?, actor.user, code).await?;
            (code, None, Some(page))
        }
        NoticeButton::Pin(code) => (code, Some(Edit::TogglePin), Some(0)),
        NoticeButton::Toggle(code, g) => (code, Some(Edit::ToggleGroup(g)), None),
        NoticeButton::All(code, page) => (code, Some(Edit::AllGroups), Some(page)),
        NoticeButton::None(code, page) => (code, Some(Edit::NoGroups), Some(page)),
    };
    if let Some(change) = change {
        let done = actions::edit(turn.db.write().await?, &actor, code, change).await?;
        turn.tell(done.told).await?;
    }
    let Turn { app, caller, db, out, .. } = turn;
    let tx = db.write().await?;
    // A group's button keeps the picker on the page that shows it.
    let page = match (page, change) {
        (Some(page), _) => page,
        (None, Some(Edit::ToggleGroup(g))) => page_of(&mut *tx, caller, g).await?,
        (None, _) => 0,
    };
    show_preview(app, tx, caller, code, message, page, out).await?;
    out.answer(callback_id, None);
    Ok(())
}

/// «❌ Huỷ» under a preview or in `/henlich`: the message says what became
/// of the notice, even when it had already gone out.
async fn on_cancel(
    turn: &mut Turn,
    code: super::NoticeCode,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    let text = match actions::cancel(&turn.app, turn.db.write().await?, &actor, code).await {
        Ok(done) => {
            turn.tell(done.told).await?;
            done.outcome.text()
        }
        Err(Stop::Refused(Refusal::State(sentence))) => sentence,
        Err(stop) => return Err(stop),
    };
    turn.out.answer(callback_id, None);
    match message {
        Some(m) => turn.out.edit(m, text, Keyboard::none()),
        None => turn.out.send(&turn.caller.addr.private_chat(), text),
    }
    Ok(())
}

/// «📤 Gửi»: the preview becomes what was sent, and when.
async fn on_send(turn: &mut Turn, code: super::NoticeCode, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let actor = turn.actor();
    let done = actions::send(&turn.app, turn.db.write().await?, &actor, code).await?;
    turn.tell(done.told).await?;
    let sent = done.outcome;
    let text = sent.text(&turn.app);
    turn.out.answer(callback_id, None);
    match message {
        Some(m) if inline(&sent.notice) => {
            turn.out.edit(m, format!("{}\n\n{text}", sent.notice.text), Keyboard::none())
        }
        Some(m) => turn.out.edit(m, text, Keyboard::none()),
        None => turn.out.send(&turn.caller.addr.private_chat(), text),
    }
    Ok(())
}
