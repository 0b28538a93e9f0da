//! The household's ward actions, callable from any door (see
//! [`crate::action`]): registering a household and changing its details
//! (`register`), the reviewers' decision on either (`decide`), and the
//! people of a household besides its head (`join`).
//!
//! A household is personal: whom it concerns is told in private, by our
//! user id ([`To::Person`](crate::action::To::Person)), and the group's
//! chat hears nothing of it.

mod decide;
mod join;
mod register;

use sqlx::SqliteConnection;

pub use decide::{approve, approve_update, reject, reject_update, review, Decided, ReviewButton};
pub use join::{answer, ask, invite, leave, propose, Answered, Asked, Invited, JoinAnswer, Left, Proposed, Whom};
pub use register::{register, update, Registered, Reviewers, Updated};

use crate::action::Choice;
use crate::roles;

/// Who reviews a group's households: its leaders, or the ward's officials
/// while the group has none.
async fn reviewers(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<(Vec<i64>, Reviewers)> {
    let leaders = roles::leaders_of(&mut *conn, group_id).await?;
    if !leaders.is_empty() {
        return Ok((leaders.into_iter().map(|(id, _)| id).collect(), Reviewers::Leaders));
    }
    Ok((roles::officials(conn).await?.into_iter().map(|(id, _)| id).collect(), Reviewers::Officials))
}

/// The name a person gave their platform: how the one who sent something
/// is named to its reviewers (not their household's head name).
async fn display_name(conn: &mut SqliteConnection, user: i64) -> anyhow::Result<String> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT display_name FROM users WHERE id = ?").bind(user).fetch_optional(conn).await?;
    Ok(name.unwrap_or_default())
}

/// **Duyệt** / **Từ chối**, as the review buttons' action ids.
fn review_choices(approve: ReviewButton, reject: ReviewButton) -> Vec<Vec<Choice>> {
    vec![vec![Choice::new("✅ Duyệt", approve.data()), Choice::new("❌ Từ chối", reject.data())]]
}

#[cfg(test)]
mod testing {
    //! A household to act on, for the actions' tests.

    use crate::domain::{PersonName, PhoneNumber};
    use crate::household::{repo, HouseholdDetails, Status};
    use crate::testing::Ward;

    pub fn details(house: &str) -> HouseholdDetails {
        HouseholdDetails {
            head_name: PersonName::parse("Nguyễn Văn An").unwrap(),
            house_number: house.into(),
            lane: Some("41".into()),
            street: "Xuân La".into(),
            phone: PhoneNumber::parse("0912345678").unwrap(),
            members: 4,
            circumstances: vec![],
            smartphone_users: 2,
            has_epayment: true,
            vneid_level2: 1,
        }
    }

    /// The resident's household in the ward's first group, in `status`.
    pub async fn household(ward: &Ward, status: Status) -> i64 {
        let mut tx = ward.tx().await;
        let id = repo::insert(&mut tx, ward.group, ward.resident, &details("12"), ward.now()).await.unwrap();
        if status != Status::Pending {
            assert!(repo::decide(&mut tx, id, status, ward.leader, ward.now()).await.unwrap());
        }
        tx.commit().await.unwrap();
        id
    }

    /// The role's person, from `Ward::everyone`.
    pub fn who(ward: &Ward, role: &str) -> i64 {
        ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1
    }
}
