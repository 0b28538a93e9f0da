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

use super::actions::{file, Filing, MAX_PHOTOS};
use super::Place;
use crate::config::Category;
use crate::conversation::Completion;
use crate::dialogue::definition::{Choice, StepKind};
use crate::dialogue::{Answer, Book, DefinitionError, DialogueState};
use crate::refusal::{Refusal, Stop};

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
    let answers = &state.answers;
    let filing = Filing {
        group: 0,
        category: match answers.get("category") {
            Some(Answer::Choice(code)) => code.clone(),
            _ => String::new(),
        },
        description: match answers.get("description") {
            Some(Answer::Text(t)) => t.clone(),
            _ => String::new(),
        },
        photos: match answers.get("photos") {
            Some(Answer::Photos(p)) => p.iter().take(MAX_PHOTOS).cloned().collect(),
            _ => Vec::new(),
        },
        place: match answers.get("location") {
            Some(Answer::Location { latitude, longitude }) => Place::Pin { latitude: *latitude, longitude: *longitude },
            Some(Answer::Address(a)) => Place::Address(a.clone()),
            _ => Place::None,
        },
    };
    if let Some((key, message)) = filing.problem(&turn.app) {
        return Ok(Completion::Reask { key, message: message.into() });
    }
    let Some(group) = crate::conversation::flow::context_group(turn.db.write().await?, &state.context).await? else {
        return Ok(Completion::Refused(Refusal::state(
            "Tổ dân phố này không còn trên bot nên chưa gửi được phản ánh. Xin liên hệ tổ trưởng.",
        )));
    };
    let actor = turn.actor();
    let filing = Filing { group: group.id, ..filing };
    let done = match file(&turn.app, turn.db.write().await?, &actor, filing).await {
        Ok(done) => done,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    turn.tell(done.told).await?;
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text());
    Ok(Completion::Done)
}
