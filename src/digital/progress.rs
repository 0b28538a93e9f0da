//! `/tiendo [tổ hoặc đội] [7d|30d]`: for a team, a group or the ward,
//! households visited, each indicator now against at registration and
//! against the ward's targets, and the teams and groups ranked by their
//! progress over the last 7 or 30 days. `/tiendo bieudo` sends the chart
//! ([`super::trend`]).
//!
//! Officials see the ward and any unit; leaders and members see the groups
//! they reach ([`super::reach`]) and the teams inside them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::SqliteConnection;

use super::Unit;
use crate::domain::Percent;
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::text::fold;
use crate::turn::Turn;

const USAGE: &str =
    "Cách dùng: /tiendo [tên hoặc số tổ, hoặc tên đội] [7d | 30d], ví dụ: /tiendo 12 30d. Biểu đồ: /tiendo bieudo.";
const RANKED: usize = 10;

/// The indicators of a unit's approved households, now and at baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub households: i64,
    pub visited: i64,
    pub smartphone: (i64, i64),
    pub epayment: (i64, i64),
    pub vneid: (i64, i64),
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Self) {
        let pair = |a: (i64, i64), b: (i64, i64)| (a.0 + b.0, a.1 + b.1);
        self.households += o.households;
        self.visited += o.visited;
        self.smartphone = pair(self.smartphone, o.smartphone);
        self.epayment = pair(self.epayment, o.epayment);
        self.vneid = pair(self.vneid, o.vneid);
    }
}

/// One group: its figures, and in the period its visits and the
/// households whose indicators rose (by anyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProgress {
    pub id: i64,
    pub name: String,
    pub figures: Figures,
    pub visits: i64,
    pub helped: i64,
}

/// One line of the teams' ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamProgress {
    pub name: String,
    pub visits: i64,
    /// Households whose indicators the team's visits raised.
    pub helped: i64,
}

/// Everything `/tiendo` shows for a scope: each group, and the teams
/// inside the scope (every group they cover is in it).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub groups: Vec<GroupProgress>,
    pub teams: Vec<TeamProgress>,
}

impl Progress {
    pub fn total(&self) -> Figures {
        let mut total = Figures::default();
        for g in &self.groups {
            total += g.figures;
        }
        total
    }

    /// Groups by the share of their households helped, then by visits.
    pub fn groups_ranked(&self) -> Vec<&GroupProgress> {
        let mut ranked: Vec<&GroupProgress> = self.groups.iter().collect();
        let share = |g: &GroupProgress| Percent::of(g.helped, g.figures.households);
        ranked.sort_by(|a, b| (share(b), b.visits).cmp(&(share(a), a.visits)));
        ranked
    }

    /// Teams by the households they helped, then by visits.
    pub fn teams_ranked(&self) -> Vec<&TeamProgress> {
        let mut ranked: Vec<&TeamProgress> = self.teams.iter().collect();
        ranked.sort_by(|a, b| (b.helped, b.visits).cmp(&(a.helped, a.visits)));
        ranked
    }
}

/// The progress of the groups in `scope` (None: the ward) over the period
/// from `since` (visits are dated by local day) and `since_at` (indicator
/// events are timed). Each figure is one grouped pass, whatever the number
/// of groups and teams: a few queries for the whole ward.
pub async fn compute(
    conn: &mut SqliteConnection,
    scope: &Option<Vec<i64>>,
    since: NaiveDate,
    since_at: DateTime<Utc>,
) -> anyhow::Result<Progress> {
    let scope = serde_json::to_string(scope)?;
    let day = since.format("%Y-%m-%d").to_string();
    // The running totals the database keeps (migration 0022): one row a
    // group, whatever its households.
    type Row = (i64, String, i64, i64, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT g.id, g.name, COALESCE(t.households, 0), COALESCE(t.visited, 0),
                COALESCE(t.smartphone, 0), COALESCE(t.smartphone_base, 0), COALESCE(t.epayment, 0),
                COALESCE(t.epayment_base, 0), COALESCE(t.vneid, 0), COALESCE(t.vneid_base, 0)
         FROM groups g LEFT JOIN group_digital_totals t ON t.group_id = g.id
         WHERE ?1 = 'null' OR g.id IN (SELECT value FROM json_each(?1))
         ORDER BY g.id",
    )
    .bind(&scope)
    .fetch_all(&mut *conn)
    .await?;
    let in_scope = "(?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1)))";
    // (group, team) → visits in the period.
    let visits: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(&format!(
        "SELECT v.group_id, v.team_id, COUNT(*) FROM visits v WHERE v.visited_on >= ?2 AND {in_scope}
         GROUP BY v.group_id, v.team_id"
    ))
    .bind(&scope)
    .bind(&day)
    .fetch_all(&mut *conn)
    .await?;
    // Households whose indicators rose in the period, by group (anyone's
    // doing) and by team (their visits'). Counted in SQL: a row handed
    // from SQLite costs more than the query's work on it.
    let rises = [
        // Anyone's doing, by the household's group.
        "SELECT h.group_id, COUNT(DISTINCT e.household_id)
         FROM indicator_events e JOIN households h ON h.id = e.household_id
         WHERE e.at >= ?2 AND e.after > e.before AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY 1",
        // Visits' doing, by the visit's team.
        "SELECT v.team_id, COUNT(DISTINCT e.household_id)
         FROM indicator_events e JOIN visits v ON v.id = e.visit_id
         WHERE e.at >= ?2 AND e.after > e.before AND (?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY 1",
    ];
    let mut helped: [HashMap<i64, i64>; 2] = Default::default();
    for (counts, sql) in helped.iter_mut().zip(rises) {
        let rows: Vec<(Option<i64>, i64)> =
            sqlx::query_as(sql).bind(&scope).bind(since_at).fetch_all(&mut *conn).await?;
        *counts = rows.into_iter().filter_map(|(key, n)| Some((key?, n))).collect();
    }
    let [group_helped, team_helped] = helped;
    let teams: Vec<(i64, String)> = sqlx::query_as(
        "SELECT t.id, t.name FROM digital_teams t
         WHERE ?1 = 'null' OR NOT EXISTS (SELECT 1 FROM digital_team_groups tg WHERE tg.team_id = t.id
                                          AND tg.group_id NOT IN (SELECT value FROM json_each(?1)))
         ORDER BY t.id",
    )
    .bind(&scope)
    .fetch_all(&mut *conn)
    .await?;

    let mut group_visits: HashMap<i64, i64> = HashMap::new();
    let mut team_visits: HashMap<i64, i64> = HashMap::new();
    for (group, team, n) in visits {
        *group_visits.entry(group).or_default() += n;
        if let Some(team) = team {
            *team_visits.entry(team).or_default() += n;
        }
    }
    let count = |counts: &HashMap<i64, i64>, id: i64| counts.get(&id).copied().unwrap_or(0);
    Ok(Progress {
        groups: rows
            .into_iter()
            .map(|(id, name, households, visited, s_now, s_base, e_now, e_base, v_now, v_base)| GroupProgress {
                id,
                name,
                figures: Figures {
                    households,
                    visited,
                    smartphone: (s_base, s_now),
                    epayment: (e_base, e_now),
                    vneid: (v_base, v_now),
                },
                visits: group_visits.get(&id).copied().unwrap_or(0),
                helped: count(&group_helped, id),
            })
            .collect(),
        teams: teams
            .into_iter()
            .map(|(id, name)| TeamProgress {
                name,
                visits: team_visits.get(&id).copied().unwrap_or(0),
                helped: count(&team_helped, id),
            })
            .collect(),
    })
}

/// What `/tiendo` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    chart: bool,
    days: i64,
    unit: String,
}

fn parse(args: &str) -> Option<Request> {
    let mut request = Request { chart: false, days: 7, unit: String::new() };
    let mut rest = Vec::new();
    let folded = fold(args);
    for word in folded.split_whitespace() {
        match word {
            "bieudo" => request.chart = true,
            "7d" | "7ngay" => request.days = 7,
            "30d" | "30ngay" => request.days = 30,
            w if w.ends_with('d') && w[..w.len() - 1].parse::<u32>().is_ok() => return None,
            w => rest.push(w),
        }
    }
    request.unit = rest.join(" ");
    Some(request)
}

/// The unit the caller asked for, if they reach it.
async fn unit(conn: &mut SqliteConnection, caller: i64, asked: &str, ward: &str) -> Handled<Unit> {
    let reach = super::reach(&mut *conn, caller).await?;
    if asked.is_empty() {
        return Ok(match reach {
            None => Unit { title: ward.to_string(), groups: None, team: None },
            Some(groups) => Unit { title: "các tổ của bác".to_string(), groups: Some(groups), team: None },
        });
    }
    let team: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM digital_teams WHERE name_folded = ?")
        .bind(asked)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((id, name)) = team {
        let groups: Vec<i64> =
            sqlx::query_scalar("SELECT group_id FROM digital_team_groups WHERE team_id = ? ORDER BY 1")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
        if reach.as_ref().is_some_and(|r| groups.iter().any(|g| !r.contains(g))) {
            return Err(Refusal::no_right("xem tiến độ của đội này").into());
        }
        return Ok(Unit { title: name, groups: Some(groups), team: Some(id) });
    }
    let Some(found) = group::find(&mut *conn, asked).await? else {
        return Err(Refusal::input(format!("Không tìm thấy tổ hay đội «{asked}».\n{USAGE}")).into());
    };
    if reach.as_ref().is_some_and(|r| !r.contains(&found.id)) {
        return Err(Refusal::no_right("xem tiến độ của tổ này").into());
    }
    Ok(Unit { title: found.name, groups: Some(vec![found.id]), team: None })
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Some(request) = parse(args) else {
        return Err(Refusal::input(USAGE).into());
    };
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let unit = unit(&mut conn, caller.id, &request.unit, &app.settings.ward_name).await?;
    if request.chart {
        let png = super::trend::chart(app, &mut conn, &unit).await?;
        out.image(
            &msg.chat,
            png,
            "tien-do-cong-dan-so.png",
            Some(format!("Công dân số theo thời gian — {}", unit.title)),
        );
        return Ok(());
    }
    let now = app.clock.now();
    let since_at = now - chrono::Duration::days(request.days);
    let since = app.settings.day(since_at);
    let progress = compute(&mut conn, &unit.groups, since, since_at).await?;
    let f = progress.total();
    let targets = &app.settings.targets;
    let line = |label: &str, (base, now): (i64, i64), target: i64| {
        let (b, n) = (Percent::of(base, f.households), Percent::of(now, f.households));
        let mark = if n.reaches(target) { "✅" } else { "⏳" };
        format!("\n{mark} {label}: {b} → {n} (mục tiêu {target}%)")
    };
    let mut text = format!(
        "📈 Tiến độ công dân số — {}\nHộ đã đăng ký: {} · đã được thăm: {} ({})\nLúc đăng ký → nay:",
        unit.title,
        f.households,
        f.visited,
        Percent::of(f.visited, f.households)
    );
    text.push_str(&line("Hộ có người dùng điện thoại thông minh", f.smartphone, targets.smartphone_target));
    text.push_str(&line("Hộ có tài khoản thanh toán điện tử", f.epayment, targets.epayment_target));
    text.push_str(&line("Hộ có người đạt VNeID mức 2", f.vneid, targets.vneid_target));
    let teams: Vec<&TeamProgress> =
        progress.teams_ranked().into_iter().filter(|t| unit.team.is_none() || t.name == unit.title).collect();
    if !teams.is_empty() {
        text.push_str(&format!("\n\n🏅 Các đội, {} ngày qua:", request.days));
        for (i, t) in teams.iter().take(RANKED).enumerate() {
            text.push_str(&format!("\n{}. {} — {} lần thăm, {} hộ có thêm chỉ số", i + 1, t.name, t.visits, t.helped));
        }
    }
    if progress.groups.len() > 1 {
        text.push_str(&format!("\n\n🏘 Các tổ, {} ngày qua:", request.days));
        for (i, g) in progress.groups_ranked().iter().take(RANKED).enumerate() {
            text.push_str(&format!(
                "\n{}. {} — {} hộ có thêm chỉ số ({}), {} lần thăm",
                i + 1,
                g.name,
                g.helped,
                Percent::of(g.helped, g.figures.households),
                g.visits
            ));
        }
    }
    out.send(&msg.chat, text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each group's figures counted from scratch over every household.
    async fn from_scratch(conn: &mut SqliteConnection) -> Vec<(i64, Figures)> {
        let rows: Vec<(i64, i64, i64, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT g.id, COUNT(h.id),
                    COALESCE(SUM(EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id)), 0),
                    COALESCE(SUM(h.smartphone_users > 0), 0), COALESCE(SUM(b.smartphone_users > 0), 0),
                    COALESCE(SUM(h.has_epayment), 0), COALESCE(SUM(b.has_epayment), 0),
                    COALESCE(SUM(h.vneid_level2 > 0), 0), COALESCE(SUM(b.vneid_level2 > 0), 0)
             FROM groups g LEFT JOIN households h ON h.group_id = g.id AND h.status = 'approved'
             LEFT JOIN household_baselines b ON b.household_id = h.id GROUP BY g.id ORDER BY g.id",
        )
        .fetch_all(conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(g, households, visited, s, sb, e, eb, v, vb)| {
                (g, Figures { households, visited, smartphone: (sb, s), epayment: (eb, e), vneid: (vb, v) })
            })
            .collect()
    }

    /// The totals the database keeps agree with a count from scratch after
    /// every way a household, its baseline or a visit is written.
    #[tokio::test]
    async fn the_running_totals_agree_with_a_count_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), Default::default()).await.unwrap();
        let now = chrono::Utc::now();
        let mut tx = db.write().await.unwrap();
        for name in ["Tổ 1", "Tổ 2"] {
            sqlx::query("INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, ?)")
                .bind(name)
                .bind(fold(name))
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', '1', 'A', ?)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        // (group, status, smartphone users, payment, VNeID), four members.
        for (group, status, smart, epay, vneid) in
            [(1, "approved", 0, 0, 0), (1, "approved", 2, 1, 1), (1, "pending", 1, 0, 0), (2, "approved", 0, 1, 3)]
        {
            sqlx::query(
                "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street, phone,
                    members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
                 VALUES (?, 1, 'A', 'a', '1', 'X', '0912345678', 4, ?, ?, ?, ?, ?, ?)",
            )
            .bind(group)
            .bind(smart)
            .bind(epay)
            .bind(vneid)
            .bind(status)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        let writes = [
            // A visit moves household 1's figures; a second visit is no
            // new household visited.
            "INSERT INTO visits (household_id, group_id, by_user_id, visited_on, outcome, recorded_at) VALUES (1, 1, 1, '2026-11-30', 'helped', 'x')",
            "INSERT INTO visits (household_id, group_id, by_user_id, visited_on, outcome, recorded_at) VALUES (1, 1, 1, '2026-12-01', 'helped', 'x')",
            "UPDATE households SET smartphone_users = 1, vneid_level2 = 2 WHERE id = 1",
            // The pending one filled in anew, then approved.
            "UPDATE households SET smartphone_users = 3, has_epayment = 1 WHERE id = 3",
            "UPDATE household_baselines SET smartphone_users = 3, has_epayment = 1 WHERE household_id = 3",
            "UPDATE households SET status = 'approved' WHERE id = 3",
            // One moves group, one is rejected, one is removed.
            "UPDATE households SET group_id = 2 WHERE id = 2",
            "UPDATE households SET status = 'rejected' WHERE id = 4",
            "INSERT INTO visits (household_id, group_id, by_user_id, visited_on, outcome, recorded_at) VALUES (3, 1, 1, '2026-12-01', 'not_home', 'x')",
            "DELETE FROM visits WHERE household_id = 3",
            "DELETE FROM households WHERE id = 3",
            // Removed with its visits and baseline still there.
            "DELETE FROM households WHERE id = 1",
        ];
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        for (i, write) in writes.iter().enumerate() {
            sqlx::query(write).execute(&mut *tx).await.unwrap();
            let kept: Vec<(i64, Figures)> = compute(&mut tx, &None, day, now)
                .await
                .unwrap()
                .groups
                .into_iter()
                .map(|g| (g.id, g.figures))
                .collect();
            assert_eq!(kept, from_scratch(&mut tx).await, "after write {i}: {write}");
        }
        tx.commit().await.unwrap();
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused(args in "\\PC{0,80}") {
            if let Some(request) = parse(&args) {
                prop_assert!(request.days == 7 || request.days == 30);
            }
        }
    }

    #[test]
    fn reads_the_period_the_chart_and_the_unit() {
        assert_eq!(parse(""), Some(Request { chart: false, days: 7, unit: String::new() }));
        assert_eq!(
            parse("Tổ dân phố số 12 30d"),
            Some(Request { chart: false, days: 30, unit: "to dan pho so 12".into() })
        );
        assert_eq!(parse("bieudo"), Some(Request { chart: true, days: 7, unit: String::new() }));
        assert_eq!(parse("12 14d"), None);
    }
}
