//! The notice's ward actions, callable from any door (see [`crate::action`]):
//! writing a draft and changing it (`draft`), sending it now or at its
//! time and cancelling it (`send`), and a resident's «Đã xem» (`seen`).
//!
//! Rights, checked by each action whichever door calls it: a draft is its
//! author's alone, and only while they are still staff; a leader reaches the
//! groups they lead, an official every group. A notice waiting for its time
//! may also be cancelled by an official (`/henlich` shows them every one).
//! Anyone may say they saw a notice that went out.

mod draft;
mod seen;
mod send;

pub use draft::{create, edit, groups_for, too_long, Created, Draft, Edit, Reach};
pub use seen::{acknowledge, Seen};
pub use send::{cancel, schedule, send, Cancelled, Sent};

use sqlx::SqliteConnection;

use super::preview::allowed_groups;
use super::{repo, Notice, NoticeCode, Status};
use crate::refusal::{Refusal, Stop};

/// Someone who leads no group and is no official.
pub const NOT_STAFF: Refusal =
    Refusal::OnlyFor { who: "tổ trưởng, tổ phó và cán bộ phường", to: "gửi được thông báo" };

/// Someone else's draft.
const NOT_AUTHOR: Refusal = Refusal::OnlyFor { who: "người soạn thông báo", to: "dùng được nút này" };

/// The groups `user` may send notices to (every group for an official,
/// those they lead for a leader); refused when none.
pub async fn reach(conn: &mut SqliteConnection, user: i64) -> Result<Vec<i64>, Stop> {
    let groups: Vec<i64> = allowed_groups(conn, user).await?.into_iter().map(|g| g.id).collect();
    if groups.is_empty() {
        return Err(NOT_STAFF.into());
    }
    Ok(groups)
}

/// `code`, if it is `user`'s draft, with the groups they reach: what
/// every change of a draft checks first (and what a door checks before
/// showing a draft's picker or asking its time).
pub async fn own_draft(conn: &mut SqliteConnection, user: i64, code: NoticeCode) -> Result<(Notice, Vec<i64>), Stop> {
    let Some(notice) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("thông báo", code).into());
    };
    if notice.sender != user {
        return Err(NOT_AUTHOR.into());
    }
    let groups = reach(conn, user).await?;
    if notice.status != Status::Draft {
        return Err(Refusal::state(format!("Thông báo {code} đã được gửi hoặc huỷ.")).into());
    }
    Ok((notice, groups))
}

fn subject(code: NoticeCode) -> String {
    format!("notice:{}", code.id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Acted, Actor};
    use crate::testing::Ward;

    /// A draft by `author` to every group they reach.
    pub(super) async fn drafted(ward: &Ward, author: i64, text: &str) -> NoticeCode {
        let draft = Draft { text: text.into(), photo: None, reach: Reach::All };
        let mut tx = ward.tx().await;
        let done = create(&mut tx, &ward.actor(author), draft).await.expect("a draft");
        tx.commit().await.unwrap();
        done.outcome.code
    }

    pub(super) async fn notice(ward: &Ward, code: NoticeCode) -> Notice {
        repo::get(&mut *ward.db.read().await.unwrap(), code).await.unwrap().expect("the notice")
    }

    pub(super) async fn targets(ward: &Ward, code: NoticeCode) -> Vec<i64> {
        repo::targets(&mut *ward.db.read().await.unwrap(), code).await.unwrap()
    }

    pub(super) fn refused<T: std::fmt::Debug>(acted: Acted<T>) -> Refusal {
        match acted {
            Err(Stop::Refused(refusal)) => refusal,
            other => panic!("not refused: {other:?}"),
        }
    }

    pub(super) fn actor_of(ward: &Ward, role: &str) -> Actor {
        ward.actor(ward.everyone().into_iter().find(|(r, _)| *r == role).expect("a role").1)
    }

    #[tokio::test]
    async fn a_draft_is_its_authors_alone_and_only_while_staff() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ").await;
        let mut conn = ward.db.read().await.unwrap();
        let (draft, groups) = own_draft(&mut conn, ward.leader, code).await.unwrap();
        assert_eq!((draft.code, groups), (code, vec![ward.group]));
        for user in [ward.official, ward.other_leader, ward.resident] {
            let refusal = own_draft(&mut conn, user, code).await.map(|_| ()).unwrap_err();
            assert!(matches!(refusal, Stop::Refused(Refusal::OnlyFor { who: "người soạn thông báo", .. })));
        }
        let missing = own_draft(&mut conn, ward.leader, NoticeCode::new(99)).await.map(|_| ()).unwrap_err();
        assert!(matches!(missing, Stop::Refused(Refusal::NotFound { .. })), "{missing:?}");
        drop(conn);
        // A leader no more: the draft stays theirs but reaches nothing.
        let mut tx = ward.tx().await;
        sqlx::query("DELETE FROM leaders").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = ward.db.read().await.unwrap();
        let revoked = own_draft(&mut conn, ward.leader, code).await.map(|_| ()).unwrap_err();
        assert!(matches!(revoked, Stop::Refused(NOT_STAFF)), "{revoked:?}");
    }
}
