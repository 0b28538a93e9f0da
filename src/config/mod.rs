//! Configuration: `config.toml` plus environment overrides. The token only
//! ever comes from the environment and never prints.
//!
//! The root and the tables the bot needs to start (ward, database,
//! telegram, dialogues) are here; the features' tables, each with its
//! defaults, are in `tables`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod init;
mod tables;

pub use tables::*;

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
    #[serde(default)]
    pub ops: Ops,
    #[serde(default)]
    pub digital_teams: DigitalTeams,
    #[serde(default)]
    pub consultations: Consultations,
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
    /// Copy the database before applying new migrations (not in the file:
    /// `--no-upgrade-backup` turns it off).
    #[serde(skip, default = "copy_before_upgrades")]
    pub upgrade_backup: bool,
}

fn copy_before_upgrades() -> bool {
    true
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
        self.ops.keep_handled().map_err(ConfigError::Invalid)?;
        self.digital_teams.weekly().map_err(ConfigError::Invalid)?;
        self.consultations.reminder_offsets().map_err(ConfigError::Invalid)?;
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
        let config = Config::parse(include_str!("../../config.toml")).unwrap();
        assert_eq!(config.ward.timezone, "Asia/Ho_Chi_Minh");
        assert!(config.timezone().is_ok());
    }

    #[test]
    fn handled_updates_are_kept_from_a_day_to_less_than_a_week() {
        let ops = |keep: &str| Ops { keep_handled_updates: keep.into(), ..Ops::default() };
        assert_eq!(Ops::default().keep_handled(), Ok(chrono::Duration::days(2)));
        let offsets =
            |r: &[&str]| Consultations { reminders: r.iter().map(|s| s.to_string()).collect() }.reminder_offsets();
        assert_eq!(
            offsets(&["2h", "24h", "30m"]),
            Ok(vec![chrono::Duration::hours(24), chrono::Duration::hours(2), chrono::Duration::minutes(30)])
        );
        assert!(
            offsets(&["2 giờ"]).is_err()
                && offsets(&["0h"]).is_err()
                && offsets(&[""]).is_err()
                && offsets(&["h"]).is_err()
        );
        let weekly = |s: &str| DigitalTeams { weekly_summary: s.into() }.weekly();
        assert_eq!(weekly("mon 08:00"), Ok((chrono::Weekday::Mon, chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap())));
        assert_eq!(weekly(" Sunday  19:30 ").map(|w| w.0), Ok(chrono::Weekday::Sun));
        for refused in ["", "mon", "thu2 08:00", "mon 25:00", "mon 08:00 extra"] {
            assert!(weekly(refused).is_err(), "{refused}");
        }
        assert_eq!(ops("36h").keep_handled(), Ok(chrono::Duration::hours(36)));
        assert_eq!(ops(" 6d ").keep_handled(), Ok(chrono::Duration::days(6)));
        for refused in ["7d", "12h", "0d", "2", "d", "2w", "-1d", "", "2ngày", "ngày"] {
            assert!(ops(refused).keep_handled().is_err(), "{refused}");
        }
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
