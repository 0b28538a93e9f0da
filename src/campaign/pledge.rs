//! `/ungho`: a resident pledges; for a transfer the bot sends a VietQR code.
//!
//! ```text
//! (group)   Resident: [💝 Ủng hộ] → t.me/<bot>?start=uh-1
//! (private) Bot: Bác ủng hộ bao nhiêu ạ?  Resident: 500k
//!           Bot: ghi tên hay ẩn danh? → tiền mặt hay chuyển khoản? → summary
//!           Bot: Mã ủng hộ của bác: P0001 … [VietQR image] + bank, account, note "UH1 P0001"
//! (leader)  Bot: 💝 P0001 · 500.000 đ · chuyển khoản … [✅ Đã nhận tiền] [❌ Chưa nhận]
//! ```

use crate::refusal::{Handled, Refusal, Stop};
use crate::turn::Turn;
use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::actions::{self, Offer, Pledged};
use super::repo;
use super::{qr, Campaign, CampaignCode};
use crate::channel::{Button, ChatKind, Keyboard};
use crate::conversation::{self, Completion};
use crate::dialogue::{Answer, DialogueState, Engine};
use crate::domain::vietqr::{AccountNumber, BankBin, VietQr};
use crate::group;

pub const FLOW: &str = "pledge";

/// The form this flow saves (see `crate::forms`).
pub const FORM: crate::conversation::Form = crate::conversation::Form {
    id: FLOW,
    needs: &[("amount", "money"), ("show_name", "choice"), ("method", "choice")],
    counts: &[],
    complete: |turn, state| Box::pin(complete(turn, state)),
};
pub const PICK_PREFIX: &str = "ug:";

/// Campaigns a group's residents may give to.
async fn open_for_group(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<Vec<Campaign>> {
    let mut out = Vec::new();
    for c in repo::open_campaigns(conn).await? {
        if repo::groups_of(conn, c.code).await?.contains(&group_id) {
            out.push(c);
        }
    }
    Ok(out)
}

pub async fn command(turn: &mut Turn) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let campaigns = if msg.chat_kind == ChatKind::Group {
        match group::by_chat(&mut conn, &msg.chat).await? {
            Some(g) => open_for_group(&mut conn, g.id).await?,
            None => Vec::new(),
        }
    } else {
        repo::open_campaigns(&mut conn).await?
    };
    drop(conn);
    match (msg.chat_kind, campaigns.as_slice()) {
        (_, []) => out.send(&msg.chat, "Hiện chưa có cuộc vận động nào đang nhận ủng hộ."),
        // No link opens the private chat from here: the campaigns are
        // options, each resident's own to answer (see `channel::menus`),
        // and the pledge goes on in the private chat they already have.
        (ChatKind::Group, list) if !msg.chat.capabilities().deep_links && caller.private_open => {
            out.send_with(
                &msg.chat,
                "Mời bác chọn cuộc vận động muốn ủng hộ; bot sẽ nhắn riêng với bác.",
                Keyboard::rows(picker(list, "💝 ")),
            );
        }
        (ChatKind::Group, list) => {
            let rows = list
                .iter()
                .map(|c| {
                    vec![Button::start_private(
                        format!("💝 {}: {}", c.code, c.title),
                        super::progress::pledge_payload(c),
                    )]
                })
                .collect();
            out.send_with(
                &msg.chat,
                "Mời bác bấm vào cuộc vận động muốn ủng hộ; bot sẽ nhắn riêng với bác.",
                Keyboard::rows(rows),
            );
        }
        (ChatKind::Private, [only]) => start(turn, only).await?,
        (ChatKind::Private, list) => {
            out.send_with(&msg.chat, "Bác muốn ủng hộ cuộc vận động nào ạ?", Keyboard::rows(picker(list, "")));
        }
    }
    Ok(())
}

/// A campaign a row, each label after `mark`; a press starts the pledge in
/// private.
fn picker(list: &[Campaign], mark: &str) -> Vec<Vec<Button>> {
    list.iter()
        .map(|c| {
            vec![Button::callback(format!("{mark}{}: {}", c.code, c.title), format!("{PICK_PREFIX}{}", c.code.id()))]
        })
        .collect()
}

pub async fn on_pick(turn: &mut Turn, id: &str, callback_id: &str) -> Handled {
    let Turn { out, .. } = turn;
    out.answer(callback_id, None);
    start_by_code(turn, CampaignCode::parse(id)).await
}

/// `/start uh-<campaign>` from an announcement's button.
pub async fn start_from_payload(turn: &mut Turn, payload: &str) -> Handled<bool> {
    let Some(id) = payload.strip_prefix("uh-") else { return Ok(false) };
    start_by_code(turn, CampaignCode::parse(id)).await?;
    Ok(true)
}

async fn start_by_code(turn: &mut Turn, code: Option<CampaignCode>) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    let campaign = match code {
        Some(code) => {
            let mut conn = db.read().await?;
            repo::get(&mut conn, code).await?
        }
        None => None,
    };
    match campaign {
        Some(c) => start(turn, &c).await,
        None => {
            out.send(
                &caller.addr.private_chat(),
                "Không tìm thấy cuộc vận động này. Gõ /ungho để xem các cuộc đang mở.",
            );
            Ok(())
        }
    }
}

async fn start(turn: &mut Turn, campaign: &Campaign) -> Handled {
    actions::open_for_pledges(&turn.app, campaign, turn.db.now())?;
    let mut context = BTreeMap::new();
    context.insert("campaign_id".to_string(), campaign.code.id().to_string());
    context.insert("campaign".to_string(), campaign.title.clone());
    context.insert("code".to_string(), campaign.code.to_string());
    let methods = match (campaign.accepts_cash, campaign.bank.is_some()) {
        (true, true) => "both",
        (false, true) => "transfer",
        _ => "cash",
    };
    context.insert("methods".to_string(), methods.to_string());
    conversation::start(turn, context, None, FLOW, Some(&format!("uh-{}", campaign.code.id()))).await
}

pub async fn complete(turn: &mut Turn, state: &DialogueState) -> anyhow::Result<Completion> {
    let def = turn.app.book.get(FLOW).ok_or_else(|| anyhow::anyhow!("pledge dialogue missing"))?;
    let answers = Engine::new(&turn.app.book, def).visible_answers(state);
    let Some(campaign) = state.context.get("campaign_id").and_then(|id| CampaignCode::parse(id)) else {
        return Ok(Completion::Refused(Refusal::state("Không tìm thấy cuộc vận động này.")));
    };
    let Some(Answer::Money(amount)) = answers.get("amount") else {
        return Ok(Completion::Reask { key: "amount", message: "Xin nhập số tiền.".into() });
    };
    let anonymous = matches!(answers.get("show_name"), Some(Answer::Choice(v)) if v == "anonymous");
    let transfer = match (answers.get("method"), state.context.get("methods").map(String::as_str)) {
        (Some(Answer::Choice(v)), _) => v == "transfer",
        (None, Some("transfer")) => true,
        _ => false,
    };
    let offer = Offer { campaign, amount: *amount, anonymous, transfer };
    let actor = turn.actor();
    let done = match actions::pledge(&turn.app, turn.db.write().await?, &actor, offer).await {
        Ok(done) => done,
        Err(Stop::Refused(refusal)) => return Ok(Completion::Refused(refusal)),
        Err(Stop::Failed(error)) => return Err(error),
    };
    turn.tell(done.told).await?;
    thank(turn, &done.outcome)
}

/// What the pledger reads: the VietQR code and the transfer details, or
/// where to take the cash.
fn thank(turn: &mut Turn, pledged: &Pledged) -> anyhow::Result<Completion> {
    let Pledged { pledge, campaign } = pledged;
    let (code, amount, transfer) = (pledge.code, pledge.amount, pledge.transfer);
    let me = turn.caller.addr.private_chat();
    let out = &mut turn.out;
    let note = format!("{} {}", campaign.code, code);
    match (&campaign.bank, transfer) {
        // A chat that takes no uploaded image gets no QR code: the
        // transfer details, in words.
        (Some(bank), true) if !me.capabilities().images => out.send(
            &me,
            format!(
                "💝 Cảm ơn bác! Mã ủng hộ của bác là {code}. Bác chuyển khoản theo thông tin sau:\nNgân hàng: {}\nSố tài khoản: {}\nChủ tài khoản: {}\nSố tiền: {amount}\nNội dung chuyển khoản: {note}\n\nTổ trưởng sẽ xác nhận khi nhận được tiền.",
                bank.bank_name, bank.number, bank.holder
            ),
        ),
        (Some(bank), true) => {
            let (Some(bin), Some(account)) = (BankBin::parse(&bank.bin), AccountNumber::parse(&bank.number)) else {
                anyhow::bail!("campaign {} has an invalid bank account", campaign.code);
            };
            let payload = VietQr { bin, account, amount: Some(amount), one_time: true, purpose: note.clone() }.payload();
            out.send(
                &me,
                format!("💝 Cảm ơn bác! Mã ủng hộ của bác là {code}. Bác mở ứng dụng ngân hàng, chọn quét mã QR bên dưới để chuyển khoản."),
            );
            out.image(&me, qr::png(&payload)?, &format!("vietqr-{code}.png"), Some(format!("VietQR · {} · {amount}", campaign.code)));
            out.send(
                &me,
                format!(
                    "Nếu không quét được mã, bác chuyển khoản theo thông tin sau:\nNgân hàng: {}\nSố tài khoản: {}\nChủ tài khoản: {}\nSố tiền: {amount}\nNội dung chuyển khoản: {note}\n\nTổ trưởng sẽ xác nhận khi nhận được tiền.",
                    bank.bank_name, bank.number, bank.holder
                ),
            );
        }
        _ => out.send(
            &me,
            format!(
                "💝 Cảm ơn bác! Bác đã đăng ký ủng hộ {amount} cho {} (mã {code}). Bác vui lòng gửi tiền mặt cho tổ trưởng; tổ trưởng sẽ xác nhận khi nhận được.",
                campaign.code
            ),
        ),
    }
    Ok(Completion::Done)
}
