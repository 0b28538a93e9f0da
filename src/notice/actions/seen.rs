//! «Đã xem»: a resident says they saw a notice.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done};
use crate::notice::{repo, NoticeCode, Status};
use crate::refusal::Refusal;

/// Whether this was the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    First,
    Again,
}

impl Seen {
    /// What the resident reads.
    pub fn text(self) -> &'static str {
        match self {
            Seen::First => "Cảm ơn bác đã xác nhận đã xem.",
            Seen::Again => "Bác đã xác nhận đã xem rồi.",
        }
    }
}

/// **Acknowledge a notice** (the action): anyone may, for a notice that
/// went out; it counts once per household, for the household's own group
/// whichever copy was pressed, and for someone without a household in
/// `pressed_in` (the group of the chat they pressed in, if any). Not
/// audited: the acknowledgement is its own record, and a ward's residents
/// pressing «Đã xem» are not privileged acts.
pub async fn acknowledge(
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: NoticeCode,
    pressed_in: Option<i64>,
) -> Acted<Seen> {
    let Some(notice) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("thông báo", code).into());
    };
    match notice.status {
        Status::Draft => return Err(Refusal::state(format!("Thông báo {code} chưa được gửi.")).into()),
        Status::Cancelled => return Err(Refusal::state(format!("Thông báo {code} đã bị huỷ.")).into()),
        Status::Queued | Status::Done => {}
    }
    let first = repo::acknowledge(&mut *conn, code, actor.user, pressed_in, actor.at).await?;
    Ok(Done::quiet(if first { Seen::First } else { Seen::Again }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{drafted, refused};
    use super::*;
    use crate::testing::Ward;

    async fn try_ack(ward: &Ward, user: i64, code: NoticeCode, pressed_in: Option<i64>) -> Acted<Seen> {
        let mut tx = ward.tx().await;
        let acted = acknowledge(&mut tx, &ward.actor(user), code, pressed_in).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn acks(ward: &Ward) -> Vec<(i64, Option<i64>, Option<i64>)> {
        sqlx::query_as("SELECT user_id, group_id, household_id FROM notice_acks ORDER BY user_id")
            .fetch_all(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap()
    }

    /// An official's notice to both groups, on its way.
    async fn sent(ward: &Ward) -> NoticeCode {
        let code = drafted(ward, ward.official, "Lịch tiêm phòng").await;
        let mut tx = ward.tx().await;
        assert!(super::super::send(&ward.app, &mut tx, &ward.actor(ward.official), code)
            .await
            .unwrap()
            .told
            .is_empty());
        tx.commit().await.unwrap();
        code
    }

    #[tokio::test]
    async fn everyone_may_say_they_saw_it_once() {
        let ward = Ward::new().await;
        let code = sent(&ward).await;
        let audit = ward.audit().await.len();
        for (role, user) in ward.everyone() {
            let done = try_ack(&ward, user, code, Some(ward.group)).await.unwrap_or_else(|e| panic!("{role}: {e:?}"));
            assert_eq!(done.outcome, Seen::First, "{role}");
            assert!(done.told.is_empty());
            let again = try_ack(&ward, user, code, Some(ward.other_group)).await.unwrap();
            assert_eq!(again.outcome, Seen::Again, "{role}");
        }
        assert_eq!(acks(&ward).await.len(), 4);
        assert_eq!(ward.audit().await.len(), audit, "not audited");
    }

    #[tokio::test]
    async fn a_household_counts_in_its_own_group_whichever_copy() {
        let ward = Ward::new().await;
        let code = sent(&ward).await;
        let mut tx = ward.tx().await;
        let household: i64 = sqlx::query_scalar(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street,
                phone, members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (?, ?, 'Nguyễn Cư Dân', 'nguyen cu dan', '12', 'Ngõ 41', '0912345678', 3, 2, 1, 1, 'approved', ?, ?)
             RETURNING id",
        )
        .bind(ward.group)
        .bind(ward.resident)
        .bind(ward.now())
        .bind(ward.now())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(try_ack(&ward, ward.resident, code, Some(ward.other_group)).await.unwrap().told.is_empty());
        assert!(try_ack(&ward, ward.other_leader, code, None).await.unwrap().told.is_empty());
        assert_eq!(
            acks(&ward).await,
            [(ward.other_leader, None, None), (ward.resident, Some(ward.group), Some(household))]
        );
    }

    #[tokio::test]
    async fn a_draft_a_cancelled_or_an_unknown_notice_is_not_acknowledged() {
        let ward = Ward::new().await;
        let draft = drafted(&ward, ward.leader, "Họp tổ").await;
        assert!(matches!(refused(try_ack(&ward, ward.resident, draft, None).await), Refusal::State(_)));
        let mut tx = ward.tx().await;
        assert!(super::super::cancel(&ward.app, &mut tx, &ward.actor(ward.leader), draft)
            .await
            .unwrap()
            .told
            .is_empty());
        tx.commit().await.unwrap();
        assert!(matches!(refused(try_ack(&ward, ward.resident, draft, None).await), Refusal::State(_)));
        let missing = refused(try_ack(&ward, ward.resident, NoticeCode::new(9), None).await);
        assert!(matches!(missing, Refusal::NotFound { .. }), "{missing:?}");
        assert!(acks(&ward).await.is_empty());
    }
}
