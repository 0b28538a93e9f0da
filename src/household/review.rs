//! Leaders review households: **Duyệt / Từ chối** on a new registration or
//! on a change to an approved one. Every press is checked against the
//! caller's role on the server; a forged or stale press changes nothing.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use sqlx::SqliteConnection;

use super::{repo, Household, HouseholdDetails, Status};
use crate::channel::{Button, Keyboard, MessageRef, Replies, UserAddr};
use crate::group::Group;
use crate::roles::{self, Caller};

/// Callback data: `hh:<ok|no>:<household>` and `hu:<ok|no>:<update>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewButton {
    Household { id: i64, approve: bool },
    Update { id: i64, approve: bool },
}

impl ReviewButton {
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.split(':');
        let kind = parts.next()?;
        let approve = match parts.next()? {
            "ok" => true,
            "no" => false,
            _ => return None,
        };
        let id = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        match kind {
            "hh" => Some(Self::Household { id, approve }),
            "hu" => Some(Self::Update { id, approve }),
            _ => None,
        }
    }

    pub fn data(self) -> String {
        let (kind, id, approve) = match self {
            Self::Household { id, approve } => ("hh", id, approve),
            Self::Update { id, approve } => ("hu", id, approve),
        };
        format!("{kind}:{}:{id}", if approve { "ok" } else { "no" })
    }
}

fn decision_keyboard(approve: ReviewButton, reject: ReviewButton) -> Keyboard {
    Keyboard::rows(vec![vec![
        Button::callback("✅ Duyệt", approve.data()),
        Button::callback("❌ Từ chối", reject.data()),
    ]])
}

/// Who reviews a group's households: its leaders, or the ward's officials
/// while the group has none. Returns the addresses and whether they are
/// leaders.
async fn reviewers(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<(Vec<UserAddr>, bool)> {
    let leaders = roles::leaders_of(&mut *conn, group_id).await?;
    if !leaders.is_empty() {
        return Ok((leaders.into_iter().map(|(_, a)| a).collect(), true));
    }
    Ok((roles::officials(conn).await?.into_iter().map(|(_, a)| a).collect(), false))
}

/// Sends a pending household to its reviewers. True if leaders got it.
pub async fn notify_new(
    conn: &mut SqliteConnection,
    household: &Household,
    group: &Group,
    sender: &Caller,
    out: &mut Replies,
) -> anyhow::Result<bool> {
    let (to, leaders) = reviewers(conn, group.id).await?;
    let text = format!(
        "🏠 Đăng ký hộ mới — {}\nHồ sơ #{} do {} gửi.\n\n{}\n\nXin bác kiểm tra rồi bấm Duyệt hoặc Từ chối.",
        group.name,
        household.id,
        sender.name,
        household.details.describe()
    );
    let keyboard = decision_keyboard(
        ReviewButton::Household { id: household.id, approve: true },
        ReviewButton::Household { id: household.id, approve: false },
    );
    for addr in to {
        out.send_with(&addr.private_chat(), text.clone(), keyboard.clone());
    }
    Ok(leaders)
}

#[allow(clippy::too_many_arguments)]
pub async fn notify_update(
    conn: &mut SqliteConnection,
    household: &Household,
    update_id: i64,
    proposed: &HouseholdDetails,
    group: &Group,
    sender: &Caller,
    out: &mut Replies,
) -> anyhow::Result<bool> {
    let (to, leaders) = reviewers(conn, group.id).await?;
    let text = format!(
        "✏️ Cập nhật thông tin hộ #{} — {}\nDo {} gửi.\n\nThông tin mới:\n{}\n\nThông tin đang lưu:\n{}\n\nXin bác bấm Duyệt hoặc Từ chối.",
        household.id,
        group.name,
        sender.name,
        proposed.describe(),
        household.details.describe()
    );
    let keyboard = decision_keyboard(
        ReviewButton::Update { id: update_id, approve: true },
        ReviewButton::Update { id: update_id, approve: false },
    );
    for addr in to {
        out.send_with(&addr.private_chat(), text.clone(), keyboard.clone());
    }
    Ok(leaders)
}

/// A press on Duyệt / Từ chối.
pub async fn on_button(
    turn: &mut Turn,
    button: ReviewButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let now = db.now();
    let mut tx = db.write().await?;
    let (household_id, approve, update) = match button {
        ReviewButton::Household { id, approve } => (Some(id), approve, None),
        ReviewButton::Update { id, approve } => match repo::pending_update(&mut tx, id).await? {
            Some(u) => (Some(u.household_id), approve, Some(u)),
            None => (None, approve, None),
        },
    };
    let household = match household_id {
        Some(id) => repo::get(&mut tx, id).await?,
        None => None,
    };
    let Some(household) = household else {
        return Err(Refusal::state("Hồ sơ này đã được xử lý hoặc không còn.").into());
    };
    if !roles::can_manage_group(&mut tx, caller.id, household.group_id).await? {
        tracing::warn!(user = caller.id, "review refused: not a leader of the group");
        return Err(Refusal::no_right("duyệt hồ sơ của tổ này").into());
    }
    let to = if approve { Status::Approved } else { Status::Rejected };
    let decided = match &update {
        None => repo::decide(&mut tx, household.id, to, caller.id, now).await?,
        Some(u) => {
            let closed = repo::close_update(&mut tx, u.id, to, caller.id, now).await?;
            if closed && approve {
                repo::replace_details(&mut tx, household.id, &u.details, Status::Approved, caller.id, now).await?;
            }
            closed
        }
    };
    if !decided {
        return Err(Refusal::state("Hồ sơ này đã được xử lý trước đó.").into());
    }
    let action = match (&update, approve) {
        (None, true) => "household.approve",
        (None, false) => "household.reject",
        (Some(_), true) => "household.update.approve",
        (Some(_), false) => "household.update.reject",
    };
    let subject = match &update {
        None => format!("household:{}", household.id),
        Some(u) => format!("household_update:{}", u.id),
    };
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        action,
        &subject,
        None,
    )
    .await?;
    let owner = roles::user_addr(&mut tx, household.owner_user_id).await?;

    let verdict = if approve { "✅ Đã duyệt" } else { "❌ Đã từ chối" };
    out.answer(callback_id, Some(format!("{verdict}.")));
    if let Some(message) = message {
        let what = if update.is_some() { "Cập nhật hộ" } else { "Hồ sơ hộ" };
        let when = app.settings.show_time(now);
        // The household as it now reads: an approved update's address.
        let shown = update.as_ref().filter(|_| approve).map_or(&household.details, |u| &u.details);
        out.edit(
            message,
            format!("{what} {}\n\n{verdict} bởi {} lúc {when}.", shown.line(), caller.name),
            Keyboard::none(),
        );
    }
    if let Some((owner, _)) = owner {
        let text = match (&update, approve) {
            (None, true) => format!("✅ Hồ sơ hộ #{} của bác đã được tổ trưởng duyệt. Cảm ơn bác!", household.id),
            (None, false) => format!(
                "Hồ sơ hộ #{} của bác chưa được duyệt. Xin bác liên hệ tổ trưởng để hỏi thêm, rồi gõ /hocuatoi để sửa và gửi lại.",
                household.id
            ),
            (Some(_), true) => format!("✅ Thông tin cập nhật của hộ #{} đã được duyệt và lưu.", household.id),
            (Some(_), false) => format!(
                "Thông tin cập nhật của hộ #{} chưa được duyệt; hồ sơ giữ thông tin cũ. Xin bác liên hệ tổ trưởng để hỏi thêm.",
                household.id
            ),
        };
        out.send(&owner.private_chat(), text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_rejects_junk() {
        for b in [ReviewButton::Household { id: 5, approve: true }, ReviewButton::Update { id: 9, approve: false }] {
            assert_eq!(ReviewButton::parse(&b.data()), Some(b));
        }
        for junk in ["hh:ok", "hh:yes:1", "hh:ok:x", "xx:ok:1", "hh:ok:1:2", ""] {
            assert_eq!(ReviewButton::parse(junk), None, "{junk}");
        }
    }
}
