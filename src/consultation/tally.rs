//! The results as they are read: the figures, read once; each option's
//! share, per group only where the group has at least [`GROUP_RESULT_MIN`]
//! answers; the leaders' and officials' view with the other opinions of
//! their groups; the groups' result at the close, the other opinions only
//! as a count.

use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::figures::{self, Turnout};
use super::{Ballot, Consultation, Status, GROUP_RESULT_MIN};
use crate::app::App;
use crate::domain::Percent;

/// Everything a result is written from, read once: the full tally.
pub struct Figures {
    pub(super) turnout: Vec<Turnout>,
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
pub fn view(app: &App, c: &Consultation, figures: &Figures, scope: Option<&[i64]>) -> String {
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

pub fn totals(turnout: &[Turnout]) -> (i64, i64) {
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
pub fn public_result(app: &App, c: &Consultation, figures: &Figures) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consultation::ConsultationCode;

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
    }
}
