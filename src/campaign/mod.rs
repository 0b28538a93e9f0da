//! Fundraising (vận động ủng hộ), docs/design.md, flow 3.
//!
//! - `actions`: what any door calls: create, pledge, confirm, record cash,
//!   close (rights, state, rows, audit, whom to tell);
//! - `create`: `/vandong` and the announcements in the groups;
//! - `pledge`: `/ungho`, with a VietQR code for transfers;
//! - `confirm`: **Đã nhận tiền / Chưa nhận**, `/xacnhan`, `/ghinhan`;
//! - `progress`: the progress line, kept current with throttled edits;
//! - `close`: `/quy` and `/ketthuc`;
//! - `banks`, `qr`: the NAPAS bank list and the QR image;
//! - `repo`: the SQL.
//!
//! Money is whole đồng in an i64 everywhere; only received money counts.

pub mod actions;
pub mod banks;
pub mod close;
pub mod confirm;
pub mod create;
pub mod pledge;
pub mod progress;
pub mod qr;
pub mod repo;

use std::fmt;

use chrono::NaiveDate;

use crate::domain::Money;

/// `UH12`: a campaign's public code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignCode(i64);

impl CampaignCode {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn id(self) -> i64 {
        self.0
    }

    /// `UH12`, `uh 12`, `12`.
    pub fn parse(input: &str) -> Option<Self> {
        crate::text::read_numbered(input, "uh", false).map(Self)
    }
}

impl fmt::Display for CampaignCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UH{}", self.0)
    }
}

/// `P0345`: a pledge's code, carried in the transfer note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PledgeCode(i64);

impl PledgeCode {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn id(self) -> i64 {
        self.0
    }

    pub fn parse(input: &str) -> Option<Self> {
        crate::text::read_numbered(input, "p", false).map(Self)
    }
}

impl fmt::Display for PledgeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{:04}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BankAccount {
    pub bin: String,
    pub bank_name: String,
    pub number: String,
    pub holder: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub code: CampaignCode,
    pub title: String,
    pub purpose: String,
    pub target: Option<Money>,
    pub deadline: NaiveDate,
    pub accepts_cash: bool,
    pub bank: Option<BankAccount>,
    pub ward_wide: bool,
    pub open: bool,
    pub created_by: i64,
}

impl Campaign {
    pub fn tag(&self) -> String {
        format!("campaign:{}", self.code.id())
    }

    pub fn ways_to_give(&self) -> String {
        match (self.accepts_cash, &self.bank) {
            (true, Some(_)) => "tiền mặt qua tổ trưởng, hoặc chuyển khoản (bot gửi mã QR khi bác bấm Ủng hộ)",
            (false, Some(_)) => "chuyển khoản (bot gửi mã QR khi bác bấm Ủng hộ)",
            _ => "tiền mặt qua tổ trưởng",
        }
        .to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeStatus {
    Registered,
    Received,
    NotReceived,
}

impl PledgeStatus {
    pub fn code(self) -> &'static str {
        match self {
            PledgeStatus::Registered => "registered",
            PledgeStatus::Received => "received",
            PledgeStatus::NotReceived => "not_received",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [PledgeStatus::Registered, PledgeStatus::Received, PledgeStatus::NotReceived]
            .into_iter()
            .find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            PledgeStatus::Registered => "đã đăng ký",
            PledgeStatus::Received => "đã nhận tiền",
            PledgeStatus::NotReceived => "chưa nhận được tiền",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pledge {
    pub code: PledgeCode,
    pub campaign: CampaignCode,
    pub user_id: Option<i64>,
    pub donor_name: String,
    pub anonymous: bool,
    pub transfer: bool,
    pub amount: Money,
    pub status: PledgeStatus,
    pub received: Option<Money>,
}

/// What the announcement, `/quy`, the summary and the database all agree on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Received money, in đồng.
    pub received: i64,
    pub contributions: i64,
    pub households: i64,
    /// Registered but not (yet) received.
    pub outstanding: i64,
}

/// `▓▓▓▓▓░░░░░ 48% · 1.200.000 đ / 2.500.000 đ · 14 hộ`
pub fn progress_line(totals: &Totals, target: Option<Money>) -> String {
    let received = crate::domain::group_thousands(totals.received);
    match target {
        Some(target) => {
            let percent = crate::domain::Percent::of(totals.received, target.dong());
            let filled = (percent.whole() / 10).clamp(0, 10) as usize;
            format!(
                "{}{} {percent} · {received} đ / {target} · {} hộ",
                "▓".repeat(filled),
                "░".repeat(10 - filled),
                totals.households
            )
        }
        None => format!("Đã nhận {received} đ · {} hộ", totals.households),
    }
}

/// The least and the most one contribution may be: the bounds of the
/// pledge dialogue's amount, which every way of recording money keeps
/// (`/ghinhan`, `/xacnhan` with the amount received), so there is one cap.
pub fn amount_bounds(book: &crate::dialogue::Book) -> (i64, i64) {
    book.get(pledge::FLOW)
        .and_then(|def| def.steps.iter().find(|s| s.key == "amount"))
        .and_then(|step| match step.kind {
            crate::dialogue::definition::StepKind::Money { min, max } => Some((min, max)),
            _ => None,
        })
        .unwrap_or((1_000, 1_000_000_000))
}

/// Whether `amount` is within [`amount_bounds`]; if not, what to tell.
pub fn out_of_bounds(book: &crate::dialogue::Book, amount: crate::domain::Money) -> Option<String> {
    let (min, max) = amount_bounds(book);
    let shown = |d: i64| crate::domain::Money::from_dong(d).map(|m| m.to_string()).unwrap_or_default();
    (amount.dong() < min || amount.dong() > max).then(|| format!("Số tiền phải từ {} đến {}.", shown(min), shown(max)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_print() {
        assert_eq!(CampaignCode::parse("UH12"), Some(CampaignCode::new(12)));
        assert_eq!(CampaignCode::parse("uh 12"), Some(CampaignCode::new(12)));
        assert_eq!(PledgeCode::new(345).to_string(), "P0345");
        assert_eq!(PledgeCode::parse("p0345"), Some(PledgeCode::new(345)));
        assert_eq!(PledgeCode::parse("P12345"), Some(PledgeCode::new(12345)));
        assert_eq!(PledgeCode::parse("Q1"), None);
        assert_eq!(CampaignCode::parse("UH"), None);
    }

    #[test]
    fn progress_bar() {
        let totals = Totals { received: 1_200_000, contributions: 15, households: 14, outstanding: 0 };
        assert_eq!(
            progress_line(&totals, Some(Money::from_dong(2_500_000).unwrap())),
            "▓▓▓▓░░░░░░ 48% · 1.200.000 đ / 2.500.000 đ · 14 hộ"
        );
        let over = Totals { received: 3_000_000, ..totals };
        assert!(progress_line(&over, Some(Money::from_dong(2_500_000).unwrap())).starts_with("▓▓▓▓▓▓▓▓▓▓ 120%"));
        assert_eq!(progress_line(&totals, None), "Đã nhận 1.200.000 đ · 14 hộ");
    }
}
