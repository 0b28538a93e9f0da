//! Leaders confirm money: **Đã nhận tiền / Chưa nhận** under each pledge,
//! `/xacnhan P0345 [số tiền thực nhận]`, and `/ghinhan` for cash from
//! someone not on the bot. Only received money counts; every decision is
//! audited; a pledge already received cannot be counted again.

use crate::turn::Turn;
use sqlx::SqliteConnection;

use super::repo::{self, NewPledge};
use super::{progress, Campaign, CampaignCode, Pledge, PledgeCode, PledgeStatus};
use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
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

/// The creator, the leaders of a single-group campaign, officials: who may
/// confirm money.
pub async fn may_confirm(conn: &mut SqliteConnection, user_id: i64, campaign: &Campaign) -> anyhow::Result<bool> {
    if campaign.created_by == user_id || roles::is_official(&mut *conn, user_id).await? {
        return Ok(true);
    }
    for g in repo::groups_of(&mut *conn, campaign.code).await? {
        if roles::is_leader_of(&mut *conn, user_id, g).await? {
            return Ok(true);
        }
    }
    Ok(false)
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

/// What the confirmer says of a pledge's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// Received: the amount really received, or None for the amount pledged.
    Received(Option<Money>),
    NotReceived,
}

/// What a confirmation recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    Received { pledge: PledgeCode, campaign: CampaignCode, amount: Money },
    NotReceived { pledge: PledgeCode },
}

impl Confirmed {
    /// What the confirmer reads.
    pub fn text(&self) -> String {
        match self {
            Confirmed::Received { pledge, amount, .. } => format!("✅ Đã ghi nhận {pledge}: đã nhận {amount}."),
            Confirmed::NotReceived { pledge } => {
                format!("Đã ghi {pledge}: chưa nhận được tiền. Khi nhận được, gõ /xacnhan {pledge}.")
            }
        }
    }
}

/// **Confirm a pledge's money** (the action): the creator of its campaign,
/// the leaders of a single-group campaign's group and officials may; money
/// already confirmed received is never counted again. Audited
/// (`pledge.received` / `pledge.not_received`, with the amount); the donor
/// is thanked and the campaign's announcements catch up.
pub async fn confirm(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: PledgeCode,
    said: Said,
) -> Acted<Confirmed> {
    let Some(pledge) = repo::get_pledge(&mut *conn, code).await? else {
        return Err(Refusal::not_found("mã ủng hộ", code).into());
    };
    let Some(campaign) = repo::get(&mut *conn, pledge.campaign).await? else {
        return Err(Refusal::not_found("mã ủng hộ", code).into());
    };
    if !may_confirm(&mut *conn, actor.user, &campaign).await? {
        tracing::warn!(user = actor.user, "pledge confirmation refused");
        return Err(Refusal::no_right("xác nhận tiền của cuộc vận động này").into());
    }
    if pledge.status == PledgeStatus::Received {
        return Err(Refusal::State(format!("{code} đã được xác nhận nhận tiền trước đó; không ghi nhận lại.")).into());
    }
    if let Said::Received(Some(amount)) = said {
        if let Some(problem) = super::out_of_bounds(&app.book, amount) {
            return Err(Refusal::input(problem).into());
        }
    }
    let amount = match said {
        Said::Received(amount) => Some(amount.unwrap_or(pledge.amount)),
        Said::NotReceived => None,
    };
    if !repo::decide_pledge(&mut *conn, code, amount, actor.user, actor.at).await? {
        return Err(Refusal::Overtaken { what: format!("Mã ủng hộ {code}") }.into());
    }
    let action = if amount.is_some() { "pledge.received" } else { "pledge.not_received" };
    let detail = amount.map(|a| a.dong().to_string());
    crate::audit::record(&mut *conn, actor, action, &format!("pledge:{}", code.id()), detail.as_deref()).await?;
    let Some(amount) = amount else {
        return Ok(Done::quiet(Confirmed::NotReceived { pledge: code }));
    };
    let mut told = Vec::new();
    if let Some(donor) = pledge.user_id {
        told.push(Notification::person(
            donor,
            format!("✅ Tổ đã nhận {amount} bác ủng hộ cho {} ({code}). Xin chân thành cảm ơn bác!", campaign.code),
        ));
    }
    told.extend(progress::touch(app, &mut *conn, &campaign, actor.at).await?);
    Ok(Done::new(Confirmed::Received { pledge: code, campaign: campaign.code, amount }, told))
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
    use crate::action::{Door, To};
    use crate::testing::Ward;

    /// A campaign of the ward's first group, made by its leader, with a
    /// resident's pledge of 500.000 đ.
    async fn pledged(ward: &Ward) -> (CampaignCode, PledgeCode) {
        let mut tx = ward.tx().await;
        let deadline = ward.now().date_naive() + chrono::Days::new(30);
        let new = repo::NewCampaign {
            title: "Sửa đường",
            purpose: "Đổ bê tông ngõ 12",
            target: None,
            deadline,
            accepts_cash: true,
            bank: None,
            groups: &[ward.group],
            ward_wide: false,
            created_by: ward.leader,
        };
        let campaign = repo::insert(&mut tx, new, ward.now()).await.unwrap();
        let amount = Money::parse("500k").unwrap();
        let pledge = NewPledge {
            campaign,
            user_id: Some(ward.resident),
            donor_name: "Nguyễn Cư Dân",
            anonymous: false,
            transfer: false,
            amount,
        };
        let pledge = repo::insert_pledge(&mut tx, pledge, None, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        (campaign, pledge)
    }

    async fn try_confirm(ward: &Ward, actor: &Actor, pledge: PledgeCode, said: Said) -> Acted<Confirmed> {
        let mut tx = ward.tx().await;
        let acted = confirm(&ward.app, &mut tx, actor, pledge, said).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn the_groups_leader_confirms_money_and_the_donor_is_thanked() {
        let ward = Ward::new().await;
        let (campaign, pledge) = pledged(&ward).await;
        let actor = ward.actor_at(ward.leader, Door::Cli);
        let done = try_confirm(&ward, &actor, pledge, Said::Received(None)).await.unwrap();
        let amount = Money::parse("500k").unwrap();
        assert_eq!(done.outcome, Confirmed::Received { pledge, campaign, amount });
        let thanks = done.told.iter().find(|n| n.to == To::Person(ward.resident)).expect("the donor is told");
        assert!(thanks.text.contains("500.000"), "{}", thanks.text);
        let posts = To::Posts(format!("campaign:{}", campaign.id()));
        assert!(done.told.iter().any(|n| n.to == posts), "the announcement catches up: {:?}", done.told);
        let audit = ward.audit().await;
        assert_eq!(
            audit,
            [(
                Some(ward.leader),
                "pledge.received".into(),
                format!("pledge:{}", pledge.id()),
                Some("500000".into()),
                Some("cli".into())
            )]
        );
        // Counted once: the second press is refused for its state.
        let again = try_confirm(&ward, &ward.actor(ward.official), pledge, Said::Received(None)).await;
        assert!(matches!(again, Err(Stop::Refused(Refusal::State(_)))), "{again:?}");
        assert_eq!(ward.audit().await.len(), 1);
    }

    #[tokio::test]
    async fn only_the_campaigns_confirmers_may_confirm() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let (_, pledge) = pledged(&ward).await;
            let user = ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1;
            let acted = try_confirm(&ward, &ward.actor(user), pledge, Said::NotReceived).await;
            if may {
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                assert_eq!(done.outcome, Confirmed::NotReceived { pledge }, "{role}");
                assert!(done.told.is_empty(), "nobody is told of money not received");
            } else {
                assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}: a refusal writes nothing");
            }
        }
    }

    #[tokio::test]
    async fn an_unknown_pledge_and_an_amount_out_of_bounds_are_refused() {
        let ward = Ward::new().await;
        let (_, pledge) = pledged(&ward).await;
        let official = ward.actor(ward.official);
        let missing = try_confirm(&ward, &official, PledgeCode::new(999), Said::NotReceived).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        let huge = Said::Received(Some(Money::from_dong(2_000_000_000).unwrap()));
        let refused = try_confirm(&ward, &official, pledge, huge).await;
        assert!(matches!(refused, Err(Stop::Refused(Refusal::Input(_)))), "{refused:?}");
        assert!(ward.audit().await.is_empty());
    }

    #[test]
    fn buttons() {
        assert_eq!(parse_button("pl:ok:12"), Some((PledgeCode::new(12), true)));
        assert_eq!(parse_button("pl:no:3"), Some((PledgeCode::new(3), false)));
        for junk in ["pl:ok", "pl:yes:1", "pl:ok:0", "pl:ok:1:2", "pl:ok:x"] {
            assert_eq!(parse_button(junk), None, "{junk}");
        }
    }
}
