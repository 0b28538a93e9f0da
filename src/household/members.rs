//! The people of a household besides its head. The head presses **👪 Mời
//! người trong hộ** on their card in `/hocuatoi` and gets a code to share;
//! a person who sends the code to the bot in private asks to join, and
//! joins once the head presses **Đồng ý**. A member sees the household in
//! `/hocuatoi` (without changing it). A leader of the household's group
//! (or an official) may propose someone instead (`/themvaoho`); the head
//! still accepts. The rules are the actions' (`super::actions`); these are
//! their chat doors.
//!
//! ```text
//! (head)   [👪 Mời người trong hộ] → Mã mời vào hộ #5: HO5-7KQ2 (dùng trong 3 ngày)
//! (person) HO5-7KQ2 → Đã gửi lời xin vào hộ #5 tới chủ hộ.
//! (head)   Trần Thị Hai xin vào hộ #5 … [✅ Đồng ý] [Không]
//! ```

use sqlx::SqliteConnection;

use super::actions::{self, Whom};
use crate::channel::{Keyboard, MessageRef};
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;

pub use super::actions::JoinAnswer as Answer;

/// Callback data of the head's invitation: `hm:inv:<household>`.
pub const INVITE_PREFIX: &str = "hm:inv:";

/// `HO5-7KQ2`, also typed `ho5 7kq2`.
pub fn parse_code(text: &str) -> Option<String> {
    crate::text::read_code(text, "HO", 4)
}

/// The households a person belongs to without being their head.
pub async fn member_of(conn: &mut SqliteConnection, user: i64) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT household_id FROM household_members WHERE user_id = ? ORDER BY household_id")
        .bind(user)
        .fetch_all(conn)
        .await?)
}

/// The head's press on **Mời người trong hộ**: a new code for the
/// household, replacing the one before.
pub async fn invite(turn: &mut Turn, id: &str, callback_id: &str) -> Handled {
    let Ok(id) = id.parse::<i64>() else {
        return Err(Refusal::state("Chỉ chủ hộ mời được người vào hộ đã được duyệt.").into());
    };
    let actor = turn.actor();
    let done = actions::invite(turn.db.write().await?, &actor, id).await?;
    turn.out.answer(callback_id, None);
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

/// A text that may be a household's code. True if it was one (right or
/// wrong).
pub async fn ask(turn: &mut Turn, text: &str) -> Handled<bool> {
    let Some(code) = parse_code(text) else { return Ok(false) };
    let actor = turn.actor();
    let done = actions::ask(turn.db.write().await?, &actor, &code).await?;
    turn.tell(done.told).await?;
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text());
    Ok(true)
}

const PROPOSE_USAGE: &str = "Cách dùng: trả lời (reply) tin nhắn của người đó trong nhóm bằng /themvaoho <số hộ>, ví dụ /themvaoho 12; hoặc nhắn riêng /themvaoho <số hộ> <mã người dùng>.";

/// `/themvaoho <hộ>` (as a reply to the person in the group, or with
/// their user id in private): a leader of the household's group, or an
/// official, proposes someone; they join once the head accepts.
pub async fn propose(turn: &mut Turn, args: &str) -> Handled {
    let Turn { caller, msg, .. } = &*turn;
    let mut words = args.split_whitespace();
    let household_id = words
        .next()
        .and_then(|w| w.trim_start_matches('#').parse::<i64>().ok())
        .ok_or_else(|| Refusal::input(PROPOSE_USAGE))?;
    let replied_to = msg.replied().and_then(|r| r.from.clone());
    let whom = match (&replied_to, words.next()) {
        (_, Some(id)) if id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Whom::At { addr: crate::channel::UserAddr { channel: caller.addr.channel, id: id.to_string() }, name: None }
        }
        (Some(sender), None) if msg.chat_kind == crate::channel::ChatKind::Group => {
            Whom::At { addr: sender.addr.clone(), name: Some(sender.display_name.clone()).filter(|n| !n.is_empty()) }
        }
        _ => return Err(Refusal::input(PROPOSE_USAGE).into()),
    };
    let actor = turn.actor();
    let done = actions::propose(turn.db.write().await?, &actor, household_id, whom).await?;
    turn.tell(done.told).await?;
    // A household is personal: the answer goes to the leader in private,
    // wherever the command was typed.
    let me = turn.caller.addr.private_chat();
    turn.out.send(&me, done.outcome.text());
    Ok(())
}

/// The head's **Đồng ý** / **Không**.
pub async fn on_answer(turn: &mut Turn, answer: Answer, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let actor = turn.actor();
    let done = actions::answer(turn.db.write().await?, &actor, answer.request, answer.accept).await?;
    turn.tell(done.told).await?;
    turn.out.answer(callback_id, Some(done.outcome.text()));
    if let Some(message) = message {
        turn.out.edit(message, done.outcome.card(), Keyboard::none());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_read_back() {
        assert_eq!(parse_code(" ho5 7kq2 "), Some("HO5-7KQ2".into()));
        assert_eq!(parse_code("HO5-7KQ"), None);
        assert_eq!(parse_code("hộ 5"), None);
    }

    proptest! {
        #[test]
        fn any_text_is_a_code_or_not(s in "\\PC{0,20}") {
            if let Some(code) = parse_code(&s) {
                prop_assert_eq!(parse_code(&code), Some(code.clone()));
            }
        }
    }
}
