//! A visit recorded in a few presses, from the walking list: the date
//! (today unless told), whether the household was met, what was done (a
//! checklist), for VNeID how many people, an optional note; then the
//! summary with Sửa / Xác nhận (`dialogues/visit.toml`). Saving moves the
//! household's indicators at once, each change kept as an event with the
//! visit ([`super::change`]); a member is trusted for these.
//!
//! ```text
//! (member) [✍️ 1. số 8, Xuân La] → Bác đến hộ này ngày nào ạ? [Hôm nay]
//!          [Hôm nay] → [Đã gặp, đã hỗ trợ] → [Cài VNeID, đạt mức 2] [Mở tài khoản…] [Xong]
//!          2 → [Không ghi chú] → [✅ Xác nhận]
//!          ✅ Đã ghi lần thăm hộ số 8, Xuân La ngày 01/12/2026 …
//! ```

use std::collections::BTreeMap;

use super::Source;
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal};
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

pub fn outcome_label(code: &str) -> &'static str {
    match code {
        "helped" => "đã hỗ trợ",
        "not_home" => "không có nhà",
        "declined" => "hộ từ chối",
        _ => "đã thăm",
    }
}

fn done_label(code: &str) -> &'static str {
    match code {
        "epayment" => "mở tài khoản thanh toán",
        "ward_app" => "cài ứng dụng của phường",
        "joined_group" => "vào nhóm của tổ",
        "public_service" => "hướng dẫn dịch vụ công",
        _ => "việc khác",
    }
}

/// A press on a household of the walking list: the visit's questions.
pub async fn start(turn: &mut Turn, household: i64, callback_id: &str) -> Handled {
    let mut conn = turn.db.read().await?;
    let Some(found) = super::household(&mut conn, household).await?.filter(|h| h.approved) else {
        return Err(Refusal::StaleButton.into());
    };
    if !super::reaches(&mut conn, turn.caller.id, found.group_id).await? {
        return Err(Refusal::no_right("ghi lần thăm hộ của tổ này").into());
    }
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

async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Turn { app, caller, db, out, .. } = turn;
    let Some(id) = state.context.get("household_id").and_then(|id| id.parse::<i64>().ok()) else {
        return Ok(Completion::Abandoned);
    };
    let mut tx = db.write().await?;
    let Some(household) = super::household(&mut tx, id).await?.filter(|h| h.approved) else {
        return Ok(Completion::Refused(Refusal::state("Hộ này không còn trên bot, nên không ghi được lần thăm.")));
    };
    // Checked again on saving: a member removed from the team meanwhile
    // records nothing.
    if !super::reaches(&mut tx, caller.id, household.group_id).await? {
        return Ok(Completion::Refused(Refusal::no_right("ghi lần thăm hộ của tổ này")));
    }
    let now = app.clock.now();
    let on = match state.answers.get("visited_on") {
        Some(Answer::Date(day)) => *day,
        _ => app.settings.day(now),
    };
    let outcome = match state.answers.get("outcome") {
        Some(Answer::Choice(c)) if ["helped", "not_home", "declined"].contains(&c.as_str()) => c.clone(),
        _ => return Ok(Completion::Reask { key: "outcome", message: "Xin chọn kết quả lần thăm.".into() }),
    };
    let done: Vec<String> = match state.answers.get("done") {
        Some(Answer::Choices(done)) if outcome == "helped" => done.clone(),
        _ => Vec::new(),
    };
    let did = |what: &str| done.iter().any(|d| d == what);
    let vneid_added = match state.answers.get("vneid_added") {
        Some(Answer::Number(n)) if did("vneid") => *n,
        _ => 0,
    };
    // Checked again against the household as it is now, in this
    // transaction (the step checked it against the household when the
    // visit started): another visit saved meanwhile counts.
    let room = household.members - household.now.vneid_level2;
    if did("vneid") && room <= 0 {
        return Ok(Completion::Reask {
            key: "done",
            message: format!(
                "Cả {} người trong hộ đã có VNeID mức 2 rồi ạ. Xin bỏ chọn việc VNeID.",
                household.members
            ),
        });
    }
    if vneid_added > room {
        return Ok(Completion::Reask {
            key: "vneid_added",
            message: format!(
                "Hộ có {} người, đã có {} người có VNeID mức 2, nên lần này nhiều nhất {room} người. Xin nhập lại.",
                household.members, household.now.vneid_level2
            ),
        });
    }
    let note = match state.answers.get("note") {
        Some(Answer::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let team = super::team_for(&mut tx, caller.id, household.group_id).await?;
    let visit: i64 = sqlx::query_scalar(
        "INSERT INTO visits (household_id, group_id, team_id, by_user_id, visited_on, outcome, vneid_added,
                             epayment_opened, ward_app, joined_group, public_service, note, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(household.id)
    .bind(household.group_id)
    .bind(team)
    .bind(caller.id)
    .bind(on.format("%Y-%m-%d").to_string())
    .bind(&outcome)
    .bind(vneid_added)
    .bind(did("epayment"))
    .bind(did("ward_app"))
    .bind(did("joined_group"))
    .bind(did("public_service"))
    .bind(&note)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let before = household.now;
    let mut after = before;
    after.vneid_level2 += vneid_added;
    if vneid_added > 0 {
        // VNeID level 2 is used through its app on a phone: whoever reached
        // it on this visit uses a smartphone.
        after.smartphone_users = after.smartphone_users.max(after.vneid_level2.min(household.members));
    }
    after.has_epayment |= did("epayment");
    after.ward_app |= did("ward_app");
    after.joined_group |= did("joined_group");
    super::change(&mut tx, household.id, after, caller.id, Source::Visit(visit), now).await?;

    let what = if outcome == "helped" {
        let list: Vec<String> = done
            .iter()
            .map(|d| match d.as_str() {
                "vneid" => format!("VNeID mức 2 cho {vneid_added} người"),
                other => done_label(other).to_string(),
            })
            .collect();
        if list.is_empty() {
            "đã gặp hộ".to_string()
        } else {
            list.join(", ")
        }
    } else {
        outcome_label(&outcome).to_string()
    };
    out.send(
        &caller.addr.private_chat(),
        format!(
            "✅ Đã ghi lần thăm hộ {} ngày {}: {what}.\nHộ nay: {}.\nGõ /ditham để xem các hộ còn lại.",
            household.address(),
            on.format("%d/%m/%Y"),
            after.describe(household.members)
        ),
    );
    Ok(Completion::Done)
}
