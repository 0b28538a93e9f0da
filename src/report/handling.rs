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
//! These are the chat's doors to the report's actions (see
//! [`super::actions`]), which check every change (role, transition), write
//! it with its event and audit row in one transaction, or refuse it.

use crate::turn::Turn;
use std::collections::BTreeMap;

use super::actions::{case_card, case_choices, may_handle, move_report, rate, share_photos};
use super::{ReportCode, Status};
use crate::action::told::keyboard;
use crate::channel::{Keyboard, MessageRef};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal, Stop};

pub use super::actions::ReportButton;

pub const DECLINE_FLOW: &str = "report_decline";

/// The form this flow saves (see `crate::forms`).
pub const DECLINE_FORM: crate::conversation::Form = crate::conversation::Form {
    id: DECLINE_FLOW,
    needs: &[("reason", "text")],
    counts: &[],
    complete: |turn, state| Box::pin(complete_decline(turn, state)),
};

pub async fn on_button(
    turn: &mut Turn,
    button: ReportButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    match button {
        ReportButton::Move { code, to: Status::Declined } => {
            // The reason is asked first; nothing changes until it is given.
            let report = may_handle(&mut *turn.db.read().await?, &actor, code).await?;
            if !report.status.can_move_to(Status::Declined) {
                return Err(Refusal::state(format!(
                    "Phản ánh này đang ở trạng thái «{}», không chuyển được.",
                    report.status.label()
                ))
                .into());
            }
            turn.out.answer(callback_id, None);
            let mut context = BTreeMap::new();
            context.insert("report".to_string(), code.to_string());
            context.insert("report_id".to_string(), code.id().to_string());
            conversation::start(turn, context, None, DECLINE_FLOW, None).await
        }
        ReportButton::Move { code, to } => {
            let done = move_report(&turn.app, turn.db.write().await?, &actor, code, to, None).await?;
            turn.tell(done.told).await?;
            turn.out.answer(callback_id, Some(format!("Đã chuyển sang «{}».", to.label())));
            if let Some(message) = message {
                let report = &done.outcome.report;
                let text = case_card(&turn.app, &mut *turn.db.read().await?, report, "📣 Phản ánh", actor.at).await?;
                let when = turn.app.settings.show_time(actor.at);
                turn.out.edit(
                    message,
                    format!("{text}\n\n➜ {} bởi {} lúc {when}", to.label(), turn.caller.name),
                    keyboard(&case_choices(report)),
                );
            }
            Ok(())
        }
        ReportButton::Rate { code, satisfied } => {
            let done = rate(&turn.app, turn.db.write().await?, &actor, code, satisfied).await?;
            turn.tell(done.told).await?;
            turn.out.answer(callback_id, None);
            let thanks = done.outcome.text();
            match message {
                Some(m) => turn.out.edit(m, thanks, Keyboard::none()),
                None => {
                    let me = turn.caller.addr.private_chat();
                    turn.out.send(&me, thanks)
                }
            }
            Ok(())
        }
        ReportButton::SharePhotos { code } => {
            let done = share_photos(turn.db.write().await?, &actor, code).await?;
            turn.tell(done.told).await?;
            turn.out.answer(callback_id, Some(done.outcome.text()));
            Ok(())
        }
    }
}

/// `/xuly PA-000123 <tiepnhan|dangxuly|daxuly|khongxuly> [ghi chú]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
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
    let note = Some(note.as_str()).filter(|n| !n.is_empty());
    let actor = turn.actor();
    let done = move_report(&turn.app, turn.db.write().await?, &actor, code, to, note).await?;
    turn.tell(done.told).await?;
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    Ok(())
}

/// The leader gave the reason for "không xử lý".
pub async fn complete_decline(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Some(Answer::Text(reason)) = state.answers.get("reason") else {
        return Ok(Completion::Reask { key: "reason", message: "Xin ghi lý do.".into() });
    };
    let Some(code) = state.context.get("report_id").and_then(|id| id.parse().ok()).map(ReportCode::new) else {
        return Ok(Completion::Abandoned);
    };
    let actor = turn.actor();
    let done = match move_report(&turn.app, turn.db.write().await?, &actor, code, Status::Declined, Some(reason)).await
    {
        Ok(done) => done,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    turn.tell(done.told).await?;
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, format!("Đã đóng {code} với trạng thái «không xử lý». Người phản ánh đã được báo lý do."));
    Ok(Completion::Done)
}
