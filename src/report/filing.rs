//! `/phananh`: a resident files a scene report.
//!
//! ```text
//! (group)   Resident: /phananh
//!           Bot:      Mời bác bấm nút bên dưới để gửi phản ánh … [📣 Gửi phản ánh] → t.me/<bot>?start=pa-12
//! (private) Bot:      Bác muốn phản ánh việc gì ạ? [Chiếu sáng] [Thoát nước / ngập úng] …
//!           Resident: [Chiếu sáng]  → description → up to 3 photos → location → summary
//!           Resident: [✅ Xác nhận]
//!           Bot:      Đã nhận phản ánh PA-000123. …
//! (leaders and officials) photos, the location, and the report with
//!           [Tiếp nhận] [Đang xử lý] [Đã xử lý] [Không xử lý]
//! ```

use crate::turn::Turn;

use super::repo::{self, NewReport};
use super::{feed, handling, in_vietnam, Place};
use crate::config::Category;
use crate::conversation::Completion;
use crate::dialogue::definition::{Choice, StepKind};
use crate::dialogue::{Answer, Book, DefinitionError, DialogueState};
use crate::refusal::Refusal;

pub const FLOW: &str = "report";

/// The form this flow saves (see `crate::forms`).
pub const FORM: crate::conversation::Form = crate::conversation::Form {
    id: FLOW,
    needs: &[("category", "choice"), ("description", "text"), ("photos", "photos"), ("location", "location")],
    counts: &[],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

/// Puts the ward's categories into the dialogue and checks that the steps
/// this file reads exist with the right kinds.
pub fn prepare_definition(book: &mut Book, categories: &[Category]) -> Result<(), DefinitionError> {
    let options = categories
        .iter()
        .map(|c| Choice { value: c.code.clone(), label: c.label.clone(), aliases: Vec::new(), zalo_label: None })
        .collect();
    book.set_options(FLOW, "category", options)?;
    let fail = |step: &str, problem: &str| DefinitionError {
        file: "report.toml".into(),
        step: Some(step.into()),
        problem: problem.into(),
    };
    // The steps and their kinds are the form's (see [`FORM`]); a leader
    // reads the photos on a phone, three at most.
    let def = book.get(FLOW).ok_or_else(|| fail("-", "missing"))?;
    if let Some(step) = def.steps.iter().find(|s| s.key == "photos") {
        if !matches!(step.kind, StepKind::Photos { max } if max <= 3) {
            return Err(fail("photos", "at most 3 photos"));
        }
    }
    Ok(())
}

pub async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
    let me = caller.addr.private_chat();
    let category = match state.answers.get("category") {
        Some(Answer::Choice(code)) if app.settings.reports.categories.iter().any(|c| &c.code == code) => code.clone(),
        _ => return Ok(Completion::Reask { key: "category", message: "Xin chọn lại loại việc.".into() }),
    };
    let description = match state.answers.get("description") {
        Some(Answer::Text(t)) if !t.trim().is_empty() => t.clone(),
        _ => return Ok(Completion::Reask { key: "description", message: "Xin nhập nội dung phản ánh.".into() }),
    };
    let photos = match state.answers.get("photos") {
        Some(Answer::Photos(p)) => p.iter().take(3).cloned().collect(),
        _ => Vec::new(),
    };
    let place = match state.answers.get("location") {
        Some(Answer::Location { latitude, longitude }) if in_vietnam(*latitude, *longitude) => {
            Place::Pin { latitude: *latitude, longitude: *longitude }
        }
        Some(Answer::Location { .. }) => {
            return Ok(Completion::Reask {
                key: "location",
                message: "Vị trí này không nằm ở Việt Nam. Xin gửi lại vị trí, hoặc gõ địa chỉ.".into(),
            })
        }
        Some(Answer::Address(a)) => Place::Address(a.clone()),
        _ => Place::None,
    };
    let Some(group) = crate::conversation::flow::context_group(tx, &state.context).await? else {
        return Ok(Completion::Refused(Refusal::state(
            "Tổ dân phố này không còn trên bot nên chưa gửi được phản ánh. Xin liên hệ tổ trưởng.",
        )));
    };

    let now = app.clock.now();
    let new = NewReport {
        group_id: group.id,
        reporter: caller.id,
        category: &category,
        description: &description,
        place: &place,
        photos: &photos,
    };
    let code = repo::insert(tx, new, now).await?;
    let report = repo::get(tx, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;
    handling::notify_new(app, tx, &report, out).await?;
    feed::post(app, tx, &report, out).await?;
    out.send(
        &me,
        format!(
            "✅ Đã nhận phản ánh {code}. Tổ trưởng và cán bộ phường đã được báo; bot sẽ nhắn bác mỗi khi phản ánh được xử lý. Gõ /phananhcuatoi để xem lại. Cảm ơn bác!"
        ),
    );
    Ok(Completion::Done)
}
