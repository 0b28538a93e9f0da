//! The household's ward actions, callable from any door (see
//! [`crate::action`]): registering a household and changing its details
//! (`register`), the reviewers' decision on either (`decide`), and the
//! people of a household besides its head (`join`, `propose`, `leave`).
//!
//! A household is personal: whom it concerns is told in private, by our
//! user id ([`To::Person`](crate::action::To::Person)), and the group's
//! chat hears nothing of it.

#[cfg(test)]
#[macro_use]
mod tests;

mod decide;
mod join;
mod leave;
mod propose;
mod register;

use sqlx::SqliteConnection;

pub use decide::{approve, approve_update, reject, reject_update, review, Decided, ReviewButton};
pub use join::{answer, ask, invite, Answered, Asked, Invited, JoinAnswer};
pub use leave::{leave, Left};
pub use propose::{propose, Proposed, Whom};
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
