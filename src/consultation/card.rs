//! The ballot as a resident sees it, wherever it is shown (the private
//! ballot, a reminder, a Zalo household's message, the preview): its words,
//! its option buttons, and the group post's deep link to it.

use super::{Ballot, Consultation, ConsultationCode, Unit};
use crate::channel::{Button, Keyboard};

/// The deep link of the group post's **Cho ý kiến**: `yk-<id>`.
pub const PAYLOAD_PREFIX: &str = "yk-";

/// A press on an option: `yk:a:<consultation>:<option>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub code: ConsultationCode,
    pub option: usize,
}

impl Choice {
    pub fn parse(data: &str) -> Option<Self> {
        let (id, option) = data.strip_prefix("yk:a:")?.split_once(':')?;
        Some(Self {
            code: ConsultationCode::new(id.parse().ok().filter(|n| *n > 0)?),
            option: option.parse().ok().filter(|o| *o < super::MAX_OPTIONS)?,
        })
    }

    pub fn data(self) -> String {
        format!("yk:a:{}:{}", self.code.id(), self.option)
    }
}

/// One button per option, numbered (on Zalo the number is what is typed).
pub fn keyboard(c: &Consultation) -> Keyboard {
    Keyboard::rows(
        c.options
            .iter()
            .enumerate()
            .map(|(option, label)| {
                vec![Button::callback(format!("{}. {label}", option + 1), Choice { code: c.code, option }.data())]
            })
            .collect(),
    )
}

/// What the resident reads before pressing: the question, the close, and
/// what kind of ballot it is.
pub fn ballot_text(app: &crate::app::App, c: &Consultation) -> String {
    let mut text = format!("🗳 {}: {}", c.code, c.question);
    if let Some(e) = &c.explanation {
        text.push_str(&format!("\n\n{e}"));
    }
    text.push_str(&format!("\n\nHạn cho ý kiến: {}.", app.settings.show_time(c.closes_at)));
    text.push_str(match c.unit {
        Unit::Household => "\nMỗi hộ một ý kiến: bác trả lời thay cho cả hộ.",
        Unit::Person => "\nMỗi người một ý kiến.",
    });
    text.push_str(match c.ballot {
        Ballot::Secret => "\n🔒 Phiếu kín: không ai biết bác chọn gì. Đã gửi thì không đổi được, xin bác chọn kỹ.",
        Ballot::Open => {
            "\nPhiếu công khai: tổ trưởng và cán bộ phường xem được ý kiến của từng hộ. Bác đổi được ý kiến đến hạn."
        }
    });
    text
}

/// The line under a ballot that asks for the answer: a press where there
/// are buttons; elsewhere the list of options the platform adds under it
/// says how.
pub fn ask_line(can: crate::channel::Capabilities) -> &'static str {
    if can.inline_buttons {
        "\n\nXin bác bấm một lựa chọn:"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_read_back_and_fit_a_button() {
        for choice in [
            Choice { code: ConsultationCode::new(3), option: 0 },
            Choice { code: ConsultationCode::new(i64::MAX), option: 5 },
        ] {
            assert_eq!(Choice::parse(&choice.data()), Some(choice));
            assert!(choice.data().len() <= 64);
        }
        assert_eq!(Choice::parse("yk:a:3:9"), None);
        assert_eq!(Choice::parse("yk:a:0:1"), None);
        assert_eq!(Choice::parse("yk:a:x:1"), None);
    }
}
