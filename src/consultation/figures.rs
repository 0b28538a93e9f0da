//! The SQL of counting: participation per group, the tally, the other
//! opinions, the households not yet answered (in walking order), who to
//! remind, and an open ballot's answers for the export.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::repo::registered_sql;
use super::{Ballot, Consultation};

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
    /// «Số 8, ngõ 41, Xuân La — Nguyễn Văn An» ([`crate::domain::household_line`]).
    pub fn line(&self) -> String {
        crate::domain::household_line(&self.house_number, self.lane.as_deref(), &self.street, &self.head_name)
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
