//! Notice, target, delivery and acknowledgement rows.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Notice, NoticeCode, Status};
use crate::channel::{Channel, ChatAddr};

type Row = (i64, i64, String, Option<String>, bool, Option<DateTime<Utc>>, String);
const SELECT: &str = "SELECT id, sender_user_id, text, photo_file_id, pin, scheduled_for, status FROM notices";

fn notice(row: Row) -> anyhow::Result<Notice> {
    let (id, sender, text, photo, pin, scheduled_for, status) = row;
    Ok(Notice {
        code: NoticeCode::new(id),
        sender,
        text,
        photo,
        pin,
        scheduled_for,
        status: Status::from_code(&status).ok_or_else(|| anyhow::anyhow!("notice {id}: bad status"))?,
    })
}

pub async fn get(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<Option<Notice>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE id = ?")).bind(code.id()).fetch_optional(conn).await?;
    row.map(notice).transpose()
}

pub async fn create_draft(
    conn: &mut SqliteConnection,
    sender: i64,
    text: &str,
    photo: Option<&str>,
    groups: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<NoticeCode> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notices (sender_user_id, text, photo_file_id, status, created_at) VALUES (?, ?, ?, 'draft', ?) RETURNING id",
    )
    .bind(sender)
    .bind(text)
    .bind(photo)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    set_targets(conn, NoticeCode::new(id), groups).await?;
    Ok(NoticeCode::new(id))
}

pub async fn targets(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT group_id FROM notice_targets WHERE notice_id = ? ORDER BY group_id")
        .bind(code.id())
        .fetch_all(conn)
        .await?)
}

pub async fn set_targets(conn: &mut SqliteConnection, code: NoticeCode, groups: &[i64]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM notice_targets WHERE notice_id = ?").bind(code.id()).execute(&mut *conn).await?;
    for g in groups {
        sqlx::query("INSERT OR IGNORE INTO notice_targets (notice_id, group_id) VALUES (?, ?)")
            .bind(code.id())
            .bind(g)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn set_pin(conn: &mut SqliteConnection, code: NoticeCode, pin: bool) -> anyhow::Result<()> {
    sqlx::query("UPDATE notices SET pin = ? WHERE id = ? AND status = 'draft'")
        .bind(pin)
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_schedule(
    conn: &mut SqliteConnection,
    code: NoticeCode,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE notices SET scheduled_for = ? WHERE id = ? AND status = 'draft'")
        .bind(at)
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Draft → queued, with one delivery row per chat of each target group, in
/// the caller's transaction. Returns the number of deliveries.
pub async fn queue(conn: &mut SqliteConnection, code: NoticeCode, now: DateTime<Utc>) -> anyhow::Result<Option<usize>> {
    let done = sqlx::query("UPDATE notices SET status = 'queued', queued_at = ? WHERE id = ? AND status = 'draft'")
        .bind(now)
        .bind(code.id())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    let inserted = sqlx::query(
        "INSERT OR IGNORE INTO notice_deliveries (notice_id, group_id, channel, chat_id, status)
         SELECT t.notice_id, t.group_id, c.channel, c.chat_id, 'pending'
         FROM notice_targets t JOIN group_chats c ON c.group_id = t.group_id WHERE t.notice_id = ?",
    )
    .bind(code.id())
    .execute(&mut *conn)
    .await?;
    // Zalo bots cannot be in groups: each Zalo household of the target
    // groups gets the notice in private, once however many groups it is in,
    // unless its owner asked not to.
    // From the Zalo users to their households (CROSS JOIN keeps that
    // order): a ward of a million households on Telegram reads none of them.
    let private = sqlx::query(
        "INSERT OR IGNORE INTO notice_deliveries (notice_id, group_id, channel, chat_id, status)
         SELECT ?1, MIN(h.group_id), u.channel, u.external_id, 'pending'
         FROM users u CROSS JOIN households h ON h.owner_user_id = u.id AND h.status = 'approved'
         WHERE u.channel = 'zalo'
           AND h.group_id IN (SELECT t.group_id FROM notice_targets t WHERE t.notice_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM notice_optouts o WHERE o.user_id = u.id)
         GROUP BY u.id",
    )
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(Some((inserted.rows_affected() + private.rows_affected()) as usize))
}

/// Queued → draft again, for a notice queued to no chat at all (nothing
/// else was written for it).
pub async fn unqueue(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<()> {
    sqlx::query("UPDATE notices SET status = 'draft', queued_at = NULL WHERE id = ? AND status = 'queued'")
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that `user` saw the notice, once per household, for the
/// household's own group whichever copy was pressed; someone without a
/// household counts in `pressed_in`, the group of the chat they pressed in.
/// False if they had already.
pub async fn acknowledge(
    conn: &mut SqliteConnection,
    code: NoticeCode,
    user: i64,
    pressed_in: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let household: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, group_id FROM households WHERE owner_user_id = ? AND status = 'approved' ORDER BY id LIMIT 1",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    let group = household.map(|(_, group)| group).or(pressed_in);
    let done = sqlx::query(
        "INSERT INTO notice_acks (notice_id, user_id, group_id, household_id, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(code.id())
    .bind(user)
    .bind(group)
    .bind(household.map(|(id, _)| id))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels a draft or a notice not sent yet. False if it already went out.
pub async fn cancel(conn: &mut SqliteConnection, code: NoticeCode, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE notices SET status = 'cancelled', finished_at = ? WHERE id = ? AND (status = 'draft'
            OR (status = 'queued' AND NOT EXISTS (SELECT 1 FROM notice_deliveries WHERE notice_id = notices.id AND status <> 'pending')))",
    )
    .bind(now)
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub notice: NoticeCode,
    pub group_id: i64,
    pub chat: ChatAddr,
    pub attempts: i64,
    /// Parts of the notice already sent to this chat (see `outbox::parts`).
    pub parts_sent: i64,
}

/// Deliveries that may be sent now, oldest notice first.
pub async fn due(
    conn: &mut SqliteConnection,
    channel: Channel,
    now: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<Delivery>> {
    let rows: Vec<(i64, i64, i64, String, i64, i64)> = sqlx::query_as(
        "SELECT d.id, d.notice_id, d.group_id, d.chat_id, d.attempts, d.parts_sent FROM notice_deliveries d JOIN notices n ON n.id = d.notice_id
         WHERE d.status = 'pending' AND d.channel = ? AND n.status = 'queued'
           AND (n.scheduled_for IS NULL OR n.scheduled_for <= ?) AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
         ORDER BY d.notice_id, d.id LIMIT ?",
    )
    .bind(channel.as_str())
    .bind(now)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, notice, group_id, chat_id, attempts, parts_sent)| Delivery {
            id,
            notice: NoticeCode::new(notice),
            group_id,
            chat: ChatAddr { channel, id: chat_id },
            attempts,
            parts_sent,
        })
        .collect())
}

/// Claims a delivery for sending. Recorded before the request goes out, so
/// a crash in between leaves a row in 'sending' (see `outbox`).
pub async fn mark_sending(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE notice_deliveries SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_sent(
    conn: &mut SqliteConnection,
    id: i64,
    message_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notice_deliveries SET status = 'sent', parts_sent = parts_sent + 1,
            message_id = COALESCE(message_id, ?), sent_at = ?, error = NULL WHERE id = ?",
    )
    .bind(message_id)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A part of the notice went out and more follow: the delivery is due
/// again at once for the next part, with its attempts counted afresh.
pub async fn mark_part_sent(conn: &mut SqliteConnection, id: i64, message_id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notice_deliveries SET status = 'pending', parts_sent = parts_sent + 1, attempts = 0,
            next_attempt_at = NULL, error = NULL, message_id = COALESCE(message_id, ?) WHERE id = ?",
    )
    .bind(message_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_retry(
    conn: &mut SqliteConnection,
    id: i64,
    at: DateTime<Utc>,
    error: &str,
    count_attempt: bool,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notice_deliveries SET status = 'pending', next_attempt_at = ?, error = ?,
            attempts = attempts - CASE WHEN ? THEN 0 ELSE 1 END WHERE id = ?",
    )
    .bind(at)
    .bind(error)
    .bind(count_attempt)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_failed(conn: &mut SqliteConnection, id: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE notice_deliveries SET status = 'failed', error = ? WHERE id = ?")
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The chat moved (a group became a supergroup): this delivery and every
/// other not yet sent follow it.
pub async fn move_chat(conn: &mut SqliteConnection, from: &ChatAddr, to: &ChatAddr) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE OR IGNORE notice_deliveries SET chat_id = ?, status = CASE WHEN status = 'sending' THEN 'pending' ELSE status END
         WHERE channel = ? AND chat_id = ? AND status IN ('pending', 'sending')",
    )
    .bind(&to.id)
    .bind(from.channel.as_str())
    .bind(&from.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a crash: a delivery left in 'sending' may or may not have gone out;
/// it is sent again (see `outbox` for why).
pub async fn reset_sending(conn: &mut SqliteConnection, channel: Channel) -> anyhow::Result<u64> {
    Ok(sqlx::query("UPDATE notice_deliveries SET status = 'pending' WHERE status = 'sending' AND channel = ?")
        .bind(channel.as_str())
        .execute(conn)
        .await?
        .rows_affected())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
}

pub async fn progress(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<Progress> {
    let (total, sent, failed): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(CASE WHEN status = 'sent' THEN 1 END), COUNT(CASE WHEN status = 'failed' THEN 1 END)
         FROM notice_deliveries WHERE notice_id = ?",
    )
    .bind(code.id())
    .fetch_one(conn)
    .await?;
    Ok(Progress { total, sent, failed })
}

/// Marks the notice done once every delivery is sent or failed. True if this
/// call finished it.
pub async fn finish_if_complete(
    conn: &mut SqliteConnection,
    code: NoticeCode,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE notices SET status = 'done', finished_at = ? WHERE id = ? AND status = 'queued'
           AND NOT EXISTS (SELECT 1 FROM notice_deliveries WHERE notice_id = notices.id AND status IN ('pending', 'sending'))",
    )
    .bind(now)
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Failed deliveries with the group's name and the reason.
pub async fn failures(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT g.name, COALESCE(d.error, '') FROM notice_deliveries d JOIN groups g ON g.id = d.group_id
         WHERE d.notice_id = ? AND d.status = 'failed' ORDER BY g.id",
    )
    .bind(code.id())
    .fetch_all(conn)
    .await?)
}

/// Notices scheduled for later and not sent.
pub async fn scheduled(
    conn: &mut SqliteConnection,
    sender: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notice>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE status = 'queued' AND scheduled_for > ? AND (? IS NULL OR sender_user_id = ?) ORDER BY scheduled_for"
    ))
    .bind(now)
    .bind(sender)
    .bind(sender)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(notice).collect()
}

pub async fn latest_by(conn: &mut SqliteConnection, sender: i64) -> anyhow::Result<Option<NoticeCode>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM notices WHERE sender_user_id = ? AND status IN ('queued', 'done') ORDER BY id DESC LIMIT 1",
    )
    .bind(sender)
    .fetch_optional(conn)
    .await?;
    Ok(id.map(NoticeCode::new))
}

/// A notice that carries its own buttons for each platform (`keyboards`,
/// shown under its text as it is, with no heading or signature) and says
/// what it is in its sender's summary (`about`): queued at once to the
/// targets. None if no target has a chat.
#[allow(clippy::too_many_arguments)]
pub async fn queue_own(
    conn: &mut SqliteConnection,
    sender: i64,
    text: &str,
    keyboards: &std::collections::BTreeMap<String, crate::channel::Keyboard>,
    about: &str,
    groups: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<(NoticeCode, usize)> {
    let code = create_draft(&mut *conn, sender, text, None, groups, now).await?;
    sqlx::query("UPDATE notices SET keyboards = ?, about = ? WHERE id = ?")
        .bind(serde_json::to_string(keyboards)?)
        .bind(about)
        .bind(code.id())
        .execute(&mut *conn)
        .await?;
    let count = queue(conn, code, now).await?.unwrap_or(0);
    Ok((code, count))
}

/// A notice's own buttons on `channel` and what it is, when it carries
/// them (see [`queue_own`]).
pub async fn own(
    conn: &mut SqliteConnection,
    code: NoticeCode,
    channel: Channel,
) -> anyhow::Result<Option<(crate::channel::Keyboard, String)>> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT keyboards, about FROM notices WHERE id = ?")
            .bind(code.id())
            .fetch_optional(conn)
            .await?;
    let Some((Some(keyboards), about)) = row else { return Ok(None) };
    let mut keyboards: std::collections::BTreeMap<String, crate::channel::Keyboard> = serde_json::from_str(&keyboards)?;
    Ok(Some((keyboards.remove(channel.as_str()).unwrap_or_default(), about.unwrap_or_default())))
}

/// What a notice that carries its own buttons is (see [`queue_own`]);
/// None for any other.
pub async fn about(conn: &mut SqliteConnection, code: NoticeCode) -> anyhow::Result<Option<String>> {
    let about: Option<Option<String>> =
        sqlx::query_scalar("SELECT about FROM notices WHERE id = ? AND keyboards IS NOT NULL")
            .bind(code.id())
            .fetch_optional(conn)
            .await?;
    Ok(about.map(Option::unwrap_or_default))
}

/// The messages a notice became in the chats of `channel` (the first part
/// in each), to edit.
pub async fn sent_messages(
    conn: &mut SqliteConnection,
    code: NoticeCode,
    channel: Channel,
) -> anyhow::Result<Vec<crate::channel::MessageRef>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT chat_id, message_id FROM notice_deliveries
         WHERE notice_id = ? AND channel = ? AND status = 'sent' AND message_id IS NOT NULL AND message_id != ''
         ORDER BY id",
    )
    .bind(code.id())
    .bind(channel.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(chat, message_id)| crate::channel::MessageRef { chat: ChatAddr { channel, id: chat }, message_id })
        .collect())
}
