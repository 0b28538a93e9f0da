//! The features' tables of `config.toml`, one struct each, with defaults.

use std::path::PathBuf;

use serde::Deserialize;

/// The Zalo channel, on when `ZALO_BOT_TOKEN` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zalo {
    #[serde(default = "default_zalo_api_url")]
    pub api_url: String,
    /// How long one getUpdates waits for events.
    #[serde(default = "default_zalo_poll_timeout")]
    pub poll_timeout_secs: u64,
    /// Messages sent to Zalo per second at most (Zalo publishes no limit).
    #[serde(default = "default_zalo_per_second")]
    pub per_second: f64,
    /// Receive events by webhook at this public HTTPS URL instead of long
    /// polling; the secret comes from `ZALO_WEBHOOK_SECRET`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default = "default_zalo_webhook_listen")]
    pub webhook_listen: String,
}

fn default_zalo_webhook_listen() -> String {
    "127.0.0.1:8444".into()
}

impl Default for Zalo {
    fn default() -> Self {
        Self {
            api_url: default_zalo_api_url(),
            poll_timeout_secs: default_zalo_poll_timeout(),
            per_second: default_zalo_per_second(),
            webhook_url: None,
            webhook_listen: default_zalo_webhook_listen(),
        }
    }
}

fn default_zalo_api_url() -> String {
    "https://bot-api.zaloplatforms.com".into()
}

fn default_zalo_poll_timeout() -> u64 {
    30
}

fn default_zalo_per_second() -> f64 {
    5.0
}

/// Flood control (see `flood`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flood {
    /// Messages one person may send at once…
    #[serde(default = "default_person_burst")]
    pub per_person_burst: u32,
    /// …and after that, per minute.
    #[serde(default = "default_person_per_minute")]
    pub per_person_per_minute: u32,
    /// Answers to residents in one group at once…
    #[serde(default = "default_group_burst")]
    pub group_burst: u32,
    /// …and after that, per minute.
    #[serde(default = "default_group_per_minute")]
    pub group_replies_per_minute: u32,
}

impl Default for Flood {
    fn default() -> Self {
        Self {
            per_person_burst: default_person_burst(),
            per_person_per_minute: default_person_per_minute(),
            group_burst: default_group_burst(),
            group_replies_per_minute: default_group_per_minute(),
        }
    }
}

fn default_person_burst() -> u32 {
    10
}

fn default_person_per_minute() -> u32 {
    40
}

fn default_group_burst() -> u32 {
    1
}

fn default_group_per_minute() -> u32 {
    1
}

/// Running it: the operator's own listener for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ops {
    /// Where `/healthz` and `/metrics` answer: loopback by default, never a
    /// public listener's address.
    #[serde(default = "default_ops_listen")]
    pub listen: String,
    /// A platform that has not answered for this long is reported down.
    #[serde(default = "default_stale_after")]
    pub stale_after_secs: u64,
    /// How often a webhook's platform is asked whether it is there (a
    /// quiet ward sends nothing for hours).
    #[serde(default = "default_probe_every")]
    pub probe_every_secs: u64,
    /// How the log is written: for a person reading it, or one JSON object
    /// a line for a log shipper (`--log-format` overrides it).
    #[serde(default)]
    pub log_format: LogFormat,
    /// How long a handled update's row is kept, to recognise a copy the
    /// platform sends again ("2d", "36h"); see [`Ops::keep_handled`].
    #[serde(default = "default_keep_handled")]
    pub keep_handled_updates: String,
}

impl Ops {
    /// The retention of handled updates. Telegram keeps an update for 24
    /// hours, so no copy of it arrives later; and after a week without
    /// updates it picks the next update id at random, which must not meet
    /// a remembered one (that update would be taken for a copy and
    /// dropped). So: at least a day, less than a week.
    pub fn keep_handled(&self) -> Result<chrono::Duration, String> {
        let text = self.keep_handled_updates.trim();
        let number = |unit: char| text.strip_suffix(unit).and_then(|n| n.parse::<i64>().ok());
        let span = match (number('d'), number('h')) {
            (Some(days), _) => chrono::Duration::days(days),
            (_, Some(hours)) => chrono::Duration::hours(hours),
            _ => return Err(self.keep_handled_problem()),
        };
        if span < chrono::Duration::days(1) || span >= chrono::Duration::days(7) {
            return Err(self.keep_handled_problem());
        }
        Ok(span)
    }

    fn keep_handled_problem(&self) -> String {
        format!(
            "[ops] keep_handled_updates '{}' must be a span like \"2d\" or \"36h\", from 1 day to less than 7 \
             (Telegram may reuse an update id after a week without updates).",
            self.keep_handled_updates
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("'{other}' is not a log format: human or json")),
        }
    }
}

impl Default for Ops {
    fn default() -> Self {
        Self {
            listen: default_ops_listen(),
            stale_after_secs: default_stale_after(),
            probe_every_secs: default_probe_every(),
            log_format: LogFormat::default(),
            keep_handled_updates: default_keep_handled(),
        }
    }
}

fn default_ops_listen() -> String {
    "127.0.0.1:9464".into()
}

fn default_stale_after() -> u64 {
    120
}

fn default_probe_every() -> u64 {
    60
}

fn default_keep_handled() -> String {
    "2d".into()
}

/// The daily backup: off unless `dir` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Folder for `todanpho-YYYY-MM-DD.db` copies, relative to the config
    /// file.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// The hour, in the ward's time zone, after which the day's copy is made.
    #[serde(default = "default_backup_hour")]
    pub hour: u32,
    /// How many daily copies to keep.
    #[serde(default = "default_backup_keep")]
    pub keep: usize,
}

impl Default for Backup {
    fn default() -> Self {
        Self { dir: None, hour: default_backup_hour(), keep: default_backup_keep() }
    }
}

fn default_backup_hour() -> u32 {
    2
}

fn default_backup_keep() -> usize {
    7
}

/// The ward's digital-citizen targets, in percent of approved households.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    #[serde(default = "default_smartphone_target")]
    pub smartphone_target: i64,
    #[serde(default = "default_epayment_target")]
    pub epayment_target: i64,
    #[serde(default = "default_vneid_target")]
    pub vneid_target: i64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            smartphone_target: default_smartphone_target(),
            epayment_target: default_epayment_target(),
            vneid_target: default_vneid_target(),
        }
    }
}

fn default_smartphone_target() -> i64 {
    80
}

fn default_epayment_target() -> i64 {
    50
}

fn default_vneid_target() -> i64 {
    80
}

/// Limits for broadcasting notices. Telegram allows a bot about 30
/// messages a second and 20 a minute into one group; the defaults leave
/// room for the replies residents are waiting for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notices {
    #[serde(default = "default_per_second")]
    pub per_second: u32,
    #[serde(default = "default_per_group_per_minute")]
    pub per_group_per_minute: u32,
    #[serde(default = "default_in_flight")]
    pub in_flight: usize,
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

impl Default for Notices {
    fn default() -> Self {
        Self {
            per_second: default_per_second(),
            per_group_per_minute: default_per_group_per_minute(),
            in_flight: default_in_flight(),
            attempts: default_attempts(),
        }
    }
}

fn default_per_second() -> u32 {
    25
}

fn default_per_group_per_minute() -> u32 {
    20
}

fn default_in_flight() -> usize {
    8
}

fn default_attempts() -> u32 {
    5
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaigns {
    /// "exact" shows each named donor's amount in the closing honour list;
    /// "hidden" lists names only.
    #[serde(default)]
    pub honour_amounts: HonourAmounts,
}

/// How the honour list shows amounts (`[campaigns] honour_amounts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HonourAmounts {
    #[default]
    Exact,
    Hidden,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    /// A report not closed this many hours after it was sent is overdue.
    #[serde(default = "default_deadline_hours")]
    pub deadline_hours: u32,
    /// Local hour (0–23) at which overdue reports are reminded, once a day.
    #[serde(default = "default_reminder_hour")]
    pub reminder_hour: u32,
    /// How often the scheduler looks at the clock.
    #[serde(default = "default_check_every_secs")]
    pub check_every_secs: f64,
    /// Base URL under which report photos are published, for the Open311
    /// export's media_url; empty when unset.
    pub media_url: Option<String>,
    #[serde(default = "default_categories")]
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub label: String,
}

impl Default for Reports {
    fn default() -> Self {
        Self {
            deadline_hours: default_deadline_hours(),
            reminder_hour: default_reminder_hour(),
            check_every_secs: default_check_every_secs(),
            media_url: None,
            categories: default_categories(),
        }
    }
}

fn default_deadline_hours() -> u32 {
    72
}

fn default_reminder_hour() -> u32 {
    8
}

fn default_check_every_secs() -> f64 {
    60.0
}

fn default_categories() -> Vec<Category> {
    [
        ("ve_sinh", "Vệ sinh môi trường / rác thải"),
        ("chieu_sang", "Chiếu sáng"),
        ("thoat_nuoc", "Thoát nước / ngập úng"),
        ("giao_thong", "Hạ tầng giao thông / vỉa hè"),
        ("an_ninh", "An ninh trật tự"),
        ("xay_dung", "Trật tự xây dựng"),
        ("pccc", "Phòng cháy chữa cháy"),
        ("khac", "Khác"),
    ]
    .into_iter()
    .map(|(code, label)| Category { code: code.into(), label: label.into() })
    .collect()
}

/// `[digital_teams]`: community digital teams (issue 23).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigitalTeams {
    /// When each member gets their weekly summary, in the ward's time
    /// zone: a weekday and a time, "mon 08:00".
    #[serde(default = "default_weekly_summary")]
    pub weekly_summary: String,
}

impl Default for DigitalTeams {
    fn default() -> Self {
        Self { weekly_summary: default_weekly_summary() }
    }
}

fn default_weekly_summary() -> String {
    "mon 08:00".into()
}

impl DigitalTeams {
    /// The weekday and time of the weekly summary.
    pub fn weekly(&self) -> Result<(chrono::Weekday, chrono::NaiveTime), String> {
        let refused = || {
            format!(
                "[digital_teams] weekly_summary '{}' must be a weekday and a time, such as \"mon 08:00\".",
                self.weekly_summary
            )
        };
        let mut words = self.weekly_summary.split_whitespace();
        let (Some(day), Some(time), None) = (words.next(), words.next(), words.next()) else {
            return Err(refused());
        };
        let day: chrono::Weekday = day.parse().map_err(|_| refused())?;
        let time = chrono::NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| refused())?;
        Ok((day, time))
    }
}

/// `[consultations]`: consultations (issue 22).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consultations {
    /// How long before the close the households that have not answered
    /// are reminded (and leaders get their door-to-door list): "24h",
    /// "2h", "30m", "2d".
    #[serde(default = "default_reminders")]
    pub reminders: Vec<String>,
}

impl Default for Consultations {
    fn default() -> Self {
        Self { reminders: default_reminders() }
    }
}

fn default_reminders() -> Vec<String> {
    vec!["24h".into(), "2h".into()]
}

impl Consultations {
    /// The reminders' distances before the close, longest first.
    pub fn reminder_offsets(&self) -> Result<Vec<chrono::Duration>, String> {
        let mut offsets = Vec::new();
        for r in &self.reminders {
            let t = r.trim();
            let refused = || {
                format!("[consultations] reminders '{r}' must be a length such as \"24h\", \"2h\", \"30m\" or \"2d\".")
            };
            let split = t.len().checked_sub(1).ok_or_else(refused)?;
            let n: i64 = t.get(..split).and_then(|n| n.parse().ok()).filter(|n| *n > 0).ok_or_else(refused)?;
            let d = match &t[split..] {
                "m" => chrono::Duration::minutes(n),
                "h" => chrono::Duration::hours(n),
                "d" => chrono::Duration::days(n),
                _ => return Err(refused()),
            };
            offsets.push(d);
        }
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        offsets.dedup();
        Ok(offsets)
    }
}
