//! The digital teams' ward actions, callable from any door (see
//! [`crate::action`]):
//!
//! - `team`: make a team, add or remove a member (officials);
//! - `visit`: record a visit to a household (its team's members, its
//!   group's leaders, officials);
//! - `own`: a resident records their own household's indicators.

pub mod own;
pub mod team;
pub mod visit;

#[cfg(test)]
mod tests {
    /// An approved household of the ward's first group (see
    /// [`crate::testing::Ward::household`]).
    pub(crate) async fn household(
        ward: &crate::testing::Ward,
        owner: i64,
        house: &str,
        members: i64,
        vneid: i64,
    ) -> i64 {
        ward.household(owner, ward.group, house, members, vneid).await
    }
}
