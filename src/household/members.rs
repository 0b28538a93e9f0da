//! The people of a household besides its head. The head presses **👪 Mời
//! người trong hộ** on their card in `/hocuatoi` and gets a code to share;
//! a person who sends the code to the bot in private asks to join, and
//! joins once the head presses **Đồng ý**. A member sees the household in
//! `/hocuatoi` (without changing it). A leader of the household's group
//! (or an official) may propose someone instead (`/themvaoho`); the head
//! still accepts.
//!
//! ```text
//! (head)   [👪 Mời người trong hộ] → Mã mời vào hộ #5: HO5-7KQ2 (dùng trong 3 ngày)
//! (person) HO5-7KQ2 → Đã gửi lời xin vào hộ #5 tới chủ hộ.
//! (head)   Trần Thị Hai xin vào hộ #5 … [✅ Đồng ý] [Không]
//! ```

use chrono::Duration;
use sqlx::SqliteConnection;

use crate::channel::{Button, Keyboard, MessageRef};
use crate::refusal::{Handled, Refusal};
use crate::roles;
use crate::turn::Turn;

/// Callback data of the head's invitation: `hm:inv:<household>`.
pub const INVITE_PREFIX: &str = "hm:inv:";
/// How long a code may be used.
const VALID_DAYS: i64 = 3;

/// The head's answer to a request: `hj:<ok|no>:<request>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub request: i64,
    pub accept: bool,
}

impl Answer {
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("hj:")?;
        let (word, id) = rest.split_once(':')?;
        let accept = match word {
            "ok" => true,
            "no" => false,
            _ => return None,
        };
        Some(Self { request: id.parse().ok()?, accept })
    }

    pub fn data(self) -> String {
        format!("hj:{}:{}", if self.accept { "ok" } else { "no" }, self.request)
    }
}

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
    let Turn { app, caller, db, out, .. } = turn;
    let mut tx = db.write().await?;
    let household = match id.parse::<i64>() {
        Ok(id) => super::repo::get(&mut tx, id).await?,
        Err(_) => None,
    };
    let Some(household) = household.filter(|h| h.owner_user_id == caller.id && h.status == super::Status::Approved)
    else {
        return Err(Refusal::state("Chỉ chủ hộ mời được người vào hộ đã được duyệt.").into());
    };
    let code = format!("HO{}-{}", household.id, crate::text::random_code(4)?);
    sqlx::query(
        "INSERT INTO household_invites (household_id, code, created_at) VALUES (?, ?, ?)
         ON CONFLICT (household_id) DO UPDATE SET code = excluded.code, created_at = excluded.created_at",
    )
    .bind(household.id)
    .bind(&code)
    .bind(app.clock.now())
    .execute(&mut *tx)
    .await?;
    out.answer(callback_id, None);
    out.send(
        &caller.addr.private_chat(),
        format!(
            "Mã mời vào hộ #{}: {code}\nNgười trong hộ nhắn mã này cho bot (tin nhắn riêng) trong {VALID_DAYS} ngày; bác bấm «Đồng ý» thì người đó vào hộ.",
            household.id
        ),
    );
    Ok(())
}

/// A text that may be a household's code. True if it was one (right or
/// wrong).
pub async fn ask(turn: &mut Turn, text: &str) -> Handled<bool> {
    let Some(code) = parse_code(text) else { return Ok(false) };
    let Turn { app, caller, db, out, .. } = turn;
    let me = caller.addr.private_chat();
    let now = app.clock.now();
    let mut tx = db.write().await?;
    let found: Option<(i64, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT household_id, created_at FROM household_invites WHERE code = ?")
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((household_id, _)) = found.filter(|(_, at)| now - *at <= Duration::days(VALID_DAYS)) else {
        out.send(&me, "Mã mời này không đúng hoặc đã hết hạn. Xin bác hỏi chủ hộ mã mới.");
        return Ok(true);
    };
    let Some(household) = super::repo::get(&mut tx, household_id).await? else {
        out.send(&me, "Hộ này không còn trên bot.");
        return Ok(true);
    };
    let asked = request(&mut tx, &household, caller.id, None, now).await?;
    let said = match asked {
        Asked::Already => format!("Bác đã ở trong hộ #{household_id} rồi ạ."),
        Asked::Waiting => "Lời xin của bác đang chờ chủ hộ đồng ý.".to_string(),
        Asked::Sent(ask) => {
            ask.send(out, format!("{} xin vào hộ #{household_id} của bác. Bác có đồng ý không ạ?", caller.name));
            format!("Đã gửi lời xin vào hộ #{household_id} tới chủ hộ. Bot sẽ báo khi chủ hộ trả lời.")
        }
    };
    out.send(&me, said);
    Ok(true)
}

/// What asking a head came to.
enum Asked {
    /// The person is in the household already.
    Already,
    /// A request waits for the head already.
    Waiting,
    /// A new request: the question to put to the head.
    Sent(HeadQuestion),
}

/// The head's Đồng ý / Không question for a request.
struct HeadQuestion {
    head: crate::channel::ChatAddr,
    request: i64,
}

impl HeadQuestion {
    fn send(self, out: &mut crate::channel::Replies, text: String) {
        out.send_with(
            &self.head,
            text,
            Keyboard::rows(vec![vec![
                Button::callback("✅ Đồng ý", Answer { request: self.request, accept: true }.data()),
                Button::callback("Không", Answer { request: self.request, accept: false }.data()),
            ]]),
        );
    }
}

/// A request for `user` to join `household`, unless they are in it or
/// one waits; `proposed_by` the leader who proposed it.
async fn request(
    conn: &mut SqliteConnection,
    household: &super::Household,
    user: i64,
    proposed_by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Asked> {
    let already: bool = household.owner_user_id == user
        || sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM household_members WHERE household_id = ? AND user_id = ?)")
            .bind(household.id)
            .bind(user)
            .fetch_one(&mut *conn)
            .await?;
    if already {
        return Ok(Asked::Already);
    }
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM household_join_requests WHERE household_id = ? AND user_id = ? AND status = 'pending'",
    )
    .bind(household.id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    if pending.is_some() {
        return Ok(Asked::Waiting);
    }
    let request: i64 = sqlx::query_scalar(
        "INSERT INTO household_join_requests (household_id, user_id, status, requested_at, proposed_by)
         VALUES (?, ?, 'pending', ?, ?) RETURNING id",
    )
    .bind(household.id)
    .bind(user)
    .bind(now)
    .bind(proposed_by)
    .fetch_one(&mut *conn)
    .await?;
    let Some((head, _)) = roles::user_addr(conn, household.owner_user_id).await? else {
        anyhow::bail!("household {} has no head to ask", household.id);
    };
    Ok(Asked::Sent(HeadQuestion { head: head.private_chat(), request }))
}

const PROPOSE_USAGE: &str = "Cách dùng: trả lời (reply) tin nhắn của người đó trong nhóm bằng /themvaoho <số hộ>, ví dụ /themvaoho 12; hoặc nhắn riêng /themvaoho <số hộ> <mã người dùng>.";

/// `/themvaoho <hộ>` (as a reply to the person in the group, or with
/// their user id in private): a leader of the household's group, or an
/// official, proposes someone; they join once the head accepts.
pub async fn propose(turn: &mut Turn, args: &str) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let mut words = args.split_whitespace();
    let household_id = words
        .next()
        .and_then(|w| w.trim_start_matches('#').parse::<i64>().ok())
        .ok_or_else(|| Refusal::input(PROPOSE_USAGE))?;
    let replied_to = msg.replied().and_then(|r| r.from.clone());
    let (target, given_name) = match (&replied_to, words.next()) {
        (_, Some(id)) if id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (crate::channel::UserAddr { channel: caller.addr.channel, id: id.to_string() }, None)
        }
        (Some(sender), None) if msg.chat_kind == crate::channel::ChatKind::Group => {
            (sender.addr.clone(), Some(sender.display_name.clone()).filter(|n| !n.is_empty()))
        }
        _ => return Err(Refusal::input(PROPOSE_USAGE).into()),
    };
    let now = db.now();
    let mut tx = db.write().await?;
    let household = super::repo::get(&mut tx, household_id).await?.filter(|h| h.status == super::Status::Approved);
    let Some(household) = household else {
        return Err(Refusal::not_found("hộ đã được duyệt", format!("#{household_id}")).into());
    };
    if !roles::can_manage_group(&mut tx, caller.id, household.group_id).await? {
        return Err(Refusal::no_right("đề nghị thêm người vào hộ của tổ khác").into());
    }
    let user = roles::ensure_user(&mut tx, &target, given_name.as_deref(), now).await?;
    let name = match roles::user_addr(&mut tx, user).await? {
        Some((_, name)) if !name.is_empty() => name,
        _ => format!("người dùng {}", target.id),
    };
    // To the leader, the household by its door and head, not its number.
    let line = household.details.line();
    let said = match request(&mut tx, &household, user, Some(caller.id), now).await? {
        Asked::Already => format!("{name} đã ở trong hộ {line} rồi."),
        Asked::Waiting => format!("Hộ {line}: lời xin cho {name} vào hộ đang chờ chủ hộ đồng ý."),
        Asked::Sent(ask) => {
            ask.send(
                out,
                format!(
                    "{} (tổ trưởng) đề nghị thêm {name} vào hộ #{household_id} của bác. Bác có đồng ý không ạ?",
                    caller.name
                ),
            );
            format!("Đã hỏi chủ hộ {line}: khi chủ hộ đồng ý, {name} vào hộ.")
        }
    };
    // A household is personal: the answer goes to the leader in private,
    // wherever the command was typed.
    out.send(&caller.addr.private_chat(), said);
    Ok(())
}

/// The head's **Đồng ý** / **Không**.
pub async fn on_answer(turn: &mut Turn, answer: Answer, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let mut tx = db.write().await?;
    let found: Option<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT r.household_id, r.user_id, r.status, h.owner_user_id
         FROM household_join_requests r JOIN households h ON h.id = r.household_id WHERE r.id = ?",
    )
    .bind(answer.request)
    .fetch_optional(&mut *tx)
    .await?;
    // Only the head answers; anyone else learns nothing of the request.
    let Some((household, user, status, _)) = found.filter(|f| f.3 == caller.id) else {
        return Err(Refusal::no_right("trả lời lời xin vào hộ này").into());
    };
    if status != "pending" {
        return Err(Refusal::state("Lời xin này đã được trả lời.").into());
    }
    let now = app.clock.now();
    let to = if answer.accept { "accepted" } else { "declined" };
    sqlx::query("UPDATE household_join_requests SET status = ?, decided_at = ? WHERE id = ?")
        .bind(to)
        .bind(now)
        .bind(answer.request)
        .execute(&mut *tx)
        .await?;
    if answer.accept {
        sqlx::query(
            "INSERT INTO household_members (household_id, user_id, accepted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(household)
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let (asker, name) = roles::user_addr(&mut tx, user).await?.ok_or_else(|| anyhow::anyhow!("user {user} is gone"))?;
    let (told, done) = if answer.accept {
        (format!("✅ Chủ hộ đã đồng ý: bác đã vào hộ #{household}. Gõ /hocuatoi để xem."), "Đã đồng ý")
    } else {
        (format!("Chủ hộ chưa đồng ý cho bác vào hộ #{household}."), "Đã từ chối")
    };
    out.send(&asker.private_chat(), told);
    out.answer(callback_id, Some(format!("{done}.")));
    if let Some(message) = message {
        out.edit(message, format!("{name} xin vào hộ #{household}: {}.", done.to_lowercase()), Keyboard::none());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_and_answers_read_back() {
        assert_eq!(parse_code(" ho5 7kq2 "), Some("HO5-7KQ2".into()));
        assert_eq!(parse_code("HO5-7KQ"), None);
        assert_eq!(parse_code("hộ 5"), None);
        for a in [Answer { request: 12, accept: true }, Answer { request: 3, accept: false }] {
            assert_eq!(Answer::parse(&a.data()), Some(a));
        }
        assert_eq!(Answer::parse("hj:maybe:1"), None);
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
