//! How a consultation reaches people: one post in each group chat with
//! **Cho ý kiến** (a deep link to the private chat), and on Zalo, where
//! the bot is in no group, the ballot itself in private to each household;
//! both through the notices' durable outbox. The group posts show
//! participation only, never the running result, edited at most once a
//! minute (Telegram tolerates few edits of one message).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::SqliteConnection;

use super::{card, figures, repo, Consultation, ConsultationCode, Status};
use crate::action::{told, Choice, Notification};
use crate::app::App;
use crate::channel::{Channel, Keyboard, Replies};
use crate::db::Database;
use crate::notice::{self, NoticeCode};
use crate::outbox::JobOutbox;

pub const EDIT_EVERY: Duration = Duration::minutes(1);

/// The group post: the question, the options, the close and participation
/// as of `now`.
pub fn text(app: &App, c: &Consultation, answered: i64, registered: i64, now: DateTime<Utc>) -> String {
    let mut text = format!("🗳 LẤY Ý KIẾN {}\n\n{}", c.code, c.question);
    if let Some(e) = &c.explanation {
        text.push_str(&format!("\n\n{e}"));
    }
    let options: Vec<String> = c.options.iter().enumerate().map(|(i, o)| format!("{}. {o}", i + 1)).collect();
    text.push_str(&format!("\n\nCác lựa chọn: {}", options.join(" · ")));
    let when = match c.status {
        Status::Closed => format!("Đã kết thúc lúc {}", app.settings.show_time(c.ended_at())),
        _ => format!("Hạn: {}", app.settings.show_time(c.closes_at)),
    };
    text.push_str(&format!(
        "\n{} · {}. {when}.",
        match c.unit {
            super::Unit::Household => "Mỗi hộ đã đăng ký một ý kiến",
            super::Unit::Person => "Mỗi người đã đăng ký một ý kiến",
        },
        match c.ballot {
            super::Ballot::Open => "Phiếu công khai",
            super::Ballot::Secret => "Phiếu kín",
        },
    ));
    if c.photo.is_some() {
        text.push_str("\n(Có ảnh kèm theo, xem cùng phiếu trong tin nhắn riêng.)");
    }
    let at = now.with_timezone(&app.settings.timezone).format("%H:%M");
    text.push_str(&format!("\n\n{answered}/{registered} {} đã cho ý kiến (cập nhật lúc {at}).", c.unit.noun()));
    if c.status == Status::Closed {
        text.push_str("\nXin cảm ơn bà con đã cho ý kiến!");
    }
    text
}

/// **Cho ý kiến** under the group post: the ballot in private.
fn link(c: &Consultation) -> Vec<Vec<Choice>> {
    vec![vec![Choice::private("🗳 Cho ý kiến", format!("{}{}", card::PAYLOAD_PREFIX, c.code.id()))]]
}

/// The post's buttons on each platform (as a notice keeps them).
fn keyboards(c: &Consultation) -> BTreeMap<String, Keyboard> {
    Channel::ALL.into_iter().map(|channel| (channel.as_str().to_string(), keyboard(c, channel))).collect()
}

/// The post's buttons in `channel`'s chats: the deep link to the ballot in
/// private where there is one; elsewhere the options themselves (the
/// message is the ballot there).
fn keyboard(c: &Consultation, channel: Channel) -> Keyboard {
    if channel.capabilities().deep_links {
        told::keyboard(&link(c))
    } else {
        card::keyboard(c)
    }
}

/// Queues the post to every chat of the consultation's groups (and every
/// Zalo household) at `now`; how many chats.
pub async fn send(
    app: &App,
    conn: &mut SqliteConnection,
    c: &Consultation,
    registered: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let groups = repo::targets(&mut *conn, c.code).await?;
    let (notice, count) = notice::repo::queue_own(
        &mut *conn,
        c.creator,
        &text(app, c, 0, registered, now),
        &keyboards(c),
        &format!("phiếu lấy ý kiến {}", c.code),
        &groups,
        now,
    )
    .await?;
    sqlx::query("UPDATE consultations SET post_notice_id = ?, post_edited_at = ? WHERE id = ?")
        .bind(notice.id())
        .bind(now)
        .bind(c.code.id())
        .execute(conn)
        .await?;
    app.outbox.notify_one();
    Ok(count)
}

/// Brings the group posts up to date at `now` if their last edit is a
/// minute old; otherwise the scheduler does when the minute allows.
pub async fn touch(
    app: &App,
    conn: &mut SqliteConnection,
    c: &Consultation,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notification>> {
    if repo::posts_due(&mut *conn, now - EDIT_EVERY).await?.contains(&c.code) {
        return edit_all(app, conn, c, now).await;
    }
    Ok(Vec::new())
}

/// Edits every group post to the current participation.
pub async fn edit_all(
    app: &App,
    conn: &mut SqliteConnection,
    c: &Consultation,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notification>> {
    let counted = figures::participation(&mut *conn, c).await?;
    edit_all_with(app, conn, c, counted, now).await
}

/// As [`edit_all`], with the participation already counted (the close has
/// it from the tally).
pub async fn edit_all_with(
    app: &App,
    conn: &mut SqliteConnection,
    c: &Consultation,
    (answered, registered): (i64, i64),
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notification>> {
    let text = text(app, c, answered, registered, now);
    let mut edits = Vec::new();
    if let Some(notice) = post_notice(&mut *conn, c.code).await? {
        // Where posts cannot be edited they stay as sent; where they can,
        // the deep link stays while the consultation is open.
        for channel in Channel::ALL.into_iter().filter(|ch| ch.capabilities().edits) {
            let choices = match c.status {
                Status::Open if channel.capabilities().deep_links => link(c),
                _ => Vec::new(),
            };
            for message in notice::repo::sent_messages(&mut *conn, notice, channel).await? {
                edits.push(Notification::message(message, text.clone()).with_choices(choices.clone()));
            }
        }
    }
    repo::post_edited(conn, c.code, now).await?;
    Ok(edits)
}

async fn post_notice(conn: &mut SqliteConnection, code: ConsultationCode) -> anyhow::Result<Option<NoticeCode>> {
    let id: Option<Option<i64>> = sqlx::query_scalar("SELECT post_notice_id FROM consultations WHERE id = ?")
        .bind(code.id())
        .fetch_optional(conn)
        .await?;
    Ok(id.flatten().map(NoticeCode::new))
}

/// When the next post may be edited, if one shows an old figure.
pub async fn next_edit_due(db: &Database) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let oldest: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT MIN(post_edited_at) FROM consultations WHERE post_dirty = 1")
            .fetch_one(&mut *db.read().await?)
            .await?;
    Ok(oldest.map(|at| at + EDIT_EVERY))
}

/// The scheduler's part: the last figure always reaches the groups.
pub async fn flush_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let mut out = Replies::default();
    let before = app.clock.now() - EDIT_EVERY;
    if repo::posts_due(&mut *db.read().await?, before).await?.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    for code in repo::posts_due(&mut tx, before).await? {
        if let Some(c) = repo::get(&mut tx, code).await? {
            let edits = edit_all(app, &mut tx, &c, app.clock.now()).await?;
            told::render(&mut tx, edits, &mut out).await?;
        }
    }
    outbox.commit(tx, std::mem::take(&mut out)).await?;
    Ok(())
}
