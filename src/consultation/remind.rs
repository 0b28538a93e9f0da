//! Reminders before the close, at the distances set in `[consultations]
//! reminders` ("24h", "2h"): whoever has not answered is reminded in
//! private, once each, with the options to press; each leader gets the
//! list of their households not yet answered in walking order, for
//! door-to-door visits. Each reminder is claimed once (`runs::claim`), so a
//! restart never repeats one; a distance already past when the
//! consultation opened is skipped.

use chrono::{DateTime, Utc};

use super::{card, figures, repo, Consultation, ConsultationCode};
use crate::app::App;
use crate::channel::Replies;
use crate::db::Database;
use crate::outbox::JobOutbox;
use crate::roles;

pub const JOB: &str = "consultation_reminder";

/// The reminder due now for an open consultation: the shortest distance
/// whose time has come (a longer one missed while the bot was down is not
/// sent late), if it came after the opening.
fn due(
    offsets: &[chrono::Duration],
    opened_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<chrono::Duration> {
    offsets.iter().copied().filter(|o| closes_at - *o <= now && closes_at - *o > opened_at).min()
}

/// The next moment a reminder of an open consultation falls due after
/// `now`, if any will: the scheduler sleeps until then.
pub async fn next_due(app: &App, db: &Database, now: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let open: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT opened_at, closes_at FROM consultations WHERE status = 'open' AND closes_at > ? AND opened_at IS NOT NULL",
    )
    .bind(now)
    .fetch_all(&mut *db.read().await?)
    .await?;
    Ok(open
        .into_iter()
        .flat_map(|(opened_at, closes_at)| {
            app.settings.consultation_reminders.iter().map(move |o| closes_at - *o).filter(move |at| *at > opened_at)
        })
        .filter(|at| *at > now)
        .min())
}

/// Sends the reminders that are due; the messages.
pub async fn run_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let mut out = Replies::default();
    let now = app.clock.now();
    let open: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, opened_at, closes_at FROM consultations WHERE status = 'open' AND closes_at > ? AND opened_at IS NOT NULL",
    )
    .bind(now)
    .fetch_all(&mut *db.read().await?)
    .await?;
    for (id, opened_at, closes_at) in open {
        let Some(offset) = due(&app.settings.consultation_reminders, opened_at, closes_at, now) else { continue };
        let period = format!("{id}:{}m", offset.num_minutes());
        let Some(mut tx) = crate::runs::claim(db, JOB, &period, now).await? else { continue };
        // Read again in the claim's transaction: a consultation closed
        // since (early, by its creator) is never reminded of.
        if let Some(c) = repo::get(&mut tx, ConsultationCode::new(id)).await?.filter(|c| c.accepts_at(now)) {
            remind(app, &mut tx, &c, &mut out).await?;
        }
        outbox.commit(tx, std::mem::take(&mut out)).await?;
    }
    Ok(())
}

async fn remind(
    app: &App,
    conn: &mut sqlx::SqliteConnection,
    c: &Consultation,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let when = app.settings.show_time(c.closes_at);
    let mut text = card::ballot_text(app, c);
    text.insert_str(
        0,
        &format!(
            "⏰ Nhắc: {} chưa cho ý kiến. Hạn đến {when}.\n\n",
            match c.unit {
                super::Unit::Household => "hộ bác",
                super::Unit::Person => "bác",
            }
        ),
    );
    let keyboard = card::keyboard(c);
    let mut reminded = Vec::new();
    for (user, _household) in figures::to_remind(&mut *conn, c).await? {
        if reminded.contains(&user) {
            continue;
        }
        reminded.push(user);
        let Some((addr, _)) = roles::user_addr(&mut *conn, user).await? else { continue };
        // Where a bot writes first to no one: only to those who opened the
        // private chat.
        let can = addr.channel.capabilities();
        if can.private_needs_start && !roles::private_chat_open(&mut *conn, &addr).await? {
            continue;
        }
        out.send_with(&addr.private_chat(), format!("{text}{}", card::ask_line(can)), keyboard.clone());
    }
    for group in repo::targets(&mut *conn, c.code).await? {
        let doors = figures::not_answered(&mut *conn, c, &[group]).await?;
        if doors.is_empty() {
            continue;
        }
        let name = crate::group::by_id(&mut *conn, group).await?.map(|g| g.name).unwrap_or_default();
        let mut list =
            format!("🚶 {}: {} hộ ở {name} chưa cho ý kiến (hạn {when}), theo đường đi:", c.code, doors.len());
        for (i, d) in doors.iter().enumerate() {
            list.push_str(&format!("\n{}. {} (số hộ {})", i + 1, d.line(), d.household));
        }
        list.push_str(&format!(
            "\n\nHộ không dùng điện thoại: bác ghi phiếu giấy bằng /ghiykien {} <số hộ> <lựa chọn>.",
            c.code
        ));
        for (_, leader) in roles::leaders_of(&mut *conn, group).await? {
            out.send(&leader.private_chat(), list.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn the_reminder_due_is_the_nearest_one_whose_time_came_after_the_opening() {
        let offsets = [Duration::hours(24), Duration::hours(2)];
        let opened = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let closes = opened + Duration::hours(48);
        assert_eq!(due(&offsets, opened, closes, opened + Duration::hours(23)), None);
        assert_eq!(due(&offsets, opened, closes, opened + Duration::hours(24)), Some(Duration::hours(24)));
        assert_eq!(due(&offsets, opened, closes, opened + Duration::hours(47)), Some(Duration::hours(2)));
        // Opened 10 hours before the close: the 24h reminder never comes.
        let late = closes - Duration::hours(10);
        assert_eq!(due(&offsets, late, closes, late + Duration::hours(1)), None);
        assert_eq!(due(&offsets, late, closes, closes - Duration::hours(2)), Some(Duration::hours(2)));
    }
}
