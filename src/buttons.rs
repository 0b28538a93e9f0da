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

/// What a press on a kind of button does: where its rights are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calls {
    /// A ward action (its path): the action alone checks the presser's
    /// rights and the record's state, whichever door calls it.
    Action(&'static str),
    /// A read of records (its path), which shows only what the presser may
    /// see.
    Read(&'static str),
    /// The presser's own dialogue or view moves on (an answer, a page of a
    /// picker, starting a flow of their own): nobody else's records.
    Own,
}

/// One kind of button: the start of its callback data (`kind:what`, as the
/// role matrix names it), what a press calls, a sample of its data, and how
/// the data is read.
pub struct ButtonInfo {
    pub kind: &'static str,
    pub calls: Calls,
    pub sample: &'static str,
    pub parse: fn(&str) -> Option<Press>,
}

impl std::fmt::Debug for ButtonInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ButtonInfo").field("kind", &self.kind).field("calls", &self.calls).finish_non_exhaustive()
    }
}

const fn button(
    kind: &'static str,
    calls: Calls,
    sample: &'static str,
    parse: fn(&str) -> Option<Press>,
) -> ButtonInfo {
    ButtonInfo { kind, calls, sample, parse }
}

use Calls::{Action, Own, Read};

fn notice(data: &str) -> Option<Press> {
    NoticeButton::parse(data).map(Press::Notice)
}

fn review(data: &str) -> Option<Press> {
    ReviewButton::parse(data).map(Press::Review)
}

fn report(data: &str) -> Option<Press> {
    ReportButton::parse(data).map(Press::Report)
}

fn doors(data: &str) -> Option<Press> {
    DoorButton::parse(data).map(Press::Doors)
}

fn paper(data: &str) -> Option<Press> {
    PaperButton::parse(data).map(Press::Paper)
}

fn draft(data: &str) -> Option<Press> {
    DraftButton::parse(data).map(Press::ConsultationDraft)
}

fn money(data: &str) -> Option<Press> {
    campaign::confirm::parse_button(data).map(|(pledge, received)| Press::Money { pledge, received })
}

/// Every kind of button the bot shows: the one list the router reads and
/// the role matrix covers (`tests/e2e/roles.rs` has a row for each kind
/// that calls an action or a read).
pub const BUTTONS: &[ButtonInfo] = &[
    button("dg", Own, "dg:0", |d| d.starts_with(BUTTON_PREFIX).then(|| Press::Answer(d.to_string()))),
    button("cv:go", Own, "cv:go", |d| (d == conversation::CONTINUE).then_some(Press::Continue)),
    button("cv:re", Own, "cv:re:dk-1", |d| {
        d.strip_prefix(conversation::RESTART_PREFIX).map(|r| Press::Restart(r.into()))
    }),
    button("pk", Own, "pk:dk:5", |d| d.strip_prefix(flow::PICK_PREFIX).map(|r| Press::Pick(r.into()))),
    button("hm:upd", Own, "hm:upd:3", |d| {
        d.strip_prefix(mine::UPDATE_PREFIX).map(|r| Press::UpdateHousehold(r.into()))
    }),
    button("ug", Own, "ug:UH1", |d| d.strip_prefix(campaign::pledge::PICK_PREFIX).map(|r| Press::PledgeTo(r.into()))),
    button("hm:dg", Action("digital::actions::own::update"), "hm:dg:3", |d| {
        d.strip_prefix(digital::own::PREFIX).map(|r| Press::OwnIndicators(r.into()))
    }),
    button("hm:inv", Action("household::actions::invite"), "hm:inv:3", |d| {
        d.strip_prefix(members::INVITE_PREFIX).map(|r| Press::Invite(r.into()))
    }),
    button("hj:ok", Action("household::actions::answer"), "hj:ok:1", |d| {
        members::Answer::parse(d).map(Press::JoinAnswer)
    }),
    button("hj:no", Action("household::actions::answer"), "hj:no:1", |d| {
        members::Answer::parse(d).map(Press::JoinAnswer)
    }),
    button("hh:ok", Action("household::actions::review"), "hh:ok:1", review),
    button("hh:no", Action("household::actions::review"), "hh:no:1", review),
    button("hu:ok", Action("household::actions::review"), "hu:ok:1", review),
    button("hu:no", Action("household::actions::review"), "hu:no:1", review),
    button("dt:v", Action("digital::actions::visit::record"), "dt:v:1", doors),
    button("dt:pg", Read("digital::doors::on_button"), "dt:pg:1:0", doors),
    button("dt:gp", Read("digital::doors::on_button"), "dt:gp:0", doors),
    button("dt:sr", Read("digital::doors::on_button"), "dt:sr:0:12", doors),
    button("yk:a", Action("consultation::actions::answer"), "yk:a:1:0", |d| Choice::parse(d).map(Press::Ballot)),
    button("yk:s", Action("consultation::actions::send"), "yk:s:1", draft),
    button("yk:c", Action("consultation::actions::cancel"), "yk:c:1", draft),
    button("yk:l", Read("consultation::paper::on_button"), "yk:l:1:0", paper),
    button("yk:p", Read("consultation::paper::on_button"), "yk:p:1:1", paper),
    button("yk:r", Action("consultation::actions::record_paper"), "yk:r:1:1:0", paper),
    button("yk:x", Action("consultation::actions::close"), "yk:x:1", |d| {
        consultation_results::parse_close(d).map(Press::CloseConsultation)
    }),
    button("nt:pin", Action("notice::actions::edit"), "nt:pin:1", notice),
    button("nt:time", Action("notice::actions::schedule"), "nt:time:1", notice),
    button("nt:tg", Action("notice::actions::edit"), "nt:tg:1:1", notice),
    button("nt:all", Action("notice::actions::edit"), "nt:all:1", notice),
    button("nt:none", Action("notice::actions::edit"), "nt:none:1", notice),
    button("nt:pg", Read("notice::actions::own_draft"), "nt:pg:1:1", notice),
    button("nt:send", Action("notice::actions::send"), "nt:send:1", notice),
    button("nt:cx", Action("notice::actions::cancel"), "nt:cx:1", notice),
    button("nt:ds", Read("notice::ack::show"), "nt:ds:1", notice),
    button("nt:seen", Action("notice::actions::acknowledge"), "nt:seen:1", notice),
    button("pl:ok", Action("campaign::actions::confirm"), "pl:ok:1", money),
    button("pl:no", Action("campaign::actions::confirm"), "pl:no:1", money),
    button("rp:ls", Read("report::listing::on_page"), "rp:ls:", |d| {
        d.starts_with(listing::PAGE_PREFIX).then(|| Press::ReportPage(d.to_string()))
    }),
    button("rp:st", Action("report::actions::move_report"), "rp:st:1:tiepnhan", report),
    button("rp:sh", Action("report::actions::share_photos"), "rp:sh:1", report),
    button("rp:rt", Action("report::actions::rate"), "rp:rt:1:y", report),
];

impl Press {
    /// The press a button's data names, read by its kind's row in
    /// [`BUTTONS`].
    pub fn parse(data: &str) -> Option<Self> {
        BUTTONS.iter().filter(|b| starts_kind(data, b.kind)).find_map(|b| (b.parse)(data))
    }
}

/// Whether `data` is of `kind`: the kind itself, or it and more after a
/// colon.
fn starts_kind(data: &str, kind: &str) -> bool {
    data.strip_prefix(kind).is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
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
    use std::path::{Path, PathBuf};

    #[test]
    fn every_kind_reads_its_own_sample_and_no_other_kind_claims_it() {
        for info in BUTTONS {
            let press = Press::parse(info.sample).unwrap_or_else(|| panic!("{}: its sample does not parse", info.kind));
            let first = BUTTONS.iter().find(|b| starts_kind(info.sample, b.kind) && (b.parse)(info.sample).is_some());
            assert_eq!(first.map(|b| b.kind), Some(info.kind), "{} is read by another kind as {press:?}", info.kind);
            assert!(info.sample.len() <= 64, "{}: Telegram takes 64 bytes of callback data", info.kind);
        }
        let kinds: std::collections::BTreeSet<_> = BUTTONS.iter().map(|b| b.kind).collect();
        assert_eq!(kinds.len(), BUTTONS.len(), "a kind is listed twice");
    }

    /// The file a module path (`report::actions`) is in.
    fn module_file(path: &[&str]) -> Option<PathBuf> {
        let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for part in &path[..path.len() - 1] {
            dir = dir.join(part);
        }
        let last = path.last()?;
        [dir.join(format!("{last}.rs")), dir.join(last).join("mod.rs")].into_iter().find(|f| f.exists())
    }

    /// Every action and read the table names exists: a function of that
    /// name in its module, or one the module re-exports.
    #[test]
    fn every_action_the_table_names_exists() {
        for info in BUTTONS {
            let (Calls::Action(path) | Calls::Read(path)) = info.calls else { continue };
            let parts: Vec<&str> = path.split("::").collect();
            let (name, module) = parts.split_last().expect("a path");
            let file = module_file(module).unwrap_or_else(|| panic!("{}: no module {path}", info.kind));
            let text = std::fs::read_to_string(&file).expect("a file");
            let defined = text.contains(&format!("fn {name}("))
                || text.lines().any(|l| {
                    l.starts_with("pub use") && l.contains(&format!(" {name},"))
                        || l.contains(&format!("{{{name},"))
                        || l.contains(&format!(", {name}}}"))
                });
            assert!(defined, "{}: {path} is not in {}", info.kind, file.display());
        }
    }

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
