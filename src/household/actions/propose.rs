//! A leader proposes someone for a household of their group; the head
//! still accepts (see `join`).

use sqlx::SqliteConnection;

use super::display_name;
use super::join::{head_question, request, Asked};
use crate::action::{Acted, Actor, Done};
use crate::channel::UserAddr;
use crate::household::{repo, Status};
use crate::refusal::Refusal;
use crate::roles;

/// Whom a leader proposes for a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whom {
    /// A person the bot knows, by our user id.
    User(i64),
    /// A person on a platform, perhaps new to the bot, with the name their
    /// platform gave.
    At { addr: UserAddr, name: Option<String> },
}

/// A proposal put (or not) to the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub asked: Asked,
    /// The household by its door and head, not its number.
    pub line: String,
    /// The person proposed.
    pub name: String,
}

impl Proposed {
    /// What the leader reads.
    pub fn text(&self) -> String {
        let Proposed { line, name, .. } = self;
        match self.asked {
            Asked::Already { .. } => format!("{name} đã ở trong hộ {line} rồi."),
            Asked::Waiting { .. } => format!("Hộ {line}: lời xin cho {name} vào hộ đang chờ chủ hộ đồng ý."),
            Asked::Sent { .. } => format!("Đã hỏi chủ hộ {line}: khi chủ hộ đồng ý, {name} vào hộ."),
        }
    }
}

/// **Propose someone for a household** (the action): a leader of its
/// group, or an official, for an approved household; the head still
/// accepts. Audited (`household.member.propose`).
pub async fn propose(conn: &mut SqliteConnection, actor: &Actor, household_id: i64, whom: Whom) -> Acted<Proposed> {
    let household = repo::get(&mut *conn, household_id).await?.filter(|h| h.status == Status::Approved);
    let Some(household) = household else {
        return Err(Refusal::not_found("hộ đã được duyệt", format!("#{household_id}")).into());
    };
    if !roles::can_manage_group(&mut *conn, actor.user, household.group_id).await? {
        return Err(Refusal::no_right("đề nghị thêm người vào hộ của tổ khác").into());
    }
    let user = match whom {
        Whom::User(id) => id,
        Whom::At { addr, name } => roles::ensure_user(&mut *conn, &addr, name.as_deref(), actor.at).await?,
    };
    let name = match roles::user_addr(&mut *conn, user).await? {
        Some((_, name)) if !name.is_empty() => name,
        Some((addr, _)) => format!("người dùng {}", addr.id),
        None => return Err(Refusal::not_found("người dùng", user).into()),
    };
    let asked = request(&mut *conn, &household, user, Some(actor.user), actor.at).await?;
    let mut told = Vec::new();
    if let Asked::Sent { request, .. } = asked {
        let subject = format!("household_join:{request}");
        crate::audit::record(&mut *conn, actor, "household.member.propose", &subject, None).await?;
        let by = display_name(&mut *conn, actor.user).await?;
        let text =
            format!("{by} (tổ trưởng) đề nghị thêm {name} vào hộ #{household_id} của bác. Bác có đồng ý không ạ?");
        told.push(head_question(&household, request, text));
    }
    Ok(Done::new(Proposed { asked, line: household.details.line(), name }, told))
}

#[cfg(test)]
mod tests {
    use super::super::answer;
    use super::super::tests::{household, refused, who};
    use super::*;
    use crate::action::To;
    use crate::channel::Channel;
    use crate::testing::Ward;

    #[tokio::test]
    async fn the_groups_leader_proposes_someone_new_and_the_head_declines() {
        let ward = Ward::new().await;
        let id = household(&ward, Status::Approved).await;
        let newcomer =
            || Whom::At { addr: UserAddr { channel: Channel::Telegram, id: "600".into() }, name: Some("Bình".into()) };
        for role in ["other leader", "resident"] {
            let acted = act!(ward, |c| propose(c, &ward.actor(who(&ward, role)), id, newcomer()));
            assert!(matches!(refused(&acted), Refusal::NoRight { .. }), "{role}");
        }
        assert!(ward.audit().await.is_empty());
        let done = act!(ward, |c| propose(c, &ward.actor(ward.leader), id, newcomer())).unwrap();
        let Asked::Sent { request, .. } = done.outcome.asked else { panic!("{:?}", done.outcome) };
        assert_eq!(
            done.outcome.text(),
            "Đã hỏi chủ hộ Số 12, ngõ 41, Xuân La — Nguyễn Văn An: khi chủ hộ đồng ý, Bình vào hộ."
        );
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert!(done.told[0].text.starts_with("Trần Tổ Trưởng (tổ trưởng) đề nghị thêm Bình vào hộ"));
        let again = act!(ward, |c| propose(c, &ward.actor(ward.official), id, newcomer())).unwrap();
        assert!(matches!(again.outcome.asked, Asked::Waiting { .. }) && again.told.is_empty());
        let no = act!(ward, |c| answer(c, &ward.actor(ward.resident), request, false)).unwrap();
        assert!(!no.outcome.accepted && no.told[0].text.contains("chưa đồng ý"));
        let pending = household(&ward, Status::Pending).await;
        let acted = act!(ward, |c| propose(c, &ward.actor(ward.leader), pending, Whom::User(ward.official)));
        assert!(matches!(refused(&acted), Refusal::NotFound { .. }));
        let actions: Vec<_> = ward.audit().await.into_iter().map(|r| r.1).collect();
        assert_eq!(actions, ["household.member.propose", "household.member.decline"]);
    }
}
