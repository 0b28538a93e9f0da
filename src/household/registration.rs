//! Household registration (`/dangky`), docs/design.md, flow 1.
//!
//! ```text
//! (group)   Resident: /dangky
//!           Bot:      Mời bác bấm nút bên dưới để đăng ký … [📝 Đăng ký hộ] → t.me/<bot>?start=dk-12
//!           (the button and the group picker are in `conversation::flow`)
//! (private) Bot:      Họ và tên chủ hộ là gì ạ?
//!           Resident: nguyễn văn an
//!           Bot:      Số nhà của hộ là bao nhiêu ạ?  … (one question at a time)
//!           Bot:      Xin bác kiểm tra lại thông tin hộ: … [✏️ Sửa] [✅ Xác nhận]
//!           Resident: [✅ Xác nhận]
//!           Bot:      Đã gửi hồ sơ hộ #5 tới tổ trưởng …
//! (leader)  Bot:      🏠 Đăng ký hộ mới — Tổ dân phố số 12 … [Duyệt] [Từ chối]
//! ```
//!
//! The wording and the questions are in `dialogues/household.toml`; this
//! file decides what a confirmed form becomes.

use crate::turn::Turn;
use std::collections::BTreeMap;

use super::{repo, review, DetailsError, HouseholdDetails, Status};
use crate::conversation::Completion;
use crate::dialogue::definition::StepKind;
use crate::dialogue::{Book, DefinitionError, DialogueState};
use crate::group::Group;
use crate::refusal::Refusal;

pub const FLOW: &str = "household";

/// The form this flow saves (see `crate::forms`).
pub const FORM: crate::conversation::Form = crate::conversation::Form {
    id: FLOW,
    needs: &[
        ("head_name", "name"),
        ("house_number", "text"),
        ("lane", "text"),
        ("street", "text"),
        ("phone", "phone"),
        ("members", "number"),
        ("circumstances", "choices"),
        ("smartphone_users", "number"),
        ("epayment", "choice"),
        ("vneid_level2", "number"),
    ],
    counts: &[],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

/// The options the flow reads by value (circumstances, e-payment) are ones
/// it knows; a reworded `household.toml` that breaks them is refused at
/// start-up. (The steps and their kinds are the form's: see [`FORM`].)
pub fn check_definition(book: &Book) -> Result<(), DefinitionError> {
    let fail = |step: Option<&str>, problem: &str| DefinitionError {
        file: "household.toml".into(),
        step: step.map(str::to_string),
        problem: problem.into(),
    };
    let def = book.get(FLOW).ok_or_else(|| fail(None, "no dialogue with id = \"household\""))?;
    for step in &def.steps {
        let key = step.key.as_str();
        match (key, &step.kind) {
            ("circumstances", StepKind::Choices { options, .. }) => {
                for o in options {
                    if super::Circumstance::from_code(&o.value).is_none() {
                        return Err(fail(Some(key), &format!("unknown circumstance value '{}'", o.value)));
                    }
                }
            }
            ("epayment", StepKind::Choice { options }) => {
                let mut values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                values.sort();
                if values != ["no", "yes"] {
                    return Err(fail(Some(key), "options must have the values 'yes' and 'no'"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn context_for(group: &Group, household_id: Option<i64>) -> BTreeMap<String, String> {
    let mut context = crate::conversation::flow::context_for(group);
    if let Some(id) = household_id {
        context.insert("household_id".to_string(), id.to_string());
    }
    context
}

/// The resident confirmed the summary: save and tell the leaders, in the
/// transaction that ends the dialogue.
pub async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Turn { caller, out, db, .. } = turn;
    let now = db.now();
    let tx = db.write().await?;
    let me = caller.addr.private_chat();
    let details = match HouseholdDetails::from_answers(&state.answers) {
        Ok(d) => d,
        Err(e) => return Ok(Completion::Reask { key: e.step(), message: explain(&e) }),
    };
    let Some(group) = crate::conversation::flow::context_group(tx, &state.context).await? else {
        return Ok(Completion::Refused(Refusal::state(
            "Tổ dân phố này không còn trên bot nên chưa lưu được. Xin liên hệ tổ trưởng.",
        )));
    };

    let household_id = state.context.get("household_id").and_then(|h| h.parse::<i64>().ok());
    let Some(household_id) = household_id else {
        let id = repo::insert(tx, group.id, caller.id, &details, now).await?;
        let household = repo::get(tx, id).await?.ok_or_else(|| anyhow::anyhow!("household {id} vanished"))?;
        let reached = review::notify_new(tx, &household, &group, caller, out).await?;
        out.send(&me, submitted_text(id, reached));
        return Ok(Completion::Done);
    };

    let Some(existing) = repo::get(tx, household_id).await?.filter(|h| h.owner_user_id == caller.id) else {
        return Ok(Completion::Refused(Refusal::state(
            "Không tìm thấy hồ sơ hộ này của bác. Xin gõ /hocuatoi để xem lại.",
        )));
    };
    if existing.details == details {
        out.send(&me, "Thông tin không có gì thay đổi nên bot không gửi lại. Cảm ơn bác!");
        return Ok(Completion::Done);
    }
    if existing.status == Status::Approved {
        // The approved record stays as it is until a leader accepts the change.
        let update_id = repo::propose_update(tx, existing.id, &details, now).await?;
        let reached = review::notify_update(tx, &existing, update_id, &details, &group, caller, out).await?;
        out.send(
            &me,
            format!(
                "Đã gửi thông tin cập nhật của hộ #{} tới {}. Thông tin cũ vẫn giữ nguyên cho đến khi được duyệt.",
                existing.id,
                if reached { "tổ trưởng" } else { "cán bộ phường" }
            ),
        );
    } else {
        repo::replace_details(tx, existing.id, &details, Status::Pending, caller.id, now).await?;
        let household = repo::get(tx, existing.id).await?.ok_or_else(|| anyhow::anyhow!("household vanished"))?;
        let reached = review::notify_new(tx, &household, &group, caller, out).await?;
        out.send(&me, submitted_text(existing.id, reached));
    }
    Ok(Completion::Done)
}

fn submitted_text(id: i64, leaders_reached: bool) -> String {
    let who = if leaders_reached {
        "tổ trưởng"
    } else {
        "cán bộ phường (tổ chưa có tổ trưởng trên bot)"
    };
    format!("Đã gửi hồ sơ hộ #{id} tới {who} để duyệt. Bot sẽ nhắn bác khi có kết quả. Gõ /hocuatoi để xem lại hồ sơ.")
}

fn explain(e: &DetailsError) -> String {
    match e {
        DetailsError::SmartphoneUsersAboveMembers => {
            "Số người dùng điện thoại thông minh không thể nhiều hơn số nhân khẩu của hộ.".into()
        }
        DetailsError::VneidAboveMembers => "Số người có VNeID mức 2 không thể nhiều hơn số nhân khẩu của hộ.".into(),
        DetailsError::Members => format!("Số nhân khẩu phải từ 1 đến {}.", super::MAX_MEMBERS),
        DetailsError::Missing(_) | DetailsError::UnknownCircumstance(_) => {
            "Câu trả lời này chưa đúng, xin trả lời lại.".into()
        }
    }
}
