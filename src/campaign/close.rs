//! `/quy` (open campaigns and their totals) and `/ketthuc` (close a
//! campaign, post the summary and the honour list).

use super::{progress_line, repo, CampaignCode};
use crate::domain::group_thousands;
use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;

pub async fn list(turn: &mut Turn) -> Handled {
    let Turn { msg, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let campaigns = repo::open_campaigns(&mut conn).await?;
    if campaigns.is_empty() {
        out.send(&msg.chat, "Hiện chưa có cuộc vận động nào đang mở.");
        return Ok(());
    }
    let mut text = "Các cuộc vận động đang mở:".to_string();
    for c in campaigns {
        let totals = repo::totals(&mut conn, c.code).await?;
        text.push_str(&format!(
            "\n\n{} · {}\n{}\nHạn: {}",
            c.code,
            c.title,
            progress_line(&totals, c.target),
            c.deadline.format("%d/%m/%Y")
        ));
        if totals.outstanding > 0 {
            text.push_str(&format!("\nĐã đăng ký, chưa nhận: {} đ", group_thousands(totals.outstanding)));
        }
    }
    out.send(&msg.chat, text);
    Ok(())
}

/// `/ketthuc UH1`: the creator or an official.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Some(code) = CampaignCode::parse(args) else {
        return Err(
            Refusal::input("Cách dùng: /ketthuc <mã cuộc vận động>, ví dụ: /ketthuc UH1. Gõ /quy để xem mã.").into()
        );
    };
    let actor = turn.actor();
    let done = super::actions::close(&turn.app, turn.db.write().await?, &actor, code).await?;
    turn.tell(done.told).await?;
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    Ok(())
}
