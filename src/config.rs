//! Configuration: `config.toml` plus environment overrides. The token only
//! ever comes from the environment and never prints.
//!
//! Just over 500 lines: one section per `config.toml` table with its
//! defaults and checks; issue 21 splits it along those tables.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}. Pass --config with the path to config.toml (the repository has a documented example).")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "the config file {path} is not valid: {message}. Compare it with the documented config.toml in the repository."
    )]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("TELOXIDE_TOKEN is not set (nor ZALO_BOT_TOKEN). Ask @BotFather on Telegram for the bot's token and start the bot with TELOXIDE_TOKEN=<token> todanpho; for Zalo, set ZALO_BOT_TOKEN=<bot_id>:<access_token>.")]
    MissingToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ward: Ward,
    pub database: Database,
    pub telegram: Telegram,
    #[serde(default)]
    pub dialogues: Dialogues,
    #[serde(default)]
    pub reports: Reports,
    #[serde(default)]
    pub campaigns: Campaigns,
    #[serde(default)]
    pub notices: Notices,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub backup: Backup,
    #[serde(default)]
    pub flood: Flood,
    #[serde(default)]
    pub zalo: Zalo,
}

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

impl Zalo {
    pub fn settings(&self) -> crate::zalo::Settings {
        crate::zalo::Settings {
            poll_timeout: std::time::Duration::from_secs(self.poll_timeout_secs.clamp(1, 50)),
            per_second: self.per_second,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ward {
    pub name: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub path: PathBuf,
    /// SQLite's `synchronous` in WAL mode: `full` (the default) also
    /// survives a power cut, with an fsync per commit, which group commit
    /// shares among the updates of a busy moment; `normal` survives only a
    /// crash of the process.
    #[serde(default)]
    pub synchronous: Durability,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Normal,
    #[default]
    Full,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telegram {
    #[serde(default = "default_api_url")]
    pub api_url: String,
    #[serde(default)]
    pub officials: Vec<i64>,
    /// Receive updates by webhook at this public HTTPS URL instead of long
    /// polling. The secret Telegram sends back comes from
    /// `TODANPHO_WEBHOOK_SECRET`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Where the webhook server listens (behind the HTTPS proxy).
    #[serde(default = "default_webhook_listen")]
    pub webhook_listen: String,
}

fn default_webhook_listen() -> String {
    "127.0.0.1:8443".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dialogues {
    pub dir: Option<PathBuf>,
}

fn default_timezone() -> String {
    "Asia/Ho_Chi_Minh".into()
}

fn default_api_url() -> String {
    "https://api.telegram.org".into()
}

impl Config {
    /// Reads the file and resolves relative paths against its folder, then
    /// applies `TELOXIDE_API_URL`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut config =
            Self::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_path_buf(), message })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.database.path.is_relative() {
            config.database.path = base.join(&config.database.path);
        }
        if let Some(dir) = config.dialogues.dir.as_mut().filter(|d| d.is_relative()) {
            *dir = base.join(&*dir);
        }
        if let Some(dir) = config.backup.dir.as_mut().filter(|d| d.is_relative()) {
            *dir = base.join(&*dir);
        }
        if let Ok(url) = std::env::var("TELOXIDE_API_URL") {
            if !url.trim().is_empty() {
                config.telegram.api_url = url;
            }
        }
        config.check()?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.ward.name.trim().is_empty() {
            return Err(ConfigError::Invalid("[ward] name must not be empty in the config file.".into()));
        }
        self.timezone()?;
        if self.reports.reminder_hour > 23
            || self.reports.deadline_hours == 0
            || !(self.reports.check_every_secs > 0.0 && self.reports.check_every_secs <= 86_400.0)
        {
            return Err(ConfigError::Invalid(
                "[reports] reminder_hour must be 0–23, deadline_hours and check_every_secs more than 0.".into(),
            ));
        }
        let n = &self.notices;
        if n.per_second == 0 || n.per_group_per_minute == 0 || n.in_flight == 0 || n.attempts == 0 {
            return Err(ConfigError::Invalid("[notices] limits must all be more than 0.".into()));
        }
        let codes: std::collections::HashSet<_> = self.reports.categories.iter().map(|c| &c.code).collect();
        if self.reports.categories.is_empty() || codes.len() != self.reports.categories.len() {
            return Err(ConfigError::Invalid(
                "[reports] categories must be a non-empty list with distinct codes.".into(),
            ));
        }
        url::Url::parse(&self.telegram.api_url).map_err(|e| {
            ConfigError::Invalid(format!(
                "the Bot API URL '{}' is not a valid URL ({e}); fix [telegram] api_url or TELOXIDE_API_URL.",
                self.telegram.api_url
            ))
        })?;
        Ok(())
    }

    pub fn timezone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.ward.timezone.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "[ward] timezone '{}' is not a known time zone; use e.g. Asia/Ho_Chi_Minh.",
                self.ward.timezone
            ))
        })
    }
}

/// The bot token; its Debug and Display never show the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn from_env(var: &str) -> Result<Self, ConfigError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Self(v.trim().to_string())),
            _ => Err(ConfigError::MissingToken),
        }
    }

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let config = Config::parse(include_str!("../config.toml")).unwrap();
        assert_eq!(config.ward.timezone, "Asia/Ho_Chi_Minh");
        assert!(config.timezone().is_ok());
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Config::parse("[ward]\nname = \"x\"\nnmae = 1\n[database]\npath = \"a\"\n[telegram]\n").unwrap_err();
        assert!(err.contains("nmae"), "{err}");
    }

    #[test]
    fn secret_does_not_print() {
        assert_eq!(format!("{:?}", Secret::new("123:abc")), "Secret(***)");
    }
}
