//! Registering a household, and changing the details of one: what the
//! resident confirmed is saved and sent to the group's reviewers. An
//! approved household keeps what is on record until a reviewer accepts the
//! change.

use sqlx::SqliteConnection;

use super::{display_name, review_choices, reviewers, ReviewButton};
use crate::action::{Acted, Actor, Done, Notification};
use crate::group::Group;
use crate::household::{repo, HouseholdDetails, Status};
use crate::refusal::Refusal;

const GROUP_GONE: &str = "Tổ dân phố này không còn trên bot nên chưa lưu được. Xin liên hệ tổ trưởng.";

/// Who was sent a household to review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewers {
    /// The group's leaders.
    Leaders,
    /// The ward's officials: the group has no leader on the bot.
    Officials,
}

/// A new household, pending review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub household: i64,
    pub reviewers: Reviewers,
}

impl Registered {
    /// What the resident reads.
    pub fn text(&self) -> String {
        submitted_text(self.household, self.reviewers)
    }
}

/// What a change of details came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    /// Nothing differs from what is on record: nothing is sent.
    Unchanged,
    /// An approved household's change, waiting for a reviewer; the record
    /// is as it was until then.
    Proposed { household: i64, update: i64, reviewers: Reviewers },
    /// A household not yet approved (pending or rejected), changed and
    /// sent for review again.
    Resubmitted { household: i64, reviewers: Reviewers },
}

impl Updated {
    /// What the resident reads.
    pub fn text(&self) -> String {
        match *self {
            Updated::Unchanged => "Thông tin không có gì thay đổi nên bot không gửi lại. Cảm ơn bác!".into(),
            Updated::Proposed { household, reviewers, .. } => format!(
                "Đã gửi thông tin cập nhật của hộ #{household} tới {}. Thông tin cũ vẫn giữ nguyên cho đến khi được duyệt.",
                match reviewers {
                    Reviewers::Leaders => "tổ trưởng",
                    Reviewers::Officials => "cán bộ phường",
                }
            ),
            Updated::Resubmitted { household, reviewers } => submitted_text(household, reviewers),
        }
    }
}

fn submitted_text(id: i64, reviewers: Reviewers) -> String {
    let who = match reviewers {
        Reviewers::Leaders => "tổ trưởng",
        Reviewers::Officials => "cán bộ phường (tổ chưa có tổ trưởng trên bot)",
    };
    format!("Đã gửi hồ sơ hộ #{id} tới {who} để duyệt. Bot sẽ nhắn bác khi có kết quả. Gõ /hocuatoi để xem lại hồ sơ.")
}

/// **Register a household** (the action): anyone may, for a group on the
/// bot, as its head. The household waits for review; the group's leaders
/// (or the officials, while it has none) are sent it with **Duyệt / Từ
/// chối**. Audited (`household.register`).
pub async fn register(
    conn: &mut SqliteConnection,
    actor: &Actor,
    group_id: i64,
    details: &HouseholdDetails,
) -> Acted<Registered> {
    let Some(group) = crate::group::by_id(&mut *conn, group_id).await? else {
        return Err(Refusal::state(GROUP_GONE).into());
    };
    let id = repo::insert(&mut *conn, group.id, actor.user, details, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "household.register", &format!("household:{id}"), None).await?;
    let (told, reviewers) = to_review(&mut *conn, actor, &group, id, details).await?;
    Ok(Done::new(Registered { household: id, reviewers }, told))
}

/// **Change a household's details** (the action): only its head may; to
/// anyone else it is not found. An approved household's change waits for a
/// reviewer (`household.update.propose`, superseding an older one); one not
/// yet approved is changed and sent for review again (`household.resubmit`).
pub async fn update(
    conn: &mut SqliteConnection,
    actor: &Actor,
    household_id: i64,
    details: &HouseholdDetails,
) -> Acted<Updated> {
    let found = repo::get(&mut *conn, household_id).await?.filter(|h| h.owner_user_id == actor.user);
    let Some(existing) = found else {
        return Err(Refusal::not_found("hồ sơ hộ", format!("#{household_id}")).into());
    };
    let Some(group) = crate::group::by_id(&mut *conn, existing.group_id).await? else {
        return Err(Refusal::state(GROUP_GONE).into());
    };
    if existing.details == *details {
        return Ok(Done::quiet(Updated::Unchanged));
    }
    if existing.status != Status::Approved {
        repo::replace_details(&mut *conn, existing.id, details, Status::Pending, actor.user, actor.at).await?;
        crate::audit::record(&mut *conn, actor, "household.resubmit", &format!("household:{}", existing.id), None)
            .await?;
        let (told, reviewers) = to_review(&mut *conn, actor, &group, existing.id, details).await?;
        return Ok(Done::new(Updated::Resubmitted { household: existing.id, reviewers }, told));
    }
    let update = repo::propose_update(&mut *conn, existing.id, details, actor.at).await?;
    let subject = format!("household_update:{update}");
    crate::audit::record(&mut *conn, actor, "household.update.propose", &subject, None).await?;
    let (to, reviewers) = reviewers(&mut *conn, group.id).await?;
    let text = format!(
        "✏️ Cập nhật thông tin hộ #{} — {}\nDo {} gửi.\n\nThông tin mới:\n{}\n\nThông tin đang lưu:\n{}\n\nXin bác bấm Duyệt hoặc Từ chối.",
        existing.id,
        group.name,
        display_name(&mut *conn, actor.user).await?,
        details.describe(),
        existing.details.describe()
    );
    let choices = review_choices(
        ReviewButton::Update { id: update, approve: true },
        ReviewButton::Update { id: update, approve: false },
    );
    let told = to.into_iter().map(|r| Notification::person(r, text.clone()).with_choices(choices.clone())).collect();
    Ok(Done::new(Updated::Proposed { household: existing.id, update, reviewers }, told))
}

/// A household waiting for review, as its reviewers are sent it.
async fn to_review(
    conn: &mut SqliteConnection,
    actor: &Actor,
    group: &Group,
    id: i64,
    details: &HouseholdDetails,
) -> anyhow::Result<(Vec<Notification>, Reviewers)> {
    let (to, reviewers) = reviewers(&mut *conn, group.id).await?;
    let text = format!(
        "🏠 Đăng ký hộ mới — {}\nHồ sơ #{id} do {} gửi.\n\n{}\n\nXin bác kiểm tra rồi bấm Duyệt hoặc Từ chối.",
        group.name,
        display_name(&mut *conn, actor.user).await?,
        details.describe()
    );
    let choices =
        review_choices(ReviewButton::Household { id, approve: true }, ReviewButton::Household { id, approve: false });
    let told = to.into_iter().map(|r| Notification::person(r, text.clone()).with_choices(choices.clone())).collect();
    Ok((told, reviewers))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{actions, details, household, who};
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    #[tokio::test]
    async fn a_registration_goes_to_the_groups_leader_with_the_review_buttons() {
        let ward = Ward::new().await;
        let mut tx = ward.tx().await;
        let actor = ward.actor_at(ward.resident, Door::Zalo);
        let done = register(&mut tx, &actor, ward.group, &details("12")).await.unwrap();
        tx.commit().await.unwrap();
        let id = done.outcome.household;
        assert_eq!(done.outcome, Registered { household: id, reviewers: Reviewers::Leaders });
        assert!(done.outcome.text().starts_with(&format!("Đã gửi hồ sơ hộ #{id} tới tổ trưởng để duyệt.")));
        assert_eq!(done.told.len(), 1, "{:?}", done.told);
        let card = &done.told[0];
        assert_eq!(card.to, To::Person(ward.leader));
        assert!(card.text.starts_with(&format!("🏠 Đăng ký hộ mới — Tổ 1\nHồ sơ #{id} do Nguyễn Cư Dân gửi.")));
        assert!(card.text.contains("0912345678"), "{}", card.text);
        assert_eq!(actions(card), [format!("hh:ok:{id}"), format!("hh:no:{id}")]);
        let audit = ward.audit().await;
        let row =
            (Some(ward.resident), "household.register".into(), format!("household:{id}"), None, Some("zalo".into()));
        assert_eq!(audit, [row]);
    }

    #[tokio::test]
    async fn a_group_without_a_leader_is_reviewed_by_the_officials() {
        let ward = Ward::new().await;
        let lone = ward.add_group("Tổ 3", "-1003").await;
        let mut tx = ward.tx().await;
        let done = register(&mut tx, &ward.actor(ward.resident), lone, &details("3")).await.unwrap();
        assert_eq!(done.outcome.reviewers, Reviewers::Officials);
        assert!(done.outcome.text().contains("cán bộ phường (tổ chưa có tổ trưởng trên bot)"));
        let to: Vec<_> = done.told.iter().map(|n| n.to.clone()).collect();
        assert_eq!(to, [To::Person(ward.official)]);
        let gone = register(&mut tx, &ward.actor(ward.resident), 999, &details("3")).await;
        assert!(matches!(gone, Err(Stop::Refused(Refusal::State(_)))), "{gone:?}");
    }

    #[tokio::test]
    async fn a_change_to_an_approved_household_waits_for_review() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Approved).await;
        let mut tx = ward.tx().await;
        let actor = ward.actor(ward.resident);
        let same = update(&mut tx, &actor, id, &details("12")).await.unwrap();
        assert_eq!(same.outcome, Updated::Unchanged);
        assert!(same.told.is_empty());
        let done = update(&mut tx, &actor, id, &details("14")).await.unwrap();
        let Updated::Proposed { household, update: proposal, reviewers } = done.outcome else {
            panic!("{:?}", done.outcome)
        };
        assert_eq!((household, reviewers), (id, Reviewers::Leaders));
        assert!(done.outcome.text().contains("Thông tin cũ vẫn giữ nguyên"));
        let card = &done.told[0];
        assert_eq!(card.to, To::Person(ward.leader));
        assert!(card.text.starts_with(&format!("✏️ Cập nhật thông tin hộ #{id} — Tổ 1\nDo Nguyễn Cư Dân gửi.")));
        assert_eq!(actions(card), [format!("hu:ok:{proposal}"), format!("hu:no:{proposal}")]);
        let kept = repo::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(kept.details.house_number, "12", "the record stays until a reviewer accepts");
        tx.commit().await.unwrap();
        let audit = ward.audit().await;
        assert_eq!(audit.len(), 1);
        assert_eq!(
            (audit[0].1.as_str(), audit[0].2.clone()),
            ("household.update.propose", format!("household_update:{proposal}"))
        );
    }

    #[tokio::test]
    async fn a_rejected_household_changed_is_sent_again() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Rejected).await;
        let mut tx = ward.tx().await;
        let done = update(&mut tx, &ward.actor(ward.resident), id, &details("14")).await.unwrap();
        assert_eq!(done.outcome, Updated::Resubmitted { household: id, reviewers: Reviewers::Leaders });
        assert!(done.told[0].text.contains("Đăng ký hộ mới"));
        let now = repo::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!((now.status, now.details.house_number.as_str()), (Status::Pending, "14"));
    }

    #[tokio::test]
    async fn only_the_head_changes_a_household() {
        let ward = Ward::new().await;
        for role in ["official", "leader", "other leader"] {
            let user = who(&ward, role);
            let id = household(&ward, Status::Approved).await;
            let mut tx = ward.tx().await;
            let acted = update(&mut tx, &ward.actor(user), id, &details("14")).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::NotFound { .. }))), "{role}: {acted:?}");
            tx.commit().await.unwrap();
            assert!(ward.audit().await.is_empty(), "{role}");
        }
    }
}
