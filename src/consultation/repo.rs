//! The SQL of consultations. What a secret answer may be stored with is
//! decided here and nowhere else (see [`record`]).

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

type Row =
    (i64, i64, String, Option<String>, Option<String>, String, Option<i64>, String, String, DateTime<Utc>, String);

const COLUMNS: &str =
    "id, creator_user_id, question, explanation, photo_file_id, options, other_option, unit, ballot, closes_at, status";

fn consultation(row: Row) -> anyhow::Result<Consultation> {
    let (id, creator, question, explanation, photo, options, other, unit, ballot, closes_at, status) = row;
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

pub async fn targets(conn: &mut SqliteConnection, code: ConsultationCode) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT group_id FROM consultation_groups WHERE consultation_id = ? ORDER BY group_id")
        .bind(code.id())
        .fetch_all(conn)
        .await?)
}

/// The SQL of how many may answer in a group (`g`): approved households,
/// or their heads and members.
fn registered_sql(unit: Unit) -> &'static str {
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

/// Who answers for a person: their household among the consultation's
/// groups (their own before one they joined), and themselves when each
/// person answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voter {
    pub household: i64,
    pub person: i64,
    pub group: i64,
}

pub async fn voter(conn: &mut SqliteConnection, c: &Consultation, user: i64) -> anyhow::Result<Option<Voter>> {
    // Two lookups by index (their own households, those they joined): an
    // OR across them would read every household of the ward per press.
    let found: Option<(i64, i64, bool)> = sqlx::query_as(
        "SELECT h.id, h.group_id, 1 AS own FROM households h
         JOIN consultation_groups g ON g.group_id = h.group_id AND g.consultation_id = ?1
         WHERE h.owner_user_id = ?2 AND h.status = 'approved'
         UNION ALL
         SELECT h.id, h.group_id, 0 FROM household_members m JOIN households h ON h.id = m.household_id
         JOIN consultation_groups g ON g.group_id = h.group_id AND g.consultation_id = ?1
         WHERE m.user_id = ?2 AND h.status = 'approved'
         ORDER BY own DESC, 1 LIMIT 1",
    )
    .bind(c.code.id())
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|(household, group, _)| Voter {
        household,
        person: if c.unit == Unit::Person { user } else { 0 },
        group,
    }))
}

/// The household (of a consultation's groups) a leader records a paper
/// answer for.
pub async fn paper_voter(
    conn: &mut SqliteConnection,
    c: &Consultation,
    household: i64,
) -> anyhow::Result<Option<Voter>> {
    let found: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT h.id, h.group_id, h.owner_user_id FROM households h
         JOIN consultation_groups g ON g.group_id = h.group_id AND g.consultation_id = ?
         WHERE h.status = 'approved' AND h.id = ?",
    )
    .bind(c.code.id())
    .bind(household)
    .fetch_optional(conn)
    .await?;
    // Per person, a paper answer is the head's.
    Ok(found.map(|(household, group, head)| Voter {
        household,
        person: if c.unit == Unit::Person { head } else { 0 },
        group,
    }))
}

/// A voter's "has answered" marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub receipt: String,
    pub via: String,
    pub recorded_by: Option<i64>,
}

pub async fn marker(
    conn: &mut SqliteConnection,
    code: ConsultationCode,
    voter: Voter,
) -> anyhow::Result<Option<Marker>> {
    let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT receipt, via, recorded_by FROM consultation_answered
         WHERE consultation_id = ? AND household_id = ? AND person = ?",
    )
    .bind(code.id())
    .bind(voter.household)
    .bind(voter.person)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(receipt, via, recorded_by)| Marker { receipt, via, recorded_by }))
}

/// An answer to record: the option, its text, and how it came.
#[derive(Debug, Clone)]
pub struct Given<'a> {
    pub option: usize,
    pub text: Option<&'a str>,
    /// `telegram`, `zalo` or `paper`.
    pub via: &'a str,
    /// Who pressed (none for paper).
    pub user: Option<i64>,
    /// Who recorded a paper answer.
    pub recorded_by: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The voter's first answer.
    New { receipt: String },
    /// An open ballot's changed answer; a paper answer replaced tells who
    /// recorded it.
    Changed { receipt: String, replaced_paper_of: Option<i64> },
    /// A secret ballot answers once.
    AlreadySecret { paper: bool },
}

/// Records an answer. A secret ballot's answer goes into `ballot_box`
/// with nothing but the consultation, a random key, the group and the
/// choice; the marker says the voter answered, not what. An open ballot
/// keeps every answer with who and when, the latest current.
pub async fn record(
    conn: &mut SqliteConnection,
    c: &Consultation,
    voter: Voter,
    given: &Given<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Recorded> {
    let existing = marker(&mut *conn, c.code, voter).await?;
    if let (Some(m), Ballot::Secret) = (&existing, c.ballot) {
        return Ok(Recorded::AlreadySecret { paper: m.via == "paper" });
    }
    let recorded = match &existing {
        Some(m) => {
            sqlx::query(
                "UPDATE consultation_answered SET via = ?, recorded_by = ?, answered_at = ?
                 WHERE consultation_id = ? AND household_id = ? AND person = ?",
            )
            .bind(given.via)
            .bind(given.recorded_by)
            .bind(now)
            .bind(c.code.id())
            .bind(voter.household)
            .bind(voter.person)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE consultation_votes SET current = 0
                 WHERE consultation_id = ? AND household_id = ? AND person = ? AND current = 1",
            )
            .bind(c.code.id())
            .bind(voter.household)
            .bind(voter.person)
            .execute(&mut *conn)
            .await?;
            let replaced_paper_of = (m.via == "paper" && given.via != "paper").then_some(m.recorded_by).flatten();
            Recorded::Changed { receipt: m.receipt.clone(), replaced_paper_of }
        }
        None => {
            let receipt = format!("{}-{}", c.code, crate::text::random_code(5)?);
            sqlx::query(
                "INSERT INTO consultation_answered
                     (consultation_id, household_id, person, group_id, receipt, via, recorded_by, answered_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(c.code.id())
            .bind(voter.household)
            .bind(voter.person)
            .bind(voter.group)
            .bind(&receipt)
            .bind(given.via)
            .bind(given.recorded_by)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Recorded::New { receipt }
        }
    };
    match c.ballot {
        Ballot::Secret => {
            sqlx::query(
                "INSERT INTO ballot_box (consultation_id, token, group_id, option, other_text)
                 VALUES (?, randomblob(16), ?, ?, ?)",
            )
            .bind(c.code.id())
            .bind(voter.group)
            .bind(given.option as i64)
            .bind(given.text)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE consultations SET secret_writes = secret_writes + 1, post_dirty = 1 WHERE id = ?")
                .bind(c.code.id())
                .execute(&mut *conn)
                .await?;
        }
        Ballot::Open => {
            sqlx::query(
                "INSERT INTO consultation_votes
                     (consultation_id, household_id, person, group_id, user_id, recorded_by, option, other_text, via, at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(c.code.id())
            .bind(voter.household)
            .bind(voter.person)
            .bind(voter.group)
            .bind(given.user)
            .bind(given.recorded_by)
            .bind(given.option as i64)
            .bind(given.text)
            .bind(given.via)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE consultations SET post_dirty = 1 WHERE id = ?")
                .bind(c.code.id())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(recorded)
}

/// An open ballot's current answer of a voter.
pub async fn current_choice(
    conn: &mut SqliteConnection,
    code: ConsultationCode,
    voter: Voter,
) -> anyhow::Result<Option<usize>> {
    let option: Option<i64> = sqlx::query_scalar(
        "SELECT option FROM consultation_votes
         WHERE consultation_id = ? AND household_id = ? AND person = ? AND current = 1",
    )
    .bind(code.id())
    .bind(voter.household)
    .bind(voter.person)
    .fetch_optional(conn)
    .await?;
    Ok(option.and_then(|o| usize::try_from(o).ok()))
}

/// Participation in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turnout {
    pub group_id: i64,
    pub name: String,
    pub answered: i64,
    pub registered: i64,
    pub expected: Option<i64>,
}

/// Participation in each of the consultation's groups (or those of
/// `groups`), in the groups' order.
pub async fn turnout(
    conn: &mut SqliteConnection,
    c: &Consultation,
    groups: Option<&[i64]>,
) -> anyhow::Result<Vec<Turnout>> {
    let rows: Vec<(i64, String, i64, i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT g.id, g.name,
                (SELECT COUNT(*) FROM consultation_answered a WHERE a.consultation_id = ?1 AND a.group_id = g.id),
                {}, g.expected_households
         FROM consultation_groups cg JOIN groups g ON g.id = cg.group_id
         WHERE cg.consultation_id = ?1 AND (?2 = 'null' OR g.id IN (SELECT value FROM json_each(?2)))
         ORDER BY g.id",
        registered_sql(c.unit)
    ))
    .bind(c.code.id())
    .bind(serde_json::to_string(&groups)?)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(group_id, name, answered, registered, expected)| Turnout {
            group_id,
            name,
            answered,
            registered,
            expected,
        })
        .collect())
}

/// How many answered, and of how many, in all the consultation's groups.
pub async fn participation(conn: &mut SqliteConnection, c: &Consultation) -> anyhow::Result<(i64, i64)> {
    let t = turnout(conn, c, None).await?;
    Ok((t.iter().map(|g| g.answered).sum(), t.iter().map(|g| g.registered).sum()))
}

/// Counts of each option in each group: (group, option, count).
pub async fn tally(conn: &mut SqliteConnection, c: &Consultation) -> anyhow::Result<Vec<(i64, usize, i64)>> {
    let sql = match c.ballot {
        Ballot::Open => {
            "SELECT group_id, option, COUNT(*) FROM consultation_votes
             WHERE consultation_id = ? AND current = 1 GROUP BY group_id, option"
        }
        Ballot::Secret => {
            "SELECT group_id, option, COUNT(*) FROM ballot_box WHERE consultation_id = ? GROUP BY group_id, option"
        }
    };
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sql).bind(c.code.id()).fetch_all(conn).await?;
    Ok(rows.into_iter().filter_map(|(g, o, n)| Some((g, usize::try_from(o).ok()?, n))).collect())
}

/// The "Ý kiến khác" texts with their group's name (a secret ballot's in
/// no particular order: its key is random).
pub async fn other_texts(conn: &mut SqliteConnection, c: &Consultation) -> anyhow::Result<Vec<(String, String)>> {
    let sql = match c.ballot {
        Ballot::Open => {
            "SELECT g.name, v.other_text FROM consultation_votes v JOIN groups g ON g.id = v.group_id
             WHERE v.consultation_id = ? AND v.current = 1 AND v.other_text IS NOT NULL ORDER BY g.id, v.id"
        }
        Ballot::Secret => {
            "SELECT g.name, b.other_text FROM ballot_box b JOIN groups g ON g.id = b.group_id
             WHERE b.consultation_id = ? AND b.other_text IS NOT NULL ORDER BY g.id, b.token"
        }
    };
    Ok(sqlx::query_as(sql).bind(c.code.id()).fetch_all(conn).await?)
}

/// A household of the consultation's groups that has not answered (for
/// a per-person consultation: where someone has not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Door {
    pub household: i64,
    pub group_id: i64,
    pub head_name: String,
    pub house_number: String,
    pub lane: Option<String>,
    pub street: String,
}

impl Door {
    /// As `/hocuatoi` writes it: "Số 8, ngõ 41, Xuân La".
    pub fn address(&self) -> String {
        crate::domain::house_address(&self.house_number, self.lane.as_deref(), &self.street)
    }

    pub fn walk_key(&self) -> crate::domain::WalkKey {
        crate::domain::WalkKey::new(&self.street, self.lane.as_deref(), &self.house_number)
    }
}

/// The households of `groups` that have not answered, in walking order.
pub async fn not_answered(conn: &mut SqliteConnection, c: &Consultation, groups: &[i64]) -> anyhow::Result<Vec<Door>> {
    let rows: Vec<(i64, i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT h.id, h.group_id, h.head_name, h.house_number, h.lane, h.street FROM households h
         JOIN consultation_groups cg ON cg.group_id = h.group_id AND cg.consultation_id = ?1
         WHERE h.status = 'approved' AND h.group_id IN (SELECT value FROM json_each(?2))
           AND (SELECT COUNT(*) FROM consultation_answered a WHERE a.consultation_id = ?1 AND a.household_id = h.id)
               < CASE WHEN ?3 = 'person'
                      THEN 1 + (SELECT COUNT(*) FROM household_members m WHERE m.household_id = h.id)
                      ELSE 1 END",
    )
    .bind(c.code.id())
    .bind(serde_json::to_string(groups)?)
    .bind(c.unit.code())
    .fetch_all(conn)
    .await?;
    let mut doors: Vec<Door> = rows
        .into_iter()
        .map(|(household, group_id, head_name, house_number, lane, street)| Door {
            household,
            group_id,
            head_name,
            house_number,
            lane,
            street,
        })
        .collect();
    doors.sort_by_cached_key(|d| (d.walk_key(), d.household));
    Ok(doors)
}

/// The people to remind: each head or member (per person) whose answer is
/// missing, with their household.
pub async fn to_remind(conn: &mut SqliteConnection, c: &Consultation) -> anyhow::Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT p.uid, h.id FROM households h
         JOIN consultation_groups cg ON cg.group_id = h.group_id AND cg.consultation_id = ?1
         JOIN (SELECT id AS hid, owner_user_id AS uid FROM households
               UNION ALL SELECT household_id, user_id FROM household_members) p ON p.hid = h.id
         WHERE h.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM consultation_answered a
                           WHERE a.consultation_id = ?1 AND a.household_id = h.id
                             AND a.person = CASE WHEN ?2 = 'person' THEN p.uid ELSE 0 END)
         ORDER BY p.uid",
    )
    .bind(c.code.id())
    .bind(c.unit.code())
    .fetch_all(conn)
    .await?)
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

/// One answer of an open ballot, for the export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerRow {
    pub household: i64,
    pub group: String,
    pub head_name: String,
    pub house_number: String,
    pub lane: Option<String>,
    pub street: String,
    pub person: Option<String>,
    pub option: i64,
    pub other_text: Option<String>,
    pub via: String,
    pub recorded_by: Option<String>,
    pub at: DateTime<Utc>,
    pub current: bool,
}

/// Every answer of an open ballot in `groups` (all when `None`), each
/// household's in the order given. None for a secret ballot: it has no
/// such thing.
pub async fn open_answers(
    conn: &mut SqliteConnection,
    c: &Consultation,
    groups: Option<&[i64]>,
) -> anyhow::Result<Option<Vec<AnswerRow>>> {
    if c.ballot == Ballot::Secret {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_as(
            "SELECT v.household_id AS household, g.name AS \"group\", h.head_name, h.house_number, h.lane, h.street,
                    u.display_name AS person, v.option, v.other_text, v.via, r.display_name AS recorded_by, v.at,
                    v.current
             FROM consultation_votes v
             JOIN households h ON h.id = v.household_id JOIN groups g ON g.id = v.group_id
             LEFT JOIN users u ON u.id = v.user_id LEFT JOIN users r ON r.id = v.recorded_by
             WHERE v.consultation_id = ?1 AND (?2 = 'null' OR v.group_id IN (SELECT value FROM json_each(?2)))
             ORDER BY g.id, v.household_id, v.id",
        )
        .bind(c.code.id())
        .bind(serde_json::to_string(&groups)?)
        .fetch_all(conn)
        .await?,
    ))
}
