//! Expected refusals as values: a flow says *why* it will not do something
//! (no right, not found, the wrong state, someone else was quicker, input
//! it cannot use), and the words a person reads are chosen here, in one
//! place, so the same refusal reads the same everywhere. A handler returns
//! one as the error of its [`Handled`]; the turn shows it (see
//! [`crate::turn::Turn::refuse`]): a button's note for a press, a message
//! in the chat otherwise. An unexpected failure is an error (`anyhow`),
//! never a refusal.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's role, or their relation to the record, does not allow
    /// it: what they tried ("xác nhận tiền của cuộc vận động này").
    NoRight { to: String },
    /// Only staff of some group may (a list, a statistic): what of.
    StaffOnly { what: &'static str },
    /// A leader asked about a group not theirs: what of.
    OwnGroupOnly { what: &'static str },
    /// No such record: what kind, and the code as typed.
    NotFound { what: &'static str, code: String },
    /// The record is in a state where this cannot happen; the sentence
    /// says which.
    State(String),
    /// Someone else changed the record between reading and writing.
    Overtaken { what: String },
    /// Only some people may: who, and what ("cán bộ phường", "liên kết
    /// được nhóm").
    OnlyFor { who: &'static str, to: &'static str },
    /// The command was typed in a chat where it cannot work; the sentence
    /// says where it does.
    WrongPlace(String),
    /// What was typed cannot be used; the sentence says why and how to
    /// type it (a command's usage line, an amount's examples).
    Input(String),
    /// A button from an earlier message that no longer does anything.
    StaleButton,
}

/// Why a handler stopped: an expected refusal, shown to the person, or a
/// failure, logged with the update and answered with an apology.
#[derive(Debug)]
pub enum Stop {
    Refused(Refusal),
    Failed(anyhow::Error),
}

/// What a handler returns.
pub type Handled<T = ()> = Result<T, Stop>;

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        Stop::Refused(refusal)
    }
}

impl<E: Into<anyhow::Error>> From<E> for Stop {
    fn from(error: E) -> Self {
        Stop::Failed(error.into())
    }
}

impl Refusal {
    pub fn no_right(to: impl Into<String>) -> Self {
        Refusal::NoRight { to: to.into() }
    }

    pub fn not_found(what: &'static str, code: impl fmt::Display) -> Self {
        Refusal::NotFound { what, code: code.to_string() }
    }

    pub fn input(sentence: impl Into<String>) -> Self {
        Refusal::Input(sentence.into())
    }

    pub fn state(sentence: impl Into<String>) -> Self {
        Refusal::State(sentence.into())
    }

    /// The refusal's kind, as kept with the update it answered (the role
    /// matrix reads it there).
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::NoRight { .. } => "NoRight",
            Refusal::StaffOnly { .. } => "StaffOnly",
            Refusal::OwnGroupOnly { .. } => "OwnGroupOnly",
            Refusal::NotFound { .. } => "NotFound",
            Refusal::State(_) => "State",
            Refusal::Overtaken { .. } => "Overtaken",
            Refusal::OnlyFor { .. } => "OnlyFor",
            Refusal::WrongPlace(_) => "WrongPlace",
            Refusal::Input(_) => "Input",
            Refusal::StaleButton => "StaleButton",
        }
    }

    /// Whether it refuses for who the person is (their role, or their
    /// relation to the record), not for what or where they asked.
    pub fn is_for_rights(&self) -> bool {
        matches!(
            self,
            Refusal::NoRight { .. }
                | Refusal::StaffOnly { .. }
                | Refusal::OwnGroupOnly { .. }
                | Refusal::OnlyFor { .. }
        )
    }
}

/// What the person reads.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoRight { to } => write!(f, "Xin lỗi, bác không có quyền {to}."),
            Refusal::StaffOnly { what } => {
                write!(f, "Xin lỗi, chỉ tổ trưởng, tổ phó và cán bộ phường mới xem được {what}.")
            }
            Refusal::OwnGroupOnly { what } => write!(f, "Bác chỉ xem được {what} của tổ mình."),
            Refusal::NotFound { what, code } => write!(f, "Không tìm thấy {what} {code}."),
            Refusal::State(sentence) => f.write_str(sentence),
            Refusal::Overtaken { what } => write!(f, "{what} vừa được người khác cập nhật. Xin bác xem lại."),
            Refusal::OnlyFor { who, to } => write!(f, "Xin lỗi, chỉ {who} mới {to}."),
            Refusal::WrongPlace(sentence) | Refusal::Input(sentence) => f.write_str(sentence),
            Refusal::StaleButton => f.write_str("Nút này không còn dùng được."),
        }
    }
}

/// A refusal goes out as its words.
impl From<Refusal> for String {
    fn from(refusal: Refusal) -> Self {
        refusal.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_polite_vietnamese_sentences() {
        assert_eq!(
            Refusal::no_right("xử lý phản ánh của tổ này").to_string(),
            "Xin lỗi, bác không có quyền xử lý phản ánh của tổ này."
        );
        assert_eq!(Refusal::not_found("phản ánh", "PA-000999").to_string(), "Không tìm thấy phản ánh PA-000999.");
        assert_eq!(
            Refusal::Overtaken { what: "Mã ủng hộ P0004".into() }.to_string(),
            "Mã ủng hộ P0004 vừa được người khác cập nhật. Xin bác xem lại."
        );
        assert_eq!(Refusal::OwnGroupOnly { what: "phản ánh" }.to_string(), "Bác chỉ xem được phản ánh của tổ mình.");
        assert_eq!(
            Refusal::OnlyFor { who: "cán bộ phường", to: "liên kết được nhóm" }.to_string(),
            "Xin lỗi, chỉ cán bộ phường mới liên kết được nhóm."
        );
        assert_eq!(Refusal::StaleButton.to_string(), "Nút này không còn dùng được.");
    }

    #[test]
    fn a_failure_is_never_taken_for_a_refusal() {
        let stop: Stop = anyhow::anyhow!("disk full").into();
        assert!(matches!(stop, Stop::Failed(_)));
        let stop: Stop = sqlx::Error::PoolTimedOut.into();
        assert!(matches!(stop, Stop::Failed(_)));
        let stop: Stop = Refusal::StaleButton.into();
        assert!(matches!(stop, Stop::Refused(Refusal::StaleButton)));
    }
}
