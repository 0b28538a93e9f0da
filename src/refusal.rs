//! Expected refusals as values: a flow says *why* it will not do something
//! (no right, not found, the wrong state, someone else was quicker), and
//! the words a person reads are chosen here, in one place, so the same
//! refusal reads the same everywhere. An unexpected failure is an error
//! (`anyhow`), never a refusal.

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
}

impl Refusal {
    pub fn no_right(to: impl Into<String>) -> Self {
        Refusal::NoRight { to: to.into() }
    }

    pub fn not_found(what: &'static str, code: impl fmt::Display) -> Self {
        Refusal::NotFound { what, code: code.to_string() }
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
    }
}
