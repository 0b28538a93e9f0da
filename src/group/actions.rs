//! Linking a chat to a group of the ward, callable from any door (see
//! [`crate::action`]). Only officials link; the group is made on its first
//! link, found again by its name with or without diacritics.

use sqlx::SqliteConnection;

use super::{by_chat, by_id, Group};
use crate::action::{Acted, Actor, Done};
use crate::channel::ChatAddr;
use crate::refusal::Refusal;
use crate::roles;
use crate::text::{fold, squash};

/// A group's name as typed: 2 to 100 characters, spaces squashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(typed: &str) -> Option<Self> {
        let name = squash(typed);
        (2..=100).contains(&name.chars().count()).then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub group: Group,
    /// The group the chat was linked to before, if any (maybe the same).
    pub previous: Option<Group>,
}

impl Linked {
    /// What the chat reads.
    pub fn text(&self) -> String {
        let group = &self.group.name;
        match &self.previous {
            Some(p) if p.id == self.group.id => format!("Nhóm chat này đã được liên kết với «{group}» từ trước."),
            Some(p) => format!("Đã chuyển liên kết nhóm chat này từ «{}» sang «{group}».", p.name),
            None => format!("Đã liên kết nhóm chat này với «{group}». Bà con gõ /dangky để đăng ký hộ gia đình."),
        }
    }
}

/// **Link a group chat** (the action): an official links `chat` to the
/// group named `name`, making the group if the ward has none of that name,
/// moving the chat from the group it was linked to before. Audited
/// (`group.link`, with the chat's id) each time, even when it was linked
/// already: the official's word is recorded.
pub async fn link(conn: &mut SqliteConnection, actor: &Actor, chat: &ChatAddr, name: &GroupName) -> Acted<Linked> {
    if !roles::is_official(&mut *conn, actor.user).await? {
        return Err(Refusal::OnlyFor { who: "cán bộ phường", to: "liên kết được nhóm" }.into());
    }
    let group_id: i64 = sqlx::query_scalar(
        "INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name_folded) DO UPDATE SET name_folded = excluded.name_folded RETURNING id",
    )
    .bind(name.as_str())
    .bind(fold(name.as_str()))
    .bind(actor.at)
    .fetch_one(&mut *conn)
    .await?;
    let group = by_id(&mut *conn, group_id).await?.ok_or_else(|| anyhow::anyhow!("group vanished"))?;
    let previous = by_chat(&mut *conn, chat).await?;
    sqlx::query(
        "INSERT INTO group_chats (channel, chat_id, group_id, linked_by, linked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (channel, chat_id) DO UPDATE SET group_id = excluded.group_id, linked_by = excluded.linked_by, linked_at = excluded.linked_at",
    )
    .bind(chat.channel.as_str())
    .bind(&chat.id)
    .bind(group.id)
    .bind(actor.user)
    .bind(actor.at)
    .execute(&mut *conn)
    .await?;
    crate::audit::record(&mut *conn, actor, "group.link", &format!("group:{}", group.id), Some(&chat.id)).await?;
    Ok(Done::quiet(Linked { group, previous }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Door;
    use crate::refusal::Stop;
    use crate::testing::Ward;

    async fn try_link(ward: &Ward, actor: &Actor, chat: &str, name: &str) -> Acted<Linked> {
        let mut tx = ward.tx().await;
        let acted = link(&mut tx, actor, &ward.chat(chat), &GroupName::parse(name).unwrap()).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn groups(ward: &Ward) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM groups").fetch_one(&mut *ward.db.read().await.unwrap()).await.unwrap()
    }

    #[test]
    fn a_name_is_two_to_a_hundred_characters() {
        assert_eq!(GroupName::parse("  Tổ   dân phố 12 ").unwrap().as_str(), "Tổ dân phố 12");
        for bad in ["", " T ", &"x".repeat(101)] {
            assert_eq!(GroupName::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn an_official_links_a_new_chat_then_moves_it() {
        let ward = Ward::new().await;
        let official = ward.actor_at(ward.official, Door::Cli);
        let done = try_link(&ward, &official, "-1003", "Tổ Ba").await.unwrap();
        assert!(done.told.is_empty());
        assert_eq!(done.outcome.previous, None);
        assert_eq!(
            done.outcome.text(),
            "Đã liên kết nhóm chat này với «Tổ Ba». Bà con gõ /dangky để đăng ký hộ gia đình."
        );
        let made = done.outcome.group.id;
        assert_eq!(groups(&ward).await, 3);
        // The same name without diacritics is the same group.
        let again = try_link(&ward, &official, "-1003", "to ba").await.unwrap();
        assert_eq!(again.outcome.group.id, made);
        assert!(again.outcome.text().contains("từ trước"), "{}", again.outcome.text());
        // The first group's chat moves to the new group.
        let moved = try_link(&ward, &official, "-1001", "Tổ Ba").await.unwrap();
        assert_eq!(moved.outcome.text(), "Đã chuyển liên kết nhóm chat này từ «Tổ 1» sang «Tổ Ba».");
        let chat = ward.chat("-1001");
        let now = super::by_chat(&mut ward.db.read().await.unwrap(), &chat).await.unwrap();
        assert_eq!(now.map(|g| g.id), Some(made));
        assert_eq!(groups(&ward).await, 3);
        let audit = ward.audit().await;
        assert_eq!(audit.len(), 3);
        assert_eq!(
            audit[2],
            (
                Some(ward.official),
                "group.link".into(),
                format!("group:{made}"),
                Some("-1001".into()),
                Some("cli".into())
            )
        );
    }

    #[tokio::test]
    async fn only_officials_link() {
        // The refused first, on one ward: a refusal writes nothing.
        let ward = Ward::new().await;
        for (role, user) in ward.everyone().into_iter().rev() {
            let acted = try_link(&ward, &ward.actor(user), "-1009", "Tổ Chín").await;
            if role == "official" {
                assert!(acted.is_ok(), "{acted:?}");
            } else {
                assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}");
                assert_eq!(groups(&ward).await, 2, "{role}: no group made");
            }
        }
    }
}
