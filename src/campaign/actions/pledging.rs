//! A resident's pledge: the pledge row, and the campaign's confirmers told
//! to watch for the money. What the pledger reads (the VietQR code, the
//! transfer details, the thanks) is the door's rendering of the outcome.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Choice, Done, Notification};
use crate::app::App;
use crate::campaign::repo::{self, NewPledge};
use crate::campaign::{Campaign, CampaignCode, Pledge};
use crate::domain::Money;
use crate::refusal::Refusal;
use crate::roles;

/// What a resident offers to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub campaign: CampaignCode,
    pub amount: Money,
    /// The honour list shows no name for it.
    pub anonymous: bool,
    /// By bank transfer, else in cash through the leader.
    pub transfer: bool,
}

/// The pledge as recorded, and its campaign (for the door's VietQR code or
/// cash thanks).
#[derive(Debug, Clone, PartialEq)]
pub struct Pledged {
    pub pledge: Pledge,
    pub campaign: Campaign,
}

/// Whether a campaign still takes pledges on the ward's day of `at`: open
/// and not past its deadline.
pub fn open_for_pledges(app: &App, campaign: &Campaign, at: DateTime<Utc>) -> Result<(), Refusal> {
    let today = at.with_timezone(&app.settings.timezone).date_naive();
    if !campaign.open {
        return Err(Refusal::state(format!(
            "Cuộc vận động {} đã kết thúc. Xin cảm ơn tấm lòng của bác!",
            campaign.code
        )));
    }
    if today > campaign.deadline {
        return Err(Refusal::state(format!(
            "Cuộc vận động {} đã hết hạn nhận ủng hộ ({}).",
            campaign.code,
            campaign.deadline.format("%d/%m/%Y")
        )));
    }
    Ok(())
}

/// Who is asked to confirm a pledge's money: the campaign's creator, then
/// (for a single-group campaign) the group's leaders, each once.
async fn confirmers(conn: &mut SqliteConnection, campaign: &Campaign) -> anyhow::Result<Vec<i64>> {
    let mut to = vec![campaign.created_by];
    if !campaign.ward_wide {
        for g in repo::groups_of(&mut *conn, campaign.code).await? {
            for (leader, _) in roles::leaders_of(&mut *conn, g).await? {
                if !to.contains(&leader) {
                    to.push(leader);
                }
            }
        }
    }
    Ok(to)
}

/// **Make a pledge** (the action): anyone may give to a campaign that is
/// open and before its deadline, within the amount's bounds, in a way the
/// campaign takes. Not audited: the pledge row is the person's own record,
/// and only a confirmation counts money. The confirmers are each asked,
/// in private, whether the money arrived.
pub async fn pledge(app: &App, conn: &mut SqliteConnection, actor: &Actor, offer: Offer) -> Acted<Pledged> {
    let Some(campaign) = repo::get(&mut *conn, offer.campaign).await? else {
        return Err(Refusal::not_found("cuộc vận động", offer.campaign).into());
    };
    open_for_pledges(app, &campaign, actor.at)?;
    if let Some(problem) = crate::campaign::out_of_bounds(&app.book, offer.amount) {
        return Err(Refusal::input(problem).into());
    }
    if offer.transfer && campaign.bank.is_none() {
        return Err(Refusal::input(format!("Cuộc vận động {} chỉ nhận tiền mặt.", campaign.code)).into());
    }
    if !offer.transfer && !campaign.accepts_cash {
        return Err(Refusal::input(format!("Cuộc vận động {} chỉ nhận chuyển khoản.", campaign.code)).into());
    }
    // The honour list shows the registered name where there is one.
    let Some((_, donor)) = roles::user_addr(&mut *conn, actor.user).await? else {
        return Err(anyhow::anyhow!("user {} is not on the bot", actor.user).into());
    };
    let new = NewPledge {
        campaign: campaign.code,
        user_id: Some(actor.user),
        donor_name: &donor,
        anonymous: offer.anonymous,
        transfer: offer.transfer,
        amount: offer.amount,
    };
    let code = repo::insert_pledge(&mut *conn, new, None, actor.at).await?;
    let pledge = repo::get_pledge(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("pledge vanished"))?;
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
    let choices = vec![vec![
        Choice::new("✅ Đã nhận tiền", format!("pl:ok:{}", code.id())),
        Choice::new("❌ Chưa nhận", format!("pl:no:{}", code.id())),
    ]];
    let told = confirmers(&mut *conn, &campaign)
        .await?
        .into_iter()
        .map(|user| Notification::person(user, text.clone()).with_choices(choices.clone()))
        .collect();
    Ok(Done::new(Pledged { pledge, campaign }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests as fixtures;
    use super::*;
    use crate::action::{Door, To};
    use crate::campaign::PledgeStatus;
    use crate::refusal::Stop;
    use crate::testing::Ward;

    fn offer(campaign: CampaignCode, amount: &str) -> Offer {
        Offer { campaign, amount: Money::parse(amount).unwrap(), anonymous: false, transfer: false }
    }

    async fn try_pledge(ward: &Ward, actor: &Actor, offer: Offer) -> Acted<Pledged> {
        let mut tx = ward.tx().await;
        let acted = pledge(&ward.app, &mut tx, actor, offer).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn pledges(ward: &Ward) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM pledges").fetch_one(&mut *ward.db.read().await.unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn a_resident_pledges_and_the_leader_is_asked_to_confirm() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        let actor = ward.actor_at(ward.resident, Door::Zalo);
        let done = try_pledge(&ward, &actor, offer(campaign, "500k")).await.unwrap();
        let pledge = &done.outcome.pledge;
        assert_eq!(
            (pledge.campaign, pledge.user_id, pledge.status),
            (campaign, Some(ward.resident), PledgeStatus::Registered)
        );
        assert_eq!((pledge.amount, pledge.donor_name.as_str()), (Money::parse("500k").unwrap(), "Nguyễn Cư Dân"));
        assert_eq!(done.outcome.campaign.code, campaign);
        // The creator is the group's leader: asked once.
        assert_eq!(done.told.len(), 1, "{:?}", done.told);
        let asked = &done.told[0];
        assert_eq!(asked.to, To::Person(ward.leader));
        let code = pledge.code;
        assert!(asked.text.starts_with(&format!("💝 Ủng hộ mới {code} cho {campaign}: 500.000 đ")), "{}", asked.text);
        assert!(asked.text.contains("Người ủng hộ: Nguyễn Cư Dân\nCách ủng hộ: tiền mặt"), "{}", asked.text);
        let id = code.id();
        let buttons = vec![vec![
            Choice::new("✅ Đã nhận tiền", format!("pl:ok:{id}")),
            Choice::new("❌ Chưa nhận", format!("pl:no:{id}")),
        ]];
        assert_eq!(asked.choices, buttons);
        assert!(ward.audit().await.is_empty(), "a pledge is not a privileged act");
    }

    #[tokio::test]
    async fn everyone_may_pledge() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        for (role, user) in ward.everyone() {
            let done = try_pledge(&ward, &ward.actor(user), offer(campaign, "100k")).await;
            let done = done.unwrap_or_else(|e| panic!("{role}: {e:?}"));
            assert_eq!(done.outcome.pledge.user_id, Some(user), "{role}");
        }
        assert_eq!(pledges(&ward).await, 4);
    }

    #[tokio::test]
    async fn an_officials_campaign_asks_its_creator_then_the_groups_leaders_a_ward_wide_one_only_its_creator() {
        let ward = Ward::new().await;
        let single = fixtures::campaign_by(&ward, ward.official, false, false).await;
        let done = try_pledge(&ward, &ward.actor(ward.resident), offer(single, "200k")).await.unwrap();
        let to: Vec<_> = done.told.iter().map(|n| n.to.clone()).collect();
        assert_eq!(to, [To::Person(ward.official), To::Person(ward.leader)]);

        let wide = fixtures::campaign_by(&ward, ward.official, true, true).await;
        let transfer = Offer { anonymous: true, transfer: true, ..offer(wide, "300k") };
        let done = try_pledge(&ward, &ward.actor(ward.resident), transfer).await.unwrap();
        assert_eq!(done.told.len(), 1);
        assert_eq!(done.told[0].to, To::Person(ward.official));
        let code = done.outcome.pledge.code;
        let text = &done.told[0].text;
        assert!(text.contains("Nguyễn Cư Dân (xin ẩn danh)"), "{text}");
        assert!(text.contains(&format!("chuyển khoản, nội dung «{wide} {code}»")), "{text}");
    }

    #[tokio::test]
    async fn a_closed_or_late_campaign_a_way_it_does_not_take_and_a_wrong_amount_are_refused() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        let resident = ward.actor(ward.resident);
        let missing = try_pledge(&ward, &resident, offer(CampaignCode::new(99), "100k")).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        let transfer = Offer { transfer: true, ..offer(campaign, "100k") };
        let cash_only = try_pledge(&ward, &resident, transfer).await;
        assert!(matches!(cash_only, Err(Stop::Refused(Refusal::Input(_)))), "{cash_only:?}");
        let huge = Offer { amount: Money::from_dong(2_000_000_000).unwrap(), ..offer(campaign, "100k") };
        let refused = try_pledge(&ward, &resident, huge).await;
        assert!(matches!(refused, Err(Stop::Refused(Refusal::Input(_)))), "{refused:?}");
        let late = Actor { at: ward.now() + chrono::Duration::days(31), ..resident };
        let refused = try_pledge(&ward, &late, offer(campaign, "100k")).await;
        match refused {
            Err(Stop::Refused(Refusal::State(s))) => assert!(s.contains("đã hết hạn nhận ủng hộ"), "{s}"),
            other => panic!("{other:?}"),
        }
        let mut tx = ward.tx().await;
        repo::close(&mut tx, campaign, ward.leader, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        let closed = try_pledge(&ward, &resident, offer(campaign, "100k")).await;
        match closed {
            Err(Stop::Refused(Refusal::State(s))) => assert!(s.contains("đã kết thúc"), "{s}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(pledges(&ward).await, 0, "a refusal writes nothing");
    }
}
