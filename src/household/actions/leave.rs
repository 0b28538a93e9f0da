//! A member leaves a household; the head is told.

use sqlx::SqliteConnection;

use super::display_name;
use crate::action::{Acted, Actor, Done, Notification};
use crate::household::repo;
use crate::refusal::Refusal;

/// A member gone from a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    pub household: i64,
}

impl Left {
    /// What the former member reads.
    pub fn text(&self) -> String {
        format!("Bác đã rời hộ #{}.", self.household)
    }
}

/// **Leave a household** (the action): a member (not its head) takes
/// themselves out of it; the head is told. Audited
/// (`household.member.leave`).
pub async fn leave(conn: &mut SqliteConnection, actor: &Actor, household_id: i64) -> Acted<Left> {
    let Some(household) = repo::get(&mut *conn, household_id).await? else {
        return Err(Refusal::not_found("hồ sơ hộ", format!("#{household_id}")).into());
    };
    if household.owner_user_id == actor.user {
        return Err(Refusal::state("Bác là chủ hộ nên không rời hộ được.").into());
    }
    let gone = sqlx::query("DELETE FROM household_members WHERE household_id = ? AND user_id = ?")
        .bind(household.id)
        .bind(actor.user)
        .execute(&mut *conn)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(Refusal::state(format!("Bác không ở trong hộ #{household_id}.")).into());
    }
    crate::audit::record(&mut *conn, actor, "household.member.leave", &format!("household:{}", household.id), None)
        .await?;
    let name = display_name(&mut *conn, actor.user).await?;
    let told = Notification::person(household.owner_user_id, format!("{name} đã rời hộ #{household_id} của bác."));
    Ok(Done::new(Left { household: household.id }, vec![told]))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{invited, refused};
    use super::super::{answer, ask, Asked};
    use super::*;
    use crate::action::Door;
    use crate::testing::Ward;

    #[tokio::test]
    async fn a_member_leaves_and_the_head_is_told() {
        let ward = Ward::new().await;
        let (id, asker, code) = invited(&ward).await;
        let Asked::Sent { request, .. } = act!(ward, |c| ask(c, &ward.actor(asker), &code)).unwrap().outcome else {
            panic!("asked")
        };
        let _ = act!(ward, |c| answer(c, &ward.actor(ward.resident), request, true)).unwrap();
        let head = act!(ward, |c| leave(c, &ward.actor(ward.resident), id));
        assert!(matches!(refused(&head), Refusal::State(_)), "the head stays");
        let done = act!(ward, |c| leave(c, &ward.actor_at(asker, Door::Cli), id)).unwrap();
        assert_eq!(done.outcome, Left { household: id });
        assert_eq!(done.told, [Notification::person(ward.resident, format!("Trần Thị Hai đã rời hộ #{id} của bác."))]);
        let again = act!(ward, |c| leave(c, &ward.actor(asker), id));
        assert!(matches!(refused(&again), Refusal::State(_)));
        let last = ward.audit().await.pop().unwrap();
        assert_eq!(
            (last.1.as_str(), last.2, last.4),
            ("household.member.leave", format!("household:{id}"), Some("cli".into()))
        );
    }
}
