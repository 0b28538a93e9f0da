//! Statistics for officials (the ward) and leaders (their groups),
//! docs/design.md, flow 5.
//!
//! - this file: the figures, computed in SQL over the scope and period (the
//!   households' from running totals, `totals`; reports, campaigns and
//!   notices by their own queries, the period's included);
//! - `command`: `/thongke`, `/sohodukien`, the text summary;
//! - `actions`: setting a group's expected households (`/sohodukien`'s action);
//! - `export`: `/xuatexcel` (xlsx) and the CLI's CSV, written through `sinks`;
//! - `chart`: `/thongke bieudo`, a PNG bar chart;
//! - `totals`: the households' figures per group, from the totals the database keeps;
//! - `visits`: the sheets of the digital teams' visits and of the indicators by group.

pub mod actions;
pub mod chart;
pub mod command;
pub mod consultations;
pub mod export;
mod sinks;
mod totals;
pub mod visits;

pub use totals::households;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use sqlx::SqliteConnection;

use crate::app::App;

/// Which groups: None is the whole ward.
pub type Scope = Option<Vec<i64>>;

fn scope_json(scope: &Scope) -> anyhow::Result<Option<String>> {
    Ok(scope.as_ref().map(serde_json::to_string).transpose()?)
}

/// `7d`, `30d`, `thang 10/2025` (also `tháng 10/2025`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    /// The last `days` days up to now. `until` is exclusive, so it sits a
    /// second past now for what happened this very second.
    pub fn last_days(now: DateTime<Utc>, days: i64) -> Self {
        Self { since: now - Duration::days(days), until: now + Duration::seconds(1) }
    }

    pub fn parse(words: &[&str], now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<Self> {
        match words {
            [w] if w.ends_with('d') => {
                let days = w.trim_end_matches('d').parse::<i64>().ok().filter(|d| (1..=3660).contains(d))?;
                Some(Self::last_days(now, days))
            }
            ["thang", my] => {
                let (m, y) = my.split_once('/')?;
                let (m, y) = (m.parse::<u32>().ok()?, y.parse::<i32>().ok()?);
                let first = NaiveDate::from_ymd_opt(y, m, 1)?;
                let next =
                    if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(y, m + 1, 1)? };
                let at = |d: NaiveDate| {
                    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single().map(|t| t.with_timezone(&Utc))
                };
                Some(Self { since: at(first)?, until: at(next)? })
            }
            _ => None,
        }
    }

    pub fn label(&self, tz: chrono_tz::Tz) -> String {
        let (a, b) = (self.since.with_timezone(&tz), (self.until - Duration::seconds(1)).with_timezone(&tz));
        if a.day() == 1 && a.month() == b.month() && a.year() == b.year() && (self.until - self.since).num_days() >= 27
        {
            format!("tháng {}/{}", a.month(), a.year())
        } else {
            format!("{} – {}", a.format("%d/%m/%Y"), b.format("%d/%m/%Y"))
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFigures {
    pub id: i64,
    pub name: String,
    pub expected: Option<i64>,
    pub approved: i64,
    pub pending: i64,
    pub people: i64,
    pub smartphone: i64,
    pub epayment: i64,
    pub vneid: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFigures {
    /// (status code, count) of open cases.
    pub open_by_status: Vec<(String, i64)>,
    /// (category code, count) of open cases.
    pub open_by_category: Vec<(String, i64)>,
    pub closed_in_period: i64,
    pub median_hours_to_close: Option<f64>,
    pub overdue: i64,
    pub satisfied: i64,
    pub rated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignFigures {
    pub code: String,
    pub title: String,
    pub target: Option<i64>,
    pub pledged: i64,
    pub received: i64,
    pub contributions: i64,
    pub households: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoticeFigures {
    pub notices: i64,
    pub deliveries: i64,
    pub acknowledgements: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub groups: Vec<GroupFigures>,
    /// (circumstance code, approved households)
    pub circumstances: Vec<(String, i64)>,
    pub reports: ReportFigures,
    pub campaigns: Vec<CampaignFigures>,
    pub notices: NoticeFigures,
}

impl Figures {
    pub fn approved(&self) -> i64 {
        self.groups.iter().map(|g| g.approved).sum()
    }
}

pub async fn compute(app: &App, conn: &mut SqliteConnection, scope: &Scope, period: Period) -> anyhow::Result<Figures> {
    let groups = households(&mut *conn, scope).await?;
    let circumstances = totals::circumstances(&mut *conn, scope).await?;
    let json = scope_json(scope)?;

    let in_scope = "(? IS NULL OR group_id IN (SELECT value FROM json_each(?)))";
    let open_by_status: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT status, COUNT(*) FROM reports WHERE status IN ('new', 'accepted', 'in_progress') AND {in_scope} GROUP BY status"
    ))
    .bind(&json)
    .bind(&json)
    .fetch_all(&mut *conn)
    .await?;
    let open_by_category: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT category, COUNT(*) FROM reports WHERE status IN ('new', 'accepted', 'in_progress') AND {in_scope}
         GROUP BY category ORDER BY COUNT(*) DESC, category"
    ))
    .bind(&json)
    .bind(&json)
    .fetch_all(&mut *conn)
    .await?;
    let closed: Vec<(DateTime<Utc>, DateTime<Utc>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT created_at, closed_at, rating FROM reports
         WHERE status IN ('resolved', 'declined') AND closed_at >= ? AND closed_at < ? AND {in_scope}"
    ))
    .bind(period.since)
    .bind(period.until)
    .bind(&json)
    .bind(&json)
    .fetch_all(&mut *conn)
    .await?;
    let mut hours: Vec<f64> = closed.iter().map(|(c, d, _)| (*d - *c).num_seconds() as f64 / 3600.0).collect();
    hours.sort_by(|a, b| a.total_cmp(b));
    let median = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    let overdue: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM reports WHERE status IN ('new', 'accepted', 'in_progress') AND created_at < ? AND {in_scope}"
    ))
    .bind(app.clock.now() - app.settings.reports.deadline)
    .bind(&json)
    .bind(&json)
    .fetch_one(&mut *conn)
    .await?;
    let rated = closed.iter().filter(|(_, _, r)| r.is_some()).count() as i64;
    let satisfied = closed.iter().filter(|(_, _, r)| r.as_deref() == Some("satisfied")).count() as i64;

    // The households that gave are counted per campaign in a subquery:
    // through `pledges_totals` a campaign's received pledges come ordered
    // by donor, so they are counted distinct without a sort (at 500,000
    // pledges 33 ms instead of 70 ms more on the one pass).
    let campaign_rows: Vec<(i64, String, Option<i64>, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.title, c.target,
                COALESCE(SUM(p.amount), 0),
                COALESCE(SUM(CASE WHEN p.status = 'received' THEN p.received_amount END), 0),
                COUNT(CASE WHEN p.status = 'received' THEN 1 END),
                (SELECT COUNT(DISTINCT r.user_id) FROM pledges r WHERE r.campaign_id = c.id AND r.status = 'received')
                  + (SELECT COUNT(DISTINCT r.donor_name) FROM pledges r
                     WHERE r.campaign_id = c.id AND r.status = 'received' AND r.user_id IS NULL)
         FROM campaigns c LEFT JOIN pledges p ON p.campaign_id = c.id
         WHERE c.status = 'open' AND (? IS NULL OR EXISTS (SELECT 1 FROM campaign_groups cg
               WHERE cg.campaign_id = c.id AND cg.group_id IN (SELECT value FROM json_each(?))))
         GROUP BY c.id ORDER BY c.id",
    )
    .bind(&json)
    .bind(&json)
    .fetch_all(&mut *conn)
    .await?;
    let campaigns = campaign_rows
        .into_iter()
        .map(|(id, title, target, pledged, received, contributions, households)| CampaignFigures {
            code: format!("UH{id}"),
            title,
            target,
            pledged,
            received,
            contributions,
            households,
        })
        .collect();

    let (notices, deliveries): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(DISTINCT notice_id), COUNT(*) FROM notice_deliveries
         WHERE status = 'sent' AND sent_at >= ? AND sent_at < ? AND {in_scope}"
    ))
    .bind(period.since)
    .bind(period.until)
    .bind(&json)
    .bind(&json)
    .fetch_one(&mut *conn)
    .await?;
    let acknowledgements: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM notice_acks WHERE at >= ? AND at < ? AND {in_scope}"))
            .bind(period.since)
            .bind(period.until)
            .bind(&json)
            .bind(&json)
            .fetch_one(&mut *conn)
            .await?;

    Ok(Figures {
        groups,
        circumstances,
        reports: ReportFigures {
            open_by_status,
            open_by_category,
            closed_in_period: closed.len() as i64,
            median_hours_to_close: median,
            overdue,
            satisfied,
            rated,
        },
        campaigns,
        notices: NoticeFigures { notices, deliveries, acknowledgements },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
        let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        assert_eq!(Period::parse(&["7d"], now, tz), Some(Period::last_days(now, 7)));
        let october = Period::parse(&["thang", "10/2025"], now, tz).unwrap();
        assert_eq!(october.since, Utc.with_ymd_and_hms(2025, 9, 30, 17, 0, 0).unwrap());
        assert_eq!(october.until, Utc.with_ymd_and_hms(2025, 10, 31, 17, 0, 0).unwrap());
        assert_eq!(october.label(tz), "tháng 10/2025");
        assert_eq!(Period::parse(&["thang", "13/2025"], now, tz), None);
        assert_eq!(Period::parse(&["0d"], now, tz), None);
    }
}
