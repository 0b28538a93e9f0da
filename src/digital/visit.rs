//! A visit recorded in a few presses, from the walking list: the date
//! (today unless told), whether the household was met, what was done (a
//! checklist), for VNeID how many people, an optional note; then the
//! summary with Sửa / Xác nhận (`dialogues/visit.toml`). Saving is the
//! action `actions::visit::record`: it moves the household's indicators at
//! once, each change kept as an event with the visit ([`super::change`]).
//!
//! ```text
//! (member) [✍️ 1. số 8, Xuân La] → Bác đến hộ này ngày nào ạ? [Hôm nay]
//!          [Hôm nay] → [Đã gặp, đã hỗ trợ] → [Cài VNeID, đạt mức 2] [Mở tài khoản…] [Xong]
//!          2 → [Không ghi chú] → [✅ Xác nhận]
//!          ✅ Đã ghi lần thăm hộ số 8, Xuân La ngày 01/12/2026 …
//! ```

use std::collections::BTreeMap;

pub use super::actions::visit::outcome_label;
use super::actions::visit::{record, visitable, Help, Outcome, Visit};
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal, Stop};
use crate::turn::Turn;

pub const FLOW: &str = "visit";
/// The context's count of the household's members without VNeID level 2
/// when the visit starts: the most `vneid_added` takes at its step.
const VNEID_ROOM: &str = "vneid_room";

pub const FORM: Form = Form {
    id: FLOW,
    needs: &[
        ("visited_on", "date"),
        ("outcome", "choice"),
        ("done", "choices"),
        ("vneid_added", "number"),
        ("note", "text"),
    ],
    counts: &[VNEID_ROOM],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

/// A press on a household of the walking list: the visit's questions, if
/// the presser may record one there (asked again on saving).
pub async fn start(turn: &mut Turn, household: i64, callback_id: &str) -> Handled {
    let mut conn = turn.db.read().await?;
    let found = match visitable(&mut conn, turn.caller.id, household).await {
        Err(Stop::Refused(Refusal::NotFound { .. })) => return Err(Refusal::StaleButton.into()),
        other => other?,
    };
    drop(conn);
    turn.out.answer(callback_id, None);
    let context = BTreeMap::from([
        ("household".to_string(), format!("{} ({})", found.address(), found.head_name)),
        ("household_id".to_string(), found.id.to_string()),
        ("members".to_string(), found.members.to_string()),
        ("vneid".to_string(), found.now.vneid_level2.to_string()),
        (VNEID_ROOM.to_string(), (found.members - found.now.vneid_level2).max(0).to_string()),
    ]);
    conversation::start(turn, context, None, FLOW, None).await
}

/// The answers as a visit, recorded. What the household as it is now
/// cannot take is asked again: its state (everyone has VNeID already) at
/// the checklist, a number above the room left at the count.
async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Some(id) = state.context.get("household_id").and_then(|id| id.parse::<i64>().ok()) else {
        return Ok(Completion::Abandoned);
    };
    let vneid_added = match state.answers.get("vneid_added") {
        Some(Answer::Number(n)) => *n,
        _ => 0,
    };
    let outcome = match state.answers.get("outcome") {
        Some(Answer::Choice(c)) if c == "helped" => {
            let done = match state.answers.get("done") {
                Some(Answer::Choices(done)) => done.iter().filter_map(|d| Help::parse(d, vneid_added)).collect(),
                _ => Vec::new(),
            };
            Outcome::Helped(done)
        }
        Some(Answer::Choice(c)) if c == "not_home" => Outcome::NotHome,
        Some(Answer::Choice(c)) if c == "declined" => Outcome::Declined,
        _ => return Ok(Completion::Reask { key: "outcome", message: "Xin chọn kết quả lần thăm.".into() }),
    };
    let on = match state.answers.get("visited_on") {
        Some(Answer::Date(day)) => Some(*day),
        _ => None,
    };
    let note = match state.answers.get("note") {
        Some(Answer::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let actor = turn.actor();
    let visit = Visit { on, outcome, note };
    let done = match record(&turn.app, turn.db.write().await?, &actor, id, visit).await {
        Ok(done) => done,
        Err(Stop::Refused(Refusal::NotFound { .. })) => {
            return Ok(Completion::Refused(Refusal::state("Hộ này không còn trên bot, nên không ghi được lần thăm.")))
        }
        Err(Stop::Refused(Refusal::State(message))) => return Ok(Completion::Reask { key: "done", message }),
        Err(Stop::Refused(Refusal::Input(message))) => return Ok(Completion::Reask { key: "vneid_added", message }),
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    let private = turn.caller.addr.private_chat();
    turn.out.send(&private, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(Completion::Done)
}
