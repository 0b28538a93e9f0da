//! The reporter rates a case done; «không hài lòng» reopens it once
//! (docs/design.md, flow 2), after which a second dissatisfaction is
//! passed on to staff but the case stays closed.

use sqlx::SqliteConnection;

use super::super::{repo, ReportCode, Status};
use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::refusal::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rated {
    pub code: ReportCode,
    pub satisfied: bool,
    /// The case went back to «đang xử lý».
    pub reopened: bool,
}

impl Rated {
    /// What the reporter reads.
    pub fn text(&self) -> String {
        let code = self.code;
        match (self.satisfied, self.reopened) {
            (true, _) => format!("Cảm ơn bác đã đánh giá phản ánh {code}: hài lòng."),
            (false, true) => format!("Cảm ơn bác. Phản ánh {code} đã được mở lại và báo tổ trưởng xử lý tiếp."),
            (false, false) => {
                format!("Cảm ơn bác. Ý kiến chưa hài lòng về {code} đã được báo tới tổ trưởng và cán bộ phường.")
            }
        }
    }
}

/// **Rate a case** (the action): only its reporter may, once it is done,
/// once per resolution. Audited (`report.rate`, satisfied or
/// dissatisfied). Dissatisfied, the case reopens if it never has (an
/// event, and `report.reopen` audited) and the group's staff are told
/// with the case and its moves.
pub async fn rate(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: ReportCode,
    satisfied: bool,
) -> Acted<Rated> {
    let Some(report) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("phản ánh", code).into());
    };
    if report.reporter_user_id != actor.user {
        return Err(Refusal::OnlyFor { who: "người gửi phản ánh", to: "đánh giá được" }.into());
    }
    if !repo::rate(&mut *conn, code, satisfied).await? {
        return Err(Refusal::state("Phản ánh này đã được đánh giá, hoặc chưa xử lý xong.").into());
    }
    let subject = format!("report:{}", code.id());
    let said = if satisfied { "satisfied" } else { "dissatisfied" };
    crate::audit::record(&mut *conn, actor, "report.rate", &subject, Some(said)).await?;
    let reopened = !satisfied && !report.reopened;
    if reopened {
        if !repo::set_status(&mut *conn, code, Status::Resolved, Status::InProgress, actor.at).await? {
            return Err(Refusal::Overtaken { what: format!("Phản ánh {code}") }.into());
        }
        repo::mark_reopened(&mut *conn, code).await?;
        repo::add_event(
            &mut *conn,
            code.id(),
            Some(actor.user),
            Some(Status::Resolved),
            Status::InProgress,
            Some("Người phản ánh chưa hài lòng, mở lại"),
            actor.at,
        )
        .await?;
        crate::audit::record(&mut *conn, actor, "report.reopen", &subject, None).await?;
    }
    let rated = Rated { code, satisfied, reopened };
    if satisfied {
        return Ok(Done::quiet(rated));
    }
    let report = repo::get(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;
    let headline = if reopened {
        "🔁 Mở lại vì người phản ánh chưa hài lòng:"
    } else {
        "😞 Người phản ánh vẫn chưa hài lòng:"
    };
    let card = super::case_card(app, &mut *conn, &report, headline, actor.at).await?;
    Ok(Done::new(rated, super::tell_staff(&mut *conn, &report, &card, false).await?))
}

/// **Reopen a case** (the action): its reporter, on a case done and not yet
/// rated nor reopened before; the same as rating it «không hài lòng» the
/// first time (see [`rate`]), for a door that asks for the reopening
/// itself.
pub async fn reopen(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: ReportCode) -> Acted<Rated> {
    let Some(report) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("phản ánh", code).into());
    };
    if report.reporter_user_id != actor.user {
        return Err(Refusal::OnlyFor { who: "người gửi phản ánh", to: "mở lại được" }.into());
    }
    if report.status != Status::Resolved || report.rating.is_some() || report.reopened {
        return Err(Refusal::State(format!(
            "Phản ánh {code} chỉ mở lại được một lần, khi đã xử lý xong mà bác chưa đánh giá."
        ))
        .into());
    }
    rate(app, conn, actor, code, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::report::actions::tests::{filed, resolve, status_of};
    use crate::testing::Ward;

    async fn try_rate(ward: &Ward, actor: &Actor, code: ReportCode, satisfied: bool) -> Acted<Rated> {
        let mut tx = ward.tx().await;
        let acted = rate(&ward.app, &mut tx, actor, code, satisfied).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_reopen(ward: &Ward, actor: &Actor, code: ReportCode) -> Acted<Rated> {
        let mut tx = ward.tx().await;
        let acted = reopen(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    fn refusal<T: std::fmt::Debug>(acted: &Acted<T>) -> Option<&Refusal> {
        match acted {
            Err(Stop::Refused(r)) => Some(r),
            _ => None,
        }
    }

    #[tokio::test]
    async fn only_the_reporter_rates_and_only_a_case_done() {
        let ward = Ward::new().await;
        let code = filed(&ward, ward.resident).await;
        let early = try_rate(&ward, &ward.actor(ward.resident), code, true).await;
        assert!(matches!(refusal(&early), Some(Refusal::State(_))), "not done yet: {early:?}");
        resolve(&ward, code).await;
        let others = [("official", ward.official), ("leader", ward.leader), ("other leader", ward.other_leader)];
        for (role, user) in others {
            let acted = try_rate(&ward, &ward.actor(user), code, true).await;
            assert!(matches!(refusal(&acted), Some(Refusal::OnlyFor { .. })), "{role}: {acted:?}");
        }
        let missing = try_rate(&ward, &ward.actor(ward.resident), ReportCode::new(7), true).await;
        assert!(matches!(refusal(&missing), Some(Refusal::NotFound { .. })), "{missing:?}");
        let resident = ward.actor_at(ward.resident, Door::Zalo);
        let done = try_rate(&ward, &resident, code, true).await.unwrap();
        assert_eq!(done.outcome, Rated { code, satisfied: true, reopened: false });
        assert!(done.told.is_empty(), "staff are not told of a satisfied reporter");
        assert_eq!(done.outcome.text(), "Cảm ơn bác đã đánh giá phản ánh PA-000001: hài lòng.");
        let again = try_rate(&ward, &resident, code, false).await;
        assert!(matches!(refusal(&again), Some(Refusal::State(_))), "rated once: {again:?}");
        let audit = ward.audit().await;
        let last = audit.last().unwrap();
        assert_eq!(
            (last.0, last.1.as_str(), last.3.as_deref(), last.4.as_deref()),
            (Some(ward.resident), "report.rate", Some("satisfied"), Some("zalo"))
        );
    }

    #[tokio::test]
    async fn dissatisfaction_reopens_once_and_then_is_only_passed_on() {
        let ward = Ward::new().await;
        let code = filed(&ward, ward.resident).await;
        resolve(&ward, code).await;
        let resident = ward.actor(ward.resident);
        let done = try_rate(&ward, &resident, code, false).await.unwrap();
        assert_eq!(done.outcome, Rated { code, satisfied: false, reopened: true });
        assert_eq!(status_of(&ward, code).await, Status::InProgress);
        let to: Vec<_> = done.told.iter().map(|n| n.to.clone()).collect();
        assert_eq!(to, [To::Person(ward.leader), To::Person(ward.official)]);
        assert!(done.told[0].text.starts_with("🔁 Mở lại vì người phản ánh chưa hài lòng: PA-000001"));
        assert!(done.told[0].text.contains("Trạng thái: đang xử lý"), "{}", done.told[0].text);
        assert_eq!(done.told[0].choices.concat().len(), 2, "done or declined from here");
        let actions: Vec<_> = ward.audit().await.into_iter().map(|r| r.1).collect();
        assert_eq!(actions[actions.len() - 2..], ["report.rate".to_string(), "report.reopen".to_string()]);

        resolve(&ward, code).await;
        let again = try_reopen(&ward, &resident, code).await;
        assert!(matches!(refusal(&again), Some(Refusal::State(_))), "reopened once: {again:?}");
        let done = try_rate(&ward, &resident, code, false).await.unwrap();
        assert_eq!(done.outcome, Rated { code, satisfied: false, reopened: false });
        assert_eq!(status_of(&ward, code).await, Status::Resolved);
        assert!(done.told[0].text.starts_with("😞 Người phản ánh vẫn chưa hài lòng: PA-000001"));
        assert!(done.told[0].choices.is_empty(), "a closed case offers no move");
    }

    #[tokio::test]
    async fn the_reporter_reopens_a_case_done_once() {
        let ward = Ward::new().await;
        let code = filed(&ward, ward.resident).await;
        let resident = ward.actor_at(ward.resident, Door::Web);
        let early = try_reopen(&ward, &resident, code).await;
        assert!(matches!(refusal(&early), Some(Refusal::State(_))), "{early:?}");
        resolve(&ward, code).await;
        let leader = try_reopen(&ward, &ward.actor(ward.leader), code).await;
        assert!(matches!(refusal(&leader), Some(Refusal::OnlyFor { .. })), "{leader:?}");
        let done = try_reopen(&ward, &resident, code).await.unwrap();
        assert_eq!(done.outcome, Rated { code, satisfied: false, reopened: true });
        assert_eq!(status_of(&ward, code).await, Status::InProgress);
        assert_eq!(done.told.len(), 2);
        let last = ward.audit().await.pop().unwrap();
        assert_eq!((last.1.as_str(), last.4.as_deref()), ("report.reopen", Some("web")));

        // A declined case is not the group's to fix: it stays closed.
        let declined = filed(&ward, ward.resident).await;
        let mut tx = ward.tx().await;
        let official = ward.actor(ward.official);
        let _setup = crate::report::actions::move_report(
            &ward.app,
            &mut tx,
            &official,
            declined,
            Status::Declined,
            Some("Điện lực"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let acted = try_reopen(&ward, &resident, declined).await;
        assert!(matches!(refusal(&acted), Some(Refusal::State(_))), "{acted:?}");
        assert_eq!(status_of(&ward, declined).await, Status::Declined);
    }
}
