//! `/hocuatoi`: a resident's own households, and the start of an update.
//!
//! ```text
//! (private) Resident: /hocuatoi
//!           Bot:      Hộ #5 — Tổ dân phố số 12 (đã được duyệt) … [✏️ Cập nhật hộ #5]
//!           Resident: [✏️ Cập nhật hộ #5]
//!           Bot:      Xin bác kiểm tra lại thông tin hộ: … [✏️ Sửa] [✅ Xác nhận]
//! ```

use super::{registration, repo};
use crate::channel::{Button, Keyboard};
use crate::conversation;
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;

pub const UPDATE_PREFIX: &str = "hm:upd:";

pub async fn command(turn: &mut Turn) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let households = repo::owned_by(&mut conn, caller.id).await?;
    // Households they belong to without heading them: shown, not changed.
    let mut theirs = Vec::new();
    for id in super::members::member_of(&mut conn, caller.id).await? {
        theirs.extend(repo::get(&mut conn, id).await?);
    }
    for h in &theirs {
        let group = group::by_id(&mut conn, h.group_id).await?.map(|g| g.name).unwrap_or_default();
        out.send(&msg.chat, format!("Hộ #{} — {group} (bác là người trong hộ)\n\n{}", h.id, h.details.describe()));
    }
    if households.is_empty() && !theirs.is_empty() {
        return Ok(());
    }
    if households.is_empty() {
        out.send(&msg.chat, "Bác chưa đăng ký hộ nào. Gõ /dangky để đăng ký hộ gia đình.");
        return Ok(());
    }
    for h in households {
        let group = group::by_id(&mut conn, h.group_id).await?.map(|g| g.name).unwrap_or_default();
        let mut text = format!("Hộ #{} — {group} ({})\n\n{}", h.id, h.status.label(), h.details.describe());
        if repo::has_pending_update(&mut conn, h.id).await? {
            text.push_str("\n\n⏳ Có thông tin cập nhật đang chờ tổ trưởng duyệt.");
        }
        let mut buttons =
            vec![vec![Button::callback(format!("✏️ Cập nhật hộ #{}", h.id), format!("{UPDATE_PREFIX}{}", h.id))]];
        if h.status == super::Status::Approved {
            // Their own digital figures need no leader's approval.
            buttons.push(vec![Button::callback(
                "📱 Cập nhật công dân số",
                format!("{}{}", crate::digital::own::PREFIX, h.id),
            )]);
            buttons.push(vec![Button::callback(
                "👪 Mời người trong hộ",
                format!("{}{}", super::members::INVITE_PREFIX, h.id),
            )]);
        }
        out.send_with(&msg.chat, text, Keyboard::rows(buttons));
    }
    Ok(())
}

/// A press on "Cập nhật": the registration dialogue, starting at the summary
/// with what is on record.
pub async fn on_button(turn: &mut Turn, id: &str, callback_id: &str) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let household = match id.parse::<i64>() {
        Ok(id) => repo::get(&mut conn, id).await?,
        Err(_) => None,
    };
    // Only the owner may update; anyone else is told nothing about it.
    let Some(household) = household.filter(|h| h.owner_user_id == caller.id) else {
        return Err(Refusal::state("Không tìm thấy hồ sơ hộ này của bác.").into());
    };
    let Some(group) = group::by_id(&mut conn, household.group_id).await? else {
        return Err(Refusal::state("Tổ dân phố của hộ này không còn trên bot.").into());
    };
    drop(conn);
    out.answer(callback_id, None);
    conversation::start(
        turn,
        registration::context_for(&group, Some(household.id)),
        Some(household.details.to_answers()),
        registration::FLOW,
        None,
    )
    .await?;
    Ok(())
}
