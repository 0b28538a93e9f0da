//! The campaign's ward actions, callable from any door (see [`crate::action`]):
//! creating a campaign and closing it, a resident's pledge, confirming the
//! pledge's money and recording cash from someone not on the bot.
//!
//! - `opening`: [`create`];
//! - `pledging`: [`pledge`];
//! - `confirming`: [`confirm`];
//! - `cash`: [`record_cash`];
//! - `closing`: [`close`].

mod cash;
mod closing;
mod confirming;
mod opening;
mod pledging;

use sqlx::SqliteConnection;

pub use cash::{record_cash, CashRecorded};
pub use closing::{close, Closed};
pub use confirming::{confirm, Confirmed, Said};
pub use opening::{create, Created, Plan, Scope};
pub use pledging::{open_for_pledges, pledge, Offer, Pledged};

use super::{repo, Campaign};
use crate::roles;

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

/// What the actions' tests start from.
#[cfg(test)]
mod tests {
    use crate::campaign::repo::{self, NewCampaign, NewPledge};
    use crate::campaign::{BankAccount, CampaignCode, PledgeCode};
    use crate::domain::Money;
    use crate::testing::Ward;

    /// A campaign of the ward's first group, made by its leader, taking
    /// cash and (if `bank`) transfers, for 2.500.000 đ.
    pub async fn campaign(ward: &Ward, bank: bool) -> CampaignCode {
        campaign_by(ward, ward.leader, false, bank).await
    }

    /// A campaign made by `by`, of the first group or (`ward_wide`) of both.
    pub async fn campaign_by(ward: &Ward, by: i64, ward_wide: bool, bank: bool) -> CampaignCode {
        let account = BankAccount {
            bin: "970436".into(),
            bank_name: "Vietcombank".into(),
            number: "0011002345678".into(),
            holder: "QUY TO 1".into(),
        };
        let groups = if ward_wide { vec![ward.group, ward.other_group] } else { vec![ward.group] };
        let mut tx = ward.tx().await;
        let deadline = ward.now().date_naive() + chrono::Days::new(30);
        let new = NewCampaign {
            title: "Sửa đường",
            purpose: "Đổ bê tông ngõ 12",
            target: Some(Money::parse("2tr5").unwrap()),
            deadline,
            accepts_cash: true,
            bank: bank.then_some(&account),
            groups: &groups,
            ward_wide,
            created_by: by,
        };
        let campaign = repo::insert(&mut tx, new, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        campaign
    }

    /// A resident's pledge of `amount` in cash, not yet received.
    pub async fn pledge_of(ward: &Ward, campaign: CampaignCode, amount: &str) -> PledgeCode {
        let mut tx = ward.tx().await;
        let pledge = NewPledge {
            campaign,
            user_id: Some(ward.resident),
            donor_name: "Nguyễn Cư Dân",
            anonymous: false,
            transfer: false,
            amount: Money::parse(amount).unwrap(),
        };
        let pledge = repo::insert_pledge(&mut tx, pledge, None, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        pledge
    }

    /// A role's person, by the name [`Ward::everyone`] gives it.
    pub fn who(ward: &Ward, role: &str) -> i64 {
        ward.everyone().into_iter().find(|(r, _)| *r == role).map(|(_, id)| id).expect("a role")
    }
}
