//! `dung nhan` / `/tatthongbao`: no more notices in private (on Zalo,
//! where they come one by one); `/batthongbao` to have them again.

use crate::refusal::Handled;
use crate::turn::Turn;

/// Whether a typed text asks to stop notices.
pub fn asks_to_stop(text: &str) -> bool {
    matches!(crate::text::fold(text.trim()).as_str(), "dung nhan" | "dung nhan thong bao" | "tat thong bao")
}

pub async fn stop(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let tx = db.write().await?;
    sqlx::query("INSERT INTO notice_optouts (user_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(caller.id)
        .bind(app.clock.now())
        .execute(&mut *tx)
        .await?;
    out.send(
        &msg.chat,
        "Từ nay bot không nhắn riêng thông báo của tổ cho bác nữa. Khi muốn nhận lại, bác gõ /batthongbao.",
    );
    Ok(())
}

pub async fn resume(turn: &mut Turn) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let tx = db.write().await?;
    sqlx::query("DELETE FROM notice_optouts WHERE user_id = ?").bind(caller.id).execute(&mut *tx).await?;
    out.send(&msg.chat, "Bot sẽ nhắn riêng thông báo của tổ cho bác như trước.");
    Ok(())
}
