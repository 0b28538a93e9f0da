//! Community digital teams (tổ công nghệ số cộng đồng) and the digital
//! indicators of households they move (docs/design.md, flow 7, issue 23).
//!
//! - `actions`: the ward actions (a team made, a member added or removed, a
//!   visit recorded, a resident's own indicators), callable from any door;
//! - `team`: `/tocongnghe`, officials make teams and name their members;
//! - `doors`: `/ditham`, the households a member still has to visit, in
//!   walking order, with a search;
//! - `visit`: a visit recorded in a few presses;
//! - `own`: a resident updates their own indicators from `/hocuatoi`;
//! - `progress`: `/tiendo`, the figures and the teams' ranking;
//! - `trend`: `/tiendo bieudo`, the indicators over time as a chart;
//! - `weekly`: each member's weekly summary.
//!
//! `/xuatexcel` adds their sheets (`stats::visits`).
//!
//! Every change to an indicator goes through [`change`], which keeps it as
//! an event (who, when, from where, before, after). Each group's figures
//! are also kept as running totals by triggers in the database (migration
//! 0022), which `/tiendo` reads.

pub mod actions;
pub mod doors;
pub mod own;
pub mod progress;
pub mod team;
pub mod trend;
pub mod visit;
pub mod weekly;

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// Which households the figures are of, and what to call them.
#[derive(Debug, Clone)]
pub struct Unit {
    pub title: String,
    /// None: the whole ward.
    pub groups: Option<Vec<i64>>,
    /// A team's own work (its visits), when the unit is a team.
    pub team: Option<i64>,
}

/// A household's digital-citizen indicators, as kept now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct Indicators {
    pub smartphone_users: i64,
    pub has_epayment: bool,
    pub vneid_level2: i64,
    pub ward_app: bool,
    pub joined_group: bool,
}

impl Indicators {
    fn values(self) -> [(&'static str, i64); 5] {
        [
            ("smartphone_users", self.smartphone_users),
            ("has_epayment", i64::from(self.has_epayment)),
            ("vneid_level2", self.vneid_level2),
            ("ward_app", i64::from(self.ward_app)),
            ("joined_group", i64::from(self.joined_group)),
        ]
    }

    /// In words: "2 người dùng điện thoại thông minh, có tài khoản thanh
    /// toán, VNeID mức 2: 3/4 người".
    pub fn describe(self, members: i64) -> String {
        format!(
            "{} người dùng điện thoại thông minh, {} tài khoản thanh toán, VNeID mức 2: {}/{members} người{}{}",
            self.smartphone_users,
            if self.has_epayment { "có" } else { "chưa có" },
            self.vneid_level2,
            if self.ward_app { ", đã cài ứng dụng của phường" } else { "" },
            if self.joined_group { ", đã vào nhóm của tổ" } else { "" },
        )
    }

    /// What still falls short of the ward's targets, in words for the
    /// walking list (empty: nothing).
    pub fn short_of(self, members: i64) -> Vec<String> {
        let mut short = Vec::new();
        if self.smartphone_users == 0 {
            short.push("điện thoại thông minh".to_string());
        }
        if !self.has_epayment {
            short.push("thanh toán điện tử".to_string());
        }
        if self.vneid_level2 < members {
            short.push(format!("VNeID mức 2 ({}/{members} người)", self.vneid_level2));
        }
        short
    }
}

/// Who changed an indicator, and in what way: the source of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A visit (its id) of a team member, a leader or an official.
    Visit(i64),
    /// The resident, from `/hocuatoi`.
    Resident,
    /// A leader approving a resident's update of their record.
    Leader,
}

impl Source {
    fn code(self) -> &'static str {
        match self {
            Source::Visit(_) => "visit",
            Source::Resident => "resident",
            Source::Leader => "leader",
        }
    }
}

/// A household with what the digital lists and visits need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Household {
    pub id: i64,
    pub group_id: i64,
    pub owner_user_id: i64,
    pub head_name: String,
    pub house_number: String,
    pub lane: Option<String>,
    pub street: String,
    pub members: i64,
    pub approved: bool,
    #[sqlx(flatten)]
    pub now: Indicators,
}

impl Household {
    /// "số 12, ngõ 41, Hoàng Quốc Việt": how a member finds the door.
    pub fn address(&self) -> String {
        match &self.lane {
            Some(lane) => format!("số {}, {}, {}", self.house_number, crate::domain::lane(lane), self.street),
            None => format!("số {}, {}", self.house_number, self.street),
        }
    }
}

/// The columns a [`Household`] is read from, over `households h`.
pub(crate) const HOUSEHOLD_COLUMNS: &str = "h.id, h.group_id, h.owner_user_id, h.head_name, h.house_number, h.lane,
    h.street, h.members, h.status = 'approved' AS approved, h.smartphone_users, h.has_epayment, h.vneid_level2,
    COALESCE((SELECT d.ward_app FROM household_digital d WHERE d.household_id = h.id), 0) AS ward_app,
    COALESCE((SELECT d.joined_group FROM household_digital d WHERE d.household_id = h.id), 0) AS joined_group";

pub async fn household(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<Option<Household>> {
    Ok(sqlx::query_as(&format!("SELECT {HOUSEHOLD_COLUMNS} FROM households h WHERE h.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Sets a household's indicators to `to`, keeping one event per indicator
/// that changes. The only writer of these columns: nothing is overwritten
/// without its event. Returns how many changed.
pub async fn change(
    conn: &mut SqliteConnection,
    household: i64,
    to: Indicators,
    by: i64,
    source: Source,
    at: DateTime<Utc>,
) -> anyhow::Result<usize> {
    // Read in the same transaction as the write, so that two visits to one
    // household one after the other each see what the other left.
    let Some(found) = self::household(&mut *conn, household).await? else {
        anyhow::bail!("household {household} is gone");
    };
    let visit = match source {
        Source::Visit(id) => Some(id),
        _ => None,
    };
    let mut changed = 0;
    for ((indicator, before), (_, after)) in found.now.values().into_iter().zip(to.values()) {
        if before == after {
            continue;
        }
        changed += 1;
        sqlx::query(
            "INSERT INTO indicator_events (household_id, indicator, before, after, source, visit_id, by_user_id, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(household)
        .bind(indicator)
        .bind(before)
        .bind(after)
        .bind(source.code())
        .bind(visit)
        .bind(by)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    if changed > 0 {
        sqlx::query(
            "UPDATE households SET smartphone_users = ?, has_epayment = ?, vneid_level2 = ?, updated_at = ? WHERE id = ?",
        )
        .bind(to.smartphone_users)
        .bind(to.has_epayment)
        .bind(to.vneid_level2)
        .bind(at)
        .bind(household)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO household_digital (household_id, ward_app, joined_group) VALUES (?, ?, ?)
             ON CONFLICT (household_id) DO UPDATE SET ward_app = excluded.ward_app, joined_group = excluded.joined_group",
        )
        .bind(household)
        .bind(to.ward_app)
        .bind(to.joined_group)
        .execute(&mut *conn)
        .await?;
    }
    Ok(changed)
}

/// The groups whose households a person may see in the digital lists and
/// visit: None for an official (the whole ward); otherwise the groups they
/// lead and those their teams cover (possibly none).
pub async fn reach(conn: &mut SqliteConnection, user: i64) -> anyhow::Result<Option<Vec<i64>>> {
    if crate::roles::is_official(&mut *conn, user).await? {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_scalar(
            "SELECT group_id FROM leaders WHERE user_id = ?1
             UNION SELECT tg.group_id FROM digital_team_members m JOIN digital_team_groups tg ON tg.team_id = m.team_id
                   WHERE m.user_id = ?1
             ORDER BY 1",
        )
        .bind(user)
        .fetch_all(conn)
        .await?,
    ))
}

/// Whether `user` may see and visit the households of `group`.
pub async fn reaches(conn: &mut SqliteConnection, user: i64, group: i64) -> anyhow::Result<bool> {
    Ok(reach(conn, user).await?.is_none_or(|groups| groups.contains(&group)))
}

/// The recorder's team covering `group`, which a visit counts for.
pub async fn team_for(conn: &mut SqliteConnection, user: i64, group: i64) -> anyhow::Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT m.team_id FROM digital_team_members m JOIN digital_team_groups tg ON tg.team_id = m.team_id
         WHERE m.user_id = ? AND tg.group_id = ? ORDER BY m.team_id LIMIT 1",
    )
    .bind(user)
    .bind(group)
    .fetch_optional(conn)
    .await?)
}
