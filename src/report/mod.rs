//! Scene reports (phản ánh hiện trường), docs/design.md, flow 2.
//!
//! - `actions`: the ward actions on a report, for any door: file, move
//!   (accept, in progress, done, decline), share photos, rate, reopen;
//! - `filing`: `/phananh`, the dialogue that files a report;
//! - `handling`: leaders' status buttons, `/xuly`, the reporter's rating
//!   buttons, as chat doors to the actions;
//! - `listing`: `/phananhcuatoi`, `/dsphananh`;
//! - `deadline`: the daily reminder of overdue reports;
//! - `feed`: `/bangtin`, the group's public feed;
//! - `public_place`: what a group may read of where a report is;
//! - `open311`: the GeoReport v2 export;
//! - `repo`: the SQL.

pub mod actions;
pub mod deadline;
pub mod feed;
pub mod filing;
pub mod handling;
pub mod listing;
pub mod open311;
pub mod public_place;
pub mod repo;

use std::fmt;

use chrono::{DateTime, Utc};

/// `PA-000123`: the public code of a report, sequential in the ward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportCode(i64);

impl ReportCode {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn id(self) -> i64 {
        self.0
    }

    /// Accepts `PA-000123`, `pa123`, `PA 123`, `#123` and `123`.
    pub fn parse(input: &str) -> Option<Self> {
        let t = input.trim();
        let t = t.strip_prefix('#').unwrap_or(t);
        let digits = match t.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("pa") => t[2..].trim_start_matches(['-', ' ', '.']),
            _ => t,
        };
        if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i64>().ok().filter(|n| *n > 0).map(Self)
    }
}

impl fmt::Display for ReportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PA-{:06}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Accepted,
    InProgress,
    Resolved,
    Declined,
}

impl Status {
    pub const OPEN: [Status; 3] = [Status::New, Status::Accepted, Status::InProgress];
    pub const ALL: [Status; 5] =
        [Status::New, Status::Accepted, Status::InProgress, Status::Resolved, Status::Declined];

    pub fn code(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Declined => "declined",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The short word used in callback data and in `/xuly`.
    pub fn word(self) -> &'static str {
        match self {
            Status::New => "moi",
            Status::Accepted => "tiepnhan",
            Status::InProgress => "dangxuly",
            Status::Resolved => "daxuly",
            Status::Declined => "khongxuly",
        }
    }

    /// What a person types: `daxuly`, `đã xử lý`, `da xu ly`.
    pub fn from_word(word: &str) -> Option<Self> {
        let folded: String = crate::text::fold(word).chars().filter(|c| !c.is_whitespace()).collect();
        Self::ALL.into_iter().find(|s| s.word() == folded)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "mới",
            Status::Accepted => "đã tiếp nhận",
            Status::InProgress => "đang xử lý",
            Status::Resolved => "đã xử lý",
            Status::Declined => "không xử lý",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Declined)
    }

    /// Where a leader may move a case from here. Closed cases stay closed;
    /// only the reporter's dissatisfaction reopens one (see `actions::rate`).
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::New => &[Status::Accepted, Status::InProgress, Status::Resolved, Status::Declined],
            Status::Accepted => &[Status::InProgress, Status::Resolved, Status::Declined],
            Status::InProgress => &[Status::Resolved, Status::Declined],
            Status::Resolved | Status::Declined => &[],
        }
    }

    pub fn can_move_to(self, to: Status) -> bool {
        self.next().contains(&to)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    None,
    Pin { latitude: f64, longitude: f64 },
    Address(String),
}

#[derive(Debug, Clone)]
pub struct Report {
    pub code: ReportCode,
    pub group_id: i64,
    pub reporter_user_id: i64,
    pub category: String,
    pub description: String,
    pub place: Place,
    pub photos: Vec<String>,
    pub status: Status,
    pub reopened: bool,
    pub rating: Option<String>,
    pub share_photos: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Report {
    pub fn place_text(&self) -> String {
        match &self.place {
            Place::None => "không có".to_string(),
            Place::Pin { .. } => "trên bản đồ (gửi kèm)".to_string(),
            Place::Address(a) => a.clone(),
        }
    }
}

/// Vietnam's mainland and islands lie inside this box; a pin outside it is
/// not a place in the ward.
pub fn in_vietnam(latitude: f64, longitude: f64) -> bool {
    (8.0..=23.5).contains(&latitude) && (102.0..=117.5).contains(&longitude)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes() {
        assert_eq!(ReportCode::new(123).to_string(), "PA-000123");
        for typed in ["PA-000123", "pa123", "PA 123", "#123", "123", " pa-123 "] {
            assert_eq!(ReportCode::parse(typed), Some(ReportCode::new(123)), "{typed}");
        }
        for bad in ["", "PA-", "PA-0", "PB-123", "12a", "-5", "PA-99999999999999"] {
            assert_eq!(ReportCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn transitions() {
        assert!(Status::New.can_move_to(Status::Resolved));
        assert!(!Status::Resolved.can_move_to(Status::Resolved));
        assert!(!Status::Declined.can_move_to(Status::InProgress));
        assert!(!Status::InProgress.can_move_to(Status::New));
        assert_eq!(Status::from_word("Đã xử lý"), Some(Status::Resolved));
        assert_eq!(Status::from_word("khongxuly"), Some(Status::Declined));
    }

    proptest! {
        #[test]
        fn code_parse_never_panics_and_round_trips(s in "\\PC{0,20}", n in 1i64..999_999_999) {
            let _ = ReportCode::parse(&s);
            prop_assert_eq!(ReportCode::parse(&ReportCode::new(n).to_string()), Some(ReportCode::new(n)));
        }
    }
}
