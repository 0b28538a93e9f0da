//! Report rows, photos and events.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Place, Report, ReportCode, Status};

type Row = (
    i64,
    i64,
    i64,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<String>,
    String,
    bool,
    Option<String>,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);

const SELECT: &str =
    "SELECT id, group_id, reporter_user_id, category, description, latitude, longitude, address, status,
        reopened, rating, share_photos, created_at, updated_at FROM reports";

async fn from_row(conn: &mut SqliteConnection, row: Row) -> anyhow::Result<Report> {
    let (
        id,
        group_id,
        reporter,
        category,
        description,
        lat,
        lon,
        address,
        status,
        reopened,
        rating,
        share,
        created,
        updated,
    ) = row;
    let photos: Vec<String> =
        sqlx::query_scalar("SELECT file_id FROM report_photos WHERE report_id = ? ORDER BY position")
            .bind(id)
            .fetch_all(conn)
            .await?;
    let place = match (lat, lon, address) {
        (Some(latitude), Some(longitude), _) => Place::Pin { latitude, longitude },
        (_, _, Some(a)) => Place::Address(a),
        _ => Place::None,
    };
    Ok(Report {
        code: ReportCode::new(id),
        group_id,
        reporter_user_id: reporter,
        category,
        description,
        place,
        photos,
        status: Status::from_code(&status).ok_or_else(|| anyhow::anyhow!("report {id}: bad status {status}"))?,
        reopened,
        rating,
        share_photos: share,
        created_at: created,
        updated_at: updated,
    })
}

async fn many(conn: &mut SqliteConnection, rows: Vec<Row>) -> anyhow::Result<Vec<Report>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(from_row(conn, row).await?);
    }
    Ok(out)
}

pub async fn get(conn: &mut SqliteConnection, code: ReportCode) -> anyhow::Result<Option<Report>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE id = ?")).bind(code.id()).fetch_optional(&mut *conn).await?;
    match row {
        Some(row) => Ok(Some(from_row(conn, row).await?)),
        None => Ok(None),
    }
}

pub struct NewReport<'a> {
    pub group_id: i64,
    pub reporter: i64,
    pub category: &'a str,
    pub description: &'a str,
    pub place: &'a Place,
    pub photos: &'a [String],
}

/// The report, its photos and its first event, on the caller's transaction.
pub async fn insert(conn: &mut SqliteConnection, new: NewReport<'_>, now: DateTime<Utc>) -> anyhow::Result<ReportCode> {
    let (lat, lon, address) = match new.place {
        Place::None => (None, None, None),
        Place::Pin { latitude, longitude } => (Some(*latitude), Some(*longitude), None),
        Place::Address(a) => (None, None, Some(a.as_str())),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reports (group_id, reporter_user_id, category, description, latitude, longitude, address, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'new', ?, ?) RETURNING id",
    )
    .bind(new.group_id)
    .bind(new.reporter)
    .bind(new.category)
    .bind(new.description)
    .bind(lat)
    .bind(lon)
    .bind(address)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (i, file_id) in new.photos.iter().enumerate() {
        sqlx::query("INSERT INTO report_photos (report_id, position, file_id) VALUES (?, ?, ?)")
            .bind(id)
            .bind(i as i64)
            .bind(file_id)
            .execute(&mut *conn)
            .await?;
    }
    add_event(conn, id, Some(new.reporter), None, Status::New, None, now).await?;
    Ok(ReportCode::new(id))
}

pub async fn add_event(
    conn: &mut SqliteConnection,
    report_id: i64,
    actor: Option<i64>,
    from: Option<Status>,
    to: Status,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO report_events (report_id, actor_user_id, from_status, to_status, note, at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(report_id)
    .bind(actor)
    .bind(from.map(Status::code))
    .bind(to.code())
    .bind(note)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the report if it is still in `from`. False if someone else moved
/// it first.
pub async fn set_status(
    conn: &mut SqliteConnection,
    code: ReportCode,
    from: Status,
    to: Status,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let closed_at = to.is_closed().then_some(now);
    let done = sqlx::query("UPDATE reports SET status = ?, updated_at = ?, closed_at = ? WHERE id = ? AND status = ?")
        .bind(to.code())
        .bind(now)
        .bind(closed_at)
        .bind(code.id())
        .bind(from.code())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Reopened once: the reporter may rate the next resolution again.
pub async fn mark_reopened(conn: &mut SqliteConnection, code: ReportCode) -> anyhow::Result<()> {
    sqlx::query("UPDATE reports SET reopened = 1, rating = NULL, closed_at = NULL WHERE id = ?")
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the reporter's rating once; false if already rated.
pub async fn rate(conn: &mut SqliteConnection, code: ReportCode, satisfied: bool) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE reports SET rating = ? WHERE id = ? AND rating IS NULL AND status = 'resolved'")
        .bind(if satisfied { "satisfied" } else { "dissatisfied" })
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_share_photos(conn: &mut SqliteConnection, code: ReportCode) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE reports SET share_photos = 1 WHERE id = ? AND share_photos = 0")
        .bind(code.id())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn by_reporter(conn: &mut SqliteConnection, user_id: i64, limit: i64) -> anyhow::Result<Vec<Report>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE reporter_user_id = ? ORDER BY id DESC LIMIT ?"))
        .bind(user_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    many(conn, rows).await
}

/// The filter of `/dsphananh`; `groups` None means the whole ward.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub groups: Option<Vec<i64>>,
    pub status: Option<Status>,
    pub category: Option<String>,
}

/// Open cases (or those of `filter.status`) oldest first, one page, and
/// the total count.
pub async fn list(
    conn: &mut SqliteConnection,
    filter: &Filter,
    page: i64,
    per_page: i64,
) -> anyhow::Result<(Vec<Report>, i64)> {
    let statuses: Vec<&str> = match filter.status {
        Some(s) => vec![s.code()],
        None => Status::OPEN.iter().map(|s| s.code()).collect(),
    };
    let groups_json = filter.groups.as_ref().map(serde_json::to_string).transpose()?;
    let statuses_json = serde_json::to_string(&statuses)?;
    // json_each keeps the lists as bound parameters.
    let condition = "status IN (SELECT value FROM json_each(?))
         AND (? IS NULL OR group_id IN (SELECT value FROM json_each(?)))
         AND (? IS NULL OR category = ?)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM reports WHERE {condition}"))
        .bind(&statuses_json)
        .bind(&groups_json)
        .bind(&groups_json)
        .bind(&filter.category)
        .bind(&filter.category)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE {condition} ORDER BY created_at, id LIMIT ? OFFSET ?"))
            .bind(&statuses_json)
            .bind(&groups_json)
            .bind(&groups_json)
            .bind(&filter.category)
            .bind(&filter.category)
            .bind(per_page)
            .bind(page * per_page)
            .fetch_all(&mut *conn)
            .await?;
    Ok((many(conn, rows).await?, total))
}

/// Open reports created before `cutoff`, oldest first.
pub async fn overdue(conn: &mut SqliteConnection, cutoff: DateTime<Utc>) -> anyhow::Result<Vec<Report>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE status IN ('new', 'accepted', 'in_progress') AND created_at < ? ORDER BY created_at, id"
    ))
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await?;
    many(conn, rows).await
}

pub async fn all(conn: &mut SqliteConnection) -> anyhow::Result<Vec<Report>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY id")).fetch_all(&mut *conn).await?;
    many(conn, rows).await
}

/// The note of the latest event, for status notes.
pub async fn last_note(conn: &mut SqliteConnection, code: ReportCode) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT note FROM report_events WHERE report_id = ? AND note IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(code.id())
    .fetch_optional(conn)
    .await?
    .flatten())
}
