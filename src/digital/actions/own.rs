//! A resident records their own household's digital-citizen indicators,
//! callable from any door: saved at once as their own (events with source
//! `resident`), unlike an address change, which waits for a leader.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done};
use crate::digital::{self, Household, Indicators, Source};
use crate::refusal::{Refusal, Stop};

/// The approved household `user` owns: another's is not theirs to update,
/// one not approved (or gone) is not found.
pub async fn own_household(conn: &mut SqliteConnection, user: i64, household: i64) -> Result<Household, Stop> {
    let Some(found) = digital::household(&mut *conn, household).await?.filter(|h| h.approved) else {
        return Err(Refusal::not_found("hộ", format!("#{household}")).into());
    };
    if found.owner_user_id != user {
        return Err(Refusal::no_right("cập nhật thông tin công dân số của hộ này").into());
    }
    Ok(found)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnUpdate {
    pub household: i64,
    pub members: i64,
    pub to: Indicators,
    /// How many indicators changed.
    pub changed: usize,
}

impl OwnUpdate {
    /// What the resident reads.
    pub fn text(&self) -> String {
        if self.changed == 0 {
            "Thông tin công dân số của hộ không thay đổi.".to_string()
        } else {
            format!(
                "✅ Đã cập nhật thông tin công dân số của hộ #{}: {}.",
                self.household,
                self.to.describe(self.members)
            )
        }
    }
}

/// **Record one's own indicators** (the action): the owner of an approved
/// household ([`own_household`]) sets its indicators; the counts of people
/// are checked against its members as they are now. Audited
/// (`indicators.own`, with how many changed) when something changed;
/// nobody else is told.
pub async fn update(conn: &mut SqliteConnection, actor: &Actor, household: i64, to: Indicators) -> Acted<OwnUpdate> {
    let found = own_household(&mut *conn, actor.user, household).await?;
    let members = found.members;
    for value in [to.smartphone_users, to.vneid_level2] {
        if !(0..=members).contains(&value) {
            return Err(Refusal::input(format!(
                "Hộ có {members} người, nên số này nhiều nhất là {members}. Xin nhập lại."
            ))
            .into());
        }
    }
    let changed = digital::change(&mut *conn, household, to, actor.user, Source::Resident, actor.at).await?;
    if changed > 0 {
        let subject = format!("household:{household}");
        crate::audit::record(&mut *conn, actor, "indicators.own", &subject, Some(&changed.to_string())).await?;
    }
    Ok(Done::quiet(OwnUpdate { household, members, to, changed }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Door;
    use crate::digital::actions::tests::household as approved;
    use crate::testing::Ward;

    async fn try_update(ward: &Ward, actor: &Actor, household: i64, to: Indicators) -> Acted<OwnUpdate> {
        let mut tx = ward.tx().await;
        let acted = update(&mut tx, actor, household, to).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn now(ward: &Ward, household: i64) -> Indicators {
        digital::household(&mut ward.db.read().await.unwrap(), household).await.unwrap().unwrap().now
    }

    fn figures(smartphone_users: i64, vneid_level2: i64) -> Indicators {
        Indicators { smartphone_users, has_epayment: true, vneid_level2, ward_app: true, joined_group: false }
    }

    #[tokio::test]
    async fn a_resident_updates_their_own_household_at_once() {
        let ward = Ward::new().await;
        let h = approved(&ward, ward.resident, "8", 4, 1).await;
        let actor = ward.actor_at(ward.resident, Door::Zalo);
        let done = try_update(&ward, &actor, h, figures(2, 3)).await.unwrap();
        assert!(done.told.is_empty());
        assert_eq!(done.outcome.changed, 4);
        assert_eq!(
            done.outcome.text(),
            format!(
                "✅ Đã cập nhật thông tin công dân số của hộ #{h}: 2 người dùng điện thoại thông minh, có tài khoản thanh toán, VNeID mức 2: 3/4 người, đã cài ứng dụng của phường."
            )
        );
        assert_eq!(now(&ward, h).await, figures(2, 3));
        let sources: Vec<String> = sqlx::query_scalar("SELECT DISTINCT source FROM indicator_events")
            .fetch_all(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap();
        assert_eq!(sources, ["resident"]);
        assert_eq!(
            ward.audit().await,
            [(
                Some(ward.resident),
                "indicators.own".into(),
                format!("household:{h}"),
                Some("4".into()),
                Some("zalo".into())
            )]
        );
        // The same again: nothing changes, nothing is audited.
        let same = try_update(&ward, &actor, h, figures(2, 3)).await.unwrap();
        assert_eq!(same.outcome.text(), "Thông tin công dân số của hộ không thay đổi.");
        assert_eq!(ward.audit().await.len(), 1);
    }

    #[tokio::test]
    async fn only_the_owner_updates_and_within_the_members() {
        let ward = Ward::new().await;
        let h = approved(&ward, ward.resident, "8", 4, 1).await;
        for (role, user) in ward.everyone().into_iter().filter(|(r, _)| *r != "resident") {
            let acted = try_update(&ward, &ward.actor(user), h, figures(2, 3)).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
            assert_eq!(now(&ward, h).await.vneid_level2, 1, "{role}");
            assert!(ward.audit().await.is_empty(), "{role}");
        }
        let owner = ward.actor(ward.resident);
        for wrong in [figures(5, 1), figures(1, 5), figures(-1, 1)] {
            let acted = try_update(&ward, &owner, h, wrong).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{wrong:?}: {acted:?}");
        }
        let gone = try_update(&ward, &owner, 9999, figures(1, 1)).await;
        assert!(matches!(gone, Err(Stop::Refused(Refusal::NotFound { .. }))), "{gone:?}");
        let mut tx = ward.tx().await;
        sqlx::query("UPDATE households SET status = 'pending' WHERE id = ?").bind(h).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let pending = try_update(&ward, &owner, h, figures(1, 1)).await;
        assert!(matches!(pending, Err(Stop::Refused(Refusal::NotFound { .. }))), "{pending:?}");
        assert!(ward.audit().await.is_empty());
    }
}
