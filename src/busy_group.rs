//! Answers a busy group's limit held back. A resident who asks in a group
//! that has already heard the bot this minute is not met with silence: when
//! the bot can write to them in private, the answer goes there (it adds
//! nothing to the group's noise; see `handle`); otherwise it waits here,
//! written with the update that asked, and everyone who asked within the
//! minute is answered in one group message when the next minute allows
//! ("Mời bác Nam, bác Mai bấm nút dưới đây…"). The scheduler sends them.

use crate::db::Database;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::channel::{Action, Channel, ChatAddr, Keyboard, Replies};
use crate::db::SetRow;
use crate::outbox::JobOutbox;

/// The row that keeps `answer` (an [`Action::Send`] to `chat`) for the
/// person called `name` until the group's next minute.
pub fn hold(chat: &ChatAddr, name: &str, answer: &Action) -> serde_json::Result<SetRow> {
    Ok(SetRow {
        statement: "INSERT INTO group_waiting (channel, chat_id, name, action, asked_at)
                    SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, t.at
                    FROM json_each(?) j, (SELECT ? AS at) t",
        values: serde_json::json!([chat.channel.as_str(), chat.id, given_name(name), serde_json::to_string(answer)?]),
    })
}

/// What a Vietnamese name is called by: its last word ("Lê Văn Nam" is
/// "bác Nam"). Empty when the platform gave no name.
fn given_name(full: &str) -> &str {
    full.split_whitespace().last().unwrap_or("")
}

/// The groups whose waiting answers may be sent now: each such group's
/// answers, combined into one message, and removed. A group still within
/// its minute keeps waiting.
pub async fn flush_due(app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let now = app.clock.now();
    for chat in waiting_chats(app, db).await? {
        if !app.flood.group_reply(&chat, now) {
            continue;
        }
        let mut tx = db.write().await?;
        let mut rows: Vec<(i64, String, String)> =
            sqlx::query_as("DELETE FROM group_waiting WHERE channel = ? AND chat_id = ? RETURNING id, name, action")
                .bind(chat.channel.as_str())
                .bind(&chat.id)
                .fetch_all(&mut *tx)
                .await?;
        // RETURNING gives no order: oldest first, as they asked.
        rows.sort_by_key(|(id, ..)| *id);
        let waiting = rows.into_iter().filter_map(|(_, name, action)| match serde_json::from_str(&action) {
            Ok(action) => Some((name, action)),
            Err(e) => {
                tracing::error!(error = %e, "a waiting answer cannot be read; dropped");
                None
            }
        });
        // The combined answer is queued with the removal of what it
        // answers: a crash between the two loses neither.
        let mut out = Replies::default();
        out.actions.extend(combine(&chat, waiting));
        outbox.commit(tx, out).await?;
    }
    Ok(())
}

/// When the earliest waiting answer may be sent, if any waits.
pub async fn next_due(app: &App, db: &Database) -> anyhow::Result<Option<DateTime<Utc>>> {
    let now = app.clock.now();
    Ok(waiting_chats(app, db).await?.iter().map(|chat| app.flood.next_group_reply(chat, now)).min())
}

async fn waiting_chats(_app: &App, db: &Database) -> anyhow::Result<Vec<ChatAddr>> {
    let chats: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT channel, chat_id FROM group_waiting").fetch_all(&mut *db.read().await?).await?;
    Ok(chats
        .into_iter()
        .filter_map(|(channel, id)| Some(ChatAddr { channel: Channel::parse(&channel)?, id }))
        .collect())
}

/// At most this many people are named in one answer; the rest are "và N
/// bác khác", so the message stays short.
const NAMED: usize = 12;

/// One message to `group` for its waiting answers (all were meant for it),
/// oldest first: people who got the same answer are named together in it;
/// different answers follow each other, with their buttons (each button
/// once).
fn combine(group: &ChatAddr, waiting: impl IntoIterator<Item = (String, Action)>) -> Option<Action> {
    // (the answer's text and keyboard, the people it is for)
    let mut answers: Vec<(String, Keyboard, Vec<String>)> = Vec::new();
    for (name, action) in waiting {
        let Action::Send { text, keyboard, .. } = action else { continue };
        match answers.iter_mut().find(|(x, k, _)| *x == text && *k == keyboard) {
            Some((.., names)) => names.push(name),
            None => answers.push((text, keyboard, vec![name])),
        }
    }
    if answers.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut rows: Vec<Vec<crate::channel::Button>> = Vec::new();
    for (text, keyboard, names) in answers {
        parts.push(addressed(&text, &names));
        for row in keyboard.rows {
            let row: Vec<_> = row.into_iter().filter(|b| !rows.iter().flatten().any(|seen| seen == b)).collect();
            if !row.is_empty() {
                rows.push(row);
            }
        }
    }
    Some(Action::Send { to: group.clone(), text: parts.join("\n\n"), keyboard: Keyboard::rows(rows) })
}

/// `text` addressed to the people called `names`: an invitation ("Mời bác
/// bấm…") names them in place ("Mời bác Nam, bác Mai bấm…"); any other
/// answer is headed with them.
fn addressed(text: &str, names: &[String]) -> String {
    let mut seen = BTreeSet::new();
    let named: Vec<&str> = names.iter().map(String::as_str).filter(|n| !n.is_empty() && seen.insert(*n)).collect();
    let unnamed = names.iter().filter(|n| n.is_empty()).count();
    let mut who: Vec<String> = named.iter().take(NAMED).map(|n| format!("bác {n}")).collect();
    let others = named.len().saturating_sub(NAMED) + unnamed;
    match (who.is_empty(), others) {
        (true, _) => who.push("các bác".to_string()),
        (false, 0) => {}
        (false, n) => {
            let last = who.pop().unwrap_or_default();
            who.push(format!("{last} và {n} bác khác"));
        }
    }
    let who = who.join(", ");
    match text.strip_prefix("Mời bác ") {
        Some(rest) => format!("Mời {who} {rest}"),
        None => format!("Gửi {who}:\n{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Button;

    fn group() -> ChatAddr {
        ChatAddr { channel: Channel::Telegram, id: "-100".into() }
    }

    fn invitation(flow: &str, payload: &str) -> Action {
        Action::Send {
            to: group(),
            text: format!("Mời bác bấm nút bên dưới để {flow}."),
            keyboard: Keyboard::single(Button::start_private("Bấm", payload)),
        }
    }

    #[test]
    fn everyone_asking_the_same_is_named_in_one_invitation() {
        let waiting = ["Nam", "Mai", "Nam", ""].map(|n| (n.to_string(), invitation("đăng ký hộ", "dk-1")));
        let Some(Action::Send { text, keyboard, .. }) = combine(&group(), waiting) else { panic!("one message") };
        assert_eq!(text, "Mời bác Nam, bác Mai và 1 bác khác bấm nút bên dưới để đăng ký hộ.");
        assert_eq!(keyboard.rows.len(), 1, "the button once");
    }

    #[test]
    fn different_answers_follow_each_other_in_one_message() {
        let quy = Action::Send { to: group(), text: "Quỹ đang mở: …".into(), keyboard: Keyboard::none() };
        let waiting = vec![
            ("Nam".to_string(), invitation("đăng ký hộ", "dk-1")),
            ("Hoa".to_string(), invitation("gửi phản ánh", "pa-1")),
            ("Tư".to_string(), quy),
            ("Mai".to_string(), invitation("đăng ký hộ", "dk-1")),
        ];
        let Some(Action::Send { text, keyboard, .. }) = combine(&group(), waiting) else { panic!("one message") };
        assert_eq!(
            text,
            "Mời bác Nam, bác Mai bấm nút bên dưới để đăng ký hộ.\n\n\
             Mời bác Hoa bấm nút bên dưới để gửi phản ánh.\n\n\
             Gửi bác Tư:\nQuỹ đang mở: …"
        );
        assert_eq!(keyboard.rows.len(), 2);
    }

    #[test]
    fn a_long_list_of_names_stays_short() {
        let waiting = (0..30).map(|i| (format!("Người{i}"), invitation("đăng ký hộ", "dk-1")));
        let Some(Action::Send { text, .. }) = combine(&group(), waiting) else { panic!("one message") };
        assert!(text.contains("bác Người11 và 18 bác khác bấm nút"), "{text}");
        assert!(!text.contains("Người12,"));
    }

    #[test]
    fn the_name_called_is_the_last_word() {
        assert_eq!(given_name("Lê Văn Nam"), "Nam");
        assert_eq!(given_name("  "), "");
    }
}
