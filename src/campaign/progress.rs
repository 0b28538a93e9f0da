//! The announcement in each group and its progress line, kept current as
//! money is confirmed. Telegram tolerates few edits of one message, so an
//! announcement is edited at most once a minute; a confirmation inside that
//! minute leaves the campaign marked and the scheduler makes the last edit.

use crate::db::Database;
use crate::outbox::JobOutbox;
use chrono::Duration;
use sqlx::SqliteConnection;

use super::{progress_line, repo, Campaign};
use crate::app::App;
use crate::channel::{Button, Keyboard, Replies};

pub const EDIT_EVERY: Duration = Duration::minutes(1);

pub fn pledge_payload(campaign: &Campaign) -> String {
    format!("uh-{}", campaign.code.id())
}

pub async fn announcement(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
) -> anyhow::Result<(String, Keyboard)> {
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
    let at = app.clock.now().with_timezone(&app.settings.timezone).format("%H:%M");
    text.push_str(&format!("\n(cập nhật lúc {at})"));
    if !campaign.open {
        text.push_str("\n\nCuộc vận động đã kết thúc. Xin cảm ơn bà con!");
        return Ok((text, Keyboard::none()));
    }
    Ok((text, Keyboard::single(Button::start_private("💝 Ủng hộ", pledge_payload(campaign)))))
}

/// Edits the announcements now if the last edit is a minute old, else leaves
/// the campaign marked for [`flush_due`].
pub async fn touch(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    out: &mut Replies,
) -> anyhow::Result<()> {
    repo::mark_dirty(conn, campaign.code).await?;
    let now = app.clock.now();
    if repo::due_for_edit(conn, now - EDIT_EVERY).await?.contains(&campaign.code) {
        edit_all(app, conn, campaign, out).await?;
    }
    Ok(())
}

pub async fn edit_all(
    app: &App,
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let (text, keyboard) = announcement(app, conn, campaign).await?;
    for message in crate::posts::find(conn, &campaign.tag()).await? {
        out.edit_public(&message, text.clone(), keyboard.clone());
    }
    repo::mark_edited(conn, campaign.code, app.clock.now()).await
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
    let mut out = Replies::default();
    // Looked at every few seconds: the write lock only when there is work.
    if repo::due_for_edit(&mut *db.read().await?, app.clock.now() - EDIT_EVERY).await?.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    for code in repo::due_for_edit(&mut tx, app.clock.now() - EDIT_EVERY).await? {
        if let Some(campaign) = repo::get(&mut tx, code).await? {
            edit_all(app, &mut tx, &campaign, &mut out).await?;
        }
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    Ok(())
}
