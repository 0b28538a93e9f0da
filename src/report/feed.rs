//! A group's public feed of its reports (`/bangtin bat|tat`): new reports
//! and closures are posted in the group chat as
//! `📋 PA-000123 · Chiếu sáng · ngõ 12 · đã xử lý · gửi 2 ngày trước`.
//! A line is built from structured parts only: nothing the resident typed
//! (description, the place as typed) is copied into it, so neither the
//! reporter's name or phone nor a house number can reach the group; the
//! place is reduced to its lane or street (see [`super::public_place`]).
//! Photos go only when a leader chose to share them.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use sqlx::SqliteConnection;

use chrono::{DateTime, Utc};

use super::{Place, Report};
use crate::action::Notification;
use crate::app::App;
use crate::channel::ChatKind;
use crate::group::{self, Group};
use crate::roles::{self};
use crate::text::fold;

pub async fn enabled(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<bool> {
    let on: Option<bool> =
        sqlx::query_scalar("SELECT public_feed FROM groups WHERE id = ?").bind(group_id).fetch_optional(conn).await?;
    Ok(on.unwrap_or(false))
}

fn line(app: &App, report: &Report, group: &str, now: DateTime<Utc>) -> String {
    let place = match &report.place {
        Place::Address(typed) => super::public_place::reduce(typed).unwrap_or_else(|| group.to_string()),
        Place::Pin { .. } => "có vị trí trên bản đồ".to_string(),
        Place::None => group.to_string(),
    };
    let age = match app.settings.age(report.created_at, now) {
        just if just == "vừa xong" => "vừa gửi".to_string(),
        age => format!("gửi {age} trước"),
    };
    format!(
        "📋 {} · {} · {place} · {} · {age}",
        report.code,
        app.settings.reports.category_label(&report.category),
        report.status.label()
    )
}

/// The report's current line for its group's chats, if the feed is on;
/// its age counted to `now`.
pub async fn told(
    app: &App,
    conn: &mut SqliteConnection,
    report: &Report,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notification>> {
    if !enabled(&mut *conn, report.group_id).await? {
        return Ok(Vec::new());
    }
    let group = group::by_id(&mut *conn, report.group_id).await?.map(|g| g.name).unwrap_or_default();
    let text = line(app, report, &group, now);
    Ok(group::chats_of(conn, report.group_id)
        .await?
        .iter()
        .map(|chat| Notification::chat(chat, text.clone()))
        .collect())
}

/// The report's photos, for its group's chats.
pub async fn photos_told(conn: &mut SqliteConnection, report: &Report) -> anyhow::Result<Vec<Notification>> {
    let mut told = Vec::new();
    for chat in group::chats_of(conn, report.group_id).await? {
        for file_id in &report.photos {
            told.push(Notification::chat(&chat, format!("Ảnh hiện trường {}", report.code)).with_photo(file_id));
        }
    }
    Ok(told)
}

/// `/bangtin bat|tat [tổ]`: leaders of the group, or officials.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let now = db.now();
    const USAGE: &str = "Cách dùng: /bangtin bat để đăng phản ánh mới và kết quả xử lý lên nhóm (không kèm tên, số điện thoại người gửi), /bangtin tat để tắt.";
    let folded = fold(args);
    let mut words = folded.split_whitespace();
    let on = match words.next() {
        Some("bat" | "on") => true,
        Some("tat" | "off") => false,
        _ => {
            return Err(Refusal::input(USAGE).into());
        }
    };
    let rest: String = args.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    let mut tx = db.write().await?;
    let group: Option<Group> = if msg.chat_kind == ChatKind::Group {
        group::by_chat(&mut tx, &msg.chat).await?
    } else if !rest.is_empty() {
        group::find(&mut tx, &rest).await?
    } else {
        match group::led_by(&mut tx, caller.id).await?.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    };
    let Some(group) = group else {
        return Err(Refusal::input(
            "Xin gõ lệnh trong nhóm chat của tổ, hoặc ghi tên tổ: /bangtin bat Tổ dân phố số 12",
        )
        .into());
    };
    if !roles::can_manage_group(&mut tx, caller.id, group.id).await? {
        return Err(Refusal::OnlyFor {
            who: "tổ trưởng, tổ phó của tổ hoặc cán bộ phường",
            to: "bật, tắt được bảng tin",
        }
        .into());
    }
    sqlx::query("UPDATE groups SET public_feed = ? WHERE id = ?").bind(on).bind(group.id).execute(&mut *tx).await?;
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        if on { "feed.on" } else { "feed.off" },
        &format!("group:{}", group.id),
        None,
    )
    .await?;
    let text = if on {
        format!("Đã bật bảng tin phản ánh của «{}»: phản ánh mới và kết quả xử lý sẽ được đăng lên nhóm, không kèm tên hay số điện thoại người gửi.", group.name)
    } else {
        format!("Đã tắt bảng tin phản ánh của «{}».", group.name)
    };
    out.send(&msg.chat, text);
    Ok(())
}
