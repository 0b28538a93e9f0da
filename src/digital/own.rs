//! A resident updates their own household's digital indicators from
//! `/hocuatoi` («📱 Cập nhật công dân số»): the dialogue starts at its
//! summary with what is on record, the resident changes what changed, and
//! it is saved at once as their own (events with source `resident`), unlike
//! an address change, which still waits for a leader.

use std::collections::BTreeMap;

use super::{Indicators, Source};
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;

pub const FLOW: &str = "digital_self";
/// Callback data: `hm:dg:<household>` (the resident's own household).
pub const PREFIX: &str = "hm:dg:";

pub const FORM: Form = Form {
    id: FLOW,
    needs: &[
        ("smartphone_users", "number"),
        ("epayment", "choice"),
        ("vneid_level2", "number"),
        ("ward_app", "choice"),
        ("joined_group", "choice"),
    ],
    counts: &["members"],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

fn yes(b: bool) -> Answer {
    Answer::Choice(if b { "yes" } else { "no" }.to_string())
}

/// The household the caller owns and may update, approved.
async fn own(turn: &mut Turn, id: Option<i64>) -> anyhow::Result<Option<super::Household>> {
    let Some(id) = id else { return Ok(None) };
    let found = super::household(&mut *turn.db.read().await?, id).await?;
    Ok(found.filter(|h| h.owner_user_id == turn.caller.id && h.approved))
}

pub async fn on_button(turn: &mut Turn, id: &str, callback_id: &str) -> Handled {
    let Some(household) = own(turn, id.parse().ok()).await? else {
        return Err(Refusal::state("Không tìm thấy hộ đã được duyệt này của bác.").into());
    };
    turn.out.answer(callback_id, None);
    let now = household.now;
    let answers = BTreeMap::from([
        ("smartphone_users".to_string(), Answer::Number(now.smartphone_users)),
        ("epayment".to_string(), yes(now.has_epayment)),
        ("vneid_level2".to_string(), Answer::Number(now.vneid_level2)),
        ("ward_app".to_string(), yes(now.ward_app)),
        ("joined_group".to_string(), yes(now.joined_group)),
    ]);
    // The members bound the counts at their steps (`max_from`).
    let context = BTreeMap::from([
        ("household".to_string(), household.id.to_string()),
        ("members".to_string(), household.members.to_string()),
    ]);
    conversation::start(turn, context, Some(answers), FLOW, None).await
}

async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let id = state.context.get("household").and_then(|id| id.parse().ok());
    let Some(household) = own(turn, id).await? else {
        return Ok(Completion::Refused(Refusal::state("Không tìm thấy hộ đã được duyệt này của bác.")));
    };
    let number = |key| match state.answers.get(key) {
        Some(Answer::Number(n)) => *n,
        _ => 0,
    };
    let chosen = |key| matches!(state.answers.get(key), Some(Answer::Choice(c)) if c == "yes");
    let to = Indicators {
        smartphone_users: number("smartphone_users"),
        has_epayment: chosen("epayment"),
        vneid_level2: number("vneid_level2"),
        ward_app: chosen("ward_app"),
        joined_group: chosen("joined_group"),
    };
    // Checked again against the household as it is now: its members may
    // have changed since the dialogue started.
    for (key, value) in [("smartphone_users", to.smartphone_users), ("vneid_level2", to.vneid_level2)] {
        if value > household.members {
            return Ok(Completion::Reask {
                key,
                message: format!(
                    "Hộ có {} người, nên số này nhiều nhất là {}. Xin nhập lại.",
                    household.members, household.members
                ),
            });
        }
    }
    let Turn { app, caller, db, out, .. } = turn;
    let mut tx = db.write().await?;
    let changed = super::change(&mut tx, household.id, to, caller.id, Source::Resident, app.clock.now()).await?;
    let text = if changed == 0 {
        "Thông tin công dân số của hộ không thay đổi.".to_string()
    } else {
        format!("✅ Đã cập nhật thông tin công dân số của hộ #{}: {}.", household.id, to.describe(household.members))
    };
    out.send(&caller.addr.private_chat(), text);
    Ok(Completion::Done)
}
