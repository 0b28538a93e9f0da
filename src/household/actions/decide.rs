//! The reviewers' decision: **Duyệt / Từ chối** on a new household, or on
//! a change to an approved one. The group's leaders and the ward's
//! officials decide; the head is told.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Notification};
use crate::household::{repo, Status};
use crate::refusal::Refusal;
use crate::roles;

/// Callback data: `hh:<ok|no>:<household>` and `hu:<ok|no>:<update>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewButton {
    Household { id: i64, approve: bool },
    Update { id: i64, approve: bool },
}

impl ReviewButton {
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.split(':');
        let kind = parts.next()?;
        let approve = match parts.next()? {
            "ok" => true,
            "no" => false,
            _ => return None,
        };
        let id = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        match kind {
            "hh" => Some(Self::Household { id, approve }),
            "hu" => Some(Self::Update { id, approve }),
            _ => None,
        }
    }

    pub fn data(self) -> String {
        let (kind, id, approve) = match self {
            Self::Household { id, approve } => ("hh", id, approve),
            Self::Update { id, approve } => ("hu", id, approve),
        };
        format!("{kind}:{}:{id}", if approve { "ok" } else { "no" })
    }
}

/// A decision taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub household: i64,
    /// The change decided on, when it was one.
    pub update: Option<i64>,
    pub approved: bool,
    /// «Số 8, ngõ 41, Xuân La — Nguyễn Văn An»: the household as it now
    /// reads (an approved change's address).
    pub line: String,
}

impl Decided {
    fn verdict(&self) -> &'static str {
        if self.approved {
            "✅ Đã duyệt"
        } else {
            "❌ Đã từ chối"
        }
    }

    /// What the reviewer reads.
    pub fn text(&self) -> String {
        format!("{}.", self.verdict())
    }

    /// The reviewer's card once decided: by whom, and when as the ward
    /// reads it.
    pub fn card(&self, by: &str, when: &str) -> String {
        let what = if self.update.is_some() { "Cập nhật hộ" } else { "Hồ sơ hộ" };
        format!("{what} {}\n\n{} bởi {by} lúc {when}.", self.line, self.verdict())
    }
}

/// **Approve a household** waiting for review (the action). Audited
/// (`household.approve`); the head is told.
pub async fn approve(conn: &mut SqliteConnection, actor: &Actor, household_id: i64) -> Acted<Decided> {
    review(conn, actor, ReviewButton::Household { id: household_id, approve: true }).await
}

/// **Reject a household** waiting for review (the action). Audited
/// (`household.reject`); the head is told to ask the leader and send it
/// again.
pub async fn reject(conn: &mut SqliteConnection, actor: &Actor, household_id: i64) -> Acted<Decided> {
    review(conn, actor, ReviewButton::Household { id: household_id, approve: false }).await
}

/// **Approve a change** to an approved household (the action): the record
/// takes the proposed details. Audited (`household.update.approve`).
pub async fn approve_update(conn: &mut SqliteConnection, actor: &Actor, update_id: i64) -> Acted<Decided> {
    review(conn, actor, ReviewButton::Update { id: update_id, approve: true }).await
}

/// **Reject a change** to an approved household (the action): the record
/// keeps what it had. Audited (`household.update.reject`).
pub async fn reject_update(conn: &mut SqliteConnection, actor: &Actor, update_id: i64) -> Acted<Decided> {
    review(conn, actor, ReviewButton::Update { id: update_id, approve: false }).await
}

/// A decision as a review button names it: leaders of the household's
/// group and officials may take it, once. A household not waiting for
/// review, or a change already decided or replaced by a newer one, is
/// refused for its state.
pub async fn review(conn: &mut SqliteConnection, actor: &Actor, decision: ReviewButton) -> Acted<Decided> {
    let (household_id, update, approve) = match decision {
        ReviewButton::Household { id, approve } => (id, None, approve),
        ReviewButton::Update { id, approve } => match repo::update_of(&mut *conn, id).await? {
            Some((household, _)) => (household, Some(id), approve),
            None => return Err(Refusal::not_found("cập nhật hộ", format!("#{id}")).into()),
        },
    };
    let Some(household) = repo::get(&mut *conn, household_id).await? else {
        return Err(Refusal::not_found("hồ sơ hộ", format!("#{household_id}")).into());
    };
    if !roles::can_manage_group(&mut *conn, actor.user, household.group_id).await? {
        tracing::warn!(user = actor.user, "review refused: not a leader of the group");
        return Err(Refusal::no_right("duyệt hồ sơ của tổ này").into());
    }
    let to = if approve { Status::Approved } else { Status::Rejected };
    let overtaken = || Refusal::Overtaken { what: format!("Hồ sơ hộ #{}", household.id) };
    let mut line = household.details.line();
    let subject = match update {
        None => {
            if household.status != Status::Pending {
                return Err(Refusal::state("Hồ sơ này đã được xử lý trước đó.").into());
            }
            if !repo::decide(&mut *conn, household.id, to, actor.user, actor.at).await? {
                return Err(overtaken().into());
            }
            format!("household:{}", household.id)
        }
        Some(id) => {
            let Some(proposed) = repo::pending_update(&mut *conn, id).await? else {
                return Err(Refusal::state("Hồ sơ này đã được xử lý hoặc không còn.").into());
            };
            if !repo::close_update(&mut *conn, id, to, actor.user, actor.at).await? {
                return Err(overtaken().into());
            }
            if approve {
                repo::replace_details(&mut *conn, household.id, &proposed.details, to, actor.user, actor.at).await?;
                line = proposed.details.line();
            }
            format!("household_update:{id}")
        }
    };
    let action = match (update, approve) {
        (None, true) => "household.approve",
        (None, false) => "household.reject",
        (Some(_), true) => "household.update.approve",
        (Some(_), false) => "household.update.reject",
    };
    crate::audit::record(&mut *conn, actor, action, &subject, None).await?;
    let id = household.id;
    let told = match (update, approve) {
        (None, true) => format!("✅ Hồ sơ hộ #{id} của bác đã được tổ trưởng duyệt. Cảm ơn bác!"),
        (None, false) => format!(
            "Hồ sơ hộ #{id} của bác chưa được duyệt. Xin bác liên hệ tổ trưởng để hỏi thêm, rồi gõ /hocuatoi để sửa và gửi lại."
        ),
        (Some(_), true) => format!("✅ Thông tin cập nhật của hộ #{id} đã được duyệt và lưu."),
        (Some(_), false) => format!(
            "Thông tin cập nhật của hộ #{id} chưa được duyệt; hồ sơ giữ thông tin cũ. Xin bác liên hệ tổ trưởng để hỏi thêm."
        ),
    };
    let decided = Decided { household: id, update, approved: approve, line };
    Ok(Done::new(decided, vec![Notification::person(household.owner_user_id, told)]))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{details, household, who};
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    #[test]
    fn callback_data_round_trips_and_rejects_junk() {
        for b in [ReviewButton::Household { id: 5, approve: true }, ReviewButton::Update { id: 9, approve: false }] {
            assert_eq!(ReviewButton::parse(&b.data()), Some(b));
        }
        for junk in ["hh:ok", "hh:yes:1", "hh:ok:x", "xx:ok:1", "hh:ok:1:2", ""] {
            assert_eq!(ReviewButton::parse(junk), None, "{junk}");
        }
    }

    async fn status(ward: &Ward, id: i64) -> Status {
        let mut tx = ward.tx().await;
        repo::get(&mut tx, id).await.unwrap().unwrap().status
    }

    #[tokio::test]
    async fn the_groups_leader_and_officials_decide_and_no_one_else() {
        // One ward, a household of its own for each case.
        let ward = Ward::new().await;
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            for approving in [true, false] {
                let id = household(&ward, Status::Pending).await;
                let actor = ward.actor_at(who(&ward, role), Door::Cli);
                let mut tx = ward.tx().await;
                let acted =
                    if approving { approve(&mut tx, &actor, id).await } else { reject(&mut tx, &actor, id).await };
                tx.commit().await.unwrap();
                if !may {
                    assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
                    assert_eq!(status(&ward, id).await, Status::Pending, "{role}");
                    let rows = ward.audit().await.into_iter().filter(|r| r.2 == format!("household:{id}")).count();
                    assert_eq!(rows, 0, "{role}: a refusal writes nothing");
                    continue;
                }
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                let line = "Số 12, ngõ 41, Xuân La — Nguyễn Văn An".to_string();
                assert_eq!(done.outcome, Decided { household: id, update: None, approved: approving, line });
                let (to, action) = if approving {
                    (Status::Approved, "household.approve")
                } else {
                    (Status::Rejected, "household.reject")
                };
                assert_eq!(status(&ward, id).await, to);
                assert_eq!(done.told.len(), 1);
                assert_eq!(done.told[0].to, To::Person(ward.resident));
                let said = if approving { "đã được tổ trưởng duyệt" } else { "chưa được duyệt" };
                assert!(done.told[0].text.contains(said), "{}", done.told[0].text);
                let row = (Some(actor.user), action.into(), format!("household:{id}"), None, Some("cli".into()));
                assert_eq!(ward.audit().await.pop(), Some(row));
            }
        }
    }

    #[tokio::test]
    async fn a_household_is_decided_once() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Pending).await;
        let mut tx = ward.tx().await;
        let done = approve(&mut tx, &ward.actor(ward.leader), id).await.unwrap();
        assert_eq!(done.outcome.text(), "✅ Đã duyệt.");
        assert_eq!(
            done.outcome.card("Trần Tổ Trưởng", "09:00"),
            "Hồ sơ hộ Số 12, ngõ 41, Xuân La — Nguyễn Văn An\n\n✅ Đã duyệt bởi Trần Tổ Trưởng lúc 09:00."
        );
        for again in [
            approve(&mut tx, &ward.actor(ward.official), id).await,
            reject(&mut tx, &ward.actor(ward.leader), id).await,
        ] {
            assert!(matches!(again, Err(Stop::Refused(Refusal::State(_)))), "{again:?}");
        }
        let missing = approve(&mut tx, &ward.actor(ward.official), 999).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        tx.commit().await.unwrap();
        assert_eq!(ward.audit().await.len(), 1);
    }

    /// A change proposed to the approved household: its id.
    async fn proposed(ward: &Ward, household: i64, house: &str) -> i64 {
        let mut tx = ward.tx().await;
        let id = repo::propose_update(&mut tx, household, &details(house), ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    #[tokio::test]
    async fn an_approved_change_replaces_the_record_and_a_rejected_one_leaves_it() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Approved).await;
        let first = proposed(&ward, id, "14").await;
        let mut tx = ward.tx().await;
        let refused = approve_update(&mut tx, &ward.actor(ward.other_leader), first).await;
        assert!(matches!(refused, Err(Stop::Refused(Refusal::NoRight { .. }))), "{refused:?}");
        let done = reject_update(&mut tx, &ward.actor(ward.leader), first).await.unwrap();
        assert!(!done.outcome.approved && done.outcome.line.starts_with("Số 12,"));
        assert!(done.told[0].text.contains("hồ sơ giữ thông tin cũ"), "{}", done.told[0].text);
        tx.commit().await.unwrap();

        let second = proposed(&ward, id, "16").await;
        let mut tx = ward.tx().await;
        let done = approve_update(&mut tx, &ward.actor_at(ward.official, Door::Web), second).await.unwrap();
        assert_eq!(done.outcome.update, Some(second));
        assert!(done.outcome.line.starts_with("Số 16,"), "the card shows the new address");
        assert!(done.outcome.card("A", "B").starts_with("Cập nhật hộ Số 16,"));
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert!(done.told[0].text.contains("đã được duyệt và lưu"));
        let now = repo::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!((now.status, now.details.house_number.as_str()), (Status::Approved, "16"));
        let again = reject_update(&mut tx, &ward.actor(ward.leader), second).await;
        assert!(matches!(again, Err(Stop::Refused(Refusal::State(_)))), "{again:?}");
        let missing = reject_update(&mut tx, &ward.actor(ward.leader), 999).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        tx.commit().await.unwrap();
        let audit: Vec<_> = ward.audit().await.into_iter().map(|r| (r.1, r.2, r.4)).collect();
        assert_eq!(
            audit,
            [
                ("household.update.reject".into(), format!("household_update:{first}"), Some("telegram".into())),
                ("household.update.approve".into(), format!("household_update:{second}"), Some("web".into())),
            ]
        );
    }

    #[tokio::test]
    async fn a_change_replaced_by_a_newer_one_is_no_longer_decided() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Approved).await;
        let older = proposed(&ward, id, "14").await;
        proposed(&ward, id, "16").await;
        let mut tx = ward.tx().await;
        let acted = approve_update(&mut tx, &ward.actor(ward.leader), older).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::State(_)))), "{acted:?}");
    }
}
