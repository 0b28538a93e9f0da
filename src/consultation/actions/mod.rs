//! The consultation's ward actions, callable from any door (see
//! [`crate::action`]): a draft written (`create`), dropped (`cancel`) or
//! sent (`send`); a household's answer (`answer`) and a paper answer
//! recorded for it (`record_paper`); the close, early or at its time
//! (`close`). Each checks who may and the consultation's state itself,
//! whichever door calls it.
//!
//! What a door still does around them, because only a chat has it: the
//! secret ballot's scrub mark on the update that carried a press (see
//! `secrecy::pressed`), and forgetting the options a Zalo chat was offered.

mod answer;
mod close;
mod draft;
mod paper;

pub use answer::{answer, may_answer, Answered};
pub use close::{close, Closed};
pub use draft::{askable_groups, cancel, create, send, Asked, Drafted, Sent, REFUSED};
pub use paper::{record_paper, PaperRecorded};

pub(super) use answer::{already, closed, not_registered, whose};

#[cfg(test)]
mod tests {
    //! What the actions' tests share: a ward whose first group has approved
    //! households, and consultations asked of it.

    use chrono::Duration;

    use crate::consultation::repo::{self, Draft};
    use crate::consultation::{default_options, Ballot, Consultation, ConsultationCode, Unit};
    use crate::testing::Ward;

    /// An approved household of `group`, its head `owner`: three people.
    pub async fn household(ward: &Ward, owner: i64, group: i64, house: &str) -> i64 {
        ward.household(owner, group, house, 3, 1).await
    }

    /// What the leader would write: two days, the default options.
    pub fn draft(ward: &Ward, ballot: Ballot) -> Draft {
        let (options, other) = default_options();
        Draft {
            question: "Đặt tên đường là Hoa Sữa?".into(),
            explanation: None,
            photo: None,
            options,
            other,
            unit: Unit::Household,
            ballot,
            closes_at: ward.now() + Duration::days(2),
        }
    }

    /// A draft of the leader's for their group.
    pub async fn drafted(ward: &Ward, ballot: Ballot) -> ConsultationCode {
        let mut tx = ward.tx().await;
        let code = repo::create(&mut tx, ward.leader, &draft(ward, ballot), &[ward.group], ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        code
    }

    /// The resident's household in the leader's group, and the leader's
    /// consultation sent to it: open.
    pub async fn opened(ward: &Ward, ballot: Ballot) -> (Consultation, i64) {
        let household = household(ward, ward.resident, ward.group, "5").await;
        let code = drafted(ward, ballot).await;
        let mut tx = ward.tx().await;
        let c = repo::get(&mut tx, code).await.unwrap().unwrap();
        repo::open(&mut tx, &c, ward.now()).await.unwrap().unwrap();
        let c = repo::get(&mut tx, code).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        (c, household)
    }

    pub async fn get(ward: &Ward, code: ConsultationCode) -> Consultation {
        repo::get(&mut ward.db.read().await.unwrap(), code).await.unwrap().unwrap()
    }
}
