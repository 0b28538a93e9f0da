//! **Đã xem**: residents acknowledge a notice in the group; the sender sees
//! per group how many households did (`/thongbao_ds`).

use super::actions;
use super::repo;
use super::NoticeCode;
use crate::channel::ChatAddr;
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::roles;
use crate::turn::Turn;

pub async fn on_seen(turn: &mut Turn, code: NoticeCode, callback_id: &str) -> Handled {
    let actor = turn.actor();
    let Turn { msg, db, out, .. } = turn;
    let conn = db.write().await?;
    let pressed_in = group::by_chat(&mut *conn, &msg.chat).await?.map(|g| g.id);
    let done = actions::acknowledge(conn, &actor, code, pressed_in).await?;
    out.answer(callback_id, Some(done.outcome.text().into()));
    Ok(())
}

/// `/thongbao_ds [TB12]`: the sender's latest notice by default.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let code = if args.trim().is_empty() { None } else { NoticeCode::parse(args) };
    if !args.trim().is_empty() && code.is_none() {
        return Err(Refusal::input("Cách dùng: /thongbao_ds [mã thông báo], ví dụ: /thongbao_ds TB3").into());
    }
    let to = turn.msg.chat.clone();
    show(turn, &to, code).await
}

/// How many households saw the caller's notice `code` (their latest when
/// none), each group on a line, sent to `to`.
pub async fn show(turn: &mut Turn, to: &ChatAddr, code: Option<NoticeCode>) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let code = match code {
        Some(c) => Some(c),
        None => repo::latest_by(&mut conn, caller.id).await?,
    };
    let notice = match code {
        Some(c) => repo::get(&mut conn, c).await?,
        None => None,
    };
    let Some(notice) = notice else {
        return Err(Refusal::state("Không tìm thấy thông báo nào của bác.").into());
    };
    if notice.sender != caller.id && !roles::is_official(&mut conn, caller.id).await? {
        return Err(Refusal::OnlyFor {
            who: "người gửi thông báo hoặc cán bộ phường", to: "xem được số người đã xem"
        }
        .into());
    }
    // Acknowledgements count households, each in its own group (see
    // `on_seen`); someone without a household counts as one.
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT g.name,
                (SELECT COUNT(DISTINCT COALESCE('h' || a.household_id, 'u' || a.user_id)) FROM notice_acks a
                  WHERE a.notice_id = d.notice_id AND a.group_id = g.id),
                (SELECT COUNT(*) FROM households h WHERE h.group_id = g.id AND h.status = 'approved')
         FROM (SELECT DISTINCT notice_id, group_id FROM notice_deliveries WHERE notice_id = ?) d
         JOIN groups g ON g.id = d.group_id ORDER BY g.id",
    )
    .bind(notice.code.id())
    .fetch_all(&mut *conn)
    .await?;
    let mut text = format!("👁 Số hộ đã xem thông báo {}:", notice.code);
    for (name, acked, households) in rows {
        text.push_str(&format!("\n• {name}: {acked}/{households} hộ"));
    }
    out.send(to, text);
    Ok(())
}
