//! Campaign and pledge rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::SqliteConnection;

use super::{BankAccount, Campaign, CampaignCode, Pledge, PledgeCode, PledgeStatus, Totals};
use crate::domain::Money;

type CampaignRow = (
    i64,
    String,
    String,
    Option<i64>,
    String,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    String,
    i64,
);

const SELECT_CAMPAIGN: &str =
    "SELECT id, title, purpose, target, deadline, accepts_cash, bank_bin, bank_name, account_number,
        account_holder, ward_wide, status, created_by FROM campaigns";

fn campaign(row: CampaignRow) -> anyhow::Result<Campaign> {
    let (id, title, purpose, target, deadline, cash, bin, bank_name, number, holder, ward_wide, status, created_by) =
        row;
    let bank = match (bin, bank_name, number, holder) {
        (Some(bin), Some(bank_name), Some(number), Some(holder)) => {
            Some(BankAccount { bin, bank_name, number, holder })
        }
        _ => None,
    };
    Ok(Campaign {
        code: CampaignCode::new(id),
        title,
        purpose,
        target: target.map(Money::from_dong).transpose()?,
        deadline: NaiveDate::parse_from_str(&deadline, "%Y-%m-%d")?,
        accepts_cash: cash,
        bank,
        ward_wide,
        open: status == "open",
        created_by,
    })
}

pub async fn get(conn: &mut SqliteConnection, code: CampaignCode) -> anyhow::Result<Option<Campaign>> {
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("{SELECT_CAMPAIGN} WHERE id = ?")).bind(code.id()).fetch_optional(conn).await?;
    row.map(campaign).transpose()
}

pub async fn open_campaigns(conn: &mut SqliteConnection) -> anyhow::Result<Vec<Campaign>> {
    let rows: Vec<CampaignRow> =
        sqlx::query_as(&format!("{SELECT_CAMPAIGN} WHERE status = 'open' ORDER BY id")).fetch_all(conn).await?;
    rows.into_iter().map(campaign).collect()
}

pub struct NewCampaign<'a> {
    pub title: &'a str,
    pub purpose: &'a str,
    pub target: Option<Money>,
    pub deadline: NaiveDate,
    pub accepts_cash: bool,
    pub bank: Option<&'a BankAccount>,
    pub groups: &'a [i64],
    pub ward_wide: bool,
    pub created_by: i64,
}

pub async fn insert(
    conn: &mut SqliteConnection,
    new: NewCampaign<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<CampaignCode> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (title, purpose, target, deadline, accepts_cash, bank_bin, bank_name, account_number, account_holder,
            ward_wide, status, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id",
    )
    .bind(new.title)
    .bind(new.purpose)
    .bind(new.target.map(Money::dong))
    .bind(new.deadline.format("%Y-%m-%d").to_string())
    .bind(new.accepts_cash)
    .bind(new.bank.map(|b| b.bin.as_str()))
    .bind(new.bank.map(|b| b.bank_name.as_str()))
    .bind(new.bank.map(|b| b.number.as_str()))
    .bind(new.bank.map(|b| b.holder.as_str()))
    .bind(new.ward_wide)
    .bind(new.created_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for group in new.groups {
        sqlx::query("INSERT INTO campaign_groups (campaign_id, group_id) VALUES (?, ?)")
            .bind(id)
            .bind(group)
            .execute(&mut *conn)
            .await?;
    }
    Ok(CampaignCode::new(id))
}

pub async fn groups_of(conn: &mut SqliteConnection, code: CampaignCode) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT group_id FROM campaign_groups WHERE campaign_id = ? ORDER BY group_id")
        .bind(code.id())
        .fetch_all(conn)
        .await?)
}

pub async fn close(
    conn: &mut SqliteConnection,
    code: CampaignCode,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE campaigns SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ? AND status = 'open'",
    )
    .bind(by)
    .bind(now)
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The totals, computed from the pledges every time so that every view
/// agrees with the database.
pub async fn totals(conn: &mut SqliteConnection, code: CampaignCode) -> anyhow::Result<Totals> {
    let (received, contributions, households, outstanding): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status = 'received' THEN received_amount END), 0),
                COUNT(CASE WHEN status = 'received' THEN 1 END),
                -- Households: distinct people on the bot, plus distinct names
                -- recorded by hand for people who are not.
                COUNT(DISTINCT CASE WHEN status = 'received' THEN user_id END)
                  + COUNT(DISTINCT CASE WHEN status = 'received' AND user_id IS NULL THEN donor_name END),
                COALESCE(SUM(CASE WHEN status <> 'received' THEN amount END), 0)
         FROM pledges WHERE campaign_id = ?",
    )
    .bind(code.id())
    .fetch_one(conn)
    .await?;
    Ok(Totals { received, contributions, households, outstanding })
}

type PledgeRow = (i64, i64, Option<i64>, String, bool, String, i64, String, Option<i64>);
const SELECT_PLEDGE: &str =
    "SELECT id, campaign_id, user_id, donor_name, anonymous, method, amount, status, received_amount FROM pledges";

fn pledge(row: PledgeRow) -> anyhow::Result<Pledge> {
    let (id, campaign, user_id, donor_name, anonymous, method, amount, status, received) = row;
    Ok(Pledge {
        code: PledgeCode::new(id),
        campaign: CampaignCode::new(campaign),
        user_id,
        donor_name,
        anonymous,
        transfer: method == "transfer",
        amount: Money::from_dong(amount)?,
        status: PledgeStatus::from_code(&status).ok_or_else(|| anyhow::anyhow!("pledge {id}: bad status"))?,
        received: received.map(Money::from_dong).transpose()?,
    })
}

pub async fn get_pledge(conn: &mut SqliteConnection, code: PledgeCode) -> anyhow::Result<Option<Pledge>> {
    let row: Option<PledgeRow> =
        sqlx::query_as(&format!("{SELECT_PLEDGE} WHERE id = ?")).bind(code.id()).fetch_optional(conn).await?;
    row.map(pledge).transpose()
}

/// Received pledges of donors who agreed to be named, largest first.
pub async fn honour_list(conn: &mut SqliteConnection, code: CampaignCode) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT donor_name, SUM(received_amount) AS total FROM pledges
         WHERE campaign_id = ? AND status = 'received' AND anonymous = 0
         GROUP BY COALESCE('u' || user_id, 'n' || donor_name), donor_name ORDER BY total DESC, donor_name",
    )
    .bind(code.id())
    .fetch_all(conn)
    .await?)
}

pub struct NewPledge<'a> {
    pub campaign: CampaignCode,
    pub user_id: Option<i64>,
    pub donor_name: &'a str,
    pub anonymous: bool,
    pub transfer: bool,
    pub amount: Money,
}

pub async fn insert_pledge(
    conn: &mut SqliteConnection,
    new: NewPledge<'_>,
    received_by: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<PledgeCode> {
    let status = if received_by.is_some() { PledgeStatus::Received } else { PledgeStatus::Registered };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pledges (campaign_id, user_id, donor_name, anonymous, method, amount, status, received_amount,
            decided_by, decided_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.campaign.id())
    .bind(new.user_id)
    .bind(new.donor_name)
    .bind(new.anonymous)
    .bind(if new.transfer { "transfer" } else { "cash" })
    .bind(new.amount.dong())
    .bind(status.code())
    .bind(received_by.map(|_| new.amount.dong()))
    .bind(received_by)
    .bind(received_by.map(|_| now))
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(PledgeCode::new(id))
}

/// Records whether the money arrived. A pledge already marked received is
/// not changed again (that would count it twice or lose it).
pub async fn decide_pledge(
    conn: &mut SqliteConnection,
    code: PledgeCode,
    received: Option<Money>,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let status = if received.is_some() { PledgeStatus::Received } else { PledgeStatus::NotReceived };
    let done = sqlx::query(
        "UPDATE pledges SET status = ?, received_amount = ?, decided_by = ?, decided_at = ?
         WHERE id = ? AND status <> 'received'",
    )
    .bind(status.code())
    .bind(received.map(Money::dong))
    .bind(by)
    .bind(now)
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_dirty(conn: &mut SqliteConnection, code: CampaignCode) -> anyhow::Result<()> {
    sqlx::query("UPDATE campaigns SET progress_dirty = 1 WHERE id = ?").bind(code.id()).execute(conn).await?;
    Ok(())
}

/// Campaigns whose announcements show an old total and were last edited
/// before `before` (or never).
pub async fn due_for_edit(conn: &mut SqliteConnection, before: DateTime<Utc>) -> anyhow::Result<Vec<CampaignCode>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE progress_dirty = 1 AND (progress_edited_at IS NULL OR progress_edited_at <= ?) ORDER BY id",
    )
    .bind(before)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(CampaignCode::new).collect())
}

/// The last edit of the campaign that has waited longest with an old total.
pub async fn oldest_dirty_edit(conn: &mut SqliteConnection) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar("SELECT MIN(progress_edited_at) FROM campaigns WHERE progress_dirty = 1")
        .fetch_one(conn)
        .await?)
}

pub async fn mark_edited(conn: &mut SqliteConnection, code: CampaignCode, now: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("UPDATE campaigns SET progress_dirty = 0, progress_edited_at = ? WHERE id = ?")
        .bind(now)
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}
