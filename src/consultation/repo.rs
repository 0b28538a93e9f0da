//! The SQL of consultations themselves: drafts, opening, closing, their
//! groups, their posts. Answers are in `answers`, counts in `figures`.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Ballot, Consultation, ConsultationCode, Status, Unit};

/// What `/layykien` gathered, before it is saved as a draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub question: String,
    pub explanation: Option<String>,
    pub photo: Option<String>,
    pub options: Vec<String>,
    pub other: Option<usize>,
    pub unit: Unit,
    pub ballot: Ballot,
    pub closes_at: DateTime<Utc>,
}

type Row = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
);

const COLUMNS: &str = "id, creator_user_id, question, explanation, photo_file_id, options, other_option, unit, ballot,
                       closes_at, closed_at, status";

fn consultation(row: Row) -> anyhow::Result<Consultation> {
    let (id, creator, question, explanation, photo, options, other, unit, ballot, closes_at, closed_at, status) = row;
    Ok(Consultation {
        code: ConsultationCode::new(id),
        creator,
        question,
        explanation,
        photo,
        options: serde_json::from_str(&options)?,
        other: other.and_then(|o| usize::try_from(o).ok()),
        unit: Unit::from_code(&unit).ok_or_else(|| anyhow::anyhow!("unit {unit}"))?,
        ballot: Ballot::from_code(&ballot).ok_or_else(|| anyhow::anyhow!("ballot {ballot}"))?,
        closes_at,
        closed_at,
        status: Status::from_code(&status).ok_or_else(|| anyhow::anyhow!("status {status}"))?,
    })
}

pub async fn create(
    conn: &mut SqliteConnection,
    creator: i64,
    draft: &Draft,
    groups: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<ConsultationCode> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO consultations (creator_user_id, question, explanation, photo_file_id, options, other_option, unit,
                                    ballot, closes_at, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?) RETURNING id",
    )
    .bind(creator)
    .bind(&draft.question)
    .bind(&draft.explanation)
    .bind(&draft.photo)
    .bind(serde_json::to_string(&draft.options)?)
    .bind(draft.other.map(|o| o as i64))
    .bind(draft.unit.code())
    .bind(draft.ballot.code())
    .bind(draft.closes_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO consultation_groups (consultation_id, group_id) SELECT ?, value FROM json_each(?)")
        .bind(id)
        .bind(serde_json::to_string(groups)?)
        .execute(conn)
        .await?;
    Ok(ConsultationCode::new(id))
}

pub async fn get(conn: &mut SqliteConnection, code: ConsultationCode) -> anyhow::Result<Option<Consultation>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM consultations WHERE id = ?"))
        .bind(code.id())
        .fetch_optional(conn)
        .await?;
    row.map(consultation).transpose()
}

/// Consultations with one of `statuses` that reach one of `groups` (all
/// when `None`), newest first.
pub async fn reaching(
    conn: &mut SqliteConnection,
    groups: Option<&[i64]>,
    statuses: &[Status],
) -> anyhow::Result<Vec<Consultation>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.code()).collect();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consultations c
         WHERE c.status IN (SELECT value FROM json_each(?1))
           AND (?2 = 'null' OR EXISTS (SELECT 1 FROM consultation_groups g
                WHERE g.consultation_id = c.id AND g.group_id IN (SELECT value FROM json_each(?2))))
         ORDER BY c.id DESC LIMIT 20"
    ))
    .bind(serde_json::to_string(&statuses)?)
    .bind(serde_json::to_string(&groups)?)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(consultation).collect()
}

/// Open consultations whose time has come.
pub async fn due_to_close(conn: &mut SqliteConnection, now: DateTime<Utc>) -> anyhow::Result<Vec<ConsultationCode>> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM consultations WHERE status = 'open' AND closes_at <= ?")
        .bind(now)
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().map(ConsultationCode::new).collect())
}

/// When the next open consultation closes, if one is open.
pub async fn next_close(conn: &mut SqliteConnection) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar("SELECT MIN(closes_at) FROM consultations WHERE status = 'open'").fetch_one(conn).await?)
}

pub async fn targets(conn: &mut SqliteConnection, code: ConsultationCode) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT group_id FROM consultation_groups WHERE consultation_id = ? ORDER BY group_id")
        .bind(code.id())
        .fetch_all(conn)
        .await?)
}

/// The SQL of how many may answer in a group (`g`): approved households,
/// or their heads and members.
pub(super) fn registered_sql(unit: Unit) -> &'static str {
    match unit {
        Unit::Household => "(SELECT COUNT(*) FROM households h WHERE h.group_id = g.id AND h.status = 'approved')",
        Unit::Person => {
            "((SELECT COUNT(*) FROM households h WHERE h.group_id = g.id AND h.status = 'approved')
              + (SELECT COUNT(*) FROM household_members m JOIN households h ON h.id = m.household_id
                 WHERE h.group_id = g.id AND h.status = 'approved'))"
        }
    }
}

/// Opens a draft: its status, and how many could answer in each group
/// then. None if it was no longer a draft.
pub async fn open(conn: &mut SqliteConnection, c: &Consultation, now: DateTime<Utc>) -> anyhow::Result<Option<i64>> {
    let done = sqlx::query("UPDATE consultations SET status = 'open', opened_at = ? WHERE id = ? AND status = 'draft'")
        .bind(now)
        .bind(c.code.id())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    sqlx::query(&format!(
        "UPDATE consultation_groups SET registered = (SELECT {} FROM groups g WHERE g.id = consultation_groups.group_id)
         WHERE consultation_id = ?",
        registered_sql(c.unit)
    ))
    .bind(c.code.id())
    .execute(&mut *conn)
    .await?;
    Ok(Some(
        sqlx::query_scalar("SELECT COALESCE(SUM(registered), 0) FROM consultation_groups WHERE consultation_id = ?")
            .bind(c.code.id())
            .fetch_one(conn)
            .await?,
    ))
}

/// How many could answer in `groups` now (zero means the consultation
/// cannot be sent).
pub async fn registered(conn: &mut SqliteConnection, unit: Unit, groups: &[i64]) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT COALESCE(SUM({}), 0) FROM groups g WHERE g.id IN (SELECT value FROM json_each(?))",
        registered_sql(unit)
    ))
    .bind(serde_json::to_string(groups)?)
    .fetch_one(conn)
    .await?)
}

pub async fn cancel(conn: &mut SqliteConnection, code: ConsultationCode) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE consultations SET status = 'cancelled' WHERE id = ? AND status = 'draft'")
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes an open consultation. False if it was not open (closed already,
/// by the scheduler or someone else).
pub async fn close(
    conn: &mut SqliteConnection,
    code: ConsultationCode,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE consultations SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'",
    )
    .bind(now)
    .bind(by)
    .bind(code.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Consultations whose group posts show an old participation figure and
/// whose last edit is older than `before`.
pub async fn posts_due(conn: &mut SqliteConnection, before: DateTime<Utc>) -> anyhow::Result<Vec<ConsultationCode>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM consultations WHERE post_dirty = 1 AND (post_edited_at IS NULL OR post_edited_at <= ?)",
    )
    .bind(before)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(ConsultationCode::new).collect())
}

pub async fn post_edited(
    conn: &mut SqliteConnection,
    code: ConsultationCode,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE consultations SET post_dirty = 0, post_edited_at = ? WHERE id = ?")
        .bind(now)
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}
