//! A consultation's draft: written, dropped, or sent to its groups.

use chrono::Duration;
use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::consultation::repo::{self, Draft};
use crate::consultation::{post, Consultation, ConsultationCode, Status, MAX_OPTIONS};
use crate::group::Group;
use crate::refusal::{Refusal, Stop};

/// Who may ask at all: leaders and officials.
pub const REFUSED: Refusal =
    Refusal::OnlyFor { who: "tổ trưởng, tổ phó và cán bộ phường", to: "lấy ý kiến được" };

/// The groups `user` may ask: every group for an official, their own for
/// a leader, none for anyone else.
pub async fn askable_groups(conn: &mut SqliteConnection, user: i64) -> anyhow::Result<Vec<Group>> {
    crate::notice::preview::allowed_groups(conn, user).await
}

/// Which groups are asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Every group the creator may ask.
    All,
    /// These (by id), each one the creator's to ask.
    Groups(Vec<i64>),
}

/// A draft written, for its preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Drafted {
    pub consultation: Consultation,
    /// The names of the groups asked, in the ward's order.
    pub groups: Vec<String>,
    /// How many could answer now; none means it cannot be sent yet.
    pub registered: i64,
}

/// **Write a consultation's draft** (the action): leaders for their
/// groups, officials for any. The question, two to six options and a close
/// between an hour and 60 days ahead; nothing is sent until **Gửi**
/// ([`send`]). Audited (`consultation.create`).
pub async fn create(conn: &mut SqliteConnection, actor: &Actor, draft: &Draft, asked: Asked) -> Acted<Drafted> {
    let allowed = askable_groups(&mut *conn, actor.user).await?;
    if allowed.is_empty() {
        return Err(REFUSED.into());
    }
    let groups: Vec<i64> = match asked {
        Asked::All => allowed.iter().map(|g| g.id).collect(),
        Asked::Groups(mut picked) => {
            if picked.iter().any(|g| !allowed.iter().any(|a| a.id == *g)) {
                return Err(Refusal::no_right("lấy ý kiến ở tổ bác không phụ trách").into());
            }
            picked.sort_unstable();
            picked.dedup();
            picked
        }
    };
    if groups.is_empty() {
        return Err(Refusal::input("Xin bác gõ tên hoặc số các tổ được hỏi.").into());
    }
    if draft.question.trim().is_empty() {
        return Err(Refusal::input("Xin bác gõ câu hỏi.").into());
    }
    if !(2..=MAX_OPTIONS).contains(&draft.options.len()) || draft.other.is_some_and(|o| o >= draft.options.len()) {
        return Err(Refusal::input(format!("Xin bác gõ từ 2 đến {MAX_OPTIONS} lựa chọn.")).into());
    }
    if draft.closes_at < actor.at + Duration::hours(1) {
        return Err(Refusal::input("Hạn cho ý kiến phải sau lúc này ít nhất 1 giờ. Xin bác gõ lại.").into());
    }
    if draft.closes_at > actor.at + Duration::days(60) {
        return Err(Refusal::input("Hạn cho ý kiến xa quá (hơn 60 ngày). Xin bác gõ lại.").into());
    }
    let code = repo::create(&mut *conn, actor.user, draft, &groups, actor.at).await?;
    let Some(consultation) = repo::get(&mut *conn, code).await? else {
        return Err(Stop::Failed(anyhow::anyhow!("{code} is gone after it was written")));
    };
    let registered = repo::registered(&mut *conn, consultation.unit, &groups).await?;
    crate::audit::record(&mut *conn, actor, "consultation.create", &subject(code), None).await?;
    let groups = allowed.into_iter().filter(|g| groups.contains(&g.id)).map(|g| g.name).collect();
    Ok(Done::quiet(Drafted { consultation, groups, registered }))
}

pub(super) fn subject(code: ConsultationCode) -> String {
    format!("consultation:{}", code.id())
}

/// The actor's draft, and the groups they may ask now.
async fn own_draft(
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: ConsultationCode,
) -> Result<(Consultation, Vec<i64>), Stop> {
    let Some(c) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("cuộc lấy ý kiến", code).into());
    };
    if c.creator != actor.user {
        return Err(Refusal::OnlyFor { who: "người soạn cuộc lấy ý kiến", to: "dùng được nút này" }.into());
    }
    let allowed: Vec<i64> = askable_groups(&mut *conn, actor.user).await?.into_iter().map(|g| g.id).collect();
    if allowed.is_empty() {
        return Err(REFUSED.into());
    }
    if c.status != Status::Draft {
        return Err(Refusal::state(format!("Cuộc lấy ý kiến {code} đã được gửi hoặc huỷ.")).into());
    }
    Ok((c, allowed))
}

/// **Drop a draft** (the action): its creator, while it is a draft.
/// Audited (`consultation.cancel`).
pub async fn cancel(conn: &mut SqliteConnection, actor: &Actor, code: ConsultationCode) -> Acted<ConsultationCode> {
    own_draft(&mut *conn, actor, code).await?;
    if !repo::cancel(&mut *conn, code).await? {
        return Err(Refusal::Overtaken { what: format!("Cuộc lấy ý kiến {code}") }.into());
    }
    crate::audit::record(&mut *conn, actor, "consultation.cancel", &subject(code), None).await?;
    Ok(Done::quiet(code))
}

/// A consultation sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub consultation: Consultation,
    /// How many chats the post goes to.
    pub chats: usize,
    /// How many may answer.
    pub registered: i64,
}

impl Sent {
    /// What its creator reads.
    pub fn text(&self, app: &App) -> String {
        let c = &self.consultation;
        format!(
            "📤 Đang gửi cuộc lấy ý kiến {} tới {} nơi ({} {} được hỏi). Hạn cho ý kiến: {}.\nGõ /ketquaykien để xem số đã trả lời.",
            c.code,
            self.chats,
            self.registered,
            c.unit.noun(),
            app.settings.show_time(c.closes_at)
        )
    }
}

/// **Send a draft** (the action, the preview's **Gửi**): its creator, while
/// they may still ask every group of it, the close more than ten minutes
/// away and someone registered to answer. Opens it and queues the group
/// posts (and the Zalo households' ballots) to the notices' durable outbox
/// in this transaction. Audited (`consultation.send`, with how many may
/// answer).
pub async fn send(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: ConsultationCode) -> Acted<Sent> {
    let (c, allowed) = own_draft(&mut *conn, actor, code).await?;
    let targets = repo::targets(&mut *conn, code).await?;
    // A role revoked since the draft was written no longer reaches.
    if targets.is_empty() || targets.iter().any(|t| !allowed.contains(t)) {
        return Err(REFUSED.into());
    }
    if c.closes_at <= actor.at + Duration::minutes(10) {
        return Err(Refusal::state("Hạn cho ý kiến đã qua hoặc sắp tới. Xin bác gõ /layykien để soạn lại.").into());
    }
    if repo::registered(&mut *conn, c.unit, &targets).await? == 0 {
        return Err(Refusal::state(
            "Các tổ đã chọn chưa có hộ nào đăng ký được duyệt, nên chưa gửi được cuộc lấy ý kiến.",
        )
        .into());
    }
    let Some(registered) = repo::open(&mut *conn, &c, actor.at).await? else {
        return Err(Refusal::state(format!("Cuộc lấy ý kiến {code} đã được gửi.")).into());
    };
    let Some(consultation) = repo::get(&mut *conn, code).await? else {
        return Err(Stop::Failed(anyhow::anyhow!("{code} is gone after it was opened")));
    };
    let chats = post::send(app, &mut *conn, &consultation, registered, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "consultation.send", &subject(code), Some(&registered.to_string())).await?;
    Ok(Done::quiet(Sent { consultation, chats, registered }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{self as fixture, household};
    use super::*;
    use crate::action::Door;
    use crate::consultation::Ballot;
    use crate::testing::{refused, Ward};

    async fn try_create(ward: &Ward, actor: &Actor, asked: Asked) -> Acted<Drafted> {
        let mut tx = ward.tx().await;
        let acted = create(&mut tx, actor, &fixture::draft(ward, Ballot::Open), asked).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_send(ward: &Ward, actor: &Actor, code: ConsultationCode) -> Acted<Sent> {
        let mut tx = ward.tx().await;
        let acted = send(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn leaders_ask_their_groups_and_officials_any() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", true), ("resident", false)] {
            let ward = Ward::new().await;
            let user = ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1;
            let acted = try_create(&ward, &ward.actor_at(user, Door::Cli), Asked::All).await;
            if !may {
                assert_eq!(refused(&acted), &REFUSED, "{role}");
                assert!(ward.audit().await.is_empty(), "{role}");
                continue;
            }
            let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
            let expected: &[&str] = match role {
                "official" => &["Tổ 1", "Tổ 2"],
                "leader" => &["Tổ 1"],
                _ => &["Tổ 2"],
            };
            assert_eq!(done.outcome.groups, expected, "{role}");
            assert_eq!((done.outcome.consultation.status, done.outcome.registered), (Status::Draft, 0));
            assert!(done.told.is_empty(), "a draft tells nobody");
            let subject = subject(done.outcome.consultation.code);
            let row = (Some(user), "consultation.create".into(), subject, None, Some("cli".into()));
            assert_eq!(ward.audit().await, [row], "{role}");
        }
    }

    #[tokio::test]
    async fn a_leader_cannot_ask_another_group_nor_too_soon() {
        let ward = Ward::new().await;
        let leader = ward.actor(ward.leader);
        let other = try_create(&ward, &leader, Asked::Groups(vec![ward.group, ward.other_group])).await;
        assert!(matches!(refused(&other), Refusal::NoRight { .. }), "{other:?}");
        let mut soon = fixture::draft(&ward, Ballot::Open);
        soon.closes_at = ward.now() + Duration::minutes(30);
        let acted = create(&mut *ward.tx().await, &leader, &soon, Asked::All).await;
        assert!(matches!(refused(&acted), Refusal::Input(_)), "{acted:?}");
        let mine = try_create(&ward, &leader, Asked::Groups(vec![ward.group, ward.group])).await.unwrap();
        assert_eq!(mine.outcome.groups, ["Tổ 1"]);
    }

    #[tokio::test]
    async fn its_creator_sends_a_draft_once() {
        let ward = Ward::new().await;
        household(&ward, ward.resident, ward.group, "5").await;
        let code = fixture::drafted(&ward, Ballot::Open).await;
        for someone in [ward.official, ward.other_leader, ward.resident] {
            let acted = try_send(&ward, &ward.actor(someone), code).await;
            assert!(matches!(refused(&acted), Refusal::OnlyFor { .. }), "{acted:?}");
        }
        let done = try_send(&ward, &ward.actor_at(ward.leader, Door::Zalo), code).await.unwrap();
        assert_eq!((done.outcome.chats, done.outcome.registered), (1, 1));
        assert_eq!(done.outcome.consultation.status, Status::Open);
        assert!(done.outcome.text(&ward.app).starts_with("📤 Đang gửi cuộc lấy ý kiến YK1 tới 1 nơi (1 hộ được hỏi)."));
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_deliveries")
            .fetch_one(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap();
        assert_eq!(queued, 1, "the group post is queued with the change");
        let row = (Some(ward.leader), "consultation.send".into(), subject(code), Some("1".into()), Some("zalo".into()));
        assert_eq!(ward.audit().await, [row]);
        let again = try_send(&ward, &ward.actor(ward.leader), code).await;
        assert!(matches!(refused(&again), Refusal::State(_)), "{again:?}");
        let dropped = cancel(&mut *ward.tx().await, &ward.actor(ward.leader), code).await;
        assert!(matches!(refused(&dropped), Refusal::State(_)), "{dropped:?}");
    }

    #[tokio::test]
    async fn a_draft_nobody_could_answer_or_past_its_close_is_not_sent() {
        let ward = Ward::new().await;
        let code = fixture::drafted(&ward, Ballot::Secret).await;
        let acted = try_send(&ward, &ward.actor(ward.leader), code).await;
        assert!(matches!(refused(&acted), Refusal::State(s) if s.contains("chưa có hộ nào")), "{acted:?}");
        household(&ward, ward.resident, ward.group, "5").await;
        ward.clock.advance(Duration::days(2) - Duration::minutes(5));
        let late = try_send(&ward, &ward.actor(ward.leader), code).await;
        assert!(matches!(refused(&late), Refusal::State(s) if s.contains("Hạn cho ý kiến đã qua")), "{late:?}");
        assert_eq!(fixture::get(&ward, code).await.status, Status::Draft);
        assert!(ward.audit().await.is_empty());
    }

    #[tokio::test]
    async fn a_leader_who_lost_the_group_cannot_send_its_draft() {
        let ward = Ward::new().await;
        household(&ward, ward.resident, ward.group, "5").await;
        let code = fixture::drafted(&ward, Ballot::Open).await;
        let mut tx = ward.tx().await;
        sqlx::query("DELETE FROM leaders WHERE user_id = ?").bind(ward.leader).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let acted = try_send(&ward, &ward.actor(ward.leader), code).await;
        assert_eq!(refused(&acted), &REFUSED);
    }

    #[tokio::test]
    async fn its_creator_drops_a_draft() {
        let ward = Ward::new().await;
        let code = fixture::drafted(&ward, Ballot::Open).await;
        let mut tx = ward.tx().await;
        let official = cancel(&mut tx, &ward.actor(ward.official), code).await;
        assert!(matches!(refused(&official), Refusal::OnlyFor { .. }), "{official:?}");
        let done = cancel(&mut tx, &ward.actor(ward.leader), code).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(done.outcome, code);
        assert_eq!(fixture::get(&ward, code).await.status, Status::Cancelled);
        assert_eq!(ward.audit().await[0].1, "consultation.cancel");
        let missing = cancel(&mut *ward.tx().await, &ward.actor(ward.leader), ConsultationCode::new(99)).await;
        assert!(matches!(refused(&missing), Refusal::NotFound { .. }), "{missing:?}");
    }
}
