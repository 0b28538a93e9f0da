//! Results: `/ketquaykien` (leaders for their groups, officials for the
//! ward), and the close, automatic at its time or early by its creator or
//! an official. Shares per group only where the group has at least
//! [`GROUP_RESULT_MIN`](super::GROUP_RESULT_MIN) answers, so a small tổ's shares cannot reveal a
//! household's answer; the "Ý kiến khác" texts go to leaders and officials
//! in private, never to a group.
//!
//! ```text
//! (private) /ketquaykien YK3
//!           📊 YK3: … Tham gia: 412/530 hộ (77,7%) · Tổ 12: 8/10 …
//!           Kết quả chung: Đồng ý 300 (72,8%) … [🔒 Kết thúc ngay]
//! (groups)  📊 KẾT QUẢ LẤY Ý KIẾN YK3 … (at the close)
//! ```

use super::actions::{self, Closed};
use super::repo;
use super::tally::{view, Figures};
use super::{ConsultationCode, Status};
use crate::action::{told, Actor, Door};
use crate::app::App;
use crate::channel::{Button, Keyboard, MessageRef, Replies};
use crate::db::Database;
use crate::outbox::JobOutbox;
use crate::refusal::{Handled, Refusal, Stop};
use crate::turn::Turn;

/// **Kết thúc ngay**: `yk:x:<id>`.
pub fn close_data(code: ConsultationCode) -> String {
    format!("yk:x:{}", code.id())
}

pub fn parse_close(data: &str) -> Option<ConsultationCode> {
    data.strip_prefix("yk:x:")?.parse::<i64>().ok().filter(|n| *n > 0).map(ConsultationCode::new)
}

/// `/ketquaykien [YKn] [ketthuc]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let mut words = args.split_whitespace();
    let code = words.next().map(|w| ConsultationCode::parse(w).ok_or(w));
    let close = words.next().map(crate::text::fold);
    let mut conn = turn.db.read().await?;
    let scope = super::staff_scope(&mut conn, turn.caller.id).await?;
    let code = match code {
        Some(Ok(code)) => code,
        Some(Err(typed)) => {
            return Err(Refusal::input(format!(
                "Bot chưa hiểu «{typed}». Gõ /ketquaykien để xem cuộc gần nhất, hoặc /ketquaykien YK3 cho cuộc YK3."
            ))
            .into())
        }
        None => {
            let recent = repo::reaching(&mut conn, scope.as_deref(), &[Status::Open, Status::Closed]).await?;
            let Some(latest) = recent.first() else {
                turn.out
                    .send(&turn.caller.addr.private_chat(), "Chưa có cuộc lấy ý kiến nào. Gõ /layykien để bắt đầu.");
                return Ok(());
            };
            latest.code
        }
    };
    let Some(c) = repo::get(&mut conn, code).await?.filter(|c| matches!(c.status, Status::Open | Status::Closed))
    else {
        return Err(Refusal::not_found("cuộc lấy ý kiến", code).into());
    };
    let targets = repo::targets(&mut conn, code).await?;
    if let Some(mine) = &scope {
        if !targets.iter().any(|t| mine.contains(t)) {
            return Err(Refusal::OwnGroupOnly { what: "kết quả lấy ý kiến" }.into());
        }
    }
    drop(conn);
    if close.as_deref() == Some("ketthuc") {
        return close_early(turn, c.code).await.map(drop);
    }
    let Turn { app, caller, db, out, .. } = turn;
    let figures = Figures::read(&mut *db.read().await?, &c).await?;
    let text = view(app, &c, &figures, scope.as_deref());
    let can_close = c.status == Status::Open && (c.creator == caller.id || scope.is_none());
    let keyboard = if can_close {
        Keyboard::single(Button::callback("🔒 Kết thúc ngay", close_data(c.code)))
    } else {
        Keyboard::none()
    };
    out.send_with(&caller.addr.private_chat(), text, keyboard);
    Ok(())
}

/// `/ketquaykien YKn ketthuc` and **🔒 Kết thúc ngay**: the close action,
/// as the caller.
async fn close_early(turn: &mut Turn, code: ConsultationCode) -> Handled<Closed> {
    let actor = turn.actor();
    let done = actions::close(&turn.app, turn.db.write().await?, &actor, code).await?;
    turn.tell(done.told).await?;
    Ok(done.outcome)
}

/// **🔒 Kết thúc ngay**.
pub async fn on_close(
    turn: &mut Turn,
    code: ConsultationCode,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    // Closed already: who may close it is told when it ended.
    let closed = match close_early(turn, code).await {
        Err(Stop::Refused(Refusal::NotFound { .. })) => return Err(Refusal::StaleButton.into()),
        other => other?,
    };
    turn.out.answer(callback_id, Some(format!("Đã kết thúc {code}.")));
    if let Some(m) = message {
        turn.out.edit(m, closed.text(), Keyboard::none());
    }
    Ok(())
}

/// When the next open consultation closes by itself, if one is open.
pub async fn next_close(db: &Database) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    repo::next_close(&mut *db.read().await?).await
}

/// The scheduler's part: consultations whose time has come are closed.
pub async fn close_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let mut out = Replies::default();
    if repo::due_to_close(&mut *db.read().await?, app.clock.now()).await?.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    let now = app.clock.now();
    for code in repo::due_to_close(&mut tx, now).await? {
        let Some(c) = repo::get(&mut tx, code).await? else { continue };
        // The job acts for the consultation's creator, at its time.
        match actions::close(app, &mut tx, &Actor::new(c.creator, Door::Job, now), code).await {
            Ok(done) => told::render(&mut tx, done.told, &mut out).await?,
            Err(Stop::Refused(refusal)) => tracing::warn!(%code, %refusal, "a consultation due was not closed"),
            Err(Stop::Failed(e)) => return Err(e),
        }
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_close_button_reads_back() {
        assert_eq!(parse_close(&close_data(ConsultationCode::new(7))), Some(ConsultationCode::new(7)));
    }
}
