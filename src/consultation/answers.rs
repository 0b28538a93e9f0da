//! The SQL of answers: who answers for a person, the "has answered"
//! marker, and the answer. What a secret answer may be stored with is
//! decided here and nowhere else (see [`record`]).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Ballot, Consultation, ConsultationCode, Unit};

/// Letters of a receipt's random part: 8 of 32 (no look-alikes) make a
/// clash rare even among a million households, and each is drawn again.
const RECEIPT_LEN: usize = 8;

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
            // Random, so that it proves nothing but to its holder; drawn
            // again on the rare clash with one already given.
            let mut receipt = String::new();
            for _ in 0..8 {
                receipt = format!("{}-{}", c.code, crate::text::random_code(RECEIPT_LEN)?);
                let inserted = sqlx::query(
                    "INSERT INTO consultation_answered
                         (consultation_id, household_id, person, group_id, receipt, via, recorded_by, answered_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (receipt) DO NOTHING",
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
                if inserted.rows_affected() == 1 {
                    break;
                }
                receipt.clear();
            }
            anyhow::ensure!(!receipt.is_empty(), "no free receipt code for {}", c.code);
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
