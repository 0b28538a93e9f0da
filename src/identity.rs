//! One person on two platforms. `/ketnoi` on Telegram (where the account is
//! the person's phone number, checked by Telegram) gives a one-time code;
//! sent to the bot on Zalo within 30 minutes, it makes that Zalo account the
//! same person: same household, same role. A Zalo account is never tied to
//! a person by its display name, only by such a code.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use chrono::{Duration, Utc};
use sqlx::SqliteConnection;

use crate::channel::Channel;

const VALID_FOR_MINUTES: i64 = 30;

/// Whether link codes are handed out on `channel`: on Telegram, where an
/// account is a phone number the platform checked; they are sent on the
/// other. This names a platform on purpose: the link is between a Zalo
/// and a Telegram account, not a capability of a chat.
pub fn issued_on(channel: Channel) -> bool {
    channel == Channel::Telegram
}

/// `/ketnoi`: a code for linking a Zalo account to this person.
pub async fn issue(turn: &mut Turn) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let me = caller.addr.private_chat();
    if !issued_on(caller.addr.channel) {
        return Err(Refusal::WrongPlace(
            "Mã kết nối được lấy trên Telegram (gõ /ketnoi ở đó), rồi gửi mã ấy cho bot tại đây.".into(),
        )
        .into());
    }
    let code = new_code()?;
    let tx = db.write().await?;
    sqlx::query("DELETE FROM link_codes WHERE user_id = ? OR created_at < ?")
        .bind(caller.id)
        .bind(app.clock.now() - Duration::minutes(VALID_FOR_MINUTES))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO link_codes (code, user_id, created_at) VALUES (?, ?, ?)")
        .bind(&code)
        .bind(caller.id)
        .bind(app.clock.now())
        .execute(&mut *tx)
        .await?;
    out.send(
        &me,
        format!(
            "Mã kết nối của bác: {code}\nTrong {VALID_FOR_MINUTES} phút, bác nhắn đúng mã này cho bot trên Zalo. Từ đó bác dùng bot trên Zalo như trên Telegram: cùng hồ sơ hộ, cùng vai trò. Đừng đưa mã cho người khác."
        ),
    );
    Ok(())
}

/// A text sent on Zalo that may be a code. True if it was one (used or not).
pub async fn redeem(turn: &mut Turn, text: &str) -> Handled<bool> {
    let Turn { app, caller, db, out, .. } = turn;
    let Some(code) = parse_code(text) else { return Ok(false) };
    let me = caller.addr.private_chat();
    if issued_on(caller.addr.channel) {
        out.send(&me, "Mã này dùng để gửi cho bot trên Zalo.");
        return Ok(true);
    }
    let mut tx = db.write().await?;
    let owner: Option<(i64, chrono::DateTime<Utc>)> =
        sqlx::query_as("SELECT user_id, created_at FROM link_codes WHERE code = ?")
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?;
    let valid = owner.filter(|(_, at)| app.clock.now() - *at <= Duration::minutes(VALID_FOR_MINUTES));
    let Some((user_id, _)) = valid else {
        out.send(&me, "Mã này không đúng hoặc đã hết hạn. Xin bác gõ /ketnoi trên Telegram để lấy mã mới.");
        return Ok(true);
    };
    sqlx::query("DELETE FROM link_codes WHERE code = ?").bind(&code).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO user_aliases (channel, external_id, user_id, linked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (channel, external_id) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at",
    )
    .bind(caller.addr.channel.as_str())
    .bind(&caller.addr.id)
    .bind(user_id)
    .bind(app.clock.now())
    .execute(&mut *tx)
    .await?;
    if caller.id != user_id {
        merge(&mut tx, caller.id, user_id).await?;
    }
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(user_id, caller.addr.channel, app.clock.now()),
        "identity.link",
        caller.addr.channel.as_str(),
        None,
    )
    .await?;
    out.send(&me, "✅ Đã kết nối. Từ nay bác dùng bot trên Zalo như trên Telegram: cùng hồ sơ hộ, cùng vai trò.");
    Ok(true)
}

/// What the account did before it was linked becomes the person's: one
/// household record, one list of reports and pledges.
async fn merge(conn: &mut SqliteConnection, from: i64, to: i64) -> sqlx::Result<()> {
    for sql in [
        "UPDATE households SET owner_user_id = ? WHERE owner_user_id = ?",
        "UPDATE reports SET reporter_user_id = ? WHERE reporter_user_id = ?",
        "UPDATE pledges SET user_id = ? WHERE user_id = ?",
        // Where the person already has a row, theirs is kept.
        "UPDATE OR IGNORE notice_acks SET user_id = ? WHERE user_id = ?",
        "UPDATE OR IGNORE group_members SET user_id = ? WHERE user_id = ?",
        "UPDATE OR IGNORE notice_optouts SET user_id = ? WHERE user_id = ?",
    ] {
        sqlx::query(sql).bind(to).bind(from).execute(&mut *conn).await?;
    }
    Ok(())
}

fn new_code() -> anyhow::Result<String> {
    Ok(format!("KN-{}", crate::text::random_code(6)?))
}

/// `KN-7KQ2M9`, also typed `kn 7kq2m9`.
pub fn parse_code(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_uppercase();
    let rest = t.strip_prefix("KN")?.trim_start_matches(['-', ' ']);
    (rest.len() == 6 && crate::text::is_code(rest)).then(|| format!("KN-{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        let code = new_code().unwrap();
        assert_eq!(parse_code(&code), Some(code.clone()));
        assert_eq!(parse_code(&code.to_lowercase().replace('-', " ")), Some(code));
        assert_eq!(parse_code("KN-12345"), None);
        assert_eq!(parse_code("KN-O0I1AB"), None, "letters that look alike are not used");
        assert_eq!(parse_code("xin chào"), None);
    }
}
