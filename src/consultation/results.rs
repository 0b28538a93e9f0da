//! Results: `/ketquaykien` (leaders for their groups, officials for the
//! ward), and the close, automatic at its time or early by its creator or
//! an official. Shares per group only where the group has at least
//! [`GROUP_RESULT_MIN`] answers, so a small tổ's shares cannot reveal a
//! household's answer; the "Ý kiến khác" texts go to leaders and officials
//! in private, never to a group.
//!
//! ```text
//! (private) /ketquaykien YK3
//!           📊 YK3: … Tham gia: 412/530 hộ (77,7%) · Tổ 12: 8/10 …
//!           Kết quả chung: Đồng ý 300 (72,8%) … [🔒 Kết thúc ngay]
//! (groups)  📊 KẾT QUẢ LẤY Ý KIẾN YK3 … (at the close)
//! ```

use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::figures::{self, Turnout};
use super::repo;
use super::{Ballot, Consultation, ConsultationCode, Status, GROUP_RESULT_MIN};
use crate::app::App;
use crate::channel::{Button, Keyboard, MessageRef, Replies};
use crate::db::Database;
use crate::domain::Percent;
use crate::outbox::JobOutbox;
use crate::refusal::{Handled, Refusal};
use crate::roles;
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
        return close_early(turn, &c).await;
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

/// Everything a result is written from, read once: the full tally.
pub struct Figures {
    turnout: Vec<Turnout>,
    /// None while a secret ballot is open: nothing is counted before the close.
    tally: Option<Vec<(i64, usize, i64)>>,
    others: Vec<(String, String)>,
}

impl Figures {
    pub async fn read(conn: &mut SqliteConnection, c: &Consultation) -> anyhow::Result<Self> {
        let counted = c.status == Status::Closed || c.ballot == Ballot::Open;
        Ok(Self {
            turnout: figures::turnout(&mut *conn, c, None).await?,
            tally: if counted { Some(figures::tally(&mut *conn, c).await?) } else { None },
            others: if counted { figures::other_texts(conn, c).await? } else { Vec::new() },
        })
    }

    /// The "Ý kiến khác" texts of the groups in `scope`.
    fn others_in(&self, scope: Option<&[i64]>) -> Vec<&(String, String)> {
        let names: Vec<&str> = self
            .turnout
            .iter()
            .filter(|t| scope.is_none_or(|s| s.contains(&t.group_id)))
            .map(|t| t.name.as_str())
            .collect();
        self.others.iter().filter(|(g, _)| names.contains(&g.as_str())).collect()
    }
}

/// The results as a leader or official reads them, with the other
/// opinions of their groups.
fn view(app: &App, c: &Consultation, figures: &Figures, scope: Option<&[i64]>) -> String {
    let all = &figures.turnout;
    let mine: Vec<&Turnout> = all.iter().filter(|t| scope.is_none_or(|s| s.contains(&t.group_id))).collect();
    let (answered, registered) = totals(all);
    let noun = c.unit.noun();
    let mut text = format!("📊 {}: {}", c.code, c.question);
    text.push_str(&match c.status {
        Status::Closed => {
            format!("\nĐã kết thúc lúc {} ({}).", app.settings.show_time(c.ended_at()), c.ballot.label())
        }
        _ => format!("\nĐang lấy ý kiến đến {} ({}).", app.settings.show_time(c.closes_at), c.ballot.label()),
    });
    text.push_str(&format!(
        "\nTham gia: {answered}/{registered} {noun} đã đăng ký ({}).",
        Percent::of(answered, registered)
    ));
    text.push_str("\nTheo tổ:");
    for t in &mine {
        let expected = t.expected.map(|e| format!(", dự kiến {e} hộ")).unwrap_or_default();
        text.push_str(&format!("\n• {}: {}/{} {noun}{expected}", t.name, t.answered, t.registered));
    }
    match &figures.tally {
        Some(tally) => text.push_str(&shares(c, tally, all, |g| scope.is_none_or(|s| s.contains(&g)))),
        None => text.push_str("\n\nPhiếu kín: kết quả chỉ được tính khi kết thúc."),
    }
    let others = figures.others_in(scope);
    if !others.is_empty() {
        text.push_str(&format!("\n\nÝ kiến khác ({}):", others.len()));
        for (group, t) in others {
            text.push_str(&format!("\n• {group}: {t}"));
        }
    }
    text
}

fn totals(turnout: &[Turnout]) -> (i64, i64) {
    (turnout.iter().map(|t| t.answered).sum(), turnout.iter().map(|t| t.registered).sum())
}

/// Each option's count and share in all, then per group for the groups
/// `shown` where the group has enough answers.
fn shares(c: &Consultation, tally: &[(i64, usize, i64)], turnout: &[Turnout], shown: impl Fn(i64) -> bool) -> String {
    let mut per_option = vec![0_i64; c.options.len()];
    let mut per_group: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for &(group, option, n) in tally {
        if option < c.options.len() {
            per_option[option] += n;
            per_group.entry(group).or_insert_with(|| vec![0; c.options.len()])[option] += n;
        }
    }
    let total: i64 = per_option.iter().sum();
    let mut text = String::from("\n\nKết quả chung:");
    for (i, label) in c.options.iter().enumerate() {
        text.push_str(&format!("\n• {label}: {} ({})", per_option[i], Percent::of(per_option[i], total)));
    }
    let mut lines = Vec::new();
    let mut small = false;
    for t in turnout.iter().filter(|t| shown(t.group_id)) {
        let counts = per_group.get(&t.group_id).cloned().unwrap_or_else(|| vec![0; c.options.len()]);
        let n: i64 = counts.iter().sum();
        if n < GROUP_RESULT_MIN {
            small = small || n > 0;
            continue;
        }
        let parts: Vec<String> =
            c.options.iter().zip(&counts).map(|(label, k)| format!("{label} {}", Percent::of(*k, n))).collect();
        lines.push(format!("\n• {} ({n} ý kiến): {}", t.name, parts.join(" · ")));
    }
    if !lines.is_empty() {
        text.push_str(&format!("\nTheo tổ (tổ có từ {GROUP_RESULT_MIN} ý kiến):"));
        lines.iter().for_each(|l| text.push_str(l));
    }
    if small {
        text.push_str(&format!("\nTổ có dưới {GROUP_RESULT_MIN} ý kiến chỉ được tính vào kết quả chung."));
    }
    text
}

/// The result as the groups read it: participation and shares, the other
/// opinions only as a count.
fn public_result(app: &App, c: &Consultation, figures: &Figures) -> String {
    let turnout = &figures.turnout;
    let (answered, registered) = totals(turnout);
    let tally = figures.tally.as_deref().unwrap_or_default();
    let mut text = format!(
        "📊 KẾT QUẢ LẤY Ý KIẾN {}\n\n{}\n\nĐã kết thúc lúc {}. Tham gia: {answered}/{registered} {} đã đăng ký ({}).",
        c.code,
        c.question,
        app.settings.show_time(c.ended_at()),
        c.unit.noun(),
        Percent::of(answered, registered)
    );
    text.push_str(&shares(c, tally, turnout, |_| true));
    if let Some(other) = c.other {
        let n: i64 = tally.iter().filter(|(_, o, _)| *o == other).map(|(_, _, n)| n).sum();
        if n > 0 {
            text.push_str(&format!("\n{n} ý kiến khác đã được gửi tới tổ trưởng và cán bộ phường để xem xét."));
        }
    }
    text.push_str("\n\nXin cảm ơn bà con đã cho ý kiến!");
    text
}

/// Closes `c` in the transaction: the status, the result queued to every
/// group (and Zalo household) through the durable outbox, the posts'
/// final figure, and the result with the other opinions to the creator,
/// the officials and each group's leaders in private. False if it was
/// closed already.
pub async fn close(
    app: &App,
    conn: &mut SqliteConnection,
    c: &Consultation,
    by: Option<i64>,
    out: &mut Replies,
) -> anyhow::Result<bool> {
    if !repo::close(&mut *conn, c.code, by, app.clock.now()).await? {
        return Ok(false);
    }
    let Some(c) = repo::get(&mut *conn, c.code).await? else { return Ok(false) };
    let figures = Figures::read(&mut *conn, &c).await?;
    let text = public_result(app, &c, &figures);
    let groups = repo::targets(&mut *conn, c.code).await?;
    let (notice, _) = crate::notice::repo::queue_own(
        &mut *conn,
        c.creator,
        &text,
        &BTreeMap::new(),
        &format!("kết quả lấy ý kiến {}", c.code),
        &groups,
        app.clock.now(),
    )
    .await?;
    sqlx::query("UPDATE consultations SET result_notice_id = ? WHERE id = ?")
        .bind(notice.id())
        .bind(c.code.id())
        .execute(&mut *conn)
        .await?;
    app.outbox.notify_one();
    super::post::edit_all_with(app, &mut *conn, &c, totals(&figures.turnout), out).await?;
    // In private, with the other opinions of the groups each one covers.
    let mut told = Vec::new();
    let mut readers: Vec<(i64, Option<Vec<i64>>)> = vec![(c.creator, super::staff_scope(&mut *conn, c.creator).await?)];
    for (official, _) in roles::officials(&mut *conn).await? {
        readers.push((official, None));
    }
    for g in &groups {
        for (leader, _) in roles::leaders_of(&mut *conn, *g).await? {
            readers.push((leader, super::staff_scope(&mut *conn, leader).await?));
        }
    }
    for (user, scope) in readers {
        if told.contains(&user) {
            continue;
        }
        told.push(user);
        let Some((addr, _)) = roles::user_addr(&mut *conn, user).await? else { continue };
        out.send(&addr.private_chat(), view(app, &c, &figures, scope.as_deref()));
    }
    Ok(true)
}

async fn close_early(turn: &mut Turn, c: &Consultation) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let tx = db.write().await?;
    let official = roles::is_official(&mut *tx, caller.id).await?;
    if c.creator != caller.id && !official {
        return Err(Refusal::OnlyFor {
            who: "người tạo cuộc lấy ý kiến và cán bộ phường", to: "kết thúc sớm được"
        }
        .into());
    }
    if !close(app, &mut *tx, c, Some(caller.id), out).await? {
        // Closed meanwhile (its time, or someone else): when, as it is now.
        let now = repo::get(&mut *tx, c.code).await?.unwrap_or_else(|| c.clone());
        return Err(Refusal::state(format!("{}.", now.ended(app))).into());
    }
    crate::audit::record(
        &mut *tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, app.clock.now()),
        "consultation.close",
        &format!("consultation:{}", c.code.id()),
        None,
    )
    .await?;
    Ok(())
}

/// **🔒 Kết thúc ngay**.
pub async fn on_close(
    turn: &mut Turn,
    code: ConsultationCode,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let found = repo::get(&mut *turn.db.read().await?, code).await?;
    // Closed already: who may close it is told when it ended.
    let Some(c) = found.filter(|c| matches!(c.status, Status::Open | Status::Closed)) else {
        return Err(Refusal::StaleButton.into());
    };
    close_early(turn, &c).await?;
    turn.out.answer(callback_id, Some(format!("Đã kết thúc {code}.")));
    if let Some(m) = message {
        turn.out.edit(
            m,
            format!("🔒 Đã kết thúc cuộc lấy ý kiến {code}. Kết quả đã gửi tới các tổ."),
            Keyboard::none(),
        );
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
    for code in repo::due_to_close(&mut tx, app.clock.now()).await? {
        if let Some(c) = repo::get(&mut tx, code).await? {
            close(app, &mut tx, &c, None, &mut out).await?;
        }
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consultation() -> Consultation {
        Consultation {
            code: ConsultationCode::new(3),
            creator: 1,
            question: "?".into(),
            explanation: None,
            photo: None,
            options: super::super::default_options().0,
            other: Some(2),
            unit: super::super::Unit::Household,
            ballot: Ballot::Secret,
            closes_at: chrono::Utc::now(),
            closed_at: None,
            status: Status::Closed,
        }
    }

    fn group(id: i64, answered: i64) -> Turnout {
        Turnout { group_id: id, name: format!("Tổ {id}"), answered, registered: 20, expected: None }
    }

    #[test]
    fn a_small_group_shows_no_shares_of_its_own() {
        let c = consultation();
        let tally = [(1, 0, 8), (1, 1, 4), (2, 0, 2), (2, 1, 1)];
        let text = shares(&c, &tally, &[group(1, 12), group(2, 3)], |_| true);
        assert!(text.contains("• Đồng ý: 10 (66,7%)"), "{text}");
        assert!(text.contains("• Tổ 1 (12 ý kiến): Đồng ý 66,7% · Không đồng ý 33,3% · Ý kiến khác 0%"), "{text}");
        assert!(!text.contains("Tổ 2 ("), "{text}");
        assert!(text.contains("dưới 10 ý kiến"), "{text}");
        assert_eq!(parse_close(&close_data(ConsultationCode::new(7))), Some(ConsultationCode::new(7)));
    }
}
