//! Each member's weekly summary, in private: their visits of the last seven
//! days, how many households those moved, and how many still wait in the
//! groups their teams cover. Sent once a week at `[digital_teams]
//! weekly_summary` in the ward's time zone; the week is recorded before
//! anything is sent, so a restart never sends it twice.

use chrono::{Datelike, Duration, NaiveDate};

use crate::app::App;
use crate::channel::Replies;
use crate::db::Database;
use crate::outbox::JobOutbox;
use crate::roles;

pub const JOB: &str = "digital_weekly";

/// The day this week's summary falls on, if its time has come.
fn due_day(app: &App) -> Option<NaiveDate> {
    let (weekday, time) = app.settings.weekly_summary;
    let local = app.clock.now().with_timezone(&app.settings.timezone);
    let today = local.date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let day = monday + Duration::days(i64::from(weekday.num_days_from_monday()));
    (day < today || (day == today && local.time() >= time)).then_some(day)
}

/// The next moment a summary falls due after `now`: this week's slot if
/// still to come, else next week's.
pub fn next_run(app: &App, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    let (weekday, time) = app.settings.weekly_summary;
    let today = now.with_timezone(&app.settings.timezone).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let day = monday + Duration::days(i64::from(weekday.num_days_from_monday()));
    [day, day + Duration::days(7)]
        .into_iter()
        .filter_map(|d| d.and_time(time).and_local_timezone(app.settings.timezone).earliest())
        .map(|at| at.with_timezone(&chrono::Utc))
        .find(|at| *at > now)
}

/// Runs the summary if it is due now; the messages to send, if any.
pub async fn run_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let mut out = Replies::default();
    let Some(day) = due_day(app) else { return Ok(()) };
    let key = day.format("%Y-%m-%d").to_string();
    let Some(mut tx) = crate::runs::claim(db, JOB, &key, app.clock.now()).await? else {
        return Ok(());
    };
    let from = day - Duration::days(7);
    let since = from.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(app.settings.timezone).earliest());
    let since = since.map_or(app.clock.now() - Duration::days(7), |t| t.with_timezone(&chrono::Utc));
    let members: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT user_id FROM digital_team_members ORDER BY user_id")
        .fetch_all(&mut *tx)
        .await?;
    for member in members {
        let (visits, helped): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM visits WHERE by_user_id = ?1 AND visited_on >= ?2 AND visited_on < ?3),
                    (SELECT COUNT(DISTINCT e.household_id) FROM indicator_events e JOIN visits v ON v.id = e.visit_id
                     WHERE v.by_user_id = ?1 AND e.at >= ?4 AND e.after > e.before)",
        )
        .bind(member)
        .bind(from.format("%Y-%m-%d").to_string())
        .bind(&key)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        let remaining: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM households h
             WHERE h.status = 'approved'
               AND h.group_id IN (SELECT tg.group_id FROM digital_team_members m
                                  JOIN digital_team_groups tg ON tg.team_id = m.team_id WHERE m.user_id = ?)
               AND (h.smartphone_users = 0 OR h.has_epayment = 0 OR h.vneid_level2 < h.members
                    OR NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id))",
        )
        .bind(member)
        .fetch_one(&mut *tx)
        .await?;
        let Some((addr, _)) = roles::user_addr(&mut tx, member).await? else { continue };
        let week = format!("{} – {}", from.format("%d/%m"), (day - Duration::days(1)).format("%d/%m"));
        let done = if visits == 0 {
            "Tuần qua bác chưa ghi lần thăm nào.".to_string()
        } else {
            format!("Tuần qua bác đã thăm {visits} lần, giúp {helped} hộ có thêm chỉ số công dân số.")
        };
        out.send(
            &addr.private_chat(),
            format!(
                "📋 Tổng kết tuần ({week}) của tổ công nghệ số\n{done}\nCác tổ bác phụ trách còn {remaining} hộ cần đến. Gõ /ditham để xem danh sách, /tiendo để xem tiến độ."
            ),
        );
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    Ok(())
}
