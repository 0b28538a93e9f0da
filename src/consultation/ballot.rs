//! A resident's answer: the ballot in private (from the group post's
//! **Cho ý kiến**, from `/ykien`, or on Zalo the message itself), one press
//! (on Zalo a number), a receipt. Any member of a household answers for
//! it, once; an open ballot's answer may be changed until the close, a
//! secret one never, and the resident is told so before pressing.
//!
//! ```text
//! (group)   🗳 LẤY Ý KIẾN YK3 … 412/530 hộ đã cho ý kiến [🗳 Cho ý kiến]
//! (private) 🗳 YK3: Đặt tên đường … 🔒 Phiếu kín … [1. Đồng ý] [2. Không đồng ý] [3. Ý kiến khác]
//!           [1. Đồng ý] → ✅ Bot đã ghi nhận ý kiến của hộ bác. Mã biên nhận: YK3-7KQ2MX4P.
//! ```

use std::collections::BTreeMap;

use super::answers::{self, Given, Recorded, Voter};
use super::card::{ballot_text, keyboard, Choice, PAYLOAD_PREFIX};
use super::repo;
use super::{Ballot, Consultation, ConsultationCode, Unit};
use crate::channel::{Keyboard, MessageRef};
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;

/// The dialogue that asks for an "Ý kiến khác" text.
pub const OTHER_FLOW: &str = "consultation_other";

pub const OTHER_FORM: Form = Form {
    id: OTHER_FLOW,
    needs: &[("text", "text")],
    counts: &[],
    complete: |turn, state| Box::pin(complete_other(turn, state)),
};

/// `/start yk-<id>` from the group post.
pub async fn start_from_payload(turn: &mut Turn, payload: &str) -> Handled<bool> {
    let Some(id) = payload.strip_prefix(PAYLOAD_PREFIX) else { return Ok(false) };
    let code = id.parse::<i64>().ok().filter(|n| *n > 0).map(ConsultationCode::new);
    let found = match code {
        Some(code) => repo::get(&mut *turn.db.read().await?, code).await?,
        None => None,
    };
    match found {
        Some(c) => show(turn, &c).await?,
        None => turn.out.send(&turn.caller.addr.private_chat(), "Không tìm thấy cuộc lấy ý kiến này."),
    }
    Ok(true)
}

/// `/ykien`: the ballots open to the caller's household.
pub async fn command(turn: &mut Turn) -> Handled {
    let mut conn = turn.db.read().await?;
    let open = repo::reaching(&mut conn, None, &[super::Status::Open]).await?;
    let mut mine = Vec::new();
    for c in open {
        if c.accepts_at(turn.app.clock.now()) && answers::voter(&mut conn, &c, turn.caller.id).await?.is_some() {
            mine.push(c);
        }
    }
    if mine.is_empty() {
        let mut text = "Hiện không có cuộc lấy ý kiến nào đang chờ hộ của bác.".to_string();
        if let Some(last) = last_ended(&mut conn, turn.caller.id, turn.app.clock.now()).await? {
            text.push_str(&format!("\n{}; kết quả đã gửi tới các tổ.", last.ended(&turn.app)));
        }
        turn.out.send(&turn.caller.addr.private_chat(), text);
        return Ok(());
    }
    drop(conn);
    for c in mine.iter().take(3) {
        show(turn, c).await?;
    }
    Ok(())
}

/// How long `/ykien` still names a consultation that has ended.
const ENDED_SHOWN: chrono::Duration = chrono::Duration::days(30);

/// The latest consultation the caller could have answered that ended in
/// the last [`ENDED_SHOWN`].
async fn last_ended(
    conn: &mut sqlx::SqliteConnection,
    user: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<Consultation>> {
    for c in repo::reaching(&mut *conn, None, &[super::Status::Closed]).await? {
        if c.ended_at() > now - ENDED_SHOWN && answers::voter(&mut *conn, &c, user).await?.is_some() {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The ballot in private, or why the caller cannot answer it.
pub async fn show(turn: &mut Turn, c: &Consultation) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let me = caller.addr.private_chat();
    if !c.accepts_at(app.clock.now()) {
        out.send(&me, closed(app, c));
        return Ok(());
    }
    let mut conn = db.read().await?;
    let Some(voter) = answers::voter(&mut conn, c, caller.id).await? else {
        out.send(&me, not_registered(c));
        return Ok(());
    };
    let marker = answers::marker(&mut conn, c.code, voter).await?;
    if let (Some(m), Ballot::Secret) = (&marker, c.ballot) {
        out.send(&me, already(c, m.via == "paper", Some(&m.receipt)));
        return Ok(());
    }
    let mut text = ballot_text(app, c);
    if marker.is_some() {
        if let Some(now) = answers::current_choice(&mut conn, c.code, voter).await? {
            text.push_str(&format!("\n\nÝ kiến hiện tại của {}: «{}».", whose(c), c.option(now).unwrap_or("?")));
        }
    }
    text.push_str(super::card::ask_line(caller.addr.channel.capabilities()));
    if let Some(photo) = &c.photo {
        out.photo(&me, photo, None);
    }
    out.send_with(&me, text, keyboard(c));
    Ok(())
}

fn whose(c: &Consultation) -> &'static str {
    match c.unit {
        Unit::Household => "hộ bác",
        Unit::Person => "bác",
    }
}

fn closed(app: &crate::app::App, c: &Consultation) -> String {
    format!("{}; ý kiến này không được ghi nhận. Xin cảm ơn bác.", c.ended(app))
}

fn not_registered(c: &Consultation) -> String {
    format!(
        "Bác chưa có hộ được duyệt trong các tổ được hỏi ý kiến {}, nên chưa cho ý kiến được. Gõ /dangky để đăng ký hộ (hoặc xin chủ hộ mã mời vào hộ); khi tổ trưởng duyệt, bác cho ý kiến được.",
        c.code
    )
}

fn already(c: &Consultation, paper: bool, receipt: Option<&str>) -> String {
    let who = match c.unit {
        Unit::Household => "Hộ của bác",
        Unit::Person => "Bác",
    };
    let mut text = if paper {
        format!("{who} đã có ý kiến (phiếu giấy).")
    } else {
        format!("{who} đã cho ý kiến {} rồi. Phiếu kín không đổi được.", c.code)
    };
    if let Some(r) = receipt {
        text.push_str(&format!(" Mã biên nhận: {r}."));
    }
    text
}

/// A press on an option.
pub async fn on_press(turn: &mut Turn, choice: Choice, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let found = repo::get(&mut *turn.db.read().await?, choice.code).await?;
    let Some(c) = found.filter(|c| c.status != super::Status::Draft && c.status != super::Status::Cancelled) else {
        return Err(Refusal::StaleButton.into());
    };
    if c.ballot == Ballot::Secret {
        turn.db.defer(super::secrecy::pressed(c.code)).await?;
    }
    if choice.option >= c.options.len() {
        return Err(Refusal::StaleButton.into());
    }
    if !c.accepts_at(turn.app.clock.now()) {
        return Err(Refusal::state(closed(&turn.app, &c)).into());
    }
    if Some(choice.option) == c.other {
        let voter = answers::voter(&mut *turn.db.read().await?, &c, turn.caller.id).await?;
        let Some(voter) = voter else { return Err(Refusal::state(not_registered(&c)).into()) };
        if c.ballot == Ballot::Secret {
            if let Some(m) = answers::marker(&mut *turn.db.read().await?, c.code, voter).await? {
                return Err(Refusal::state(already(&c, m.via == "paper", Some(&m.receipt))).into());
            }
        }
        turn.out.answer(callback_id, None);
        let context = BTreeMap::from([
            ("consultation".to_string(), c.code.id().to_string()),
            ("code".to_string(), c.code.to_string()),
            ("option".to_string(), choice.option.to_string()),
        ]);
        return conversation::start(turn, context, None, OTHER_FLOW, None).await;
    }
    let outcome = answer(turn, &c, choice.option, None).await?;
    turn.out.answer(callback_id, None);
    if let (Some(m), Some(receipt)) = (message, outcome) {
        if c.ballot == Ballot::Secret && m.chat == turn.caller.addr.private_chat() {
            // The ballot keeps its question, not its buttons; nothing on
            // it says what was pressed.
            turn.out.edit(
                m,
                format!("🗳 {}: {}\n\n✅ Đã cho ý kiến. Mã biên nhận: {receipt}.", c.code, c.question),
                Keyboard::none(),
            );
        }
    }
    Ok(())
}

/// The "Ý kiến khác" text, then the answer.
async fn complete_other(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let code = state.context.get("consultation").and_then(|id| id.parse::<i64>().ok()).map(ConsultationCode::new);
    let option = state.context.get("option").and_then(|o| o.parse::<usize>().ok());
    let (Some(code), Some(option), Some(Answer::Text(text))) = (code, option, state.answers.get("text")) else {
        return Ok(Completion::Abandoned);
    };
    let Some(c) = repo::get(&mut *turn.db.write().await?, code).await? else { return Ok(Completion::Abandoned) };
    if !c.accepts_at(turn.app.clock.now()) {
        turn.out.send(&turn.caller.addr.private_chat(), closed(&turn.app, &c));
        return Ok(Completion::Done);
    }
    let text: String = text.chars().take(super::OTHER_LEN).collect();
    match answer(turn, &c, option, Some(&text)).await {
        Ok(_) => Ok(Completion::Done),
        Err(crate::refusal::Stop::Refused(r)) => Ok(Completion::Refused(r)),
        Err(crate::refusal::Stop::Failed(e)) => Err(e),
    }
}

/// Records the caller's answer and tells them; the receipt when it was
/// recorded.
async fn answer(turn: &mut Turn, c: &Consultation, option: usize, text: Option<&str>) -> Handled<Option<String>> {
    let Turn { app, caller, db, out, .. } = turn;
    let me = caller.addr.private_chat();
    let now = app.clock.now();
    let tx = db.write().await?;
    let Some(voter) = answers::voter(tx, c, caller.id).await? else {
        return Err(Refusal::state(not_registered(c)).into());
    };
    let via = caller.addr.channel.as_str();
    let given = Given { option, text, via, user: Some(caller.id), recorded_by: None };
    let recorded = answers::record(tx, c, voter, &given, now).await?;
    let receipt = match recorded {
        Recorded::AlreadySecret { paper } => return Err(Refusal::state(already(c, paper, None)).into()),
        Recorded::New { receipt } => receipt,
        Recorded::Changed { receipt, replaced_paper_of } => {
            if let Some(leader) = replaced_paper_of {
                tell_paper_replaced(tx, c, voter, leader, out).await?;
            }
            receipt
        }
    };
    let text = match c.ballot {
        Ballot::Secret => format!(
            "✅ Bot đã ghi nhận ý kiến của {}. Mã biên nhận: {receipt}.\nMã này chứng nhận {} đã cho ý kiến, không cho biết đã chọn gì. Xin cảm ơn bác!",
            whose(c),
            whose(c)
        ),
        Ballot::Open => format!(
            "✅ Bot đã ghi nhận ý kiến của {}: «{}». Mã biên nhận: {receipt}.\nBác đổi được ý kiến đến {} bằng cách chọn lại (gõ /ykien).",
            whose(c),
            c.option(option).unwrap_or("?"),
            app.settings.show_time(c.closes_at)
        ),
    };
    out.send(&me, text);
    if c.ballot == Ballot::Secret {
        // What the platform keeps of the options offered (Zalo's list of
        // numbers) goes too.
        out.forget(&me);
    }
    super::post::touch(app, tx, c, out).await?;
    Ok(Some(receipt))
}

async fn tell_paper_replaced(
    conn: &mut sqlx::SqliteConnection,
    c: &Consultation,
    voter: Voter,
    leader: i64,
    out: &mut crate::channel::Replies,
) -> anyhow::Result<()> {
    let Some((addr, _)) = crate::roles::user_addr(&mut *conn, leader).await? else { return Ok(()) };
    let line =
        crate::household::repo::line(conn, voter.household).await?.unwrap_or_else(|| format!("#{}", voter.household));
    out.send(
        &addr.private_chat(),
        format!(
            "Hộ {line} vừa tự cho ý kiến {} qua bot; phiếu giấy bác ghi trước đó được thay (vẫn được lưu lại).",
            c.code
        ),
    );
    Ok(())
}
