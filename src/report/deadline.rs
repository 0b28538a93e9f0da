//! The daily reminder of overdue reports: once a day, at the configured
//! local hour, each group's leaders get their overdue cases and officials
//! get the ward's. The day is recorded before anything is sent, so a
//! restart never reminds twice on the same day.

use crate::db::Database;
use crate::outbox::JobOutbox;
use std::collections::BTreeMap;

use chrono::Timelike;

use super::{repo, Report};
use crate::app::App;
use crate::channel::Replies;
use crate::{group, roles};

pub const JOB: &str = "report_deadline";
const MAX_LINES: usize = 30;

/// The next moment the daily reminder falls due after `now`: today's
/// `reminder_hour` in the ward's zone if still to come, else tomorrow's.
pub fn next_run(app: &App, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    let settings = &app.settings;
    let today = now.with_timezone(&settings.timezone).date_naive();
    [today, today.succ_opt()?]
        .into_iter()
        .filter_map(|day| day.and_hms_opt(settings.reports.reminder_hour, 0, 0))
        .filter_map(|at| at.and_local_timezone(settings.timezone).earliest())
        .map(|at| at.with_timezone(&chrono::Utc))
        .find(|at| *at > now)
}

/// Runs the reminder if it is due now; the actions to send, if any.
pub async fn run_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let mut out = Replies::default();
    let settings = &app.settings;
    let now = app.clock.now();
    let local = now.with_timezone(&settings.timezone);
    if local.hour() < settings.reports.reminder_hour {
        return Ok(());
    }
    let day = local.date_naive().format("%Y-%m-%d").to_string();
    let Some(mut tx) = crate::runs::claim(db, JOB, &day, now).await? else {
        return Ok(());
    };
    let overdue = repo::overdue(&mut tx, now - settings.reports.deadline).await?;
    if !overdue.is_empty() {
        let mut by_group: BTreeMap<i64, Vec<&Report>> = BTreeMap::new();
        for r in &overdue {
            by_group.entry(r.group_id).or_default().push(r);
        }
        let mut names = BTreeMap::new();
        for gid in by_group.keys() {
            names.insert(*gid, group::by_id(&mut tx, *gid).await?.map(|g| g.name).unwrap_or_default());
        }
        let line = |r: &Report| {
            format!(
                "• {} · {} · {} · {} · {}",
                r.code,
                settings.reports.category_label(&r.category),
                names.get(&r.group_id).map(String::as_str).unwrap_or(""),
                r.status.label(),
                settings.age(r.created_at, now)
            )
        };
        let message = |list: &[&Report]| {
            let mut text = format!(
                "⏰ Nhắc việc: {} phản ánh đã quá {} giờ mà chưa xử lý xong:",
                list.len(),
                settings.reports.deadline.num_hours()
            );
            for r in list.iter().take(MAX_LINES) {
                text.push('\n');
                text.push_str(&line(r));
            }
            if list.len() > MAX_LINES {
                text.push_str(&format!("\n… và {} việc khác.", list.len() - MAX_LINES));
            }
            text.push_str("\n\nGõ /dsphananh để xem và xử lý.");
            text
        };
        let officials = roles::officials(&mut tx).await?;
        for (gid, list) in &by_group {
            for (leader_id, addr) in roles::leaders_of(&mut tx, *gid).await? {
                // Officials get the ward's list below; once is enough.
                if !officials.iter().any(|(id, _)| *id == leader_id) {
                    out.send(&addr.private_chat(), message(list));
                }
            }
        }
        let all: Vec<&Report> = overdue.iter().collect();
        for (_, addr) in officials {
            out.send(&addr.private_chat(), message(&all));
        }
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    tracing::info!(day, overdue = overdue.len(), "overdue reports reminded");
    Ok(())
}
