//! Every kind of button the bot shows, parsed once from its callback data
//! into [`Press`] and routed by one match. (Which message a press may edit
//! is decided once for all of them, on the way out: see
//! `channel::Replies::confine_edits`.)

use crate::campaign::{self, PledgeCode};
use crate::channel::MessageRef;
use crate::consultation::{card::Choice, compose::DraftButton, paper::PaperButton, results as consultation_results};
use crate::conversation::{self, flow};
use crate::dialogue::{Input, BUTTON_PREFIX};
use crate::digital::{self, doors::DoorButton};
use crate::forms;
use crate::household::review::{self, ReviewButton};
use crate::household::{members, mine};
use crate::notice::compose::{self, NoticeButton};
use crate::refusal::Handled;
use crate::report::handling::{self, ReportButton};
use crate::report::listing;
use crate::turn::Turn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// A choice in a running dialogue.
    Answer(String),
    /// "Làm tiếp" the dialogue left half done.
    Continue,
    /// "Bỏ việc cũ, làm mới": the flow payload to start.
    Restart(String),
    /// A group picked (or a page of the picker) for a flow: `<prefix>:…`.
    Pick(String),
    /// Duyệt / Từ chối a household.
    Review(ReviewButton),
    /// The notice preview's buttons, and "Đã xem".
    Notice(NoticeButton),
    /// Đã nhận / Chưa nhận a pledge's money.
    Money { pledge: PledgeCode, received: bool },
    /// A report's status buttons.
    Report(ReportButton),
    /// A page of the report list: the whole callback data (it carries the
    /// query).
    ReportPage(String),
    /// "Cập nhật" on a household card: its id.
    UpdateHousehold(String),
    /// A campaign picked to pledge to: its code.
    PledgeTo(String),
    /// The walking list's pages, groups, search and visits.
    Doors(DoorButton),
    /// "Cập nhật công dân số" on a household card: its id.
    OwnIndicators(String),
    /// "Mời người trong hộ" on a household card: its id.
    Invite(String),
    /// The head's answer to someone asking to join the household.
    JoinAnswer(members::Answer),
    /// An option of a consultation's ballot.
    Ballot(Choice),
    /// A consultation's preview: Gửi / Huỷ.
    ConsultationDraft(DraftButton),
    /// The list for paper answers: pages, households, options.
    Paper(PaperButton),
    /// "Kết thúc ngay" on a consultation's results.
    CloseConsultation(crate::consultation::ConsultationCode),
}

impl Press {
    pub fn parse(data: &str) -> Option<Self> {
        if data.starts_with(BUTTON_PREFIX) {
            return Some(Press::Answer(data.to_string()));
        }
        if data == conversation::CONTINUE {
            return Some(Press::Continue);
        }
        if let Some(rest) = data.strip_prefix(conversation::RESTART_PREFIX) {
            return Some(Press::Restart(rest.to_string()));
        }
        if let Some(rest) = data.strip_prefix(flow::PICK_PREFIX) {
            return Some(Press::Pick(rest.to_string()));
        }
        if let Some(rest) = data.strip_prefix(digital::own::PREFIX) {
            return Some(Press::OwnIndicators(rest.to_string()));
        }
        if data.starts_with(digital::doors::PREFIX) {
            return DoorButton::parse(data).map(Press::Doors);
        }
        if let Some(rest) = data.strip_prefix(members::INVITE_PREFIX) {
            return Some(Press::Invite(rest.to_string()));
        }
        if let Some(a) = members::Answer::parse(data) {
            return Some(Press::JoinAnswer(a));
        }
        if data.starts_with("yk:") {
            return Choice::parse(data)
                .map(Press::Ballot)
                .or_else(|| DraftButton::parse(data).map(Press::ConsultationDraft))
                .or_else(|| PaperButton::parse(data).map(Press::Paper))
                .or_else(|| consultation_results::parse_close(data).map(Press::CloseConsultation));
        }
        if let Some(rest) = data.strip_prefix(mine::UPDATE_PREFIX) {
            return Some(Press::UpdateHousehold(rest.to_string()));
        }
        if let Some(rest) = data.strip_prefix(campaign::pledge::PICK_PREFIX) {
            return Some(Press::PledgeTo(rest.to_string()));
        }
        if data.starts_with(listing::PAGE_PREFIX) {
            return Some(Press::ReportPage(data.to_string()));
        }
        if let Some(b) = ReviewButton::parse(data) {
            return Some(Press::Review(b));
        }
        if let Some(b) = NoticeButton::parse(data) {
            return Some(Press::Notice(b));
        }
        if let Some((pledge, received)) = campaign::confirm::parse_button(data) {
            return Some(Press::Money { pledge, received });
        }
        ReportButton::parse(data).map(Press::Report)
    }
}

/// A press, handled by the flow that showed the button.
pub async fn route(turn: &mut Turn, press: Press, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    match press {
        Press::Answer(data) => {
            turn.out.answer(callback_id, None);
            if !conversation::answer(turn, Input::Button(data), message, forms::ALL).await? {
                turn.out.send(
                    &turn.caller.addr.private_chat(),
                    "Việc này đã kết thúc hoặc đã huỷ. Gõ /help để xem các lệnh.",
                );
            }
        }
        Press::Continue => {
            turn.out.answer(callback_id, None);
            conversation::resume(turn).await?;
        }
        Press::Restart(payload) => flow::on_restart(turn, &payload, callback_id).await?,
        Press::Pick(rest) => flow::on_pick(turn, &rest, callback_id, message).await?,
        Press::Review(b) => review::on_button(turn, b, callback_id, message).await?,
        Press::Notice(b) => compose::on_button(turn, b, callback_id, message).await?,
        Press::Money { pledge, received } => {
            campaign::confirm::on_button(turn, pledge, received, callback_id, message).await?
        }
        Press::Report(b) => handling::on_button(turn, b, callback_id, message).await?,
        Press::ReportPage(data) => listing::on_page(turn, &data, callback_id, message).await?,
        Press::UpdateHousehold(id) => mine::on_button(turn, &id, callback_id).await?,
        Press::PledgeTo(code) => campaign::pledge::on_pick(turn, &code, callback_id).await?,
        Press::Doors(b) => digital::doors::on_button(turn, b, callback_id, message).await?,
        Press::OwnIndicators(id) => digital::own::on_button(turn, &id, callback_id).await?,
        Press::Invite(id) => members::invite(turn, &id, callback_id).await?,
        Press::JoinAnswer(a) => members::on_answer(turn, a, callback_id, message).await?,
        Press::Ballot(choice) => crate::consultation::ballot::on_press(turn, choice, callback_id, message).await?,
        Press::ConsultationDraft(b) => crate::consultation::compose::on_button(turn, b, callback_id, message).await?,
        Press::Paper(b) => crate::consultation::paper::on_button(turn, b, callback_id, message).await?,
        Press::CloseConsultation(code) => consultation_results::on_close(turn, code, callback_id, message).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_button_is_told_apart() {
        let cases = [
            (format!("{BUTTON_PREFIX}x"), "Answer"),
            ("cv:go".to_string(), "Continue"),
            ("cv:re:dk-1".to_string(), "Restart"),
            ("pk:dk:5".to_string(), "Pick"),
            ("hm:upd:3".to_string(), "UpdateHousehold"),
            ("ug:UH1".to_string(), "PledgeTo"),
            ("pl:ok:4".to_string(), "Money"),
            ("rp:ls:0".to_string(), "ReportPage"),
        ];
        for (data, kind) in cases {
            let press = Press::parse(&data).unwrap_or_else(|| panic!("{data} is a button"));
            assert!(format!("{press:?}").starts_with(kind), "{data} is {press:?}, not {kind}");
        }
        assert_eq!(Press::parse("zz:1"), None);
        assert_eq!(Press::parse(""), None);
    }
}
