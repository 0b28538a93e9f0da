//! Groups of the ward and the chats linked to them; the link itself is in
//! `actions`.
//!
//! ```text
//! (in the group chat) Official: /lienket Tổ dân phố số 12
//!                     Bot:      Đã liên kết nhóm chat này với «Tổ dân phố số 12».
//! (private)           Official: /nhom
//!                     Bot:      Các tổ dân phố của Phường Xuân La: 1. Tổ dân phố số 12 — 1 nhóm chat …
//! ```

pub mod actions;

use crate::db::Database;
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use sqlx::SqliteConnection;

use crate::app::App;
use crate::channel::{ChatAddr, ChatKind};
use crate::roles::{self};
use crate::text::fold;

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
    if turn.msg.chat_kind != ChatKind::Group {
        return Err(Refusal::WrongPlace(
            "Xin gõ lệnh này trong nhóm chat của tổ dân phố, ví dụ: /lienket Tổ dân phố số 12".into(),
        )
        .into());
    }
    let Some(name) = actions::GroupName::parse(args) else {
        return Err(Refusal::input("Xin gõ kèm tên tổ dân phố, ví dụ: /lienket Tổ dân phố số 12").into());
    };
    let actor = turn.actor();
    let chat = turn.msg.chat.clone();
    let done = actions::link(turn.db.write().await?, &actor, &chat, &name).await?;
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
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
