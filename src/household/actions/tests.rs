//! What the household actions' tests share: a household to act on, the
//! people of the ward by role, an action run in its own transaction.

use super::invite;
use crate::action::{Choice, Notification};
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

/// An action's result, its transaction committed: `act!(ward, |c| invite(c, &actor, id))`.
macro_rules! act {
    ($ward:expr, |$c:ident| $action:expr) => {{
        let mut tx = $ward.tx().await;
        let $c: &mut sqlx::SqliteConnection = &mut tx;
        let acted = $action.await;
        tx.commit().await.unwrap();
        acted
    }};
}

/// The refusal, or a panic.
pub use crate::testing::refused;

/// The action ids of a notification's choices.
pub fn actions(note: &Notification) -> Vec<String> {
    note.choices
        .iter()
        .flatten()
        .filter_map(|c| match c {
            Choice::Act { action, .. } => Some(action.clone()),
            Choice::Private { .. } => None,
        })
        .collect()
}

/// A person on Telegram who asks with the approved household's code:
/// the household, the person and the code.
pub async fn invited(ward: &Ward) -> (i64, i64, String) {
    household(ward, Status::Approved).await;
    let id = household(ward, Status::Approved).await;
    let asker = ward.person("500", "Trần Thị Hai").await;
    let code = act!(ward, |c| invite(c, &ward.actor(ward.resident), id)).unwrap().outcome.code;
    (id, asker, code)
}
