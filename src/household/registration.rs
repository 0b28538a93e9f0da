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

use super::{actions, DetailsError, HouseholdDetails};
use crate::conversation::Completion;
use crate::dialogue::definition::StepKind;
use crate::dialogue::{Book, DefinitionError, DialogueState};
use crate::group::Group;
use crate::refusal::{Refusal, Stop};

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

/// The resident confirmed the summary: save and tell the reviewers, in the
/// transaction that ends the dialogue.
pub async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let details = match HouseholdDetails::from_answers(&state.answers) {
        Ok(d) => d,
        Err(e) => return Ok(Completion::Reask { key: e.step(), message: explain(&e) }),
    };
    let actor = turn.actor();
    let tx = turn.db.write().await?;
    let acted = match state.context.get("household_id").and_then(|h| h.parse::<i64>().ok()) {
        None => {
            // No group in the context reads as a group gone (ids start at 1).
            let group = state.context.get("group_id").and_then(|g| g.parse::<i64>().ok()).unwrap_or(0);
            actions::register(tx, &actor, group, &details).await.map(|done| done.map(|r| r.text()))
        }
        Some(id) => match actions::update(tx, &actor, id, &details).await {
            Err(Stop::Refused(Refusal::NotFound { .. })) => {
                Err(Refusal::state("Không tìm thấy hồ sơ hộ này của bác. Xin gõ /hocuatoi để xem lại.").into())
            }
            other => other.map(|done| done.map(|u| u.text())),
        },
    };
    let done = match acted {
        Ok(done) => done,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    turn.tell(done.told).await?;
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome);
    Ok(Completion::Done)
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
