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

use super::repo::{self, NewCampaign};
use super::{banks, progress, BankAccount};
use crate::conversation::Completion;
use crate::dialogue::{Answer, Book, DefinitionError, DialogueState, Engine};
use crate::domain::vietqr::AccountNumber;
use crate::group;
use crate::refusal::Refusal;
use crate::roles::{self};

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
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
    let me = caller.addr.private_chat();
    let def = app.book.get(FLOW).ok_or_else(|| anyhow::anyhow!("campaign dialogue missing"))?;
    let answers = Engine::new(&app.book, def).visible_answers(state);
    let Some(group) = crate::conversation::flow::context_group(tx, &state.context).await? else {
        return Ok(Completion::Refused(Refusal::state("Tổ dân phố này không còn trên bot.")));
    };
    // The role is checked again: it may have been revoked mid-dialogue.
    if !roles::can_manage_group(tx, caller.id, group.id).await? {
        return Ok(Completion::Refused(Refusal::OnlyFor {
            who: "tổ trưởng, tổ phó hoặc cán bộ phường",
            to: "tạo được cuộc vận động",
        }));
    }
    let (Some(title), Some(purpose)) = (text(&answers, "title"), text(&answers, "purpose")) else {
        return Ok(Completion::Reask { key: "title", message: "Xin nhập tên cuộc vận động.".into() });
    };
    let target = match answers.get("target") {
        Some(Answer::Money(m)) => Some(*m),
        _ => None,
    };
    let today: NaiveDate = app.clock.now().with_timezone(&app.settings.timezone).date_naive();
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
    let ward_wide = matches!(answers.get("scope"), Some(Answer::Choice(v)) if v == "ward")
        && roles::is_official(tx, caller.id).await?;
    let groups: Vec<i64> =
        if ward_wide { group::all(tx).await?.into_iter().map(|g| g.id).collect() } else { vec![group.id] };

    let now = app.clock.now();
    let new = NewCampaign {
        title: &title,
        purpose: &purpose,
        target,
        deadline,
        accepts_cash: receive != "bank",
        bank: bank.as_ref(),
        groups: &groups,
        ward_wide,
        created_by: caller.id,
    };
    let code = repo::insert(tx, new, now).await?;
    crate::audit::record(
        tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        "campaign.create",
        &format!("campaign:{}", code.id()),
        None,
    )
    .await?;
    let campaign = repo::get(tx, code).await?.ok_or_else(|| anyhow::anyhow!("campaign vanished"))?;
    let (text, choices) = progress::announcement(app, tx, &campaign, now).await?;
    let keyboard = crate::action::told::keyboard(&choices);
    let mut chats = 0;
    for gid in &groups {
        for chat in group::chats_of(tx, *gid).await? {
            out.post(&chat, text.clone(), keyboard.clone(), &campaign.tag());
            chats += 1;
        }
    }
    out.send(
        &me,
        format!(
            "✅ Đã tạo cuộc vận động {code} và đăng lên {chats} nhóm chat. Mỗi khi có người ủng hộ, bot sẽ nhắn bác để xác nhận đã nhận tiền. Gõ /quy để xem tổng, /ketthuc {code} để kết thúc."
        ),
    );
    Ok(Completion::Done)
}
