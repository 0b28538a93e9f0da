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

use super::actions::{self, already, closed, not_registered, whose, Answered};
use super::answers;
use super::card::{ballot_text, keyboard, Choice, PAYLOAD_PREFIX};
use super::repo;
use super::{Ballot, Consultation, ConsultationCode};
use crate::channel::{Keyboard, MessageRef};
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Refusal, Stop};
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
    if Some(choice.option) == c.other {
        // The text first, then the answer: who may answer is asked now,
        // so nobody writes a text that cannot count.
        let actor = turn.actor();
        let voter = actions::may_answer(&turn.app, &mut *turn.db.read().await?, &actor, &c).await?;
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
    let answered = answer(turn, c.code, choice.option, None).await?;
    turn.out.answer(callback_id, None);
    if let Some(m) = message {
        let c = &answered.consultation;
        if c.ballot == Ballot::Secret && m.chat == turn.caller.addr.private_chat() {
            // The ballot keeps its question, not its buttons; nothing on
            // it says what was pressed.
            turn.out.edit(
                m,
                format!("🗳 {}: {}\n\n✅ Đã cho ý kiến. Mã biên nhận: {}.", c.code, c.question, answered.receipt),
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
    match answer(turn, code, option, Some(text)).await {
        Ok(_) => Ok(Completion::Done),
        Err(Stop::Refused(r)) => Ok(Completion::Refused(r)),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// The answer action, as the caller; the receipt to them and the others
/// told. A press or text for a consultation that is no more, or an option
/// it does not have, is a stale button.
async fn answer(turn: &mut Turn, code: ConsultationCode, option: usize, text: Option<&str>) -> Handled<Answered> {
    let actor = turn.actor();
    let done = match actions::answer(&turn.app, turn.db.write().await?, &actor, code, option, text).await {
        Err(Stop::Refused(Refusal::NotFound { .. } | Refusal::Input(_))) => return Err(Refusal::StaleButton.into()),
        other => other?,
    };
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text(&turn.app));
    if done.outcome.consultation.ballot == Ballot::Secret {
        // What the platform keeps of the options offered (Zalo's list of
        // numbers) goes too.
        turn.out.forget(&me);
    }
    turn.tell(done.told).await?;
    Ok(done.outcome)
}
