//! Granting and revoking the roles of the ward, callable from any door (see
//! [`crate::action`]): a ward official, or a leader (tổ trưởng / tổ phó) of
//! a group. Only officials appoint; the ward always keeps one official, and
//! nobody revokes their own.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::group::{self, Group};
use crate::refusal::Refusal;
use crate::roles;

/// A role to grant or revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Official,
    /// Leader of the group (its id).
    Leader {
        group: i64,
    },
}

/// The role as granted or revoked, with its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Post {
    Official,
    Leader(Group),
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Granted,
    /// They held it already: nothing written.
    AlreadyHeld,
    Revoked,
    /// They did not hold it: nothing written.
    NotHeld,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub user: i64,
    /// How the person is named.
    pub name: String,
    pub post: Post,
    pub change: Change,
}

impl Appointment {
    /// What the official who acted reads.
    pub fn text(&self) -> String {
        let name = &self.name;
        match &self.post {
            Post::Official => match self.change {
                Change::Granted => format!("Đã phân công {name} làm cán bộ phường."),
                Change::AlreadyHeld => format!("{name} đã là cán bộ phường từ trước."),
                Change::Revoked => format!("Đã thu hồi quyền cán bộ phường của {name}."),
                Change::NotHeld => format!("{name} không phải cán bộ phường."),
            },
            Post::Leader(group) => {
                let group = &group.name;
                match self.change {
                    Change::Granted => format!("Đã phân công {name} làm tổ trưởng / tổ phó của «{group}»."),
                    Change::AlreadyHeld => format!("{name} đã là tổ trưởng / tổ phó của «{group}» từ trước."),
                    Change::Revoked => format!("Đã thu hồi quyền tổ trưởng / tổ phó của {name} ở «{group}»."),
                    Change::NotHeld => format!("{name} không phải tổ trưởng / tổ phó của «{group}»."),
                }
            }
        }
    }
}

/// The person and the role, checked: the actor is an official, the person
/// and the group exist.
async fn resolve(
    conn: &mut SqliteConnection,
    actor: &Actor,
    target: i64,
    role: Grant,
) -> Result<(String, Post), crate::refusal::Stop> {
    if !roles::is_official(&mut *conn, actor.user).await? {
        return Err(Refusal::OnlyFor {
            who: "cán bộ phường", to: "phân công được tổ trưởng và cán bộ"
        }
        .into());
    }
    let name = match roles::user_addr(&mut *conn, target).await? {
        Some((_, name)) if !name.is_empty() => name,
        Some((addr, _)) => format!("người dùng {}", addr.id),
        None => return Err(Refusal::not_found("người dùng", target).into()),
    };
    let post = match role {
        Grant::Official => Post::Official,
        Grant::Leader { group } => match group::by_id(&mut *conn, group).await? {
            Some(g) => Post::Leader(g),
            None => return Err(Refusal::not_found("tổ dân phố", format!("#{group}")).into()),
        },
    };
    Ok((name, post))
}

/// **Grant a role** (the action): officials appoint officials and the
/// leaders of any group. Audited when it changes something
/// (`role.official.appoint`, `role.leader.appoint` with the group); the
/// person appointed is told in private what they may now do.
pub async fn grant(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    target: i64,
    role: Grant,
) -> Acted<Appointment> {
    let (name, post) = resolve(&mut *conn, actor, target, role).await?;
    let changed = match &post {
        Post::Official => roles::appoint_official(&mut *conn, target, Some(actor.user), actor.at).await?,
        Post::Leader(g) => roles::appoint_leader(&mut *conn, target, g.id, actor.user, actor.at).await?,
    };
    let appointment =
        Appointment { user: target, name, change: if changed { Change::Granted } else { Change::AlreadyHeld }, post };
    if !changed {
        return Ok(Done::quiet(appointment));
    }
    let subject = format!("user:{target}");
    let told = match &appointment.post {
        Post::Official => {
            crate::audit::record(&mut *conn, actor, "role.official.appoint", &subject, None).await?;
            format!("Bác đã được phân công làm cán bộ {} trên bot. Gõ /help để xem các lệnh.", app.settings.ward_name)
        }
        Post::Leader(g) => {
            let detail = format!("group:{}", g.id);
            crate::audit::record(&mut *conn, actor, "role.leader.appoint", &subject, Some(&detail)).await?;
            format!(
                "Bác đã được phân công làm tổ trưởng / tổ phó của «{}». Bot sẽ nhắn riêng cho bác khi có hộ đăng ký cần duyệt. Gõ /help để xem các lệnh.",
                g.name
            )
        }
    };
    Ok(Done::new(appointment, vec![Notification::person(target, told)]))
}

/// **Revoke a role** (the action): officials revoke officials and leaders;
/// an official cannot revoke their own role, nor the ward's last official.
/// Audited when it changes something (`role.official.revoke`,
/// `role.leader.revoke` with the group); nobody else is told.
pub async fn revoke(conn: &mut SqliteConnection, actor: &Actor, target: i64, role: Grant) -> Acted<Appointment> {
    let (name, post) = resolve(&mut *conn, actor, target, role).await?;
    let subject = format!("user:{target}");
    let changed = match &post {
        Post::Official => {
            if target == actor.user || roles::count_officials(&mut *conn).await? <= 1 {
                return Err(Refusal::state(
                    "Không thể tự thu hồi quyền của mình hoặc thu hồi cán bộ cuối cùng của phường.",
                )
                .into());
            }
            let changed = roles::revoke_official(&mut *conn, target).await?;
            if changed {
                crate::audit::record(&mut *conn, actor, "role.official.revoke", &subject, None).await?;
            }
            changed
        }
        Post::Leader(g) => {
            let changed = roles::revoke_leader(&mut *conn, target, g.id).await?;
            if changed {
                let detail = format!("group:{}", g.id);
                crate::audit::record(&mut *conn, actor, "role.leader.revoke", &subject, Some(&detail)).await?;
            }
            changed
        }
    };
    let change = if changed { Change::Revoked } else { Change::NotHeld };
    Ok(Done::quiet(Appointment { user: target, name, post, change }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    async fn try_grant(ward: &Ward, actor: &Actor, target: i64, role: Grant) -> Acted<Appointment> {
        let mut tx = ward.tx().await;
        let acted = grant(&ward.app, &mut tx, actor, target, role).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_revoke(ward: &Ward, actor: &Actor, target: i64, role: Grant) -> Acted<Appointment> {
        let mut tx = ward.tx().await;
        let acted = revoke(&mut tx, actor, target, role).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn leads(ward: &Ward, user: i64, group: i64) -> bool {
        roles::is_leader_of(&mut ward.db.read().await.unwrap(), user, group).await.unwrap()
    }

    async fn is_official(ward: &Ward, user: i64) -> bool {
        roles::is_official(&mut ward.db.read().await.unwrap(), user).await.unwrap()
    }

    #[tokio::test]
    async fn an_official_appoints_a_leader_who_is_told_in_private() {
        let ward = Ward::new().await;
        let actor = ward.actor_at(ward.official, Door::Cli);
        let role = Grant::Leader { group: ward.group };
        let done = try_grant(&ward, &actor, ward.resident, role).await.unwrap();
        assert_eq!(done.outcome.change, Change::Granted);
        assert_eq!(done.outcome.text(), "Đã phân công Nguyễn Cư Dân làm tổ trưởng / tổ phó của «Tổ 1».");
        assert_eq!(done.told.len(), 1);
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert!(done.told[0].text.contains("tổ trưởng / tổ phó của «Tổ 1»"), "{}", done.told[0].text);
        assert!(leads(&ward, ward.resident, ward.group).await);
        let audit = ward.audit().await;
        assert_eq!(
            audit,
            [(
                Some(ward.official),
                "role.leader.appoint".into(),
                format!("user:{}", ward.resident),
                Some(format!("group:{}", ward.group)),
                Some("cli".into())
            )]
        );
        // Again: nothing changes, nobody is told, nothing audited.
        let again = try_grant(&ward, &actor, ward.resident, role).await.unwrap();
        assert_eq!(again.outcome.change, Change::AlreadyHeld);
        assert!(again.told.is_empty());
        assert_eq!(ward.audit().await.len(), 1);
        // Revoked, then revoked again.
        let done = try_revoke(&ward, &actor, ward.resident, role).await.unwrap();
        assert_eq!(done.outcome.change, Change::Revoked);
        assert!(done.told.is_empty());
        assert!(!leads(&ward, ward.resident, ward.group).await);
        let again = try_revoke(&ward, &actor, ward.resident, role).await.unwrap();
        assert_eq!(again.outcome.change, Change::NotHeld);
        assert_eq!(again.outcome.text(), "Nguyễn Cư Dân không phải tổ trưởng / tổ phó của «Tổ 1».");
        let actions: Vec<String> = ward.audit().await.into_iter().map(|r| r.1).collect();
        assert_eq!(actions, ["role.leader.appoint", "role.leader.revoke"]);
    }

    #[tokio::test]
    async fn only_officials_grant_or_revoke() {
        // The refused first, on one ward: a refusal writes nothing.
        let ward = Ward::new().await;
        for (role, user) in ward.everyone().into_iter().rev() {
            let actor = ward.actor(user);
            let granted = try_grant(&ward, &actor, ward.resident, Grant::Official).await;
            let revoked = try_revoke(&ward, &actor, ward.leader, Grant::Leader { group: ward.group }).await;
            if role == "official" {
                assert_eq!(granted.unwrap().outcome.change, Change::Granted);
                assert_eq!(revoked.unwrap().outcome.change, Change::Revoked);
            } else {
                for acted in [granted, revoked] {
                    assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {acted:?}");
                }
                assert!(ward.audit().await.is_empty(), "{role}: a refusal writes nothing");
                assert!(!is_official(&ward, ward.resident).await && leads(&ward, ward.leader, ward.group).await);
            }
        }
        assert_eq!(ward.audit().await.len(), 2);
    }

    #[tokio::test]
    async fn officials_are_appointed_and_the_last_one_stays() {
        let ward = Ward::new().await;
        let official = ward.actor(ward.official);
        // The only official cannot go, nor revoke themself.
        let last = try_revoke(&ward, &official, ward.official, Grant::Official).await;
        assert!(matches!(last, Err(Stop::Refused(Refusal::State(_)))), "{last:?}");
        let done = try_grant(&ward, &official, ward.leader, Grant::Official).await.unwrap();
        assert_eq!(done.outcome.text(), "Đã phân công Trần Tổ Trưởng làm cán bộ phường.");
        assert_eq!(done.told[0].to, To::Person(ward.leader));
        assert!(done.told[0].text.contains("cán bộ Phường Thử trên bot"), "{}", done.told[0].text);
        let own = try_revoke(&ward, &official, ward.official, Grant::Official).await;
        assert!(matches!(own, Err(Stop::Refused(Refusal::State(_)))), "{own:?}");
        // The new official revokes the first.
        let done = try_revoke(&ward, &ward.actor(ward.leader), ward.official, Grant::Official).await.unwrap();
        assert_eq!(done.outcome.change, Change::Revoked);
        assert!(!is_official(&ward, ward.official).await);
        let audit: Vec<(String, Option<String>)> = ward.audit().await.into_iter().map(|r| (r.1, r.4)).collect();
        assert_eq!(
            audit,
            [
                ("role.official.appoint".into(), Some("telegram".into())),
                ("role.official.revoke".into(), Some("telegram".into()))
            ]
        );
    }

    #[tokio::test]
    async fn an_unknown_person_or_group_is_not_found() {
        let ward = Ward::new().await;
        let official = ward.actor(ward.official);
        let nobody = try_grant(&ward, &official, 9999, Grant::Official).await;
        assert!(matches!(nobody, Err(Stop::Refused(Refusal::NotFound { .. }))), "{nobody:?}");
        let nowhere = try_grant(&ward, &official, ward.resident, Grant::Leader { group: 9999 }).await;
        assert!(matches!(nowhere, Err(Stop::Refused(Refusal::NotFound { .. }))), "{nowhere:?}");
        let nowhere = try_revoke(&ward, &official, ward.leader, Grant::Leader { group: 9999 }).await;
        assert!(matches!(nowhere, Err(Stop::Refused(Refusal::NotFound { .. }))), "{nowhere:?}");
        assert!(ward.audit().await.is_empty());
    }
}
