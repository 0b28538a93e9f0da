//! Notices (thông báo), docs/design.md, flow 4.
//!
//! - `actions`: the ward actions any door calls: create, change, send,
//!   schedule and cancel a notice, acknowledge it; each checks the rights;
//! - `compose`: `/thongbao`, the draft preview with Ghim / Hẹn giờ / groups
//!   / Gửi / Huỷ;
//! - `outbox`: the durable outbox: one delivery row per target chat, written
//!   before anything is sent, drained by the channel's sender;
//! - `ack`: **Đã xem** and `/thongbao_ds`;
//! - `schedule`: `/henlich` and the time a notice is sent;
//! - `repo`: the SQL.

pub mod ack;
pub mod actions;
pub mod compose;
pub mod drain;
pub mod optout;
pub mod outbox;
pub mod preview;
pub mod repo;
pub mod schedule;

use std::fmt;

use chrono::{DateTime, Utc};

/// `TB12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeCode(i64);

impl NoticeCode {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn id(self) -> i64 {
        self.0
    }

    pub fn parse(input: &str) -> Option<Self> {
        crate::text::read_numbered(input, "tb", false).map(Self)
    }
}

impl fmt::Display for NoticeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TB{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Queued,
    Done,
    Cancelled,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Queued => "queued",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Status::Draft, Status::Queued, Status::Done, Status::Cancelled].into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub code: NoticeCode,
    pub sender: i64,
    pub text: String,
    pub photo: Option<String>,
    pub pin: bool,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub status: Status,
}

/// The longest notice, with or without a photo. A group receives it in as
/// many messages as its platform needs (see `outbox::parts`); the preview
/// shows it apart from the picker it edits (see `preview::preview`).
pub const TEXT_LIMIT: usize = 4000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(NoticeCode::parse("TB12"), Some(NoticeCode::new(12)));
        assert_eq!(NoticeCode::parse("tb-3"), Some(NoticeCode::new(3)));
        assert_eq!(NoticeCode::parse("7"), Some(NoticeCode::new(7)));
        assert_eq!(NoticeCode::parse("TB"), None);
        assert_eq!(NoticeCode::new(5).to_string(), "TB5");
    }
}
