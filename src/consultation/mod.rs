//! Consultations (lấy ý kiến nhân dân), docs/design.md, flow 6: a
//! question put to every registered household (or person) of some groups,
//! answered in private with one press, open or secret, with paper answers
//! for households without a phone, reminders, and results that never show
//! a small tổ's shares.
//!
//! - `compose`: `/layykien`, its dialogue and the preview (Gửi / Huỷ);
//! - `post`: the group post and the Zalo household's ballot (through the
//!   notices' durable outbox), participation edited at most once a minute;
//! - `ballot`: a resident's answer, the receipt, `/ykien`;
//! - `paper`: `/ghiykien` and the list of households not yet answered;
//! - `remind`: reminders and the leaders' door-to-door lists;
//! - `actions`: what any door may do with a consultation (write, send,
//!   answer, record a paper answer, close), with its rights and states;
//! - `results`: `/ketquaykien` and the close's button and job; `tally`: the
//!   results as read, and the result posted to the groups;
//! - `secrecy`: what keeps a secret ballot secret in the files;
//! - `card`: the ballot as shown (words, option buttons, deep link);
//! - `repo`, `answers`, `figures`: the SQL of consultations, of answers
//!   (what a secret one is stored with), and of counting.

pub mod actions;
pub mod answers;
pub mod ballot;
pub mod card;
pub mod compose;
pub mod figures;
pub mod paper;
pub mod post;
pub mod remind;
pub mod repo;
pub mod results;
pub mod secrecy;
pub mod tally;

use std::fmt;

use chrono::{DateTime, Utc};

/// `YK12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConsultationCode(i64);

impl ConsultationCode {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn id(self) -> i64 {
        self.0
    }

    /// `YK12`, `yk 12`, `yk-12`; never `12` alone, which is a household
    /// where a consultation's code may stand (`/ghiykien 12 1`).
    pub fn parse(input: &str) -> Option<Self> {
        crate::text::read_numbered(input, "yk", true).map(Self)
    }
}

impl fmt::Display for ConsultationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "YK{}", self.0)
    }
}

/// Who answers: one answer per registered household, or one per person
/// among the registered residents (heads and the members who joined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Household,
    Person,
}

impl Unit {
    pub fn code(self) -> &'static str {
        match self {
            Unit::Household => "household",
            Unit::Person => "person",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Unit::Household, Unit::Person].into_iter().find(|u| u.code() == code)
    }

    /// "hộ", "người": what participation is counted in.
    pub fn noun(self) -> &'static str {
        match self {
            Unit::Household => "hộ",
            Unit::Person => "người",
        }
    }
}

/// Open: leaders and officials may see each household's answer, which may
/// be changed until the close. Secret: nobody can, not even from the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ballot {
    Open,
    Secret,
}

impl Ballot {
    pub fn code(self) -> &'static str {
        match self {
            Ballot::Open => "open",
            Ballot::Secret => "secret",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Ballot::Open, Ballot::Secret].into_iter().find(|b| b.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Ballot::Open => "công khai",
            Ballot::Secret => "bỏ phiếu kín",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Open,
    Closed,
    Cancelled,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Open => "open",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Status::Draft, Status::Open, Status::Closed, Status::Cancelled].into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    pub code: ConsultationCode,
    pub creator: i64,
    pub question: String,
    pub explanation: Option<String>,
    pub photo: Option<String>,
    pub options: Vec<String>,
    /// The option that asks for a short text.
    pub other: Option<usize>,
    pub unit: Unit,
    pub ballot: Ballot,
    /// The closing time set when it was asked.
    pub closes_at: DateTime<Utc>,
    /// When it was really closed (its time, or early), once closed.
    pub closed_at: Option<DateTime<Utc>>,
    pub status: Status,
}

impl Consultation {
    /// Whether an answer given at `now` counts.
    pub fn accepts_at(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Open && now < self.closes_at
    }

    /// When answers stopped counting: the close when it came early, else
    /// the closing time set (the scheduler may close a little after it,
    /// but nothing counts past it). What every message about a consultation
    /// that has ended names.
    pub fn ended_at(&self) -> DateTime<Utc> {
        self.closed_at.map_or(self.closes_at, |closed| closed.min(self.closes_at))
    }

    /// «Cuộc lấy ý kiến YK3 đã kết thúc lúc 08/12/2026 01:20».
    pub fn ended(&self, app: &crate::app::App) -> String {
        format!("Cuộc lấy ý kiến {} đã kết thúc lúc {}", self.code, app.settings.show_time(self.ended_at()))
    }

    pub fn option(&self, n: usize) -> Option<&str> {
        self.options.get(n).map(String::as_str)
    }

    /// The option a typed word or number names ("1", "đồng ý", "Dong y").
    pub fn option_named(&self, typed: &str) -> Option<usize> {
        let t = crate::text::fold(typed.trim().trim_end_matches('.'));
        if let Ok(n) = t.parse::<usize>() {
            return n.checked_sub(1).filter(|i| *i < self.options.len());
        }
        self.options.iter().position(|o| crate::text::fold(o) == t)
    }
}

/// The groups a leader's or official's consultation work covers: all
/// (None) for officials, their own for leaders, none for anyone else.
pub async fn staff_scope(conn: &mut sqlx::SqliteConnection, user: i64) -> anyhow::Result<Option<Vec<i64>>> {
    if crate::roles::is_official(&mut *conn, user).await? {
        return Ok(None);
    }
    Ok(Some(crate::group::led_by(conn, user).await?.into_iter().map(|g| g.id).collect()))
}

/// The options when the creator gives none.
pub const DEFAULT_OPTIONS: [&str; 3] = ["Đồng ý", "Không đồng ý", "Ý kiến khác"];

/// Between two and this many options.
pub const MAX_OPTIONS: usize = 6;
/// The longest option label: it is a button.
pub const OPTION_LEN: usize = 40;
/// The longest "Ý kiến khác" text.
pub const OTHER_LEN: usize = 300;
/// Results per group only where the group has at least this many answers:
/// a smaller tổ's shares could reveal a household's answer.
pub const GROUP_RESULT_MIN: i64 = 10;

/// The options a creator typed, one per line (or separated by «;»): two to
/// six, each short; an option called "Ý kiến khác" (or "Khác") asks for a
/// short text. Returns the labels and which one asks for text.
pub fn parse_options(input: &str) -> Result<(Vec<String>, Option<usize>), String> {
    let options: Vec<String> = input
        .split(['\n', ';'])
        .map(|o| {
            crate::text::squash(
                o.trim().trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ')' || c == '-').trim(),
            )
        })
        .filter(|o| !o.is_empty())
        .collect();
    if options.len() < 2 || options.len() > MAX_OPTIONS {
        return Err(format!(
            "Xin bác gõ từ 2 đến {MAX_OPTIONS} lựa chọn, mỗi lựa chọn một dòng (hoặc cách nhau bằng dấu «;»)."
        ));
    }
    if let Some(long) = options.iter().find(|o| o.chars().count() > OPTION_LEN) {
        return Err(format!("Lựa chọn «{long}» dài quá {OPTION_LEN} ký tự. Xin bác viết ngắn lại."));
    }
    let folded: Vec<String> = options.iter().map(|o| crate::text::fold(o)).collect();
    if (1..folded.len()).any(|i| folded[..i].contains(&folded[i])) {
        return Err("Có hai lựa chọn giống nhau. Xin bác gõ lại.".into());
    }
    let other = folded.iter().position(|o| o == "y kien khac" || o == "khac");
    Ok((options, other))
}

/// The default options, with "Ý kiến khác" asking for text.
pub fn default_options() -> (Vec<String>, Option<usize>) {
    (DEFAULT_OPTIONS.iter().map(|o| o.to_string()).collect(), Some(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes() {
        assert_eq!(ConsultationCode::parse("YK12"), Some(ConsultationCode::new(12)));
        assert_eq!(ConsultationCode::parse("yk-3"), Some(ConsultationCode::new(3)));
        assert_eq!(ConsultationCode::parse("yk 7"), Some(ConsultationCode::new(7)));
        assert_eq!(ConsultationCode::parse("7"), None);
        assert_eq!(ConsultationCode::parse("YK"), None);
        assert_eq!(ConsultationCode::parse("TB5"), None);
        assert_eq!(ConsultationCode::new(5).to_string(), "YK5");
    }

    #[test]
    fn options_typed_by_a_leader() {
        let (o, other) = parse_options("1. Đồng ý\n2. Không đồng ý\n3. Ý kiến khác").unwrap();
        assert_eq!(o, vec!["Đồng ý", "Không đồng ý", "Ý kiến khác"]);
        assert_eq!(other, Some(2));
        let (o, other) = parse_options("Thứ Bảy; Chủ nhật").unwrap();
        assert_eq!((o.len(), other), (2, None));
        assert!(parse_options("Đồng ý").is_err());
        assert!(parse_options("a;b;c;d;e;f;g").is_err());
        assert!(parse_options("Có; có").is_err());
        assert!(parse_options(&format!("Có; {}", "x".repeat(41))).is_err());
    }

    /// An open consultation with the default options and «Ý kiến khác».
    fn open_until(closes_at: chrono::DateTime<Utc>) -> Consultation {
        Consultation {
            code: ConsultationCode::new(1),
            creator: 1,
            question: "?".into(),
            explanation: None,
            photo: None,
            options: default_options().0,
            other: Some(2),
            unit: Unit::Household,
            ballot: Ballot::Open,
            closes_at,
            closed_at: None,
            status: Status::Open,
        }
    }

    #[test]
    fn an_option_is_named_by_number_or_words() {
        let c = open_until(Utc::now());
        assert_eq!(c.option_named("1"), Some(0));
        assert_eq!(c.option_named(" 2. "), Some(1));
        assert_eq!(c.option_named("khong dong y"), Some(1));
        assert_eq!(c.option_named("Ý kiến khác"), Some(2));
        assert_eq!(c.option_named("4"), None);
        assert_eq!(c.option_named("0"), None);
    }

    #[test]
    fn it_ended_when_it_was_closed_if_that_came_first() {
        use chrono::TimeZone;
        let closes_at = Utc.with_ymd_and_hms(2026, 12, 10, 1, 18, 0).unwrap();
        let mut c = open_until(closes_at);
        assert_eq!(c.ended_at(), closes_at, "not closed yet: its time");
        let early = closes_at - chrono::Duration::days(2);
        (c.status, c.closed_at) = (Status::Closed, Some(early));
        assert_eq!(c.ended_at(), early, "closed early");
        c.closed_at = Some(closes_at + chrono::Duration::minutes(3));
        assert_eq!(c.ended_at(), closes_at, "the scheduler closed it a little late: nothing counted past its time");
    }

    proptest! {
        #[test]
        fn any_typed_options_are_read_or_refused(s in "\\PC{0,200}") {
            if let Ok((o, other)) = parse_options(&s) {
                prop_assert!((2..=MAX_OPTIONS).contains(&o.len()));
                prop_assert!(o.iter().all(|x| !x.is_empty() && x.chars().count() <= OPTION_LEN));
                prop_assert!(other.is_none_or(|i| i < o.len()));
            }
        }

        #[test]
        fn any_text_is_a_code_or_not(s in "\\PC{0,20}") {
            if let Some(code) = ConsultationCode::parse(&s) {
                prop_assert_eq!(ConsultationCode::parse(&code.to_string()), Some(code));
            }
        }
    }
}
