//! The close: early, by the consultation's creator or an official, or at
//! its time, by the scheduler's job.

use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::draft::subject;
use crate::action::{Acted, Actor, Done, Door, Notification};
use crate::app::App;
use crate::consultation::tally::{self, Figures};
use crate::consultation::{post, repo, staff_scope, ConsultationCode, Status};
use crate::refusal::{Refusal, Stop};
use crate::roles;

/// A consultation closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    pub code: ConsultationCode,
    /// Before its time (by a person), not by the job at its time.
    pub early: bool,
}

impl Closed {
    /// What the person who closed it reads.
    pub fn text(&self) -> String {
        format!("🔒 Đã kết thúc cuộc lấy ý kiến {}. Kết quả đã gửi tới các tổ.", self.code)
    }
}

/// **Close a consultation** (the action): early by its creator or an
/// official; at its time by the scheduler's job (`Door::Job`, which acts
/// for the creator and only once the time has come). Answers stop
/// counting at the actor's time; the result is queued to every group (and
/// Zalo household) through the notices' durable outbox; the group posts
/// show the final figure; the creator, the officials and each group's
/// leaders read the result in private with the other opinions of the
/// groups each covers. Audited (`consultation.close`; `at its time` when
/// the job closed it).
pub async fn close(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: ConsultationCode) -> Acted<Closed> {
    let found = repo::get(&mut *conn, code).await?;
    let Some(c) = found.filter(|c| matches!(c.status, Status::Open | Status::Closed)) else {
        return Err(Refusal::not_found("cuộc lấy ý kiến", code).into());
    };
    let job = actor.door == Door::Job;
    if job {
        if actor.at < c.closes_at {
            return Err(Refusal::state(format!("Cuộc lấy ý kiến {code} chưa tới hạn kết thúc.")).into());
        }
    } else if c.creator != actor.user && !roles::is_official(&mut *conn, actor.user).await? {
        return Err(Refusal::OnlyFor {
            who: "người tạo cuộc lấy ý kiến và cán bộ phường", to: "kết thúc sớm được"
        }
        .into());
    }
    if !repo::close(&mut *conn, code, (!job).then_some(actor.user), actor.at).await? {
        // Closed meanwhile (its time, or someone else): when, as it is now.
        return Err(Refusal::state(format!("{}.", c.ended(app))).into());
    }
    let Some(c) = repo::get(&mut *conn, code).await? else {
        return Err(Stop::Failed(anyhow::anyhow!("{code} is gone after it was closed")));
    };
    let figures = Figures::read(&mut *conn, &c).await?;
    let groups = repo::targets(&mut *conn, code).await?;
    let (notice, _) = crate::notice::repo::queue_own(
        &mut *conn,
        c.creator,
        &tally::public_result(app, &c, &figures),
        &BTreeMap::new(),
        &format!("kết quả lấy ý kiến {code}"),
        &groups,
        actor.at,
    )
    .await?;
    sqlx::query("UPDATE consultations SET result_notice_id = ? WHERE id = ?")
        .bind(notice.id())
        .bind(code.id())
        .execute(&mut *conn)
        .await?;
    app.outbox.notify_one();
    let mut told = post::edit_all_with(app, &mut *conn, &c, tally::totals(&figures.turnout), actor.at).await?;
    // In private, with the other opinions of the groups each one covers.
    let mut readers: Vec<(i64, Option<Vec<i64>>)> = vec![(c.creator, staff_scope(&mut *conn, c.creator).await?)];
    for (official, _) in roles::officials(&mut *conn).await? {
        readers.push((official, None));
    }
    for g in &groups {
        for (leader, _) in roles::leaders_of(&mut *conn, *g).await? {
            readers.push((leader, staff_scope(&mut *conn, leader).await?));
        }
    }
    let mut read = Vec::new();
    for (user, scope) in readers {
        if !read.contains(&user) {
            read.push(user);
            told.push(Notification::person(user, tally::view(app, &c, &figures, scope.as_deref())));
        }
    }
    let detail = job.then_some("at its time");
    crate::audit::record(&mut *conn, actor, "consultation.close", &subject(code), detail).await?;
    Ok(Done::new(Closed { code, early: !job }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests as fixture;
    use super::*;
    use crate::action::To;
    use crate::consultation::Ballot;
    use crate::testing::{refused, Ward};

    async fn try_close(ward: &Ward, actor: &Actor, code: ConsultationCode) -> Acted<Closed> {
        let mut tx = ward.tx().await;
        let acted = close(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn its_creator_and_officials_close_early() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let (c, _) = fixture::opened(&ward, Ballot::Open).await;
            let user = ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1;
            let acted = try_close(&ward, &ward.actor_at(user, Door::Cli), c.code).await;
            if !may {
                assert!(matches!(refused(&acted), Refusal::OnlyFor { .. }), "{role}: {acted:?}");
                assert_eq!(fixture::get(&ward, c.code).await.status, Status::Open, "{role}");
                assert!(ward.audit().await.is_empty(), "{role}");
                continue;
            }
            let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
            assert_eq!(done.outcome, Closed { code: c.code, early: true });
            let closed = fixture::get(&ward, c.code).await;
            assert_eq!((closed.status, closed.closed_at), (Status::Closed, Some(ward.now())));
            // The creator and the official read the result; nobody twice.
            let readers: Vec<&To> = done.told.iter().map(|n| &n.to).collect();
            assert_eq!(readers, [&To::Person(ward.leader), &To::Person(ward.official)], "{role}");
            assert!(done.told[0].text.starts_with("📊 YK1: Đặt tên đường là Hoa Sữa?\nĐã kết thúc lúc"));
            let row = (Some(user), "consultation.close".into(), subject(c.code), None, Some("cli".into()));
            assert_eq!(ward.audit().await, [row], "{role}");
            let result: String = sqlx::query_scalar(
                "SELECT n.text FROM notices n JOIN consultations c ON c.result_notice_id = n.id WHERE c.id = ?",
            )
            .bind(c.code.id())
            .fetch_one(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap();
            assert!(result.starts_with("📊 KẾT QUẢ LẤY Ý KIẾN YK1"), "the groups' result is queued: {result}");
        }
    }

    #[tokio::test]
    async fn a_closed_consultation_is_not_closed_again_and_takes_no_answers() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Secret).await;
        let _ = try_close(&ward, &ward.actor(ward.leader), c.code).await.unwrap();
        ward.clock.advance(chrono::Duration::hours(1));
        let again = try_close(&ward, &ward.actor(ward.official), c.code).await;
        let ended = fixture::get(&ward, c.code).await.ended(&ward.app);
        assert_eq!(refused(&again), &Refusal::state(format!("{ended}.")));
        let mut tx = ward.tx().await;
        let late = super::super::answer(&ward.app, &mut tx, &ward.actor(ward.resident), c.code, 0, None).await;
        assert!(matches!(refused(&late), Refusal::State(s) if s.starts_with(&ended)), "{late:?}");
        drop(tx);
        assert_eq!(ward.audit().await.len(), 1);
        let draft = fixture::drafted(&ward, Ballot::Open).await;
        let acted = try_close(&ward, &ward.actor(ward.leader), draft).await;
        assert!(matches!(refused(&acted), Refusal::NotFound { .. }), "a draft is not closed: {acted:?}");
    }

    #[tokio::test]
    async fn the_job_closes_only_at_its_time() {
        let ward = Ward::new().await;
        let (c, _) = fixture::opened(&ward, Ballot::Open).await;
        let job = |ward: &Ward| ward.actor_at(c.creator, Door::Job);
        let early = try_close(&ward, &job(&ward), c.code).await;
        assert!(matches!(refused(&early), Refusal::State(_)), "{early:?}");
        ward.clock.advance(chrono::Duration::days(2));
        let done = try_close(&ward, &job(&ward), c.code).await.unwrap();
        assert!(!done.outcome.early);
        let closed_by: Option<i64> = sqlx::query_scalar("SELECT closed_by FROM consultations WHERE id = ?")
            .bind(c.code.id())
            .fetch_one(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap();
        assert_eq!(closed_by, None, "nobody closed it: its time came");
        let row = (
            Some(ward.leader),
            "consultation.close".into(),
            subject(c.code),
            Some("at its time".into()),
            Some("job".into()),
        );
        assert_eq!(ward.audit().await, [row]);
    }
}
