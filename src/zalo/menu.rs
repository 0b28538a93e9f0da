//! Buttons on Zalo. The options of the last message the bot sent to a
//! person are kept (in the database, so a restart does not forget them);
//! a reply that is one of their numbers or labels is that button's press,
//! with the same role checks as a press on Telegram.

use chrono::Utc;
use sqlx::SqliteConnection;

use crate::channel::{ButtonKind, Keyboard};

/// The options of a keyboard, numbered from 1: (label, callback data).
pub fn options(keyboard: &Keyboard) -> Vec<(String, String)> {
    keyboard
        .rows
        .iter()
        .flatten()
        .filter_map(|b| match &b.kind {
            ButtonKind::Callback(data) => Some((b.label.clone(), data.clone())),
            ButtonKind::StartPrivate(_) => None,
        })
        .collect()
}

/// The list under a message: "Trả lời bằng số: 1. Xác nhận …".
pub fn render(options: &[(String, String)]) -> String {
    let mut text = String::from("Bác trả lời bằng số:");
    for (i, (label, _)) in options.iter().enumerate() {
        let n = format!("{}.", i + 1);
        // Labels that already carry their number ("1. Chủ hộ") keep it.
        if label.starts_with(&n) {
            text.push_str(&format!("\n{label}"));
        } else {
            text.push_str(&format!("\n{n} {label}"));
        }
    }
    text
}

/// Remembers the options now shown in `chat` (none clears them).
pub async fn remember(conn: &mut SqliteConnection, chat: &str, options: &[(String, String)]) -> sqlx::Result<()> {
    if options.is_empty() {
        sqlx::query("DELETE FROM zalo_menus WHERE chat_id = ?").bind(chat).execute(conn).await?;
    } else {
        let json = serde_json::to_string(options).unwrap_or_default();
        sqlx::query(
            "INSERT INTO zalo_menus (chat_id, options, shown_at) VALUES (?, ?, ?)
             ON CONFLICT (chat_id) DO UPDATE SET options = excluded.options, shown_at = excluded.shown_at",
        )
        .bind(chat)
        .bind(json)
        .bind(Utc::now())
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// The button a reply picks, if it is a number or a label of the options
/// shown in `chat`.
pub async fn pick(conn: &mut SqliteConnection, chat: &str, reply: &str) -> sqlx::Result<Option<String>> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT options FROM zalo_menus WHERE chat_id = ?").bind(chat).fetch_optional(conn).await?;
    let Some(options) = stored.and_then(|s| serde_json::from_str::<Vec<(String, String)>>(&s).ok()) else {
        return Ok(None);
    };
    Ok(choose(&options, reply))
}

fn choose(options: &[(String, String)], reply: &str) -> Option<String> {
    let reply = crate::text::fold(reply.trim().trim_end_matches('.'));
    if let Ok(n) = reply.parse::<usize>() {
        return options.get(n.checked_sub(1)?).map(|(_, data)| data.clone());
    }
    let strip = |s: &str| crate::text::fold(s).chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect::<String>();
    let reply = strip(&reply);
    options.iter().find(|(label, _)| strip(label).trim() == reply.trim()).map(|(_, data)| data.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_a_label_picks_an_option() {
        let options =
            vec![("✅ Xác nhận".to_string(), "dg:ok".to_string()), ("✏️ Sửa".to_string(), "dg:edit".to_string())];
        assert_eq!(choose(&options, "1"), Some("dg:ok".into()));
        assert_eq!(choose(&options, " 2. "), Some("dg:edit".into()));
        assert_eq!(choose(&options, "xac nhan"), Some("dg:ok".into()));
        assert_eq!(choose(&options, "Sửa"), Some("dg:edit".into()));
        assert_eq!(choose(&options, "3"), None);
        assert_eq!(choose(&options, "0"), None);
        assert_eq!(choose(&options, "12 ngõ 41"), None);
        assert!(render(&options).contains("1. ✅ Xác nhận\n2. ✏️ Sửa"));
    }
}
