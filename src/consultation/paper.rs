//! Paper answers, for households without a phone: a leader (of the
//! household's group) or an official records what the household said,
//! typed (`/ghiykien 12 1`) or from the list of households not yet
//! answered, in walking order. Marked as recorded by that person. In an
//! open ballot a later online answer replaces it (both kept, the recorder
//! told); in a secret ballot the household has answered.
//!
//! ```text
//! (leader) /ghiykien    → YK3 — 14 hộ chưa cho ý kiến: [✍️ Số 2, Xuân La — Lê Thị Tư] …
//!          [✍️ Số 2 …]  → ✍️ Phiếu giấy YK3 của hộ: Số 2, Xuân La — Lê Thị Tư
//!                          [1. Đồng ý] [2. Không đồng ý] [3. Ý kiến khác]
//!          [1. Đồng ý]  → ✅ Đã ghi phiếu giấy YK3: «Đồng ý». Hộ: Số 2, Xuân La — Lê Thị Tư. Mã biên nhận: …
//! ```

use sqlx::SqliteConnection;

use super::answers;
use super::{actions, figures, repo};
use super::{Ballot, Consultation, ConsultationCode, Status};
use crate::channel::{Button, Keyboard, MessageRef};
use crate::refusal::{Handled, Refusal, Stop};
use crate::roles;
use crate::turn::Turn;

/// The list's buttons: a page (`yk:l:<c>:<page>`), a household
/// (`yk:p:<c>:<household>`), an option for it (`yk:r:<c>:<household>:<n>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperButton {
    Page(ConsultationCode, usize),
    Household(ConsultationCode, i64),
    Record(ConsultationCode, i64, usize),
}

impl PaperButton {
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("yk:")?;
        let mut parts = rest.split(':');
        let kind = parts.next()?;
        let code = ConsultationCode::new(parts.next()?.parse().ok().filter(|n| *n > 0)?);
        let a: i64 = parts.next()?.parse().ok().filter(|n| *n >= 0)?;
        let b = parts.next();
        let parsed = match (kind, b) {
            ("l", None) => Self::Page(code, usize::try_from(a).ok()?),
            ("p", None) => Self::Household(code, a),
            ("r", Some(n)) => Self::Record(code, a, n.parse().ok().filter(|n| *n < super::MAX_OPTIONS)?),
            _ => return None,
        };
        parts.next().is_none().then_some(parsed)
    }

    pub fn data(self) -> String {
        match self {
            Self::Page(c, p) => format!("yk:l:{}:{p}", c.id()),
            Self::Household(c, h) => format!("yk:p:{}:{h}", c.id()),
            Self::Record(c, h, n) => format!("yk:r:{}:{h}:{n}", c.id()),
        }
    }
}

const PAGE: usize = 10;

const USAGE: &str = "Cách ghi phiếu giấy: /ghiykien <số hộ> <lựa chọn>, ví dụ: /ghiykien 12 1 (hộ #12 chọn lựa chọn 1). Nhiều cuộc đang mở thì thêm mã: /ghiykien YK3 12 1. Gõ /ghiykien để xem các hộ chưa cho ý kiến.";

/// `/ghiykien [YKn] [<hộ> <lựa chọn> [ý kiến]]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    if !args.trim().is_empty() {
        turn.db.defer(super::secrecy::typed()).await?;
    }
    let mut words: Vec<&str> = args.split_whitespace().collect();
    let named = words.first().and_then(|w| ConsultationCode::parse(w));
    if named.is_some() {
        words.remove(0);
    }
    let mut conn = turn.db.read().await?;
    let scope = super::staff_scope(&mut conn, turn.caller.id).await?;
    let c = match named {
        Some(code) => repo::get(&mut conn, code).await?.ok_or(Refusal::not_found("cuộc lấy ý kiến", code))?,
        None => {
            let open = repo::reaching(&mut conn, scope.as_deref(), &[Status::Open]).await?;
            match open.as_slice() {
                [] => return Err(Refusal::state("Không có cuộc lấy ý kiến nào đang mở ở tổ của bác.").into()),
                [one] => one.clone(),
                many => {
                    let codes: Vec<String> = many.iter().map(|c| c.code.to_string()).collect();
                    return Err(Refusal::input(format!(
                        "Đang mở nhiều cuộc lấy ý kiến ({}). Xin gõ thêm mã, ví dụ: /ghiykien {} 12 1.",
                        codes.join(", "),
                        codes[0]
                    ))
                    .into());
                }
            }
        }
    };
    drop(conn);
    match words.as_slice() {
        [] => list(turn, &c, scope.as_deref(), 0, None).await,
        [household, option, rest @ ..] => {
            let household = household.trim_start_matches('#').parse::<i64>().map_err(|_| Refusal::input(USAGE))?;
            let option = c.option_named(option).ok_or_else(|| Refusal::input(USAGE))?;
            let text = Some(rest.join(" ")).filter(|t| !t.is_empty() && Some(option) == c.other);
            record(turn, c.code, household, option, text.as_deref(), None).await
        }
        _ => Err(Refusal::input(USAGE).into()),
    }
}

/// The households of the caller's groups that have not answered, in
/// walking order, a page at a time.
async fn list(
    turn: &mut Turn,
    c: &Consultation,
    scope: Option<&[i64]>,
    page: usize,
    edit: Option<&MessageRef>,
) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let targets = repo::targets(&mut conn, c.code).await?;
    let groups: Vec<i64> = targets.into_iter().filter(|g| scope.is_none_or(|s| s.contains(g))).collect();
    if groups.is_empty() {
        return Err(Refusal::no_right("ghi phiếu giấy cho tổ khác").into());
    }
    let doors = figures::not_answered(&mut conn, c, &groups).await?;
    if doors.is_empty() {
        out.send(&caller.addr.private_chat(), format!("Mọi hộ ở tổ của bác đã cho ý kiến {}. Xin cảm ơn bác!", c.code));
        return Ok(());
    }
    let text = format!(
        "{} — {} hộ chưa cho ý kiến (theo đường đi). {} để ghi phiếu giấy của hộ đó:",
        c.code,
        doors.len(),
        if caller.addr.channel.capabilities().inline_buttons { "Bấm một hộ" } else { "Chọn một hộ" }
    );
    let buttons: Vec<Button> = doors
        .iter()
        .map(|d| {
            let label: String = format!("✍️ {}", d.line()).chars().take(60).collect();
            Button::callback(label, PaperButton::Household(c.code, d.household).data())
        })
        .collect();
    let keyboard = Keyboard::rows(Keyboard::page_of(buttons, page, PAGE, |p| PaperButton::Page(c.code, p).data()));
    match edit {
        Some(m) => out.edit(m, text, keyboard),
        None => out.send_with(&caller.addr.private_chat(), text, keyboard),
    }
    Ok(())
}

/// Whether the caller may record for the household's group.
async fn may_record(conn: &mut SqliteConnection, user: i64, group: i64) -> anyhow::Result<bool> {
    Ok(roles::is_official(&mut *conn, user).await? || roles::is_leader_of(conn, user, group).await?)
}

/// The paper answer action, as the caller; what was recorded edits the
/// options pressed, or is said in private.
async fn record(
    turn: &mut Turn,
    code: ConsultationCode,
    household: i64,
    option: usize,
    text: Option<&str>,
    edit: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    let done = actions::record_paper(&turn.app, turn.db.write().await?, &actor, code, household, option, text).await?;
    let said = done.outcome.text();
    match edit {
        Some(m) => turn.out.edit(m, said, Keyboard::none()),
        None => turn.out.send(&turn.caller.addr.private_chat(), said),
    }
    turn.tell(done.told).await?;
    Ok(())
}

pub async fn on_button(
    turn: &mut Turn,
    button: PaperButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let code = match button {
        PaperButton::Page(c, _) | PaperButton::Household(c, _) | PaperButton::Record(c, _, _) => c,
    };
    let found = repo::get(&mut *turn.db.read().await?, code).await?;
    let Some(c) = found else { return Err(Refusal::StaleButton.into()) };
    if let PaperButton::Record(_, household, option) = button {
        if c.ballot == Ballot::Secret {
            turn.db.defer(super::secrecy::pressed(c.code)).await?;
        }
        return match record(turn, code, household, option, None, message).await {
            Err(Stop::Refused(Refusal::Input(_))) => Err(Refusal::StaleButton.into()),
            other => {
                other?;
                turn.out.answer(callback_id, None);
                Ok(())
            }
        };
    }
    let mut conn = turn.db.read().await?;
    let scope = super::staff_scope(&mut conn, turn.caller.id).await?;
    if scope.as_ref().is_some_and(|s| s.is_empty()) {
        return Err(Refusal::no_right("ghi phiếu giấy").into());
    }
    if !c.accepts_at(turn.app.clock.now()) {
        return Err(Refusal::state(format!("{}.", c.ended(&turn.app))).into());
    }
    match button {
        PaperButton::Page(_, page) => {
            drop(conn);
            turn.out.answer(callback_id, None);
            list(turn, &c, scope.as_deref(), page, message).await
        }
        PaperButton::Household(_, household) => {
            let Some(voter) = answers::paper_voter(&mut conn, &c, household).await? else {
                return Err(Refusal::StaleButton.into());
            };
            if !may_record(&mut conn, turn.caller.id, voter.group).await? {
                return Err(Refusal::no_right("ghi phiếu giấy cho hộ của tổ khác").into());
            }
            let line = crate::household::repo::line(&mut conn, household).await?.ok_or(Refusal::StaleButton)?;
            drop(conn);
            turn.out.answer(callback_id, None);
            let keyboard = Keyboard::rows(
                c.options
                    .iter()
                    .enumerate()
                    .map(|(n, label)| {
                        vec![Button::callback(
                            format!("{}. {label}", n + 1),
                            PaperButton::Record(code, household, n).data(),
                        )]
                    })
                    .collect(),
            );
            turn.out.send_with(
                &turn.caller.addr.private_chat(),
                format!("✍️ Phiếu giấy {} của hộ:\n{line}\n\nBác xem lại cho đúng hộ, rồi chọn ý kiến hộ đã ghi trên phiếu:", c.code),
                keyboard,
            );
            Ok(())
        }
        PaperButton::Record(..) => Err(Refusal::StaleButton.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_read_back_and_fit() {
        let code = ConsultationCode::new(i64::MAX);
        for b in
            [PaperButton::Page(code, 3), PaperButton::Household(code, i64::MAX), PaperButton::Record(code, i64::MAX, 5)]
        {
            assert_eq!(PaperButton::parse(&b.data()), Some(b));
            assert!(b.data().len() <= 64, "{}", b.data());
        }
        assert_eq!(PaperButton::parse("yk:r:1:2:9"), None);
        assert_eq!(PaperButton::parse("yk:p:1:2:3"), None);
        assert_eq!(PaperButton::parse("yk:a:1:2"), None);
    }
}
