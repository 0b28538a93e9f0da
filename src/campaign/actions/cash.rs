//! Cash handed to a leader by someone not on the bot (`/ghinhan`),
//! recorded as a pledge already received.

use sqlx::SqliteConnection;

use super::may_confirm;
use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::campaign::repo::{self, NewPledge};
use crate::campaign::{progress, CampaignCode, PledgeCode};
use crate::domain::Money;
use crate::refusal::Refusal;

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashRecorded {
    pub pledge: PledgeCode,
    pub campaign: CampaignCode,
    pub amount: Money,
    pub donor: String,
}

impl CashRecorded {
    /// What the recorder reads.
    pub fn text(&self) -> String {
        let CashRecorded { pledge, campaign, amount, donor } = self;
        format!("✅ Đã ghi nhận {amount} tiền mặt của {donor} cho {campaign} (mã {pledge}).")
    }
}

/// **Record cash** (the action): whoever may confirm the campaign's money
/// ([`may_confirm`]) records `amount` given by `donor` (a name, 2 to 100
/// letters, already squashed by the door) to an open campaign, as received
/// by them. Audited (`pledge.recorded_cash`, with the amount); the
/// announcements catch up.
pub async fn record_cash(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: CampaignCode,
    amount: Money,
    donor: &str,
) -> Acted<CashRecorded> {
    if let Some(problem) = crate::campaign::out_of_bounds(&app.book, amount) {
        return Err(Refusal::input(problem).into());
    }
    let letters = donor.chars().count();
    if !(2..=100).contains(&letters) {
        return Err(Refusal::input("Xin ghi họ tên người ủng hộ.").into());
    }
    let Some(campaign) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("cuộc vận động", code).into());
    };
    if !may_confirm(&mut *conn, actor.user, &campaign).await? {
        return Err(Refusal::no_right("ghi nhận tiền cho cuộc vận động này").into());
    }
    if !campaign.open {
        return Err(Refusal::state(format!("Cuộc vận động {code} đã kết thúc.")).into());
    }
    let new = NewPledge { campaign: code, user_id: None, donor_name: donor, anonymous: false, transfer: false, amount };
    let pledge = repo::insert_pledge(&mut *conn, new, Some(actor.user), actor.at).await?;
    let subject = format!("pledge:{}", pledge.id());
    crate::audit::record(&mut *conn, actor, "pledge.recorded_cash", &subject, Some(&amount.dong().to_string())).await?;
    let told = progress::touch(app, &mut *conn, &campaign, actor.at).await?.into_iter().collect();
    Ok(Done::new(CashRecorded { pledge, campaign: code, amount, donor: donor.to_string() }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests as fixtures;
    use super::*;
    use crate::action::{Door, To};
    use crate::campaign::PledgeStatus;
    use crate::refusal::Stop;
    use crate::testing::Ward;

    async fn try_record(
        ward: &Ward,
        actor: &Actor,
        code: CampaignCode,
        amount: &str,
        donor: &str,
    ) -> Acted<CashRecorded> {
        let mut tx = ward.tx().await;
        let amount = Money::parse(amount).unwrap();
        let acted = record_cash(&ward.app, &mut tx, actor, code, amount, donor).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn the_leader_records_cash_as_received_and_the_announcement_catches_up() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        let actor = ward.actor_at(ward.leader, Door::Web);
        let done = try_record(&ward, &actor, campaign, "1tr", "Nguyễn Thị Tư").await.unwrap();
        let pledge = done.outcome.pledge;
        assert_eq!(
            done.outcome.text(),
            format!("✅ Đã ghi nhận 1.000.000 đ tiền mặt của Nguyễn Thị Tư cho {campaign} (mã {pledge}).")
        );
        let posts = To::Posts(format!("campaign:{}", campaign.id()));
        assert_eq!(done.told.len(), 1, "{:?}", done.told);
        assert_eq!(done.told[0].to, posts);
        assert!(done.told[0].text.contains("40% · 1.000.000 đ / 2.500.000 đ · 1 hộ"), "{}", done.told[0].text);
        let mut tx = ward.tx().await;
        let row = repo::get_pledge(&mut tx, pledge).await.unwrap().unwrap();
        drop(tx);
        assert_eq!(
            (row.status, row.received, row.user_id),
            (PledgeStatus::Received, Some(Money::parse("1tr").unwrap()), None)
        );
        let audit = ward.audit().await;
        let row = (
            Some(ward.leader),
            "pledge.recorded_cash".to_string(),
            format!("pledge:{}", pledge.id()),
            Some("1000000".to_string()),
            Some("web".to_string()),
        );
        assert_eq!(audit, [row]);
    }

    #[tokio::test]
    async fn only_the_campaigns_confirmers_may_record_cash() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let campaign = fixtures::campaign(&ward, false).await;
            let user = fixtures::who(&ward, role);
            let acted = try_record(&ward, &ward.actor(user), campaign, "200k", "Bà Tư").await;
            if may {
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                assert_eq!(done.outcome.campaign, campaign, "{role}");
                assert_eq!(ward.audit().await.len(), 1, "{role}");
            } else {
                assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}: a refusal writes nothing");
            }
        }
    }

    #[tokio::test]
    async fn a_closed_or_unknown_campaign_a_missing_name_and_a_wrong_amount_are_refused() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        let leader = ward.actor(ward.leader);
        let missing = try_record(&ward, &leader, CampaignCode::new(99), "200k", "Bà Tư").await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        let nameless = try_record(&ward, &leader, campaign, "200k", "B").await;
        assert!(matches!(nameless, Err(Stop::Refused(Refusal::Input(_)))), "{nameless:?}");
        let small = try_record(&ward, &leader, campaign, "500", "Bà Tư").await;
        assert!(matches!(small, Err(Stop::Refused(Refusal::Input(_)))), "{small:?}");
        let mut tx = ward.tx().await;
        repo::close(&mut tx, campaign, ward.leader, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        let closed = try_record(&ward, &leader, campaign, "200k", "Bà Tư").await;
        match closed {
            Err(Stop::Refused(Refusal::State(s))) => assert_eq!(s, format!("Cuộc vận động {campaign} đã kết thúc.")),
            other => panic!("{other:?}"),
        }
        assert!(ward.audit().await.is_empty());
    }
}
