//! `/vandong`: a leader or official starts a campaign; the bot announces it
//! in each group in scope with a progress line and an **Ủng hộ** button.
//!
//! ```text
//! (group)   Leader: /vandong → [📢 Tạo cuộc vận động] → private dialogue
//! (private) title → purpose → target (or none) → deadline → cash / bank / both
//!           → bank, account, holder (for transfers) → scope (officials) → summary
//! (groups)  📢 VẬN ĐỘNG ỦNG HỘ UH1: … ░░░░░░░░░░ 0% · 0 đ / 50.000.000 đ · 0 hộ [💝 Ủng hộ]
//! ```

use crate::turn::Turn;
use chrono::NaiveDate;

use super::actions::{self, Plan, Scope};
use super::{banks, BankAccount};
use crate::conversation::Completion;
use crate::dialogue::{Answer, Book, DefinitionError, DialogueState, Engine};
use crate::domain::vietqr::AccountNumber;
use crate::refusal::{Refusal, Stop};

pub const FLOW: &str = "campaign";

/// The form this flow saves (see `crate::forms`).
pub const FORM: crate::conversation::Form = crate::conversation::Form {
    id: FLOW,
    needs: &[
        ("title", "text"),
        ("purpose", "text"),
        ("target", "money"),
        ("deadline", "date"),
        ("receive", "choice"),
        ("bank", "choice"),
        ("account", "text"),
        ("holder", "text"),
        ("scope", "choice"),
    ],
    counts: &[],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

pub fn prepare_definition(book: &mut Book) -> Result<(), DefinitionError> {
    book.set_options(FLOW, "bank", banks::choices())?;
    Ok(())
}

fn text(answers: &std::collections::BTreeMap<String, Answer>, key: &str) -> Option<String> {
    match answers.get(key) {
        Some(Answer::Text(t)) if !t.trim().is_empty() => Some(t.clone()),
        _ => None,
    }
}

pub async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let def = turn.app.book.get(FLOW).ok_or_else(|| anyhow::anyhow!("campaign dialogue missing"))?;
    let answers = Engine::new(&turn.app.book, def).visible_answers(state);
    let Some(group) = crate::conversation::flow::context_group(turn.db.write().await?, &state.context).await? else {
        return Ok(Completion::Refused(Refusal::state("Tổ dân phố này không còn trên bot.")));
    };
    let (Some(title), Some(purpose)) = (text(&answers, "title"), text(&answers, "purpose")) else {
        return Ok(Completion::Reask { key: "title", message: "Xin nhập tên cuộc vận động.".into() });
    };
    let target = match answers.get("target") {
        Some(Answer::Money(m)) => Some(*m),
        _ => None,
    };
    let today: NaiveDate = turn.db.now().with_timezone(&turn.app.settings.timezone).date_naive();
    let deadline = match answers.get("deadline") {
        Some(Answer::Date(d)) if *d >= today => *d,
        _ => {
            return Ok(Completion::Reask {
                key: "deadline",
                message: format!("Hạn ủng hộ phải từ hôm nay ({}) trở đi.", today.format("%d/%m/%Y")),
            })
        }
    };
    let receive = match answers.get("receive") {
        Some(Answer::Choice(v)) => v.clone(),
        _ => return Ok(Completion::Reask { key: "receive", message: "Xin chọn cách nhận tiền.".into() }),
    };
    let bank = if receive == "cash" {
        None
    } else {
        let Some(bank) = (match answers.get("bank") {
            Some(Answer::Choice(bin)) => banks::by_bin(bin),
            _ => None,
        }) else {
            return Ok(Completion::Reask { key: "bank", message: "Xin chọn ngân hàng.".into() });
        };
        let Some(number) = text(&answers, "account").and_then(|a| AccountNumber::parse(&a)) else {
            return Ok(Completion::Reask {
                key: "account",
                message: "Số tài khoản chỉ gồm chữ số (6 đến 19 số). Xin nhập lại.".into(),
            });
        };
        let holder =
            text(&answers, "holder").map(|h| crate::text::strip_diacritics(&h).to_uppercase()).unwrap_or_default();
        if holder.trim().len() < 2 {
            return Ok(Completion::Reask { key: "holder", message: "Xin nhập tên chủ tài khoản.".into() });
        }
        Some(BankAccount {
            bin: bank.bin.to_string(),
            bank_name: bank.name.to_string(),
            number: number.as_str().to_string(),
            holder,
        })
    };
    let scope = match answers.get("scope") {
        Some(Answer::Choice(v)) if v == "ward" => Scope::Ward,
        _ => Scope::Group(group.id),
    };
    let plan = Plan { title, purpose, target, deadline, accepts_cash: receive != "bank", bank, scope };
    let actor = turn.actor();
    let done = match actions::create(&turn.app, turn.db.write().await?, &actor, plan).await {
        Ok(done) => done,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(error)) => return Err(error),
    };
    turn.tell(done.told).await?;
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text());
    Ok(Completion::Done)
}
