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

pub async fn figures(conn: &mut SqliteConnection, groups: &Option<Vec<i64>>) -> anyhow::Result<Figures> {
    let scope = serde_json::to_string(groups)?;
    let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*),
                COALESCE(SUM(h.smartphone_users > 0), 0), COALESCE(SUM(b.smartphone_users > 0), 0),
                COALESCE(SUM(h.has_epayment), 0), COALESCE(SUM(b.has_epayment), 0),
                COALESCE(SUM(h.vneid_level2 > 0), 0), COALESCE(SUM(b.vneid_level2 > 0), 0)
         FROM households h LEFT JOIN household_baselines b ON b.household_id = h.id
         WHERE h.status = 'approved' AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))",
    )
    .bind(&scope)
    .fetch_one(&mut *conn)
    .await?;
    let visited: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT v.household_id) FROM visits v
         WHERE ?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1))",
    )
    .bind(&scope)
    .fetch_one(conn)
    .await?;
    let (households, s_now, s_base, e_now, e_base, v_now, v_base) = row;
    Ok(Figures { households, visited, smartphone: (s_base, s_now), epayment: (e_base, e_now), vneid: (v_base, v_now) })
}

/// One line of a ranking: a team or a group, what it did in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub name: String,
    pub visits: i64,
    pub households_helped: i64,
    /// Approved households, for a group (its share helped); 0 for a team.
    pub households: i64,
}

/// The start of a period, as a query compares it: a local day (visits
/// are dated) or a moment (events are timed).
enum Since {
    Ever,
    Day(NaiveDate),
    At(DateTime<Utc>),
}

/// Counts by a key (a team's or a group's id) from one grouped query over
/// `?1`, the scope, and `?2`, the start of the period.
async fn counted(
    conn: &mut SqliteConnection,
    sql: &str,
    scope: &str,
    since: Since,
) -> anyhow::Result<HashMap<i64, i64>> {
    let query = sqlx::query_as::<_, (Option<i64>, i64)>(sql).bind(scope);
    let query = match since {
        Since::Ever => query,
        Since::Day(day) => query.bind(day.format("%Y-%m-%d").to_string()),
        Since::At(at) => query.bind(at),
    };
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().filter_map(|(key, n)| Some((key?, n))).collect())
}

/// Visits since `?2` (a day) in the scope, by team or by group (`by`).
fn visits_by(by: &str) -> String {
    format!(
        "SELECT v.{by}, COUNT(*) FROM visits v
         WHERE v.visited_on >= ?2 AND (?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY v.{by}"
    )
}

/// Teams by the households whose indicators their visits moved since
/// `since_at`, then by visits. Each figure is one pass over the period's
/// rows, grouped, whatever the number of teams.
pub async fn rank_teams(
    conn: &mut SqliteConnection,
    groups: &Option<Vec<i64>>,
    since: NaiveDate,
    since_at: DateTime<Utc>,
) -> anyhow::Result<Vec<Ranked>> {
    let scope = serde_json::to_string(groups)?;
    // Teams inside the scope: every group they cover is in it.
    let teams: Vec<(i64, String)> = sqlx::query_as(
        "SELECT t.id, t.name FROM digital_teams t
         WHERE ?1 = 'null' OR NOT EXISTS (SELECT 1 FROM digital_team_groups tg WHERE tg.team_id = t.id
                                          AND tg.group_id NOT IN (SELECT value FROM json_each(?1)))",
    )
    .bind(&scope)
    .fetch_all(&mut *conn)
    .await?;
    let visits = counted(&mut *conn, &visits_by("team_id"), &scope, Since::Day(since)).await?;
    let helped = counted(
        &mut *conn,
        "SELECT v.team_id, COUNT(DISTINCT e.household_id) FROM indicator_events e JOIN visits v ON v.id = e.visit_id
         WHERE e.at >= ?2 AND e.after > e.before AND (?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY v.team_id",
        &scope,
        Since::At(since_at),
    )
    .await?;
    let mut ranked: Vec<Ranked> = teams
        .into_iter()
        .map(|(id, name)| Ranked {
            name,
            visits: visits.get(&id).copied().unwrap_or(0),
            households_helped: helped.get(&id).copied().unwrap_or(0),
            households: 0,
        })
        .collect();
    ranked.sort_by(|a, b| (b.households_helped, b.visits).cmp(&(a.households_helped, a.visits)));
    Ok(ranked)
}

/// Groups by the share of their households whose indicators rose since
/// `since_at` (by anyone), then by visits.
pub async fn rank_groups(
    conn: &mut SqliteConnection,
    groups: &Option<Vec<i64>>,
    since: NaiveDate,
    since_at: DateTime<Utc>,
) -> anyhow::Result<Vec<Ranked>> {
    let scope = serde_json::to_string(groups)?;
    let named: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM groups WHERE ?1 = 'null' OR id IN (SELECT value FROM json_each(?1))")
            .bind(&scope)
            .fetch_all(&mut *conn)
            .await?;
    let households = counted(
        &mut *conn,
        "SELECT h.group_id, COUNT(*) FROM households h
         WHERE h.status = 'approved' AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY h.group_id",
        &scope,
        Since::Ever,
    )
    .await?;
    let visits = counted(&mut *conn, &visits_by("group_id"), &scope, Since::Day(since)).await?;
    let helped = counted(
        &mut *conn,
        "SELECT h.group_id, COUNT(DISTINCT e.household_id) FROM indicator_events e JOIN households h ON h.id = e.household_id
         WHERE e.at >= ?2 AND e.after > e.before AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY h.group_id",
        &scope,
        Since::At(since_at),
    )
    .await?;
    let mut ranked: Vec<Ranked> = named
        .into_iter()
        .map(|(id, name)| Ranked {
            name,
            visits: visits.get(&id).copied().unwrap_or(0),
            households_helped: helped.get(&id).copied().unwrap_or(0),
            households: households.get(&id).copied().unwrap_or(0),
        })
        .collect();
    ranked.sort_by(|a, b| {
        let share = |r: &Ranked| Percent::of(r.households_helped, r.households);
        (share(b), b.visits).cmp(&(share(a), a.visits))
    });
    Ok(ranked)
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
    let f = figures(&mut conn, &unit.groups).await?;
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
    let teams = rank_teams(&mut conn, &unit.groups, since, since_at).await?;
    let teams: Vec<&Ranked> = teams.iter().filter(|t| unit.team.is_none() || t.name == unit.title).collect();
    if !teams.is_empty() {
        text.push_str(&format!("\n\n🏅 Các đội, {} ngày qua:", request.days));
        for (i, t) in teams.iter().take(RANKED).enumerate() {
            text.push_str(&format!(
                "\n{}. {} — {} lần thăm, {} hộ có thêm chỉ số",
                i + 1,
                t.name,
                t.visits,
                t.households_helped
            ));
        }
    }
    let groups = rank_groups(&mut conn, &unit.groups, since, since_at).await?;
    if groups.len() > 1 {
        text.push_str(&format!("\n\n🏘 Các tổ, {} ngày qua:", request.days));
        for (i, g) in groups.iter().take(RANKED).enumerate() {
            text.push_str(&format!(
                "\n{}. {} — {} hộ có thêm chỉ số ({}), {} lần thăm",
                i + 1,
                g.name,
                g.households_helped,
                Percent::of(g.households_helped, g.households),
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
