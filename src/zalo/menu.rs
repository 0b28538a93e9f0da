//! Buttons on Zalo. The options of the last message the bot sent to a
//! person are kept (in the database, so a restart does not forget them);
//! a reply that is one of their numbers or labels is that button's press,
//! with the same role checks as a press on Telegram.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use crate::channel::{ButtonKind, Keyboard};

/// The options of a keyboard, in order: (label, callback data).
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

/// What a chat was last asked: the options of the question in hand, and
/// whether their numbers may be typed. Not when the message itself holds a
/// numbered list (a summary's fields 1–10): "1" would mean two things, so
/// those options are answered in words.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Menu {
    pub options: Vec<(String, String)>,
    pub numbers: bool,
}

impl Menu {
    /// The options of `keyboard`, shown under `text`.
    pub fn under(text: &str, keyboard: &Keyboard) -> Self {
        let options = options(keyboard);
        let own_numbers = options.iter().enumerate().all(|(i, (label, _))| label.starts_with(&format!("{}.", i + 1)));
        Self { numbers: own_numbers || !numbered_list(text), options }
    }

    /// The list under the message: "Bác trả lời bằng số: 1. …", or the
    /// words to type.
    pub fn render(&self) -> String {
        if !self.numbers {
            let words: Vec<String> = self.options.iter().map(|(label, _)| format!("«{}»", word(label))).collect();
            return format!("Bác trả lời bằng chữ: {}.", words.join(" hoặc "));
        }
        let mut text = String::from("Bác trả lời bằng số:");
        for (i, (label, _)) in self.options.iter().enumerate() {
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
}

/// A label without its leading emoji or number ("1. Đồng ý" is «Đồng
/// ý»): what a person types.
pub fn word(label: &str) -> &str {
    let label = label.trim_start_matches(|c: char| !c.is_alphanumeric()).trim();
    match label.split_once(". ") {
        Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rest.trim(),
        _ => label,
    }
}

/// Whether `text` holds a list numbered from 1.
fn numbered_list(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("1.") || l.starts_with("1)")
    })
}

/// Remembers the question now asked in `chat` (no options: none in hand),
/// as shown at `at`. What was shown on the side stays.
pub async fn remember(conn: &mut SqliteConnection, chat: &str, menu: &Menu, at: DateTime<Utc>) -> sqlx::Result<()> {
    let json = serde_json::to_string(menu).unwrap_or_default();
    sqlx::query(
        "INSERT INTO zalo_menus (chat_id, options, shown_at) VALUES (?, ?, ?)
         ON CONFLICT (chat_id) DO UPDATE SET options = excluded.options, shown_at = excluded.shown_at",
    )
    .bind(chat)
    .bind(json)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Remembers the options of a message that came on its own (a notice):
/// they do not replace the question in hand.
pub async fn remember_aside(
    conn: &mut SqliteConnection,
    chat: &str,
    options: &[(String, String)],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let json = serde_json::to_string(options).unwrap_or_default();
    sqlx::query(
        "INSERT INTO zalo_menus (chat_id, options, aside, shown_at) VALUES (?, '[]', ?, ?)
         ON CONFLICT (chat_id) DO UPDATE SET aside = excluded.aside",
    )
    .bind(chat)
    .bind(json)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets every option offered to a chat (a secret ballot's, once it is
/// answered).
pub async fn forget(conn: &mut SqliteConnection, chat: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM zalo_menus WHERE chat_id = ?").bind(chat).execute(conn).await?;
    Ok(())
}

/// The button a reply picks: a number of the question in hand (or, with
/// none in hand, of what came on the side), or a label of either.
pub async fn pick(conn: &mut SqliteConnection, chat: &str, reply: &str) -> sqlx::Result<Option<String>> {
    let stored: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT options, aside FROM zalo_menus WHERE chat_id = ?")
            .bind(chat)
            .fetch_optional(conn)
            .await?;
    let Some((options, aside)) = stored else { return Ok(None) };
    let main = parse_menu(&options);
    let aside: Vec<(String, String)> = aside.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
    Ok(choose(&main, &aside, reply))
}

/// A stored question: today's shape, or the list of options the versions
/// before migration 0017 stored (numbers allowed).
fn parse_menu(stored: &str) -> Menu {
    serde_json::from_str::<Menu>(stored)
        .or_else(|_| {
            serde_json::from_str::<Vec<(String, String)>>(stored).map(|options| Menu { options, numbers: true })
        })
        .unwrap_or_default()
}

fn choose(main: &Menu, aside: &[(String, String)], reply: &str) -> Option<String> {
    let reply = crate::text::fold(reply.trim().trim_end_matches('.'));
    if let Ok(n) = reply.parse::<usize>() {
        let i = n.checked_sub(1)?;
        return match (main.options.is_empty(), main.numbers) {
            (false, true) => main.options.get(i).map(|(_, data)| data.clone()),
            (false, false) => None,
            (true, _) => aside.get(i).map(|(_, data)| data.clone()),
        };
    }
    let strip = |s: &str| crate::text::fold(s).chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect::<String>();
    let reply = strip(&reply);
    main.options
        .iter()
        .chain(aside)
        .find(|(label, _)| strip(label).trim() == reply.trim() || strip(word(label)).trim() == reply.trim())
        .map(|(_, data)| data.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Button;

    fn confirm() -> Vec<(String, String)> {
        vec![("✅ Xác nhận".to_string(), "dg:ok".to_string()), ("✏️ Sửa".to_string(), "dg:edit".to_string())]
    }

    #[test]
    fn a_number_or_a_label_picks_an_option() {
        let main = Menu { options: confirm(), numbers: true };
        assert_eq!(choose(&main, &[], "1"), Some("dg:ok".into()));
        assert_eq!(choose(&main, &[], " 2. "), Some("dg:edit".into()));
        assert_eq!(choose(&main, &[], "xac nhan"), Some("dg:ok".into()));
        assert_eq!(choose(&main, &[], "Sửa"), Some("dg:edit".into()));
        assert_eq!(choose(&main, &[], "3"), None);
        assert_eq!(choose(&main, &[], "0"), None);
        assert_eq!(choose(&main, &[], "12 ngõ 41"), None);
        assert!(main.render().contains("1. ✅ Xác nhận\n2. ✏️ Sửa"));
    }

    #[test]
    fn under_a_numbered_list_the_options_are_words() {
        let keyboard =
            Keyboard::rows(vec![vec![Button::callback("✏️ Sửa", "dg:edit"), Button::callback("✅ Xác nhận", "dg:ok")]]);
        let menu = Menu::under("Xin bác kiểm tra lại:\n1. Chủ hộ: An\n2. Số nhà: 12", &keyboard);
        assert!(!menu.numbers);
        assert_eq!(menu.render(), "Bác trả lời bằng chữ: «Sửa» hoặc «Xác nhận».");
        assert_eq!(choose(&menu, &[], "1"), None, "1 is the first field, not a button");
        assert_eq!(choose(&menu, &[], "xác nhận"), Some("dg:ok".into()));
        let fields = Keyboard::rows(vec![vec![
            Button::callback("1. Chủ hộ", "dg:f:0"),
            Button::callback("2. Số nhà", "dg:f:1"),
        ]]);
        assert!(Menu::under("Bác muốn sửa mục nào?\n1. Chủ hộ", &fields).numbers, "the options are that list");
    }

    #[test]
    fn what_came_on_the_side_never_takes_the_number_of_the_question_in_hand() {
        let seen = vec![("👁 Đã xem".to_string(), "nt:seen:1".to_string())];
        let main = Menu { options: confirm(), numbers: true };
        assert_eq!(choose(&main, &seen, "1"), Some("dg:ok".into()));
        assert_eq!(choose(&main, &seen, "đã xem"), Some("nt:seen:1".into()));
        assert_eq!(choose(&Menu::default(), &seen, "1"), Some("nt:seen:1".into()), "no question in hand");
    }

    #[test]
    fn a_menu_stored_before_0017_still_reads() {
        let old = serde_json::to_string(&confirm()).unwrap();
        assert_eq!(parse_menu(&old), Menu { options: confirm(), numbers: true });
    }
}
