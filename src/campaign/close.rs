//! `/quy` (open campaigns and their totals) and `/ketthuc` (close a
//! campaign, post the summary and the honour list).

use super::{progress, progress_line, repo, CampaignCode};
use crate::domain::{group_thousands, Money};
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::roles::{self};
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
    let Turn { app, caller, msg, db, out } = turn;
    let Some(code) = CampaignCode::parse(args) else {
        return Err(
            Refusal::input("Cách dùng: /ketthuc <mã cuộc vận động>, ví dụ: /ketthuc UH1. Gõ /quy để xem mã.").into()
        );
    };
    let mut tx = db.write().await?;
    let Some(campaign) = repo::get(&mut tx, code).await? else {
        return Err(Refusal::not_found("cuộc vận động", code).into());
    };
    if campaign.created_by != caller.id && !roles::is_official(&mut tx, caller.id).await? {
        return Err(Refusal::OnlyFor {
            who: "người tạo cuộc vận động hoặc cán bộ phường", to: "kết thúc được"
        }
        .into());
    }
    // One moment for the close and its audit row.
    let now = app.clock.now();
    if !repo::close(&mut tx, code, caller.id, now).await? {
        return Err(Refusal::state(format!("Cuộc vận động {code} đã kết thúc từ trước.")).into());
    }
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        "campaign.close",
        &format!("campaign:{}", code.id()),
        None,
    )
    .await?;
    let campaign = repo::get(&mut tx, code).await?.ok_or_else(|| anyhow::anyhow!("campaign vanished"))?;
    let totals = repo::totals(&mut tx, code).await?;
    let honour = repo::honour_list(&mut tx, code).await?;

    let mut summary = format!(
        "🎉 KẾT THÚC VẬN ĐỘNG {code}: {}\nĐã nhận: {} đ, {} lượt ủng hộ của {} hộ.",
        campaign.title,
        group_thousands(totals.received),
        totals.contributions,
        totals.households
    );
    if let Some(target) = campaign.target {
        summary.push_str(&format!(
            "\nMục tiêu: {target} (đạt {}).",
            crate::domain::Percent::of(totals.received, target.dong())
        ));
    }
    if totals.outstanding > 0 {
        summary.push_str(&format!("\nĐã đăng ký nhưng chưa nhận: {} đ.", group_thousands(totals.outstanding)));
    }
    if !honour.is_empty() {
        summary.push_str("\n\nXin trân trọng cảm ơn:");
        for (i, (name, amount)) in honour.iter().enumerate() {
            match app.settings.honour_amounts {
                crate::config::HonourAmounts::Exact => {
                    let shown = Money::from_dong(*amount).map(|m| m.to_string()).unwrap_or_default();
                    summary.push_str(&format!("\n{}. {name} — {shown}", i + 1));
                }
                crate::config::HonourAmounts::Hidden => summary.push_str(&format!("\n{}. {name}", i + 1)),
            }
        }
    }
    let mut posted = 0;
    for gid in repo::groups_of(&mut tx, code).await? {
        for chat in group::chats_of(&mut tx, gid).await? {
            out.send(&chat, summary.clone());
            posted += 1;
        }
    }
    let edited = progress::edit_all(app, &mut tx, &campaign, app.clock.now()).await?;
    crate::action::told::render(&mut tx, vec![edited], out).await?;
    out.send(&msg.chat, format!("Đã kết thúc {code} và đăng tổng kết lên {posted} nhóm chat.\n\n{summary}"));
    Ok(())
}
