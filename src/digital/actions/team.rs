//! Community digital teams, callable from any door: an official makes a
//! team covering some groups, and adds or removes its members. A member's
//! role lasts as long as their row.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::group::{self, Group};
use crate::refusal::{Refusal, Stop};
use crate::roles;
use crate::text::{fold, squash};

/// The longest team name.
pub const MAX_NAME: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// The groups it covers, as asked (a group asked twice, once).
    pub groups: Vec<Group>,
}

impl Team {
    /// What the official who made it reads.
    pub fn text(&self) -> String {
        let names: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        let id = self.id;
        format!(
            "Đã lập «{}» (đội số {id}), phụ trách: {}.\nThêm thành viên: /tocongnghe them {id} <mã người dùng>, hoặc trả lời tin nhắn của người đó trong nhóm bằng /tocongnghe them {id}.",
            self.name,
            names.join(", ")
        )
    }
}

/// What a member's addition or removal changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    /// On the team already: nothing written.
    AlreadyIn,
    Removed,
    /// Not on the team: nothing written.
    NotIn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub team: i64,
    pub team_name: String,
    pub user: i64,
    /// How the person is named.
    pub name: String,
    pub change: Change,
}

impl Membership {
    /// What the official reads.
    pub fn text(&self) -> String {
        let (name, team) = (&self.name, &self.team_name);
        match self.change {
            Change::Added => format!("Đã thêm {name} vào «{team}»."),
            Change::AlreadyIn => format!("{name} đã ở trong «{team}» từ trước."),
            Change::Removed => format!("Đã đưa {name} ra khỏi «{team}»."),
            Change::NotIn => format!("{name} không ở trong «{team}»."),
        }
    }
}

async fn official(conn: &mut SqliteConnection, actor: &Actor, to: &'static str) -> Result<(), Stop> {
    if roles::is_official(&mut *conn, actor.user).await? {
        Ok(())
    } else {
        Err(Refusal::OnlyFor { who: "cán bộ phường", to }.into())
    }
}

/// **Make a team** (the action): officials name it (at most [`MAX_NAME`]
/// characters, unique without diacritics) and the groups it covers (at
/// least one). Audited (`digital_team.create`); nobody else is told.
pub async fn create(conn: &mut SqliteConnection, actor: &Actor, name: &str, groups: &[i64]) -> Acted<Team> {
    official(&mut *conn, actor, "lập được tổ công nghệ số").await?;
    let name = squash(name);
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Refusal::input(format!("Tên đội cần từ 1 đến {MAX_NAME} ký tự.")).into());
    }
    let mut covered: Vec<Group> = Vec::new();
    for id in groups {
        match group::by_id(&mut *conn, *id).await? {
            Some(g) if !covered.iter().any(|c| c.id == g.id) => covered.push(g),
            Some(_) => {}
            None => return Err(Refusal::not_found("tổ dân phố", format!("#{id}")).into()),
        }
    }
    if covered.is_empty() {
        return Err(Refusal::input("Một đội cần phụ trách ít nhất một tổ dân phố.").into());
    }
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO digital_teams (name, name_folded, created_by, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name_folded) DO NOTHING RETURNING id",
    )
    .bind(&name)
    .bind(fold(&name))
    .bind(actor.user)
    .bind(actor.at)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Err(Refusal::state(format!("Đã có đội tên «{name}». Xin đặt tên khác.")).into());
    };
    for g in &covered {
        sqlx::query("INSERT INTO digital_team_groups (team_id, group_id) VALUES (?, ?)")
            .bind(id)
            .bind(g.id)
            .execute(&mut *conn)
            .await?;
    }
    crate::audit::record(&mut *conn, actor, "digital_team.create", &format!("team:{id}"), None).await?;
    Ok(Done::quiet(Team { id, name, groups: covered }))
}

/// The team's name and the person's, checked: the actor is an official,
/// the team and the person exist.
async fn resolve(conn: &mut SqliteConnection, actor: &Actor, team: i64, user: i64) -> Result<(String, String), Stop> {
    official(&mut *conn, actor, "thêm, bớt được thành viên tổ công nghệ số").await?;
    let found: Option<String> =
        sqlx::query_scalar("SELECT name FROM digital_teams WHERE id = ?").bind(team).fetch_optional(&mut *conn).await?;
    let Some(team_name) = found else {
        return Err(Refusal::not_found("đội", team).into());
    };
    let name = match roles::user_addr(&mut *conn, user).await? {
        Some((_, name)) if !name.is_empty() => name,
        Some((addr, _)) => format!("người dùng {}", addr.id),
        None => return Err(Refusal::not_found("người dùng", user).into()),
    };
    Ok((team_name, name))
}

/// **Add a member** (the action): officials add a person to a team.
/// Audited (`digital_team.member.add`, with the team) when they were not on
/// it; the new member is told in private what they may now do.
pub async fn add_member(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    team: i64,
    user: i64,
) -> Acted<Membership> {
    let (team_name, name) = resolve(&mut *conn, actor, team, user).await?;
    let added = sqlx::query(
        "INSERT INTO digital_team_members (team_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(team)
    .bind(user)
    .bind(actor.user)
    .bind(actor.at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let change = if added { Change::Added } else { Change::AlreadyIn };
    let membership = Membership { team, team_name, user, name, change };
    if !added {
        return Ok(Done::quiet(membership));
    }
    let detail = format!("team:{team}");
    crate::audit::record(&mut *conn, actor, "digital_team.member.add", &format!("user:{user}"), Some(&detail)).await?;
    let told = Notification::person(
        user,
        format!(
            "Bác đã được thêm vào «{}», tổ công nghệ số cộng đồng của {}. Gõ /ditham để xem các hộ cần đến hỗ trợ, /tiendo để xem tiến độ.",
            membership.team_name, app.settings.ward_name
        ),
    );
    Ok(Done::new(membership, vec![told]))
}

/// **Remove a member** (the action): officials take a person off a team;
/// their reach over its groups ends with it. Audited
/// (`digital_team.member.remove`, with the team) when they were on it.
pub async fn remove_member(conn: &mut SqliteConnection, actor: &Actor, team: i64, user: i64) -> Acted<Membership> {
    let (team_name, name) = resolve(&mut *conn, actor, team, user).await?;
    let removed = sqlx::query("DELETE FROM digital_team_members WHERE team_id = ? AND user_id = ?")
        .bind(team)
        .bind(user)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if removed {
        let detail = format!("team:{team}");
        let subject = format!("user:{user}");
        crate::audit::record(&mut *conn, actor, "digital_team.member.remove", &subject, Some(&detail)).await?;
    }
    let change = if removed { Change::Removed } else { Change::NotIn };
    Ok(Done::quiet(Membership { team, team_name, user, name, change }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Door, To};
    use crate::testing::Ward;

    async fn try_create(ward: &Ward, actor: &Actor, name: &str, groups: &[i64]) -> Acted<Team> {
        let mut tx = ward.tx().await;
        let acted = create(&mut tx, actor, name, groups).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_member(ward: &Ward, actor: &Actor, add: bool, team: i64, user: i64) -> Acted<Membership> {
        let mut tx = ward.tx().await;
        let acted = if add {
            add_member(&ward.app, &mut tx, actor, team, user).await
        } else {
            remove_member(&mut tx, actor, team, user).await
        };
        tx.commit().await.unwrap();
        acted
    }

    async fn reach(ward: &Ward, user: i64) -> Option<Vec<i64>> {
        crate::digital::reach(&mut ward.db.read().await.unwrap(), user).await.unwrap()
    }

    #[tokio::test]
    async fn an_official_makes_a_team_and_names_its_members() {
        let ward = Ward::new().await;
        let official = ward.actor_at(ward.official, Door::Cli);
        let groups = [ward.group, ward.other_group, ward.group];
        let team = try_create(&ward, &official, "  Tổ CNS  số 1 ", &groups).await.unwrap();
        assert!(team.told.is_empty());
        let id = team.outcome.id;
        assert!(team.outcome.text().starts_with("Đã lập «Tổ CNS số 1» (đội số 1), phụ trách: Tổ 1, Tổ 2."));
        let same = try_create(&ward, &official, "to cns so 1", &[ward.group]).await;
        assert!(matches!(same, Err(Stop::Refused(Refusal::State(_)))), "{same:?}");

        assert_eq!(reach(&ward, ward.resident).await, Some(vec![]));
        let added = try_member(&ward, &official, true, id, ward.resident).await.unwrap();
        assert_eq!(added.outcome.text(), "Đã thêm Nguyễn Cư Dân vào «Tổ CNS số 1».");
        assert_eq!(added.told.len(), 1);
        assert_eq!(added.told[0].to, To::Person(ward.resident));
        assert!(added.told[0].text.contains("của Phường Thử. Gõ /ditham"), "{}", added.told[0].text);
        assert_eq!(reach(&ward, ward.resident).await, Some(vec![ward.group, ward.other_group]));
        let again = try_member(&ward, &official, true, id, ward.resident).await.unwrap();
        assert_eq!((again.outcome.change, again.told.len()), (Change::AlreadyIn, 0));

        let removed = try_member(&ward, &official, false, id, ward.resident).await.unwrap();
        assert_eq!(removed.outcome.text(), "Đã đưa Nguyễn Cư Dân ra khỏi «Tổ CNS số 1».");
        assert!(removed.told.is_empty());
        assert_eq!(reach(&ward, ward.resident).await, Some(vec![]));
        let again = try_member(&ward, &official, false, id, ward.resident).await.unwrap();
        assert_eq!(again.outcome.change, Change::NotIn);

        let audit: Vec<_> = ward.audit().await.into_iter().map(|r| (r.1, r.2, r.3, r.4)).collect();
        let user = format!("user:{}", ward.resident);
        let cli = Some("cli".to_string());
        assert_eq!(
            audit,
            [
                ("digital_team.create".into(), format!("team:{id}"), None, cli.clone()),
                ("digital_team.member.add".into(), user.clone(), Some(format!("team:{id}")), cli.clone()),
                ("digital_team.member.remove".into(), user, Some(format!("team:{id}")), cli),
            ]
        );
    }

    #[tokio::test]
    async fn only_officials_make_teams_or_change_members() {
        let ward = Ward::new().await;
        let team = try_create(&ward, &ward.actor(ward.official), "Đội Một", &[ward.group]).await.unwrap();
        let id = team.outcome.id;
        let _ = try_member(&ward, &ward.actor(ward.official), true, id, ward.leader).await.unwrap();
        let before = ward.audit().await.len();
        for (role, user) in ward.everyone().into_iter().filter(|(r, _)| *r != "official") {
            let actor = ward.actor(user);
            let made = try_create(&ward, &actor, "Đội Hai", &[ward.group]).await.map(|d| d.outcome.id);
            assert!(matches!(made, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {made:?}");
            for (add, who) in [(true, ward.resident), (false, ward.leader)] {
                let acted = try_member(&ward, &actor, add, id, who).await;
                assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {acted:?}");
            }
            assert_eq!(ward.audit().await.len(), before, "{role}: a refusal writes nothing");
            assert_eq!(reach(&ward, ward.resident).await, Some(vec![]), "{role}");
        }
    }

    #[tokio::test]
    async fn wrong_names_groups_teams_and_people_are_refused() {
        let ward = Ward::new().await;
        let official = ward.actor(ward.official);
        for (name, groups) in [("", vec![ward.group]), (&*"x".repeat(61), vec![ward.group]), ("Đội", vec![])] {
            let acted = try_create(&ward, &official, name, &groups).await.map(|d| d.outcome.id);
            assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{name}: {acted:?}");
        }
        let nowhere = try_create(&ward, &official, "Đội", &[ward.group, 9999]).await.map(|d| d.outcome.id);
        assert!(matches!(nowhere, Err(Stop::Refused(Refusal::NotFound { .. }))), "{nowhere:?}");
        let no_team = try_member(&ward, &official, true, 7, ward.resident).await;
        assert!(matches!(no_team, Err(Stop::Refused(Refusal::NotFound { what: "đội", .. }))), "{no_team:?}");
        let id = try_create(&ward, &official, "Đội", &[ward.group]).await.unwrap().outcome.id;
        let nobody = try_member(&ward, &official, true, id, 9999).await;
        assert!(matches!(nobody, Err(Stop::Refused(Refusal::NotFound { .. }))), "{nobody:?}");
        assert_eq!(ward.audit().await.len(), 1, "only the team made");
    }
}
