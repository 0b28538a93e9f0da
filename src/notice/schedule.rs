//! Scheduled notices: the time a draft is sent (`Hẹn giờ`), and `/henlich`
//! to see and cancel what is waiting.

use crate::refusal::{Handled, Refusal, Stop};
use crate::turn::Turn;
use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone};

use super::actions;
use super::preview::{show_preview, NoticeButton};
use super::repo;
use super::NoticeCode;
use crate::channel::{Button, Keyboard};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState};
use crate::roles::{self};

pub const TIME_FLOW: &str = "notice_time";

/// The form this flow saves (see `crate::forms`).
pub const TIME_FORM: crate::conversation::Form = crate::conversation::Form {
    id: TIME_FLOW,
    needs: &[("when", "text")],
    counts: &[],
    complete: |turn, state| Box::pin(complete_time(turn, state)),
};

pub async fn ask_time(turn: &mut Turn, code: NoticeCode) -> Handled {
    let mut context = BTreeMap::new();
    context.insert("notice_id".to_string(), code.id().to_string());
    context.insert("notice".to_string(), code.to_string());
    conversation::start(turn, context, None, TIME_FLOW, None).await
}

/// `dd/mm/yyyy HH:MM` (or `HH:MM dd/mm/yyyy`, `8h30 31/12/2026`) in the
/// ward's time zone.
pub fn parse_local(input: &str) -> Option<NaiveDateTime> {
    let normalised = input.trim().replace('h', ":").replace("::", ":");
    let parts: Vec<&str> = normalised.split_whitespace().collect();
    let (date, time) = match parts.as_slice() {
        [a, b] if a.contains('/') || a.contains('-') => (*a, *b),
        [a, b] => (*b, *a),
        _ => return None,
    };
    let date = crate::domain::parse_date(date)?;
    let time = time.trim_end_matches(':');
    let (h, m) = time.split_once(':').unwrap_or((time, "0"));
    let m = if m.is_empty() { "0" } else { m };
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    date.and_hms_opt(h, m, 0)
}

pub async fn complete_time(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let actor = turn.actor();
    let Turn { app, caller, out, db, .. } = turn;
    let tx = db.write().await?;
    let Some(code) = state.context.get("notice_id").and_then(|n| n.parse::<i64>().ok()).map(NoticeCode::new) else {
        return Ok(Completion::Abandoned);
    };
    let Some(Answer::Text(typed)) = state.answers.get("when") else {
        return Ok(Completion::Reask { key: "when", message: "Xin nhập giờ gửi.".into() });
    };
    let at = match parse_local(typed).and_then(|local| app.settings.timezone.from_local_datetime(&local).single()) {
        Some(at) => at.with_timezone(&chrono::Utc),
        None => {
            return Ok(Completion::Reask {
                key: "when",
                message: "Chưa hiểu giờ hẹn. Xin nhập theo dạng ngày/tháng/năm giờ:phút, ví dụ: 31/12/2026 08:00."
                    .into(),
            })
        }
    };
    match actions::schedule(app, &mut *tx, &actor, code, at).await {
        Ok(_) => show_preview(app, tx, caller, code, None, 0, out).await?,
        Err(Stop::Refused(Refusal::Input(message))) => return Ok(Completion::Reask { key: "when", message }),
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    }
    Ok(Completion::Done)
}

/// `/henlich`: scheduled notices (one's own; officials see all), each with
/// a cancel button.
pub async fn command(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let official = roles::is_official(&mut conn, caller.id).await?;
    let list = repo::scheduled(&mut conn, (!official).then_some(caller.id), app.clock.now()).await?;
    if list.is_empty() {
        out.send(&msg.chat, "Không có thông báo nào đang chờ gửi theo giờ hẹn.");
        return Ok(());
    }
    for n in list {
        let at = n.scheduled_for.map(|t| app.settings.show_time(t)).unwrap_or_default();
        let short: String = n.text.chars().take(120).collect();
        out.send_with(
            &msg.chat,
            format!("⏰ {} · gửi lúc {at}\n{short}", n.code),
            Keyboard::single(Button::callback(format!("❌ Huỷ {}", n.code), NoticeButton::Cancel(n.code).data())),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times() {
        let expected = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap().and_hms_opt(8, 30, 0).unwrap();
        for typed in ["31/12/2026 08:30", "31/12/2026 8:30", "8h30 31/12/2026", "08:30 31-12-2026"] {
            assert_eq!(parse_local(typed), Some(expected), "{typed}");
        }
        assert_eq!(parse_local("31/12/2026 8h").map(|t| t.format("%H:%M").to_string()), Some("08:00".into()));
        for bad in ["", "mai", "31/12/2026", "31/12/2026 25:00", "31/12/2026 08:61"] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
    }
}
