//! Writing a notice's draft and changing it before it goes: pinned or
//! not, the groups it goes to.

use sqlx::SqliteConnection;

use super::{own_draft, reach, subject, NOT_STAFF};
use crate::action::{Acted, Actor, Done};
use crate::notice::{repo, NoticeCode, TEXT_LIMIT};
use crate::refusal::{Refusal, Stop};

/// Where a new notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every group its author reaches (written in private).
    All,
    /// One group (written in that group's chat): its author must reach it.
    Group(i64),
}

/// A new notice, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub text: String,
    pub photo: Option<String>,
    pub reach: Reach,
}

/// The draft written, and the groups it goes to for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub code: NoticeCode,
    pub groups: Vec<i64>,
}

/// The groups a new notice of `user` goes to, or the refusal.
pub async fn groups_for(conn: &mut SqliteConnection, user: i64, to: Reach) -> Result<Vec<i64>, Stop> {
    let groups = reach(conn, user).await?;
    match to {
        Reach::All => Ok(groups),
        Reach::Group(g) if groups.contains(&g) => Ok(vec![g]),
        Reach::Group(_) => Err(NOT_STAFF.into()),
    }
}

/// Why a notice's text cannot be used, if it cannot.
pub fn too_long(text: &str) -> Option<String> {
    (text.chars().count() > TEXT_LIMIT).then(|| {
        format!("Nội dung dài quá {} ký tự. Xin bác viết ngắn lại.", crate::domain::group_thousands(TEXT_LIMIT as i64))
    })
}

/// **Write a notice** (the action): a draft, seen only by its author until
/// it is sent. Leaders write to the groups they lead, officials to any.
/// Audited (`notice.create`, with the number of groups).
pub async fn create(conn: &mut SqliteConnection, actor: &Actor, draft: Draft) -> Acted<Created> {
    let groups = groups_for(&mut *conn, actor.user, draft.reach).await?;
    if draft.text.trim().is_empty() && draft.photo.is_none() {
        return Err(Refusal::input("Xin nhập nội dung thông báo.").into());
    }
    if let Some(problem) = too_long(&draft.text) {
        return Err(Refusal::input(problem).into());
    }
    let code =
        repo::create_draft(&mut *conn, actor.user, &draft.text, draft.photo.as_deref(), &groups, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "notice.create", &subject(code), Some(&groups.len().to_string())).await?;
    Ok(Done::quiet(Created { code, groups }))
}

/// A change to a draft, as its preview's buttons make them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    TogglePin,
    /// Adds the group, or takes it away.
    ToggleGroup(i64),
    /// Every group the author reaches.
    AllGroups,
    NoGroups,
}

/// **Change a draft** (the action): its author's alone, while it is a
/// draft; a group only among those they reach. A draft's details are not
/// audited: what goes out is, when it is sent.
pub async fn edit(conn: &mut SqliteConnection, actor: &Actor, code: NoticeCode, change: Edit) -> Acted<NoticeCode> {
    let (notice, reach) = own_draft(&mut *conn, actor.user, code).await?;
    match change {
        Edit::TogglePin => repo::set_pin(&mut *conn, code, !notice.pin).await?,
        Edit::ToggleGroup(g) => {
            if !reach.contains(&g) {
                return Err(Refusal::no_right("gửi thông báo tới tổ này").into());
            }
            let mut targets = repo::targets(&mut *conn, code).await?;
            match targets.iter().position(|t| *t == g) {
                Some(i) => {
                    targets.remove(i);
                }
                None => targets.push(g),
            }
            repo::set_targets(&mut *conn, code, &targets).await?;
        }
        Edit::AllGroups => repo::set_targets(&mut *conn, code, &reach).await?,
        Edit::NoGroups => repo::set_targets(&mut *conn, code, &[]).await?,
    }
    Ok(Done::quiet(code))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{actor_of, drafted, notice, refused, targets};
    use super::*;
    use crate::action::Door;
    use crate::notice::Status;
    use crate::testing::Ward;

    async fn try_create(ward: &Ward, actor: &Actor, text: &str, reach: Reach) -> Acted<Created> {
        let mut tx = ward.tx().await;
        let acted = create(&mut tx, actor, Draft { text: text.into(), photo: None, reach }).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_edit(ward: &Ward, actor: &Actor, code: NoticeCode, change: Edit) -> Acted<NoticeCode> {
        let mut tx = ward.tx().await;
        let acted = edit(&mut tx, actor, code, change).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn staff_write_drafts_to_the_groups_they_reach() {
        let ward = Ward::new().await;
        let all = vec![ward.group, ward.other_group];
        for (role, groups) in [
            ("official", Some(all.clone())),
            ("leader", Some(vec![ward.group])),
            ("other leader", Some(vec![ward.other_group])),
            ("resident", None),
        ] {
            let actor = actor_of(&ward, role);
            let acted = try_create(&ward, &actor, "Họp tổ", Reach::All).await;
            match groups {
                Some(groups) => {
                    let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                    assert_eq!(done.outcome.groups, groups, "{role}");
                    assert!(done.told.is_empty(), "a draft tells nobody");
                    let draft = notice(&ward, done.outcome.code).await;
                    assert_eq!(
                        (draft.sender, draft.status, draft.text.as_str()),
                        (actor.user, Status::Draft, "Họp tổ")
                    );
                }
                None => assert_eq!(refused(acted), NOT_STAFF, "{role}"),
            }
        }
        let audit = ward.audit().await;
        assert_eq!(audit.len(), 3, "one row per draft, none for the refusal");
        assert_eq!(
            audit[0],
            (Some(ward.official), "notice.create".into(), "notice:1".into(), Some("2".into()), Some("telegram".into()))
        );
    }

    #[tokio::test]
    async fn in_a_groups_chat_only_that_groups_staff_write() {
        let ward = Ward::new().await;
        let here = Reach::Group(ward.group);
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let acted = try_create(&ward, &actor_of(&ward, role), "Họp tổ", here).await;
            if may {
                assert_eq!(acted.unwrap().outcome.groups, [ward.group], "{role}");
            } else {
                assert_eq!(refused(acted), NOT_STAFF, "{role}");
            }
        }
    }

    #[tokio::test]
    async fn an_empty_or_too_long_notice_is_refused_and_writes_nothing() {
        let ward = Ward::new().await;
        let actor = ward.actor_at(ward.leader, Door::Cli);
        let empty = try_create(&ward, &actor, "  ", Reach::All).await;
        assert!(matches!(refused(empty), Refusal::Input(_)));
        let long = "a".repeat(TEXT_LIMIT + 1);
        let refusal = refused(try_create(&ward, &actor, &long, Reach::All).await);
        assert_eq!(refusal, Refusal::Input("Nội dung dài quá 4.000 ký tự. Xin bác viết ngắn lại.".into()));
        assert!(ward.audit().await.is_empty());
        let mut tx = ward.tx().await;
        let photo = Draft { text: String::new(), photo: Some("photo-id".into()), reach: Reach::All };
        assert!(create(&mut tx, &actor, photo).await.is_ok(), "a photo alone is a notice");
    }

    #[tokio::test]
    async fn its_author_pins_and_chooses_groups_among_those_they_reach() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.official, "Họp toàn phường").await;
        let official = ward.actor(ward.official);
        assert!(try_edit(&ward, &official, code, Edit::TogglePin).await.unwrap().told.is_empty());
        assert!(notice(&ward, code).await.pin);
        assert!(try_edit(&ward, &official, code, Edit::ToggleGroup(ward.group)).await.unwrap().told.is_empty());
        assert_eq!(targets(&ward, code).await, [ward.other_group]);
        assert!(try_edit(&ward, &official, code, Edit::NoGroups).await.unwrap().told.is_empty());
        assert!(targets(&ward, code).await.is_empty());
        assert!(try_edit(&ward, &official, code, Edit::AllGroups).await.unwrap().told.is_empty());
        assert_eq!(targets(&ward, code).await, [ward.group, ward.other_group]);

        // A leader's draft: another group is out of their reach.
        let own = drafted(&ward, ward.leader, "Họp tổ").await;
        let leader = ward.actor(ward.leader);
        let refusal = refused(try_edit(&ward, &leader, own, Edit::ToggleGroup(ward.other_group)).await);
        assert!(matches!(refusal, Refusal::NoRight { .. }), "{refusal:?}");
        for role in ["official", "other leader", "resident"] {
            let refusal = refused(try_edit(&ward, &actor_of(&ward, role), own, Edit::TogglePin).await);
            assert!(matches!(refusal, Refusal::OnlyFor { who: "người soạn thông báo", .. }), "{role}: {refusal:?}");
        }
        assert!(!notice(&ward, own).await.pin);
        assert_eq!(targets(&ward, own).await, [ward.group]);
    }
}
