//! `/layykien`: a leader (for their groups) or an official (for the ward
//! or chosen groups) writes a consultation in private, checks the preview
//! and sends it with **Gửi**, or drops it with **Huỷ**, as for notices.
//!
//! ```text
//! (private) /layykien → câu hỏi → giải thích → ảnh → lựa chọn → ai trả lời
//!           → công khai / phiếu kín → hạn → các tổ → [✅ Xác nhận]
//!           Xem trước YK3 … Sẽ hỏi 530 hộ ở 2 tổ. [📤 Gửi] [❌ Huỷ]
//!           [📤 Gửi] → 📤 Đang gửi YK3 tới 3 nơi. Hạn cho ý kiến: 25/12/2026 18:00.
//! ```

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};

use super::actions::{self, askable_groups, Asked, REFUSED};
use super::repo::Draft;
use super::{card, Ballot, ConsultationCode, Unit};
use crate::channel::{Button, Keyboard, MessageRef};
use crate::conversation::{self, Completion, Form};
use crate::dialogue::{Answer, DialogueState};
use crate::refusal::{Handled, Stop};
use crate::turn::Turn;

pub const FLOW: &str = "consultation";

pub const FORM: Form = Form {
    id: FLOW,
    needs: &[
        ("question", "text"),
        ("explanation", "text"),
        ("photo", "photos"),
        ("options", "text"),
        ("unit", "choice"),
        ("ballot", "choice"),
        ("closes", "text"),
        ("groups", "text"),
    ],
    counts: &[],
    complete: |turn, state| Box::pin(complete(turn, state)),
};

/// The preview's buttons: `yk:s:<id>` sends, `yk:c:<id>` drops the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftButton {
    Send(ConsultationCode),
    Cancel(ConsultationCode),
}

impl DraftButton {
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("yk:")?;
        let (kind, id) = rest.split_once(':')?;
        let code = ConsultationCode::new(id.parse().ok().filter(|n| *n > 0)?);
        match kind {
            "s" => Some(Self::Send(code)),
            "c" => Some(Self::Cancel(code)),
            _ => None,
        }
    }

    pub fn data(self) -> String {
        match self {
            Self::Send(c) => format!("yk:s:{}", c.id()),
            Self::Cancel(c) => format!("yk:c:{}", c.id()),
        }
    }
}

pub async fn command(turn: &mut Turn) -> Handled {
    let allowed = askable_groups(&mut *turn.db.read().await?, turn.caller.id).await?;
    if allowed.is_empty() {
        return Err(REFUSED.into());
    }
    conversation::start(turn, Default::default(), None, FLOW, None).await
}

/// When the consultation closes, as typed: a date and time in the ward's
/// zone ("25/12/2026 18:00", "18h 25/12/2026") or a length from now ("2
/// ngày", "36 giờ"). At least an hour ahead and at most 60 days.
pub fn parse_close(input: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, String> {
    let folded = crate::text::fold(input.trim());
    let words: Vec<&str> = folded.split_whitespace().collect();
    let at = match words.as_slice() {
        [n, unit] if n.parse::<i64>().is_ok() => {
            // Beyond the 60 days allowed anyway: kept small, so no sum overflows.
            let n: i64 = n.parse::<i64>().unwrap_or(0).clamp(0, 10_000);
            match *unit {
                "ngay" => now + Duration::days(n),
                "gio" | "tieng" => now + Duration::hours(n),
                _ => return Err(CLOSE_HELP.into()),
            }
        }
        _ => {
            let local: NaiveDateTime = crate::notice::schedule::parse_local(input).ok_or(CLOSE_HELP)?;
            tz.from_local_datetime(&local).earliest().ok_or(CLOSE_HELP)?.with_timezone(&Utc)
        }
    };
    if at < now + Duration::hours(1) {
        return Err("Hạn cho ý kiến phải sau lúc này ít nhất 1 giờ. Xin bác gõ lại.".into());
    }
    if at > now + Duration::days(60) {
        return Err("Hạn cho ý kiến xa quá (hơn 60 ngày). Xin bác gõ lại.".into());
    }
    Ok(at)
}

const CLOSE_HELP: &str =
    "Bot chưa đọc được hạn này. Xin gõ ngày/tháng/năm giờ:phút, ví dụ: 25/12/2026 18:00; hoặc số ngày, ví dụ: 2 ngày.";

async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let actor = turn.actor();
    let Turn { app, caller, db, out, .. } = turn;
    let text = |key: &str| match state.answers.get(key) {
        Some(Answer::Text(t)) => Some(t.trim().to_string()).filter(|t| !t.is_empty()),
        _ => None,
    };
    let choice = |key: &str| match state.answers.get(key) {
        Some(Answer::Choice(c)) => Some(c.clone()),
        _ => None,
    };
    let Some(question) = text("question") else {
        return Ok(Completion::Reask { key: "question", message: "Xin bác gõ câu hỏi.".into() });
    };
    let (options, other) = match text("options") {
        None => super::default_options(),
        Some(typed) => match super::parse_options(&typed) {
            Ok(o) => o,
            Err(message) => return Ok(Completion::Reask { key: "options", message }),
        },
    };
    let closes_at = match text("closes").map(|t| parse_close(&t, actor.at, app.settings.timezone)) {
        Some(Ok(at)) => at,
        Some(Err(message)) => return Ok(Completion::Reask { key: "closes", message }),
        None => return Ok(Completion::Reask { key: "closes", message: CLOSE_HELP.into() }),
    };
    let tx = db.write().await?;
    // The names typed are checked here to ask again for the one that is
    // wrong; the action checks the groups again.
    let allowed = askable_groups(&mut *tx, caller.id).await?;
    if allowed.is_empty() {
        return Ok(Completion::Refused(REFUSED));
    }
    let asked = match text("groups") {
        None => Asked::All,
        Some(typed) => {
            let mut picked = Vec::new();
            for name in typed.split([',', ';', '\n']).map(str::trim).filter(|n| !n.is_empty()) {
                match crate::group::find(&mut *tx, name).await? {
                    Some(g) if allowed.iter().any(|a| a.id == g.id) => picked.push(g.id),
                    Some(g) => {
                        return Ok(Completion::Reask {
                            key: "groups",
                            message: format!("Bác không phụ trách {}. Xin gõ lại các tổ của bác.", g.name),
                        })
                    }
                    None => {
                        return Ok(Completion::Reask {
                            key: "groups",
                            message: format!("Không tìm thấy tổ «{name}». Xin gõ lại tên hoặc số tổ."),
                        })
                    }
                }
            }
            Asked::Groups(picked)
        }
    };
    let draft = Draft {
        question,
        explanation: text("explanation"),
        photo: match state.answers.get("photo") {
            Some(Answer::Photos(p)) => p.first().cloned(),
            _ => None,
        },
        options,
        other,
        unit: if choice("unit").as_deref() == Some("person") { Unit::Person } else { Unit::Household },
        ballot: if choice("ballot").as_deref() == Some("secret") { Ballot::Secret } else { Ballot::Open },
        closes_at,
    };
    let drafted = match actions::create(tx, &actor, &draft, asked).await {
        Ok(done) => done.outcome,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    let (c, names, registered) = (&drafted.consultation, drafted.groups, drafted.registered);
    let code = c.code;
    let mut text = format!("Xem trước {}:\n\n{}", c.code, card::ballot_text(app, c));
    let options: Vec<String> = c.options.iter().enumerate().map(|(i, o)| format!("{}. {o}", i + 1)).collect();
    text.push_str(&format!("\n\nCác lựa chọn: {}", options.join(" · ")));
    let shown: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
    let more = names.len().saturating_sub(10);
    text.push_str(&format!(
        "\nHỏi {} tổ: {}{}.\nHiện có {registered} {} đã đăng ký được hỏi.",
        names.len(),
        shown.join(", "),
        if more > 0 { format!(" và {more} tổ khác") } else { String::new() },
        c.unit.noun()
    ));
    if registered == 0 {
        text.push_str("\n⚠️ Chưa có ai đăng ký trong các tổ này nên chưa gửi được.");
    }
    out.send_with(
        &caller.addr.private_chat(),
        text,
        Keyboard::rows(vec![vec![
            Button::callback("📤 Gửi", DraftButton::Send(code).data()),
            Button::callback("❌ Huỷ", DraftButton::Cancel(code).data()),
        ]]),
    );
    Ok(Completion::Done)
}

/// **Gửi** and **Huỷ** under the preview.
pub async fn on_button(
    turn: &mut Turn,
    button: DraftButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    let said = match button {
        DraftButton::Cancel(code) => {
            let done = actions::cancel(turn.db.write().await?, &actor, code).await?;
            format!("Đã huỷ cuộc lấy ý kiến {}.", done.outcome)
        }
        DraftButton::Send(code) => {
            let done = actions::send(&turn.app, turn.db.write().await?, &actor, code).await?;
            turn.tell(done.told).await?;
            done.outcome.text(&turn.app)
        }
    };
    turn.out.answer(callback_id, None);
    match message {
        Some(m) => turn.out.edit(m, said, Keyboard::none()),
        None => turn.out.send(&turn.caller.addr.private_chat(), said),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_times_as_typed() {
        let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap(); // 08:00 local
        assert_eq!(parse_close("2 ngày", now, tz), Ok(now + Duration::days(2)));
        assert_eq!(parse_close("36 giờ", now, tz), Ok(now + Duration::hours(36)));
        assert_eq!(parse_close("25/12/2026 18:00", now, tz), Ok(Utc.with_ymd_and_hms(2026, 12, 25, 11, 0, 0).unwrap()));
        assert_eq!(parse_close("18h 25/12/2026", now, tz), Ok(Utc.with_ymd_and_hms(2026, 12, 25, 11, 0, 0).unwrap()));
        assert!(parse_close("01/12/2026 08:30", now, tz).is_err(), "less than an hour ahead");
        assert!(parse_close("90 ngày", now, tz).is_err());
        assert!(parse_close("mai", now, tz).is_err());
        for b in [DraftButton::Send(ConsultationCode::new(4)), DraftButton::Cancel(ConsultationCode::new(9))] {
            assert_eq!(DraftButton::parse(&b.data()), Some(b));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_typed_close_is_read_or_refused(s in "\\PC{0,40}") {
            let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
            let now = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
            if let Ok(at) = parse_close(&s, now, tz) {
                proptest::prop_assert!(at >= now + Duration::hours(1) && at <= now + Duration::days(60));
            }
        }
    }
}
