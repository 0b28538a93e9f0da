//! A paper answer, recorded for a household without a phone by a leader of
//! its group or an official.

use sqlx::SqliteConnection;

use super::draft::subject;
use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::consultation::answers::{self, Given, Recorded};
use crate::consultation::{post, repo, staff_scope, Ballot, Consultation, ConsultationCode, Status, OTHER_LEN};
use crate::refusal::Refusal;
use crate::roles;

/// A paper answer recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperRecorded {
    pub consultation: Consultation,
    /// The household, as its door and head read.
    pub household: String,
    pub option: usize,
    pub receipt: String,
}

impl PaperRecorded {
    /// What the recorder reads: a secret ballot's choice is said nowhere,
    /// not even to them.
    pub fn text(&self) -> String {
        let c = &self.consultation;
        let said = match c.ballot {
            Ballot::Secret => format!("✅ Đã ghi phiếu giấy {} (phiếu kín).", c.code),
            Ballot::Open => format!("✅ Đã ghi phiếu giấy {}: «{}».", c.code, c.option(self.option).unwrap_or("?")),
        };
        format!("{said}\nHộ: {}\nMã biên nhận: {}.", self.household, self.receipt)
    }
}

/// **Record a paper answer** (the action): an official, or a leader of the
/// household's group, while the consultation takes answers. Never over an
/// answer the household gave through the bot; once on a secret ballot; an
/// open one's replaces the earlier paper answer. Audited
/// (`consultation.paper`, with the household, never the choice).
pub async fn record_paper(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: ConsultationCode,
    household: i64,
    option: usize,
    text: Option<&str>,
) -> Acted<PaperRecorded> {
    let found = repo::get(&mut *conn, code).await?;
    let Some(c) = found.filter(|c| matches!(c.status, Status::Open | Status::Closed)) else {
        return Err(Refusal::not_found("cuộc lấy ý kiến", code).into());
    };
    if staff_scope(&mut *conn, actor.user).await?.is_some_and(|groups| groups.is_empty()) {
        return Err(Refusal::no_right("ghi phiếu giấy").into());
    }
    if option >= c.options.len() {
        return Err(Refusal::input(format!("Cuộc lấy ý kiến {code} không có lựa chọn {}.", option + 1)).into());
    }
    if !c.accepts_at(actor.at) {
        return Err(Refusal::state(format!("{}; phiếu này không được ghi nhận.", c.ended(app))).into());
    }
    let Some(voter) = answers::paper_voter(&mut *conn, &c, household).await? else {
        return Err(
            Refusal::not_found("hộ đã được duyệt trong các tổ được hỏi ý kiến: hộ", format!("#{household}")).into()
        );
    };
    let may = roles::is_official(&mut *conn, actor.user).await?
        || roles::is_leader_of(&mut *conn, actor.user, voter.group).await?;
    if !may {
        return Err(Refusal::no_right("ghi phiếu giấy cho hộ của tổ khác").into());
    }
    let line = crate::household::repo::line(&mut *conn, household).await?.unwrap_or_else(|| format!("#{household}"));
    if let Some(m) = answers::marker(&mut *conn, c.code, voter).await? {
        if m.via != "paper" {
            return Err(Refusal::state(format!(
                "Hộ {line} đã tự cho ý kiến {} qua bot, nên không ghi phiếu giấy đè lên.",
                c.code
            ))
            .into());
        }
    }
    let text: Option<String> = text.filter(|_| Some(option) == c.other).map(|t| t.chars().take(OTHER_LEN).collect());
    let given = Given { option, text: text.as_deref(), via: "paper", user: None, recorded_by: Some(actor.user) };
    let receipt = match answers::record(&mut *conn, &c, voter, &given, actor.at).await? {
        Recorded::AlreadySecret { .. } => {
            return Err(Refusal::state(format!("Hộ {line} đã có ý kiến {} (phiếu kín, không đổi được).", c.code)).into())
        }
        Recorded::New { receipt } | Recorded::Changed { receipt, .. } => receipt,
    };
    let detail = format!("household:{household}");
    crate::audit::record(&mut *conn, actor, "consultation.paper", &subject(code), Some(&detail)).await?;
    let edits = post::touch(app, &mut *conn, &c, actor.at).await?;
    Ok(Done::new(PaperRecorded { consultation: c, household: line, option, receipt }, edits))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{self as fixture, household};
    use super::*;
    use crate::action::Door;
    use crate::testing::{refused, Ward};

    async fn try_record(
        ward: &Ward,
        actor: &Actor,
        code: ConsultationCode,
        home: i64,
        option: usize,
    ) -> Acted<PaperRecorded> {
        let mut tx = ward.tx().await;
        let acted = record_paper(&ward.app, &mut tx, actor, code, home, option, None).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn the_groups_leader_and_officials_record_paper() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let (c, home) = fixture::opened(&ward, Ballot::Open).await;
            let user = ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1;
            let acted = try_record(&ward, &ward.actor_at(user, Door::Cli), c.code, home, 1).await;
            if !may {
                assert!(matches!(refused(&acted), Refusal::NoRight { .. }), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}");
                continue;
            }
            let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
            let text = done.outcome.text();
            assert!(text.starts_with("✅ Đã ghi phiếu giấy YK1: «Không đồng ý».\nHộ: "), "{text}");
            let row = (
                Some(user),
                "consultation.paper".into(),
                subject(c.code),
                Some(format!("household:{home}")),
                Some("cli".into()),
            );
            assert_eq!(ward.audit().await, [row], "{role}");
        }
    }

    #[tokio::test]
    async fn paper_never_overwrites_an_answer_through_the_bot() {
        let ward = Ward::new().await;
        let (c, home) = fixture::opened(&ward, Ballot::Open).await;
        let mut tx = ward.tx().await;
        let _ = super::super::answer(&ward.app, &mut tx, &ward.actor(ward.resident), c.code, 0, None).await.unwrap();
        tx.commit().await.unwrap();
        let acted = try_record(&ward, &ward.actor(ward.leader), c.code, home, 1).await;
        assert!(matches!(refused(&acted), Refusal::State(s) if s.contains("đã tự cho ý kiến")), "{acted:?}");
    }

    #[tokio::test]
    async fn a_secret_paper_answer_is_recorded_once_and_its_choice_said_nowhere() {
        let ward = Ward::new().await;
        let (c, home) = fixture::opened(&ward, Ballot::Secret).await;
        let done = try_record(&ward, &ward.actor(ward.leader), c.code, home, 1).await.unwrap();
        assert!(!done.outcome.text().contains("Không đồng ý"), "{}", done.outcome.text());
        let (_, _, _, detail, _) = ward.audit().await.remove(0);
        assert_eq!(detail, Some(format!("household:{home}")), "the audit names no choice");
        let again = try_record(&ward, &ward.actor(ward.official), c.code, home, 0).await;
        assert!(matches!(refused(&again), Refusal::State(s) if s.contains("phiếu kín, không đổi được")), "{again:?}");
    }

    #[tokio::test]
    async fn unknown_households_and_late_papers_are_refused() {
        let ward = Ward::new().await;
        let (c, home) = fixture::opened(&ward, Ballot::Open).await;
        let elsewhere = household(&ward, ward.other_leader, ward.other_group, "9").await;
        let acted = try_record(&ward, &ward.actor(ward.official), c.code, elsewhere, 0).await;
        assert!(matches!(refused(&acted), Refusal::NotFound { .. }), "a household of a group not asked: {acted:?}");
        let acted = try_record(&ward, &ward.actor(ward.official), c.code, home, 3).await;
        assert!(matches!(refused(&acted), Refusal::Input(_)), "{acted:?}");
        ward.clock.advance(chrono::Duration::days(3));
        let late = try_record(&ward, &ward.actor(ward.leader), c.code, home, 0).await;
        assert!(matches!(refused(&late), Refusal::State(s) if s.contains("YK1 đã kết thúc lúc")), "{late:?}");
        assert!(ward.audit().await.is_empty());
    }
}
