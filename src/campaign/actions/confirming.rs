//! Confirming a pledge's money: received (the amount pledged or the amount
//! really received) or not received.

use sqlx::SqliteConnection;

use super::may_confirm;
use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::campaign::repo;
use crate::campaign::{progress, CampaignCode, PledgeCode, PledgeStatus};
use crate::domain::Money;
use crate::refusal::Refusal;

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
        if let Some(problem) = crate::campaign::out_of_bounds(&app.book, amount) {
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

#[cfg(test)]
mod tests {
    use super::super::tests as fixtures;
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    /// The ward's first group's campaign, with a resident's pledge of
    /// 500.000 đ.
    async fn pledged(ward: &Ward) -> (CampaignCode, PledgeCode) {
        let campaign = fixtures::campaign(ward, false).await;
        (campaign, fixtures::pledge_of(ward, campaign, "500k").await)
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
            let user = fixtures::who(&ward, role);
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
}
