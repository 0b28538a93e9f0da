//! Leaders confirm money: **Đã nhận tiền / Chưa nhận** under each pledge,
//! `/xacnhan P0345 [số tiền thực nhận]`, and `/ghinhan` for cash from
//! someone not on the bot. Only received money counts; every decision is
//! audited; a pledge already received cannot be counted again.

use crate::turn::Turn;
use sqlx::SqliteConnection;

use super::actions::{confirm, may_confirm, Said};
use super::repo::{self, NewPledge};
use super::{progress, Campaign, CampaignCode, Pledge, PledgeCode};
use crate::channel::{Button, Keyboard, MessageRef, Replies, UserAddr};
use crate::domain::Money;
use crate::refusal::{Handled, Refusal, Stop};
use crate::roles;

/// Callback data: `pl:ok:<pledge>` and `pl:no:<pledge>`.
pub fn parse_button(data: &str) -> Option<(PledgeCode, bool)> {
    let mut parts = data.strip_prefix("pl:")?.split(':');
    let received = match parts.next()? {
        "ok" => true,
        "no" => false,
        _ => return None,
    };
    let code = parts.next()?.parse::<i64>().ok().filter(|n| *n > 0).map(PledgeCode::new)?;
    parts.next().is_none().then_some((code, received))
}

async fn confirmers(conn: &mut SqliteConnection, campaign: &Campaign) -> anyhow::Result<Vec<UserAddr>> {
    let mut to = Vec::new();
    if let Some((creator, _)) = roles::user_addr(&mut *conn, campaign.created_by).await? {
        to.push(creator);
    }
    if !campaign.ward_wide {
        for g in repo::groups_of(&mut *conn, campaign.code).await? {
            for (_, leader) in roles::leaders_of(&mut *conn, g).await? {
                if !to.contains(&leader) {
                    to.push(leader);
                }
            }
        }
    }
    Ok(to)
}

pub async fn notify_confirmers(
    conn: &mut SqliteConnection,
    campaign: &Campaign,
    pledge: &Pledge,
    out: &mut Replies,
) -> anyhow::Result<()> {
    let text = format!(
        "💝 Ủng hộ mới {} cho {}: {}\nNgười ủng hộ: {}{}\nCách ủng hộ: {}\nKhi nhận được tiền, xin bác bấm «Đã nhận tiền» (hoặc gõ /xacnhan {} <số tiền thực nhận> nếu số tiền khác).",
        pledge.code,
        campaign.code,
        pledge.amount,
        pledge.donor_name,
        if pledge.anonymous { " (xin ẩn danh)" } else { "" },
        if pledge.transfer { format!("chuyển khoản, nội dung «{} {}»", campaign.code, pledge.code) } else { "tiền mặt".into() },
        pledge.code,
    );
    let keyboard = Keyboard::rows(vec![vec![
        Button::callback("✅ Đã nhận tiền", format!("pl:ok:{}", pledge.code.id())),
        Button::callback("❌ Chưa nhận", format!("pl:no:{}", pledge.code.id())),
    ]]);
    for addr in confirmers(conn, campaign).await? {
        out.send_with(&addr.private_chat(), text.clone(), keyboard.clone());
    }
    Ok(())
}

pub async fn on_button(
    turn: &mut Turn,
    code: PledgeCode,
    received: bool,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let said = if received { Said::Received(None) } else { Said::NotReceived };
    let actor = turn.actor();
    let done = confirm(&turn.app, turn.db.write().await?, &actor, code, said).await?;
    let text = done.outcome.text();
    turn.tell(done.told).await?;
    turn.out.answer(callback_id, Some(text.clone()));
    if let Some(m) = message {
        let keyboard = if received {
            Keyboard::none()
        } else {
            Keyboard::single(Button::callback("✅ Đã nhận tiền", format!("pl:ok:{}", code.id())))
        };
        turn.out.edit(m, text, keyboard);
    }
    Ok(())
}

/// `/xacnhan P0345 [số tiền thực nhận]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    const USAGE: &str = "Cách dùng: /xacnhan P0345 [số tiền thực nhận], ví dụ: /xacnhan P0345 450k";
    let mut words = args.splitn(2, char::is_whitespace);
    let Some(code) = words.next().and_then(PledgeCode::parse) else {
        return Err(Refusal::input(USAGE).into());
    };
    let amount = match words.next().map(str::trim).filter(|s| !s.is_empty()) {
        Some(typed) => match Money::parse(typed) {
            Ok(m) => Some(m),
            Err(_) => {
                return Err(Refusal::input(format!(
                    "Số tiền «{typed}» chưa đúng. Ví dụ: 500k, 1tr5, 1.500.000.\n{USAGE}"
                ))
                .into());
            }
        },
        None => None,
    };
    let actor = turn.actor();
    let done = match confirm(&turn.app, turn.db.write().await?, &actor, code, Said::Received(amount)).await {
        Err(Stop::Refused(Refusal::Input(problem))) => return Err(Refusal::input(format!("{problem}\n{USAGE}")).into()),
        other => other?,
    };
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

/// `/ghinhan UH1 500k Nguyễn Văn Bình`: cash handed to the leader by
/// someone not on the bot.
pub async fn record_cash(turn: &mut Turn, args: &str) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    const USAGE: &str =
        "Cách dùng: /ghinhan <mã vận động> <số tiền> <họ tên người ủng hộ>\nVí dụ: /ghinhan UH1 500k Nguyễn Văn Bình";
    let mut words = args.split_whitespace();
    let code = words.next().and_then(CampaignCode::parse);
    let amount = words.next().map(Money::parse);
    let name = crate::text::squash(&words.collect::<Vec<_>>().join(" "));
    let (Some(code), Some(Ok(amount))) = (code, amount) else {
        return Err(Refusal::input(USAGE).into());
    };
    if let Some(problem) = super::out_of_bounds(&app.book, amount) {
        return Err(Refusal::input(format!("{problem}\n{USAGE}")).into());
    }
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(Refusal::input(format!("Xin ghi họ tên người ủng hộ.\n{USAGE}")).into());
    }
    let mut tx = db.write().await?;
    let Some(campaign) = repo::get(&mut tx, code).await? else {
        return Err(Refusal::not_found("cuộc vận động", code).into());
    };
    if !may_confirm(&mut tx, caller.id, &campaign).await? {
        return Err(Refusal::no_right("ghi nhận tiền cho cuộc vận động này").into());
    }
    if !campaign.open {
        return Err(Refusal::state(format!("Cuộc vận động {code} đã kết thúc.")).into());
    }
    let now = app.clock.now();
    let new = NewPledge { campaign: code, user_id: None, donor_name: &name, anonymous: false, transfer: false, amount };
    let pledge = repo::insert_pledge(&mut tx, new, Some(caller.id), now).await?;
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, now),
        "pledge.recorded_cash",
        &format!("pledge:{}", pledge.id()),
        Some(&amount.dong().to_string()),
    )
    .await?;
    let edited = progress::touch(app, &mut tx, &campaign, now).await?;
    crate::action::told::render(&mut tx, edited.into_iter().collect(), out).await?;
    out.send(&msg.chat, format!("✅ Đã ghi nhận {amount} tiền mặt của {name} cho {code} (mã {pledge})."));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons() {
        assert_eq!(parse_button("pl:ok:12"), Some((PledgeCode::new(12), true)));
        assert_eq!(parse_button("pl:no:3"), Some((PledgeCode::new(3), false)));
        for junk in ["pl:ok", "pl:yes:1", "pl:ok:0", "pl:ok:1:2", "pl:ok:x"] {
            assert_eq!(parse_button(junk), None, "{junk}");
        }
    }
}
