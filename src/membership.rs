//! Joining a group by code, where deep links do not exist (Zalo). `/mato`
//! shows leaders their group's code (`TDP12-7KQ`); a resident who sends it
//! to the bot belongs to that group from then on, so `/dangky`, `/phananh`
//! and `/ungho` start there without asking which group.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use sqlx::SqliteConnection;

use crate::channel::ChatKind;
use crate::group::{self, Group};
use crate::roles::{self};

/// `/mato`: the join codes of the groups the caller leads (all for
/// officials; in a group chat, that group's).
pub async fn show(turn: &mut Turn) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let mut tx = db.write().await?;
    let groups = if msg.chat_kind == ChatKind::Group {
        match group::by_chat(&mut tx, &msg.chat).await? {
            Some(g) if roles::can_manage_group(&mut tx, caller.id, g.id).await? => vec![g],
            _ => Vec::new(),
        }
    } else if roles::is_official(&mut tx, caller.id).await? {
        group::all(&mut tx).await?
    } else {
        group::led_by(&mut tx, caller.id).await?
    };
    if groups.is_empty() {
        return Err(Refusal::OnlyFor {
            who: "tổ trưởng, tổ phó hoặc cán bộ phường",
            to: "xem được mã tham gia của tổ",
        }
        .into());
    }
    let mut text = String::from("Mã tham gia tổ (người dùng Zalo nhắn mã này cho bot để vào đúng tổ):");
    for g in &groups {
        text.push_str(&format!("\n• {}: {}", g.name, code_of(&mut tx, g).await?));
    }
    out.send(&msg.chat, text);
    Ok(())
}

async fn code_of(conn: &mut SqliteConnection, group: &Group) -> anyhow::Result<String> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT join_code FROM groups WHERE id = ?").bind(group.id).fetch_one(&mut *conn).await?;
    if let Some(code) = existing {
        return Ok(code);
    }
    let code = format!("TDP{}-{}", group.id, crate::text::random_code(3)?);
    sqlx::query("UPDATE groups SET join_code = ? WHERE id = ?").bind(&code).bind(group.id).execute(conn).await?;
    Ok(code)
}

/// `TDP12-7KQ`, also typed `tdp12 7kq`.
pub fn parse_code(text: &str) -> Option<String> {
    crate::text::read_code(text, "TDP", 3)
}

/// A text that may be a join code. True if it was one (right or wrong).
pub async fn join(turn: &mut Turn, text: &str) -> Handled<bool> {
    let Turn { app, caller, db, out, .. } = turn;
    let Some(code) = parse_code(text) else { return Ok(false) };
    let me = caller.addr.private_chat();
    let tx = db.write().await?;
    let found: Option<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM groups WHERE join_code = ?").bind(&code).fetch_optional(&mut *tx).await?;
    let Some((group_id, name)) = found else {
        out.send(&me, "Mã tham gia này không đúng. Xin bác hỏi lại tổ trưởng mã của tổ.");
        return Ok(true);
    };
    sqlx::query(
        "INSERT INTO group_members (user_id, group_id, joined_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET group_id = excluded.group_id, joined_at = excluded.joined_at",
    )
    .bind(caller.id)
    .bind(group_id)
    .bind(app.clock.now())
    .execute(&mut *tx)
    .await?;
    out.send(
        &me,
        format!(
            "✅ Bác đã vào {name}. Gõ /dangky để đăng ký hộ, /phananh để gửi phản ánh, /ungho để ủng hộ quỹ của tổ."
        ),
    );
    Ok(true)
}

/// The group a person joined by code, if any.
pub async fn joined(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Option<Group>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT g.id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ?",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, name)| Group { id, name }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(parse_code("TDP12-7KQ"), Some("TDP12-7KQ".into()));
        assert_eq!(parse_code(" tdp12 7kq "), Some("TDP12-7KQ".into()));
        assert_eq!(parse_code("TDP-7KQ"), None);
        assert_eq!(parse_code("TDP12-7K"), None);
        assert_eq!(parse_code("tổ dân phố 12"), None);
    }
}
