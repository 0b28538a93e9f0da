//! Setting how many households a group should have, callable from any door
//! (see [`crate::action`]): the denominator of its registration rate.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done};
use crate::group::{self, Group};
use crate::refusal::Refusal;
use crate::roles;

/// The most households a group may be expected to have.
pub const MAX_EXPECTED: i64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub group: Group,
    pub households: i64,
}

impl Expected {
    /// What the official reads.
    pub fn text(&self) -> String {
        format!("Đã đặt số hộ dự kiến của «{}» là {}.", self.group.name, self.households)
    }
}

/// **Set a group's expected households** (the action): officials only, 0
/// to [`MAX_EXPECTED`]. Audited (`group.expected`, with the number); nobody
/// else is told.
pub async fn set_expected(conn: &mut SqliteConnection, actor: &Actor, group: i64, households: i64) -> Acted<Expected> {
    if !roles::is_official(&mut *conn, actor.user).await? {
        return Err(Refusal::OnlyFor { who: "cán bộ phường", to: "đặt được số hộ dự kiến" }.into());
    }
    if !(0..=MAX_EXPECTED).contains(&households) {
        return Err(Refusal::input(format!("Số hộ dự kiến phải từ 0 đến {MAX_EXPECTED}.")).into());
    }
    let Some(group) = group::by_id(&mut *conn, group).await? else {
        return Err(Refusal::not_found("tổ dân phố", format!("#{group}")).into());
    };
    sqlx::query("UPDATE groups SET expected_households = ? WHERE id = ?")
        .bind(households)
        .bind(group.id)
        .execute(&mut *conn)
        .await?;
    let subject = format!("group:{}", group.id);
    crate::audit::record(&mut *conn, actor, "group.expected", &subject, Some(&households.to_string())).await?;
    Ok(Done::quiet(Expected { group, households }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Door;
    use crate::refusal::Stop;
    use crate::testing::Ward;

    async fn try_set(ward: &Ward, actor: &Actor, group: i64, households: i64) -> Acted<Expected> {
        let mut tx = ward.tx().await;
        let acted = set_expected(&mut tx, actor, group, households).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn expected(ward: &Ward, group: i64) -> Option<i64> {
        sqlx::query_scalar("SELECT expected_households FROM groups WHERE id = ?")
            .bind(group)
            .fetch_one(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_official_sets_a_groups_expected_households() {
        let ward = Ward::new().await;
        let done = try_set(&ward, &ward.actor_at(ward.official, Door::Web), ward.group, 40).await.unwrap();
        assert_eq!(done.outcome.text(), "Đã đặt số hộ dự kiến của «Tổ 1» là 40.");
        assert!(done.told.is_empty());
        assert_eq!(expected(&ward, ward.group).await, Some(40));
        assert_eq!(
            ward.audit().await,
            [(
                Some(ward.official),
                "group.expected".into(),
                format!("group:{}", ward.group),
                Some("40".into()),
                Some("web".into())
            )]
        );
    }

    #[tokio::test]
    async fn only_officials_set_it_for_a_group_that_exists_within_bounds() {
        let ward = Ward::new().await;
        for (role, user) in ward.everyone().into_iter().filter(|(r, _)| *r != "official") {
            let acted = try_set(&ward, &ward.actor(user), ward.group, 40).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {acted:?}");
            assert_eq!(expected(&ward, ward.group).await, None, "{role}");
            assert!(ward.audit().await.is_empty());
        }
        let official = ward.actor(ward.official);
        let missing = try_set(&ward, &official, 9999, 40).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
        for wrong in [-1, MAX_EXPECTED + 1] {
            let acted = try_set(&ward, &official, ward.group, wrong).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{wrong}: {acted:?}");
        }
        assert_eq!(expected(&ward, ward.group).await, None);
        assert!(ward.audit().await.is_empty());
    }
}
