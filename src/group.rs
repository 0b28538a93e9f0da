//! Groups of the ward and the chats linked to them.
//!
//! ```text
//! (in the group chat) Official: /lienket Tổ dân phố số 12
//!                     Bot:      Đã liên kết nhóm chat này với «Tổ dân phố số 12».
//! (private)           Official: /nhom
//!                     Bot:      Các tổ dân phố của Phường Xuân La: 1. Tổ dân phố số 12 — 1 nhóm chat …
//! ```

use crate::db::Database;
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use sqlx::SqliteConnection;

use crate::app::App;
use crate::channel::{ChatAddr, ChatKind};
use crate::roles::{self};
use crate::text::{fold, squash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: i64,
    pub name: String,
}

pub async fn by_id(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<Option<Group>> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM groups WHERE id = ?").bind(id).fetch_optional(conn).await?;
    Ok(row.map(|(id, name)| Group { id, name }))
}

pub async fn by_chat(conn: &mut SqliteConnection, chat: &ChatAddr) -> anyhow::Result<Option<Group>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT g.id, g.name FROM group_chats c JOIN groups g ON g.id = c.group_id WHERE c.channel = ? AND c.chat_id = ?",
    )
    .bind(chat.channel.as_str())
    .bind(&chat.id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, name)| Group { id, name }))
}

/// Finds a group by its number in `/nhom` or by its name, with or without
/// diacritics.
pub async fn find(conn: &mut SqliteConnection, query: &str) -> anyhow::Result<Option<Group>> {
    let query = query.trim();
    if let Ok(id) = query.trim_start_matches('#').parse::<i64>() {
        return by_id(conn, id).await;
    }
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM groups WHERE name_folded = ?")
        .bind(fold(query))
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id, name)| Group { id, name }))
}

pub async fn all(conn: &mut SqliteConnection) -> anyhow::Result<Vec<Group>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM groups ORDER BY id").fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(id, name)| Group { id, name }).collect())
}

/// `/lienket <tên tổ>`, typed in the group chat by an official.
pub async fn link(turn: &mut Turn, args: &str) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let now = db.now();
    let mut tx = db.write().await?;
    if !roles::is_official(&mut tx, caller.id).await? {
        return Err(Refusal::OnlyFor { who: "cán bộ phường", to: "liên kết được nhóm" }.into());
    }
    if msg.chat_kind != ChatKind::Group {
        return Err(Refusal::WrongPlace(
            "Xin gõ lệnh này trong nhóm chat của tổ dân phố, ví dụ: /lienket Tổ dân phố số 12".into(),
        )
        .into());
    }
    let name = squash(args);
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(Refusal::input("Xin gõ kèm tên tổ dân phố, ví dụ: /lienket Tổ dân phố số 12").into());
    }
    let group_id: i64 = sqlx::query_scalar(
        "INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name_folded) DO UPDATE SET name_folded = excluded.name_folded RETURNING id",
    )
    .bind(&name)
    .bind(fold(&name))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let group = by_id(&mut tx, group_id).await?.ok_or_else(|| anyhow::anyhow!("group vanished"))?;
    let previous = by_chat(&mut tx, &msg.chat).await?;
    sqlx::query(
        "INSERT INTO group_chats (channel, chat_id, group_id, linked_by, linked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (channel, chat_id) DO UPDATE SET group_id = excluded.group_id, linked_by = excluded.linked_by, linked_at = excluded.linked_at",
    )
    .bind(msg.chat.channel.as_str())
    .bind(&msg.chat.id)
    .bind(group.id)
    .bind(caller.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        "group.link",
        &format!("group:{}", group.id),
        Some(&msg.chat.id),
    )
    .await?;
    let text = match previous {
        Some(p) if p.id == group.id => format!("Nhóm chat này đã được liên kết với «{}» từ trước.", group.name),
        Some(p) => format!("Đã chuyển liên kết nhóm chat này từ «{}» sang «{}».", p.name, group.name),
        None => format!("Đã liên kết nhóm chat này với «{}». Bà con gõ /dangky để đăng ký hộ gia đình.", group.name),
    };
    out.send(&msg.chat, text);
    Ok(())
}

/// `/nhom`: the ward's groups with their chats and leaders (officials only).
pub async fn list(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    if !roles::is_official(&mut conn, caller.id).await? {
        return Err(Refusal::OnlyFor { who: "cán bộ phường", to: "xem được danh sách này" }.into());
    }
    let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT g.id, g.name,
                (SELECT COUNT(*) FROM group_chats c WHERE c.group_id = g.id),
                (SELECT COUNT(*) FROM households h WHERE h.group_id = g.id AND h.status = 'approved')
         FROM groups g ORDER BY g.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        out.send(
            &msg.chat,
            "Chưa có tổ dân phố nào. Thêm bot vào nhóm chat của tổ rồi gõ trong nhóm: /lienket Tổ dân phố số 12",
        );
        return Ok(());
    }
    let leader_names = roles::leader_names(&mut conn).await?;
    let mut text = format!("Các tổ dân phố của {}:", app.settings.ward_name);
    for (id, name, chats, households) in rows {
        let chats = if chats == 0 { "chưa liên kết nhóm chat".to_string() } else { format!("{chats} nhóm chat") };
        let leaders = match leader_names.get(&id) {
            Some(names) => format!("tổ trưởng/tổ phó: {}", names.join(", ")),
            None => "chưa có tổ trưởng".to_string(),
        };
        text.push_str(&format!("\n#{id}. {name} — {chats}, {leaders}, {households} hộ đã duyệt"));
    }
    out.send(&msg.chat, text);
    Ok(())
}

/// The chat moved to a new id (a group upgraded to a supergroup): the link
/// follows it, so roles and records stay with the group.
pub async fn migrate(_app: &App, db: &Database, from: &ChatAddr, to: &ChatAddr) -> anyhow::Result<()> {
    let mut conn = db.write().await?;
    migrate_on(&mut conn, from, to).await?;
    conn.commit().await?;
    Ok(())
}

pub async fn migrate_on(conn: &mut SqliteConnection, from: &ChatAddr, to: &ChatAddr) -> anyhow::Result<()> {
    let done = sqlx::query("UPDATE OR IGNORE group_chats SET chat_id = ? WHERE channel = ? AND chat_id = ?")
        .bind(&to.id)
        .bind(from.channel.as_str())
        .bind(&from.id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() > 0 {
        tracing::info!(from = %from.id, to = %to.id, "group chat migrated");
    }
    Ok(())
}

/// The chats linked to a group (where notices and the feed go).
pub async fn chats_of(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<Vec<ChatAddr>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, chat_id FROM group_chats WHERE group_id = ? ORDER BY linked_at")
            .bind(group_id)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(channel, id)| Some(ChatAddr { channel: crate::channel::Channel::parse(&channel)?, id }))
        .collect())
}

/// Groups the user leads.
pub async fn led_by(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Vec<Group>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT g.id, g.name FROM leaders l JOIN groups g ON g.id = l.group_id WHERE l.user_id = ? ORDER BY g.id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, name)| Group { id, name }).collect())
}
