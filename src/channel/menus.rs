//! What a chat without buttons keeps of the options it was shown (Zalo's
//! numbered lists, table `zalo_menus`): the options of the last message
//! the bot sent there to a person, so that a number or a label that person
//! types back is that button's press. Kept per (chat, person), so that two
//! residents answering in one group chat never take each other's numbers,
//! and written in the transaction that queues the message (an update's,
//! a job's), so a crash never leaves a message whose numbers mean nothing.
//! The platform's sender only shows them (`zalo::menu`).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Action, ButtonKind, ChatAddr, Keyboard, UserAddr};
use crate::db::Batch;

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

/// What a person was last asked in a chat: the options of the question in
/// hand, and whether their numbers may be typed. Not when the message
/// itself holds a numbered list (a summary's fields 1–10): "1" would mean
/// two things, so those options are answered in words.
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

/// What one (chat, person) keeps after a batch of messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Keep {
    /// The question now in hand (no options: none), beside what came on
    /// its own (a notice's «Đã xem»), which stays.
    Ask(Menu),
    /// Nothing offered there stands any more (a secret ballot answered).
    Forget,
    /// Forgotten, then asked anew: the question alone.
    Anew(Menu),
}

/// A (chat, person)'s options after the messages of one update or job.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub chat: String,
    pub person: String,
    pub keep: Keep,
}

/// What `actions` leave in the chats that have no buttons, one row per
/// (chat, person), in the order first touched. A message in the chat the
/// update came from (`from`: that chat and its sender) is for its sender;
/// any other is for the chat's own person (a private chat's id is its
/// person's), so a group chat the update did not come from keeps nothing
/// anyone could type.
pub fn kept(actions: &[Action], from: Option<(&ChatAddr, &UserAddr)>) -> Vec<Kept> {
    let mut rows = Folded::default();
    for action in actions {
        let (to, keep) = match action {
            Action::Send { to, text, keyboard } | Action::Post { to, text, keyboard, .. } => {
                (to, Keep::Ask(Menu::under(text, keyboard)))
            }
            Action::Edit { message, text, keyboard, .. } => (&message.chat, Keep::Ask(Menu::under(text, keyboard))),
            Action::Forget { chat } => (chat, Keep::Forget),
            _ => continue,
        };
        if to.capabilities().inline_buttons {
            continue;
        }
        let person = match from {
            Some((chat, sender)) if chat == to => sender.id.clone(),
            _ => to.id.clone(),
        };
        rows.merge(Kept { chat: to.id.clone(), person, keep });
    }
    rows.rows
}

/// Appends the statements writing `kept` (of any number of updates, in
/// order) at `now`: one text for each whatever the number of rows, so
/// SQLite prepares them once. Nothing when nothing is kept.
pub fn push_kept<'a>(kept: impl IntoIterator<Item = &'a Kept>, now: DateTime<Utc>, batch: &mut Batch) {
    let mut folded = Folded::default();
    for k in kept {
        folded.merge(k.clone());
    }
    let rows = folded.rows;
    let gone: Vec<(&str, &str)> = rows
        .iter()
        .filter(|k| matches!(k.keep, Keep::Forget | Keep::Anew(_)))
        .map(|k| (k.chat.as_str(), k.person.as_str()))
        .collect();
    if !gone.is_empty() {
        batch
            .push(
                "DELETE FROM zalo_menus WHERE (chat_id, person_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
            )
            .bind(serde_json::json!(gone).to_string());
    }
    let asked: Vec<(&str, &str, String)> = rows
        .iter()
        .filter_map(|k| match &k.keep {
            Keep::Ask(menu) | Keep::Anew(menu) => {
                Some((k.chat.as_str(), k.person.as_str(), serde_json::to_string(menu).unwrap_or_default()))
            }
            Keep::Forget => None,
        })
        .collect();
    if !asked.is_empty() {
        batch
            .push(
                "INSERT INTO zalo_menus (chat_id, person_id, options, shown_at)
                 SELECT value ->> 0, value ->> 1, value ->> 2, ? FROM json_each(?) WHERE true
                 ON CONFLICT (chat_id, person_id) DO UPDATE SET options = excluded.options, shown_at = excluded.shown_at",
            )
            .bind(now)
            .bind(serde_json::json!(asked).to_string());
    }
}

/// Rows of (chat, person) in the order first touched, each with its
/// latest keep.
#[derive(Default)]
struct Folded {
    rows: Vec<Kept>,
    at: std::collections::HashMap<(String, String), usize>,
}

impl Folded {
    /// The later keep of a (chat, person) wins, and a question asked after
    /// a forgetting stands alone.
    fn merge(&mut self, k: Kept) {
        match self.at.get(&(k.chat.clone(), k.person.clone())) {
            Some(&i) => {
                let row = &mut self.rows[i];
                row.keep = match (&row.keep, k.keep) {
                    (Keep::Forget | Keep::Anew(_), Keep::Ask(menu)) => Keep::Anew(menu),
                    (_, keep) => keep,
                }
            }
            None => {
                self.at.insert((k.chat.clone(), k.person.clone()), self.rows.len());
                self.rows.push(k);
            }
        }
    }
}

/// Writes what `actions` leave in the chats without buttons, in `conn`'s
/// transaction: for messages sent outside an update and a job (a notice's
/// summary to its sender), for chats' own persons.
pub async fn keep(conn: &mut SqliteConnection, actions: &[Action], now: DateTime<Utc>) -> sqlx::Result<()> {
    let kept = kept(actions, None);
    if kept.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::default();
    push_kept(&kept, now, &mut batch);
    batch.fetch_ids(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Button, Channel};

    fn zalo(id: &str) -> ChatAddr {
        ChatAddr { channel: Channel::Zalo, id: id.into() }
    }

    fn ask(to: &ChatAddr, text: &str, options: &[&str]) -> Action {
        let rows = options.iter().map(|o| vec![Button::callback(*o, format!("x:{o}"))]).collect();
        Action::Send { to: to.clone(), text: text.into(), keyboard: Keyboard::rows(rows) }
    }

    #[test]
    fn in_a_group_the_options_are_the_senders_and_elsewhere_the_chats_own_persons() {
        let group = zalo("zgr-1");
        let an = UserAddr { channel: Channel::Zalo, id: "an".into() };
        let actions = [ask(&group, "Chọn", &["A", "B"]), ask(&zalo("leader"), "Duyệt?", &["Có"])];
        let kept = kept(&actions, Some((&group, &an)));
        let keys: Vec<(&str, &str)> = kept.iter().map(|k| (k.chat.as_str(), k.person.as_str())).collect();
        assert_eq!(keys, [("zgr-1", "an"), ("leader", "leader")]);
        assert!(matches!(&kept[0].keep, Keep::Ask(m) if m.options.len() == 2 && m.numbers));
    }

    #[test]
    fn chats_with_buttons_keep_nothing() {
        let tg = ChatAddr { channel: Channel::Telegram, id: "300".into() };
        assert!(kept(&[ask(&tg, "Chọn", &["A"])], None).is_empty());
    }

    #[test]
    fn the_last_message_wins_and_a_question_after_a_forgetting_stands_alone() {
        let an = zalo("an");
        let actions = [ask(&an, "Chọn", &["A"]), Action::Forget { chat: an.clone() }];
        assert_eq!(kept(&actions, None)[0].keep, Keep::Forget);
        let actions = [Action::Forget { chat: an.clone() }, ask(&an, "Tiếp", &["B"])];
        assert!(matches!(&kept(&actions, None)[0].keep, Keep::Anew(m) if m.options[0].1 == "x:B"));
        let actions = [ask(&an, "Chọn", &["A"]), ask(&an, "Cảm ơn bác", &[])];
        assert_eq!(kept(&actions, None)[0].keep, Keep::Ask(Menu { options: vec![], numbers: true }));
    }
}
