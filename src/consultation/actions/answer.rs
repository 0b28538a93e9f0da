//! A resident's answer: for their household (or themselves, when each
//! person answers), once on a secret ballot, changeable until the close on
//! an open one.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Door, Notification};
use crate::app::App;
use crate::consultation::answers::{self, Given, Recorded, Voter};
use crate::consultation::{post, repo, Ballot, Consultation, ConsultationCode, Status, Unit, OTHER_LEN};
use crate::refusal::{Refusal, Stop};

pub(in crate::consultation) fn whose(c: &Consultation) -> &'static str {
    match c.unit {
        Unit::Household => "hộ bác",
        Unit::Person => "bác",
    }
}

/// An answer that came after the close.
pub(in crate::consultation) fn closed(app: &App, c: &Consultation) -> String {
    format!("{}; ý kiến này không được ghi nhận. Xin cảm ơn bác.", c.ended(app))
}

pub(in crate::consultation) fn not_registered(c: &Consultation) -> String {
    format!(
        "Bác chưa có hộ được duyệt trong các tổ được hỏi ý kiến {}, nên chưa cho ý kiến được. Gõ /dangky để đăng ký hộ (hoặc xin chủ hộ mã mời vào hộ); khi tổ trưởng duyệt, bác cho ý kiến được.",
        c.code
    )
}

/// A secret ballot answered already (on paper or through the bot).
pub(in crate::consultation) fn already(c: &Consultation, paper: bool, receipt: Option<&str>) -> String {
    let who = match c.unit {
        Unit::Household => "Hộ của bác",
        Unit::Person => "Bác",
    };
    let mut text = if paper {
        format!("{who} đã có ý kiến (phiếu giấy).")
    } else {
        format!("{who} đã cho ý kiến {} rồi. Phiếu kín không đổi được.", c.code)
    };
    if let Some(r) = receipt {
        text.push_str(&format!(" Mã biên nhận: {r}."));
    }
    text
}

/// Whether the actor may answer `c` now: it takes answers at the actor's
/// time, they answer for an approved household of its groups, and they
/// came through a chat (the answers say how each came). Whom they answer
/// as.
pub async fn may_answer(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    c: &Consultation,
) -> Result<Voter, Stop> {
    if !c.accepts_at(actor.at) {
        return Err(Refusal::state(closed(app, c)).into());
    }
    if !matches!(actor.door, Door::Telegram | Door::Zalo) {
        return Err(Refusal::WrongPlace(
            "Ý kiến của hộ chỉ được ghi qua bot (Telegram, Zalo) hoặc bằng phiếu giấy (/ghiykien).".into(),
        )
        .into());
    }
    match answers::voter(conn, c, actor.user).await? {
        Some(voter) => Ok(voter),
        None => Err(Refusal::state(not_registered(c)).into()),
    }
}

/// An answer recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub consultation: Consultation,
    pub option: usize,
    pub receipt: String,
}

impl Answered {
    /// What the resident reads: the receipt, and a secret ballot's choice
    /// nowhere.
    pub fn text(&self, app: &App) -> String {
        let c = &self.consultation;
        let receipt = &self.receipt;
        match c.ballot {
            Ballot::Secret => format!(
                "✅ Bot đã ghi nhận ý kiến của {}. Mã biên nhận: {receipt}.\nMã này chứng nhận {} đã cho ý kiến, không cho biết đã chọn gì. Xin cảm ơn bác!",
                whose(c),
                whose(c)
            ),
            Ballot::Open => format!(
                "✅ Bot đã ghi nhận ý kiến của {}: «{}». Mã biên nhận: {receipt}.\nBác đổi được ý kiến đến {} bằng cách chọn lại (gõ /ykien).",
                whose(c),
                c.option(self.option).unwrap_or("?"),
                app.settings.show_time(c.closes_at)
            ),
        }
    }
}

/// **Answer a consultation** (the action): an option of its ballot, with
/// the short text of "Ý kiến khác" (cut to [`OTHER_LEN`]). See
/// [`may_answer`] for who may. A secret ballot's answer is stored apart
/// from who gave it (see `answers::record`), once; an open ballot's
/// replaces the voter's earlier one, a paper one too, whose recorder is
/// told. Not audited: the "has answered" marker is the record, and a
/// secret ballot leaves no more traces than it must. The group posts catch
/// up at most once a minute.
pub async fn answer(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: ConsultationCode,
    option: usize,
    text: Option<&str>,
) -> Acted<Answered> {
    let found = repo::get(&mut *conn, code).await?;
    let Some(c) = found.filter(|c| matches!(c.status, Status::Open | Status::Closed)) else {
        return Err(Refusal::not_found("cuộc lấy ý kiến", code).into());
    };
    if option >= c.options.len() {
        return Err(Refusal::input(format!("Cuộc lấy ý kiến {code} không có lựa chọn {}.", option + 1)).into());
    }
    let voter = may_answer(app, &mut *conn, actor, &c).await?;
    let text: Option<String> = text.filter(|_| Some(option) == c.other).map(|t| t.chars().take(OTHER_LEN).collect());
    let via = actor.door.as_str();
    let given = Given { option, text: text.as_deref(), via, user: Some(actor.user), recorded_by: None };
    let mut told = Vec::new();
    let receipt = match answers::record(&mut *conn, &c, voter, &given, actor.at).await? {
        Recorded::AlreadySecret { paper } => return Err(Refusal::state(already(&c, paper, None)).into()),
        Recorded::New { receipt } => receipt,
        Recorded::Changed { receipt, replaced_paper_of } => {
            if let Some(leader) = replaced_paper_of {
                let line = crate::household::repo::line(&mut *conn, voter.household)
                    .await?
                    .unwrap_or_else(|| format!("#{}", voter.household));
                told.push(Notification::person(
                    leader,
                    format!(
                        "Hộ {line} vừa tự cho ý kiến {} qua bot; phiếu giấy bác ghi trước đó được thay (vẫn được lưu lại).",
                        c.code
                    ),
                ));
            }
            receipt
        }
    };
    told.extend(post::touch(app, &mut *conn, &c, actor.at).await?);
    Ok(Done::new(Answered { consultation: c, option, receipt }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{self as fixture, household};
    use super::*;
    use crate::action::To;
    use crate::testing::{refused, Ward};

    async fn try_answer(
        ward: &Ward,
        actor: &Actor,
        code: ConsultationCode,
        option: usize,
        text: Option<&str>,
    ) -> Acted<Answered> {
        let mut tx = ward.tx().await;
        let acted = answer(&ward.app, &mut tx, actor, code, option, text).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn count(ward: &Ward, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut *ward.db.read().await.unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn only_a_registered_household_answers() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Open).await;
        for (role, user) in ward.everyone() {
            let acted = try_answer(&ward, &ward.actor(user), c.code, 0, None).await;
            if role == "resident" {
                let done = acted.unwrap_or_else(|e| panic!("{e:?}"));
                assert!(done.outcome.text(&ward.app).contains("«Đồng ý». Mã biên nhận: YK1-"));
            } else {
                assert!(matches!(refused(&acted), Refusal::State(s) if s.contains("chưa có hộ được duyệt")), "{role}");
            }
        }
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM consultation_answered").await, 1);
        assert!(ward.audit().await.is_empty(), "answers are not audited");
    }

    #[tokio::test]
    async fn an_open_answer_changes_and_says_how_it_came() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Open).await;
        let first = try_answer(&ward, &ward.actor_at(ward.resident, Door::Zalo), c.code, 0, None).await.unwrap();
        let second = try_answer(&ward, &ward.actor(ward.resident), c.code, 2, Some("Tên liệt sĩ")).await.unwrap();
        assert_ne!(first.outcome.receipt, "");
        assert_eq!(second.outcome.option, 2);
        let vias = count(&ward, "SELECT COUNT(*) FROM consultation_votes WHERE via = 'zalo' AND current = 0").await;
        assert_eq!(vias, 1, "the first answer is kept, no longer current");
        let other =
            count(&ward, "SELECT COUNT(*) FROM consultation_votes WHERE other_text = 'Tên liệt sĩ' AND current = 1");
        assert_eq!(other.await, 1);
    }

    #[tokio::test]
    async fn a_secret_ballot_is_answered_once_and_never_says_the_choice() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Secret).await;
        let done = try_answer(&ward, &ward.actor(ward.resident), c.code, 1, None).await.unwrap();
        let text = done.outcome.text(&ward.app);
        assert!(text.contains("Mã biên nhận") && !text.contains("Không đồng ý"), "{text}");
        assert!(done.told.iter().all(|n| !n.text.contains("Không đồng ý")), "{:?}", done.told);
        let again = try_answer(&ward, &ward.actor(ward.resident), c.code, 0, None).await;
        assert!(matches!(refused(&again), Refusal::State(s) if s.contains("không đổi được")), "{again:?}");
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM ballot_box").await, 1);
    }

    #[tokio::test]
    async fn late_unknown_and_doorless_answers_are_refused() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Open).await;
        let cli = try_answer(&ward, &ward.actor_at(ward.resident, Door::Cli), c.code, 0, None).await;
        assert!(matches!(refused(&cli), Refusal::WrongPlace(_)), "{cli:?}");
        let missing = try_answer(&ward, &ward.actor(ward.resident), ConsultationCode::new(9), 0, None).await;
        assert!(matches!(refused(&missing), Refusal::NotFound { .. }), "{missing:?}");
        let no_such = try_answer(&ward, &ward.actor(ward.resident), c.code, 5, None).await;
        assert!(matches!(refused(&no_such), Refusal::Input(_)), "{no_such:?}");
        ward.clock.advance(chrono::Duration::days(2));
        let late = try_answer(&ward, &ward.actor(ward.resident), c.code, 0, None).await;
        assert_eq!(refused(&late), &Refusal::state(closed(&ward.app, &c)));
        assert!(closed(&ward.app, &c).contains("YK1 đã kết thúc lúc"));
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM consultation_answered").await, 0);
    }

    #[tokio::test]
    async fn a_paper_answer_replaced_tells_its_recorder() {
        let ward = Ward::new().await;
        let (c, home) = fixture::opened(&ward, Ballot::Open).await;
        let mut tx = ward.tx().await;
        let leader = ward.actor(ward.leader);
        let _ = super::super::record_paper(&ward.app, &mut tx, &leader, c.code, home, 1, None).await.unwrap();
        tx.commit().await.unwrap();
        let done = try_answer(&ward, &ward.actor(ward.resident), c.code, 0, None).await.unwrap();
        let told = done.told.iter().find(|n| n.to == To::Person(ward.leader)).expect("the recorder is told");
        assert!(told.text.contains("phiếu giấy bác ghi trước đó được thay"), "{}", told.text);
        // A person of another household of the group answers for theirs.
        let neighbour = ward.person("500", "Phạm Hàng Xóm").await;
        household(&ward, neighbour, ward.group, "7").await;
        let theirs = try_answer(&ward, &ward.actor(neighbour), c.code, 1, None).await.unwrap();
        assert!(theirs.told.iter().all(|n| n.to != To::Person(ward.leader)));
    }
}
