//! Buttons on Zalo, shown and read. What a (chat, person) was offered is
//! kept by `channel::menus`, written with the message; a reply that is one
//! of its numbers or labels is that button's press, with the same role
//! checks as a press on Telegram.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

pub use crate::channel::menus::{options, word, Menu};

/// The list under the message: "Bác trả lời bằng số: 1. …", or the words
/// to type.
pub fn render(menu: &Menu) -> String {
    if !menu.numbers {
        let words: Vec<String> = menu.options.iter().map(|(label, _)| format!("«{}»", word(label))).collect();
        return format!("Bác trả lời bằng chữ: {}.", words.join(" hoặc "));
    }
    let mut text = String::from("Bác trả lời bằng số:");
    for (i, (label, _)) in menu.options.iter().enumerate() {
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

/// Remembers the options of a message that came on its own (a notice, to
/// a household's private chat, whose person's id is the chat's): they do
/// not replace the question in hand. Written as the notice part is sent:
/// the notice's own row in its outbox is what a crash keeps.
pub async fn remember_aside(
    conn: &mut SqliteConnection,
    chat: &str,
    options: &[(String, String)],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let json = serde_json::to_string(options).unwrap_or_default();
    sqlx::query(
        "INSERT INTO zalo_menus (chat_id, person_id, options, aside, shown_at) VALUES (?, ?, '[]', ?, ?)
         ON CONFLICT (chat_id, person_id) DO UPDATE SET aside = excluded.aside",
    )
    .bind(chat)
    .bind(chat)
    .bind(json)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The button `person`'s reply in `chat` picks: a number of the question
/// in hand (or, with none in hand, of what came on the side), or a label
/// of either.
pub async fn pick(conn: &mut SqliteConnection, chat: &str, person: &str, reply: &str) -> sqlx::Result<Option<String>> {
    let stored: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT options, aside FROM zalo_menus WHERE chat_id = ? AND person_id = ?")
            .bind(chat)
            .bind(person)
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
    use crate::channel::{Button, Keyboard};

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
        assert!(render(&main).contains("1. ✅ Xác nhận\n2. ✏️ Sửa"));
    }

    #[test]
    fn under_a_numbered_list_the_options_are_words() {
        let keyboard =
            Keyboard::rows(vec![vec![Button::callback("✏️ Sửa", "dg:edit"), Button::callback("✅ Xác nhận", "dg:ok")]]);
        let menu = Menu::under("Xin bác kiểm tra lại:\n1. Chủ hộ: An\n2. Số nhà: 12", &keyboard);
        assert!(!menu.numbers);
        assert_eq!(render(&menu), "Bác trả lời bằng chữ: «Sửa» hoặc «Xác nhận».");
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
