//! The handles shared by every platform and every update: dialogue book,
//! settings, clock, flood control, senders. Cheap to clone. The database
//! is not among them: an update reaches it through its turn
//! ([`crate::turn::Turn`]), work outside updates through
//! [`crate::db::Database`].

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Category;
use crate::dialogue::Book;

#[derive(Clone)]
pub struct App {
    pub book: Arc<Book>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Woken when a notice is queued, so the sender need not wait for its
    /// next look at the outbox.
    pub outbox: Arc<tokio::sync::Notify>,
    pub flood: Arc<crate::flood::FloodGuard>,
    /// How actions reach each platform this process runs.
    pub senders: Arc<crate::delivery::Senders>,
    /// When each platform last answered (see `ops`).
    pub health: Arc<crate::health::Health>,
    /// Finds who sent each update (see [`crate::roles::known`]).
    pub lookups: crate::roles::Lookups,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub ward_name: String,
    pub timezone: chrono_tz::Tz,
    pub reports: ReportSettings,
    pub honour_amounts: crate::config::HonourAmounts,
    pub notices: crate::config::Notices,
    pub targets: crate::config::Stats,
    pub ops: crate::config::Ops,
    /// When members get their weekly summary (see `digital::weekly`).
    pub weekly_summary: (chrono::Weekday, chrono::NaiveTime),
    /// How long before a consultation's close its reminders go, longest
    /// first (see `consultation::remind`).
    pub consultation_reminders: Vec<chrono::Duration>,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub deadline: chrono::Duration,
    pub reminder_hour: u32,
    pub check_every: std::time::Duration,
    pub media_url: Option<String>,
    pub categories: Vec<Category>,
}

impl ReportSettings {
    pub fn category_label<'a>(&'a self, code: &'a str) -> &'a str {
        self.categories.iter().find(|c| c.code == code).map(|c| c.label.as_str()).unwrap_or(code)
    }
}

impl Settings {
    /// `dd/mm/yyyy HH:MM` in the ward's time zone.
    pub fn show_time(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.timezone).format("%d/%m/%Y %H:%M").to_string()
    }

    /// The day `at` falls on in the ward's zone.
    pub fn day(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        at.with_timezone(&self.timezone).date_naive()
    }

    /// "vừa xong", "35 phút", "5 giờ", "3 ngày".
    pub fn age(&self, since: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
        let minutes = (now - since).num_minutes().max(0);
        match minutes {
            0..=1 => "vừa xong".to_string(),
            2..=59 => format!("{minutes} phút"),
            60..=1439 => format!("{} giờ", minutes / 60),
            _ => format!("{} ngày", minutes / 1440),
        }
    }
}
