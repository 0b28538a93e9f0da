//! Household rows. Functions take a connection (or a transaction) so the
//! caller decides what is atomic.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Circumstance, Household, HouseholdDetails, Status};
use crate::domain::{PersonName, PhoneNumber};

type Row = (i64, i64, i64, String, String, String, Option<String>, String, String, i64, i64, i64, i64);

const SELECT: &str = "SELECT id, group_id, owner_user_id, status, head_name, house_number, lane, street, phone,
        members, smartphone_users, has_epayment, vneid_level2 FROM households";

async fn from_row(conn: &mut SqliteConnection, row: Row) -> anyhow::Result<Household> {
    let (
        id,
        group_id,
        owner_user_id,
        status,
        head_name,
        house_number,
        lane,
        street,
        phone,
        members,
        smart,
        epay,
        vneid,
    ) = row;
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT circumstance FROM household_circumstances WHERE household_id = ? ORDER BY circumstance",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let mut circumstances: Vec<Circumstance> = codes.iter().filter_map(|c| Circumstance::from_code(c)).collect();
    circumstances.sort();
    Ok(Household {
        id,
        group_id,
        owner_user_id,
        status: Status::from_code(&status).ok_or_else(|| anyhow::anyhow!("household {id}: bad status {status}"))?,
        details: HouseholdDetails {
            head_name: PersonName::parse(&head_name)?,
            house_number,
            lane,
            street,
            phone: PhoneNumber::parse(&phone)?,
            members: u32::try_from(members)?,
            circumstances,
            smartphone_users: u32::try_from(smart)?,
            has_epayment: epay != 0,
            vneid_level2: u32::try_from(vneid)?,
        },
    })
}

pub async fn get(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<Option<Household>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE id = ?")).bind(id).fetch_optional(&mut *conn).await?;
    match row {
        Some(row) => Ok(Some(from_row(conn, row).await?)),
        None => Ok(None),
    }
}

/// «Số 8, ngõ 41, Xuân La — Nguyễn Văn An» for household `id`
/// ([`crate::domain::household_line`]): how staff are told which
/// household, in private.
pub async fn line(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<Option<String>> {
    let row: Option<(String, Option<String>, String, String)> =
        sqlx::query_as("SELECT house_number, lane, street, head_name FROM households WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(house, lane, street, head)| crate::domain::household_line(&house, lane.as_deref(), &street, &head)))
}

pub async fn owned_by(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Vec<Household>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE owner_user_id = ? ORDER BY id"))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(from_row(conn, row).await?);
    }
    Ok(out)
}

/// A new household, pending review.
pub async fn insert(
    conn: &mut SqliteConnection,
    group_id: i64,
    owner: i64,
    details: &HouseholdDetails,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, lane, street, phone,
            members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
    )
    .bind(group_id)
    .bind(owner)
    .bind(details.head_name.as_str())
    .bind(details.head_name.folded())
    .bind(&details.house_number)
    .bind(&details.lane)
    .bind(&details.street)
    .bind(details.phone.as_str())
    .bind(details.members)
    .bind(details.smartphone_users)
    .bind(details.has_epayment)
    .bind(details.vneid_level2)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    write_circumstances(conn, id, &details.circumstances).await?;
    Ok(id)
}

/// Overwrites the details and sets the status (used for records not yet
/// approved, and when a leader approves an update).
pub async fn replace_details(
    conn: &mut SqliteConnection,
    id: i64,
    details: &HouseholdDetails,
    status: Status,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if status == Status::Approved {
        // An approved household's indicators change with their events.
        if let Some(found) = crate::digital::household(&mut *conn, id).await? {
            let to = crate::digital::Indicators {
                smartphone_users: i64::from(details.smartphone_users),
                has_epayment: details.has_epayment,
                vneid_level2: i64::from(details.vneid_level2),
                ..found.now
            };
            crate::digital::change(&mut *conn, id, to, by, crate::digital::Source::Leader, now).await?;
        }
    }
    sqlx::query(
        "UPDATE households SET head_name = ?, head_name_folded = ?, house_number = ?, lane = ?, street = ?, phone = ?,
            members = ?, smartphone_users = ?, has_epayment = ?, vneid_level2 = ?, status = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(details.head_name.as_str())
    .bind(details.head_name.folded())
    .bind(&details.house_number)
    .bind(&details.lane)
    .bind(&details.street)
    .bind(details.phone.as_str())
    .bind(details.members)
    .bind(details.smartphone_users)
    .bind(details.has_epayment)
    .bind(details.vneid_level2)
    .bind(status.code())
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if status != Status::Approved {
        // Still being registered: what it gives now is its baseline.
        sqlx::query(
            "UPDATE household_baselines SET smartphone_users = ?, has_epayment = ?, vneid_level2 = ? WHERE household_id = ?",
        )
        .bind(details.smartphone_users)
        .bind(details.has_epayment)
        .bind(details.vneid_level2)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM household_circumstances WHERE household_id = ?").bind(id).execute(&mut *conn).await?;
    write_circumstances(conn, id, &details.circumstances).await
}

async fn write_circumstances(conn: &mut SqliteConnection, id: i64, list: &[Circumstance]) -> anyhow::Result<()> {
    for c in list {
        sqlx::query("INSERT OR IGNORE INTO household_circumstances (household_id, circumstance) VALUES (?, ?)")
            .bind(id)
            .bind(c.code())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Moves a pending household to approved or rejected. False if it was no
/// longer pending (another leader decided first).
pub async fn decide(
    conn: &mut SqliteConnection,
    id: i64,
    to: Status,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE households SET status = ?, decided_by = ?, decided_at = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
    )
    .bind(to.code())
    .bind(by)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct PendingUpdate {
    pub id: i64,
    pub household_id: i64,
    pub details: HouseholdDetails,
}

/// Files a change to an approved household; an older pending change is
/// superseded by it.
pub async fn propose_update(
    conn: &mut SqliteConnection,
    household_id: i64,
    details: &HouseholdDetails,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    sqlx::query("UPDATE household_updates SET status = 'superseded' WHERE household_id = ? AND status = 'pending'")
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO household_updates (household_id, details, status, submitted_at) VALUES (?, ?, 'pending', ?) RETURNING id",
    )
    .bind(household_id)
    .bind(serde_json::to_string(details)?)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn pending_update(conn: &mut SqliteConnection, update_id: i64) -> anyhow::Result<Option<PendingUpdate>> {
    let row: Option<(i64, i64, String)> =
        sqlx::query_as("SELECT id, household_id, details FROM household_updates WHERE id = ? AND status = 'pending'")
            .bind(update_id)
            .fetch_optional(conn)
            .await?;
    row.map(|(id, household_id, details)| {
        Ok(PendingUpdate { id, household_id, details: serde_json::from_str(&details)? })
    })
    .transpose()
}

/// A proposed change's household and status (`pending`, `approved`,
/// `rejected` or `superseded`), whatever became of it.
pub async fn update_of(conn: &mut SqliteConnection, update_id: i64) -> anyhow::Result<Option<(i64, String)>> {
    Ok(sqlx::query_as("SELECT household_id, status FROM household_updates WHERE id = ?")
        .bind(update_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn has_pending_update(conn: &mut SqliteConnection, household_id: i64) -> anyhow::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM household_updates WHERE household_id = ? AND status = 'pending' LIMIT 1")
            .bind(household_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

pub async fn close_update(
    conn: &mut SqliteConnection,
    update_id: i64,
    to: Status,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE household_updates SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
    )
    .bind(to.code())
    .bind(by)
    .bind(now)
    .bind(update_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
