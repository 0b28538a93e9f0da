//! A resident updates their own household's digital indicators from
//! `/hocuatoi` («📱 Cập nhật công dân số»): the dialogue starts at its
//! summary with what is on record, the resident changes what changed, and
//! it is saved at once as their own (`actions::own::update`: events with
//! source `resident`), unlike an address change, which still waits for a
//! leader.

use std::collections::BTreeMap;

use super::actions::own::{own_household, update};
use super::Indicators;
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal, Stop};
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

/// What the resident reads when the household is not theirs or not
/// approved: the same either way, so that nobody learns of another's.
const NOT_YOURS: &str = "Không tìm thấy hộ đã được duyệt này của bác.";

pub async fn on_button(turn: &mut Turn, id: &str, callback_id: &str) -> Handled {
    let Some(id) = id.parse::<i64>().ok() else {
        return Err(Refusal::state(NOT_YOURS).into());
    };
    let user = turn.caller.id;
    let household = match own_household(&mut *turn.db.read().await?, user, id).await {
        Err(Stop::Refused(Refusal::NotFound { .. } | Refusal::NoRight { .. })) => {
            return Err(Refusal::state(NOT_YOURS).into())
        }
        other => other?,
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
    let Some(id) = state.context.get("household").and_then(|id| id.parse::<i64>().ok()) else {
        return Ok(Completion::Refused(Refusal::state(NOT_YOURS)));
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
    let actor = turn.actor();
    let done = match update(turn.db.write().await?, &actor, id, to).await {
        Ok(done) => done,
        Err(Stop::Refused(Refusal::NotFound { .. } | Refusal::NoRight { .. })) => {
            return Ok(Completion::Refused(Refusal::state(NOT_YOURS)))
        }
        // The members may have changed since the dialogue started: the
        // larger count is surely the one above them.
        Err(Stop::Refused(Refusal::Input(message))) => {
            let key = if to.smartphone_users >= to.vneid_level2 { "smartphone_users" } else { "vneid_level2" };
            return Ok(Completion::Reask { key, message });
        }
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    let private = turn.caller.addr.private_chat();
    turn.out.send(&private, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(Completion::Done)
}
