//! The announcement in each group and its progress line, kept current as
//! money is confirmed. Telegram tolerates few edits of one message, so an
//! announcement is edited at most once a minute; a confirmation inside that
//! minute leaves the campaign marked and the scheduler makes the last edit.

use crate::db::Database;
use crate::outbox::JobOutbox;
use chrono::Duration;
use sqlx::SqliteConnection;

use super::{progress_line, repo, Campaign};
use crate::action::{Choice, Notification};
use crate::app::App;
use crate::channel::Replies;

pub const EDIT_EVERY: Duration = Duration::minutes(1);

pub fn pledge_payload(campaign: &Campaign) -> String {
    format!("uh-{}", campaign.code.id())
}

pub async fn announcement(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(String, Vec<Vec<Choice>>)> {
    let totals = repo::totals(conn, campaign.code).await?;
    let mut text = format!(
        "📢 VẬN ĐỘNG ỦNG HỘ {}: {}\n{}\n\nHạn ủng hộ: {}\nCách ủng hộ: {}\n\n{}",
        campaign.code,
        campaign.title,
        campaign.purpose,
        campaign.deadline.format("%d/%m/%Y"),
        campaign.ways_to_give(),
        progress_line(&totals, campaign.target)
    );
    // When the figures were read: the announcement is edited at most once a
    // minute, so a reader knows how fresh they are.
    let at = now.with_timezone(&app.settings.timezone).format("%H:%M");
    text.push_str(&format!("\n(cập nhật lúc {at})"));
    if !campaign.open {
        text.push_str("\n\nCuộc vận động đã kết thúc. Xin cảm ơn bà con!");
        return Ok((text, Vec::new()));
    }
    Ok((text, vec![vec![Choice::private("💝 Ủng hộ", pledge_payload(campaign))]]))
}

/// Edits the announcements now if the last edit is a minute old (`now`),
/// else leaves the campaign marked for [`flush_due`].
pub async fn touch(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<Notification>> {
    repo::mark_dirty(&mut *conn, campaign.code).await?;
    if repo::due_for_edit(&mut *conn, now - EDIT_EVERY).await?.contains(&campaign.code) {
        return Ok(Some(edit_all(app, conn, campaign, now).await?));
    }
    Ok(None)
}

/// The announcements as they now read, in every group they were posted in.
pub async fn edit_all(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Notification> {
    let (text, choices) = announcement(app, &mut *conn, campaign, now).await?;
    repo::mark_edited(conn, campaign.code, now).await?;
    Ok(Notification::posts(campaign.tag(), text).with_choices(choices))
}

/// When the next announcement may be edited (a minute after its last
/// edit), if one shows an old total: the scheduler wakes then rather than
/// on its beat, so the announcement catches up as soon as the minute
/// allows.
pub async fn next_edit_due(_app: &App, db: &Database) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let oldest = repo::oldest_dirty_edit(&mut *db.read().await?).await?;
    Ok(oldest.map(|at| at + EDIT_EVERY))
}

/// The scheduler's part: the last state always reaches the groups.
pub async fn flush_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    // Looked at every few seconds: the write lock only when there is work.
    if repo::due_for_edit(&mut *db.read().await?, app.clock.now() - EDIT_EVERY).await?.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    let now = app.clock.now();
    let mut told = Vec::new();
    for code in repo::due_for_edit(&mut tx, now - EDIT_EVERY).await? {
        if let Some(campaign) = repo::get(&mut tx, code).await? {
            told.push(edit_all(app, &mut tx, &campaign, now).await?);
        }
    }
    let mut out = Replies::default();
    crate::action::told::render(&mut tx, told, &mut out).await?;
    outbox.commit(tx, out).await?;
    Ok(())
}
