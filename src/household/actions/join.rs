//! The people of a household besides its head: the head's code to share,
//! a person asking with it, a leader proposing someone, the head's answer,
//! a member leaving. Only the head lets anyone in.

use chrono::Duration;
use sqlx::SqliteConnection;

use super::display_name;
use crate::action::{Acted, Actor, Choice, Done, Notification};
use crate::channel::UserAddr;
use crate::household::{repo, Household, Status};
use crate::refusal::Refusal;
use crate::roles;

/// How long a code may be used.
pub const VALID_DAYS: i64 = 3;

const WRONG_CODE: &str = "Mã mời này không đúng hoặc đã hết hạn. Xin bác hỏi chủ hộ mã mới.";

/// The head's answer to a request: `hj:<ok|no>:<request>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinAnswer {
    pub request: i64,
    pub accept: bool,
}

impl JoinAnswer {
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("hj:")?;
        let (word, id) = rest.split_once(':')?;
        let accept = match word {
            "ok" => true,
            "no" => false,
            _ => return None,
        };
        Some(Self { request: id.parse().ok()?, accept })
    }

    pub fn data(self) -> String {
        format!("hj:{}:{}", if self.accept { "ok" } else { "no" }, self.request)
    }
}

/// A household's new code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    pub household: i64,
    /// `HO5-7KQ2`.
    pub code: String,
}

impl Invited {
    /// What the head reads.
    pub fn text(&self) -> String {
        format!(
            "Mã mời vào hộ #{}: {}\nNgười trong hộ nhắn mã này cho bot (tin nhắn riêng) trong {VALID_DAYS} ngày; bác bấm «Đồng ý» thì người đó vào hộ.",
            self.household, self.code
        )
    }
}

/// **Invite into a household** (the action): its head, once it is
/// approved, gets a code to share, replacing the one before. Audited
/// (`household.invite`, without the code).
pub async fn invite(conn: &mut SqliteConnection, actor: &Actor, household_id: i64) -> Acted<Invited> {
    let Some(household) = repo::get(&mut *conn, household_id).await? else {
        return Err(Refusal::not_found("hồ sơ hộ", format!("#{household_id}")).into());
    };
    if household.owner_user_id != actor.user {
        return Err(Refusal::no_right("mời người vào hộ này").into());
    }
    if household.status != Status::Approved {
        return Err(Refusal::state("Chỉ chủ hộ mời được người vào hộ đã được duyệt.").into());
    }
    let code = format!("HO{}-{}", household.id, crate::text::random_code(4)?);
    sqlx::query(
        "INSERT INTO household_invites (household_id, code, created_at) VALUES (?, ?, ?)
         ON CONFLICT (household_id) DO UPDATE SET code = excluded.code, created_at = excluded.created_at",
    )
    .bind(household.id)
    .bind(&code)
    .bind(actor.at)
    .execute(&mut *conn)
    .await?;
    crate::audit::record(&mut *conn, actor, "household.invite", &format!("household:{}", household.id), None).await?;
    Ok(Done::quiet(Invited { household: household.id, code }))
}

/// What asking a head came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The person is in the household already (or heads it).
    Already { household: i64 },
    /// A request waits for the head already.
    Waiting { household: i64 },
    /// A new request, put to the head.
    Sent { household: i64, request: i64 },
}

impl Asked {
    /// What the person who asked reads.
    pub fn text(&self) -> String {
        match *self {
            Asked::Already { household } => format!("Bác đã ở trong hộ #{household} rồi ạ."),
            Asked::Waiting { .. } => "Lời xin của bác đang chờ chủ hộ đồng ý.".to_string(),
            Asked::Sent { household, .. } => {
                format!("Đã gửi lời xin vào hộ #{household} tới chủ hộ. Bot sẽ báo khi chủ hộ trả lời.")
            }
        }
    }
}

/// **Ask to join a household** (the action) with its head's code, typed
/// as `HO5-7KQ2`: anyone may, within [`VALID_DAYS`] of the code. The head
/// is asked **Đồng ý / Không**, once. Audited (`household.member.ask`).
pub async fn ask(conn: &mut SqliteConnection, actor: &Actor, code: &str) -> Acted<Asked> {
    let found: Option<(i64, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT household_id, created_at FROM household_invites WHERE code = ?")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((household_id, made)) = found else {
        return Err(Refusal::input(WRONG_CODE).into());
    };
    if actor.at - made > Duration::days(VALID_DAYS) {
        return Err(Refusal::state(WRONG_CODE).into());
    }
    let Some(household) = repo::get(&mut *conn, household_id).await? else {
        return Err(Refusal::state("Hộ này không còn trên bot.").into());
    };
    let asked = request(&mut *conn, &household, actor.user, None, actor.at).await?;
    let Asked::Sent { request, .. } = asked else {
        return Ok(Done::quiet(asked));
    };
    let subject = format!("household_join:{request}");
    crate::audit::record(&mut *conn, actor, "household.member.ask", &subject, None).await?;
    let name = display_name(&mut *conn, actor.user).await?;
    let text = format!("{name} xin vào hộ #{household_id} của bác. Bác có đồng ý không ạ?");
    Ok(Done::new(asked, vec![head_question(&household, request, text)]))
}

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

/// The head's Đồng ý / Không question for a request.
fn head_question(household: &Household, request: i64, text: String) -> Notification {
    Notification::person(household.owner_user_id, text).with_choices(vec![vec![
        Choice::new("✅ Đồng ý", JoinAnswer { request, accept: true }.data()),
        Choice::new("Không", JoinAnswer { request, accept: false }.data()),
    ]])
}

/// A request for `user` to join `household`, unless they are in it or
/// one waits; `proposed_by` the leader who proposed it.
async fn request(
    conn: &mut SqliteConnection,
    household: &Household,
    user: i64,
    proposed_by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Asked> {
    let id = household.id;
    let already: bool = household.owner_user_id == user
        || sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM household_members WHERE household_id = ? AND user_id = ?)")
            .bind(id)
            .bind(user)
            .fetch_one(&mut *conn)
            .await?;
    if already {
        return Ok(Asked::Already { household: id });
    }
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM household_join_requests WHERE household_id = ? AND user_id = ? AND status = 'pending'",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    if pending.is_some() {
        return Ok(Asked::Waiting { household: id });
    }
    let request: i64 = sqlx::query_scalar(
        "INSERT INTO household_join_requests (household_id, user_id, status, requested_at, proposed_by)
         VALUES (?, ?, 'pending', ?, ?) RETURNING id",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .bind(proposed_by)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Asked::Sent { household: id, request })
}

/// The head's answer, taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub household: i64,
    /// Who asked.
    pub user: i64,
    pub name: String,
    pub accepted: bool,
}

impl Answered {
    fn done(&self) -> &'static str {
        if self.accepted {
            "Đã đồng ý"
        } else {
            "Đã từ chối"
        }
    }

    /// What the head reads.
    pub fn text(&self) -> String {
        format!("{}.", self.done())
    }

    /// The head's question once answered.
    pub fn card(&self) -> String {
        format!("{} xin vào hộ #{}: {}.", self.name, self.household, self.done().to_lowercase())
    }
}

/// **Answer a request to join** (the action): only the household's head
/// may, once; to anyone else the request is not theirs to answer. The
/// person who asked is told. Audited (`household.member.accept` /
/// `household.member.decline`).
pub async fn answer(conn: &mut SqliteConnection, actor: &Actor, request: i64, accept: bool) -> Acted<Answered> {
    let found: Option<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT r.household_id, r.user_id, r.status, h.owner_user_id
         FROM household_join_requests r JOIN households h ON h.id = r.household_id WHERE r.id = ?",
    )
    .bind(request)
    .fetch_optional(&mut *conn)
    .await?;
    // Anyone but the head learns nothing of the request, not even that it is.
    let Some((household, user, status, _)) = found.filter(|f| f.3 == actor.user) else {
        return Err(Refusal::no_right("trả lời lời xin vào hộ này").into());
    };
    if status != "pending" {
        return Err(Refusal::state("Lời xin này đã được trả lời.").into());
    }
    let to = if accept { "accepted" } else { "declined" };
    let moved = sqlx::query(
        "UPDATE household_join_requests SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
    )
    .bind(to)
    .bind(actor.at)
    .bind(request)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(Refusal::Overtaken { what: "Lời xin vào hộ".into() }.into());
    }
    if accept {
        sqlx::query(
            "INSERT INTO household_members (household_id, user_id, accepted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(household)
        .bind(user)
        .bind(actor.at)
        .execute(&mut *conn)
        .await?;
    }
    let action = if accept { "household.member.accept" } else { "household.member.decline" };
    crate::audit::record(&mut *conn, actor, action, &format!("household_join:{request}"), None).await?;
    let name = roles::user_addr(&mut *conn, user).await?.map(|(_, name)| name).unwrap_or_default();
    let told = if accept {
        format!("✅ Chủ hộ đã đồng ý: bác đã vào hộ #{household}. Gõ /hocuatoi để xem.")
    } else {
        format!("Chủ hộ chưa đồng ý cho bác vào hộ #{household}.")
    };
    let answered = Answered { household, user, name, accepted: accept };
    Ok(Done::new(answered, vec![Notification::person(user, told)]))
}

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
    use super::super::testing::{household, who};
    use super::*;
    use crate::action::{Door, To};
    use crate::channel::Channel;
    use crate::refusal::Stop;
    use crate::testing::Ward;

    #[test]
    fn answers_read_back() {
        for a in [JoinAnswer { request: 12, accept: true }, JoinAnswer { request: 3, accept: false }] {
            assert_eq!(JoinAnswer::parse(&a.data()), Some(a));
        }
        assert_eq!(JoinAnswer::parse("hj:maybe:1"), None);
    }

    fn actions(note: &Notification) -> Vec<String> {
        note.choices
            .iter()
            .flatten()
            .filter_map(|c| match c {
                Choice::Act { action, .. } => Some(action.clone()),
                Choice::Private { .. } => None,
            })
            .collect()
    }

    /// The action's result, its transaction committed.
    macro_rules! act {
        ($ward:expr, |$c:ident| $action:expr) => {{
            let mut tx = $ward.tx().await;
            let $c: &mut SqliteConnection = &mut tx;
            let acted = $action.await;
            tx.commit().await.unwrap();
            acted
        }};
    }

    fn refused<T: std::fmt::Debug>(acted: &Acted<T>) -> &Refusal {
        match acted {
            Err(Stop::Refused(r)) => r,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[tokio::test]
    async fn only_the_head_of_an_approved_household_invites() {
        let ward = Ward::new().await;
        let pending = household(&ward, Status::Pending).await;
        let id = household(&ward, Status::Approved).await;
        for role in ["official", "leader", "other leader"] {
            let acted = act!(ward, |c| invite(c, &ward.actor(who(&ward, role)), id));
            assert!(matches!(refused(&acted), Refusal::NoRight { .. }), "{role}");
        }
        let acted = act!(ward, |c| invite(c, &ward.actor(ward.resident), pending));
        assert!(matches!(refused(&acted), Refusal::State(_)));
        assert!(ward.audit().await.is_empty());
        let done = act!(ward, |c| invite(c, &ward.actor(ward.resident), id)).unwrap();
        assert!(done.outcome.code.starts_with(&format!("HO{id}-")) && done.outcome.code.len() == 8);
        assert!(done.outcome.text().contains(&done.outcome.code));
        assert!(done.told.is_empty());
        assert_eq!(ward.audit().await[0].1, "household.invite");
    }

    /// A person on Telegram who asks with the approved household's code:
    /// the household, the person and the code.
    async fn invited(ward: &Ward) -> (i64, i64, String) {
        household(ward, Status::Approved).await;
        let id = household(ward, Status::Approved).await;
        let asker = ward.person("500", "Trần Thị Hai").await;
        let code = act!(ward, |c| invite(c, &ward.actor(ward.resident), id)).unwrap().outcome.code;
        (id, asker, code)
    }

    #[tokio::test]
    async fn a_person_asks_with_the_code_and_the_head_says_yes_once() {
        let ward = Ward::new().await;
        let (id, asker, code) = invited(&ward).await;
        let wrong = act!(ward, |c| ask(c, &ward.actor(asker), "HO1-ZZZZ"));
        assert!(matches!(refused(&wrong), Refusal::Input(t) if t == WRONG_CODE));
        let done = act!(ward, |c| ask(c, &ward.actor_at(asker, Door::Zalo), &code)).unwrap();
        let Asked::Sent { household: h, request } = done.outcome else { panic!("{:?}", done.outcome) };
        assert_eq!(h, id);
        assert!(done.outcome.text().starts_with(&format!("Đã gửi lời xin vào hộ #{id}")));
        assert_eq!(done.told.len(), 1);
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert_eq!(done.told[0].text, format!("Trần Thị Hai xin vào hộ #{id} của bác. Bác có đồng ý không ạ?"));
        assert_eq!(actions(&done.told[0]), [format!("hj:ok:{request}"), format!("hj:no:{request}")]);
        let again = act!(ward, |c| ask(c, &ward.actor(asker), &code)).unwrap();
        assert_eq!(again.outcome, Asked::Waiting { household: id });
        assert!(again.told.is_empty(), "the head is asked once");

        // Nobody but the head answers.
        for (role, user) in ward.everyone() {
            if role == "resident" {
                continue;
            }
            let acted = act!(ward, |c| answer(c, &ward.actor(user), request, true));
            assert!(matches!(refused(&acted), Refusal::NoRight { .. }), "{role}");
        }
        let acted = act!(ward, |c| answer(c, &ward.actor(asker), request, true));
        assert!(matches!(refused(&acted), Refusal::NoRight { .. }), "the asker neither");
        let done = act!(ward, |c| answer(c, &ward.actor(ward.resident), request, true)).unwrap();
        assert_eq!(done.outcome, Answered { household: id, user: asker, name: "Trần Thị Hai".into(), accepted: true });
        assert_eq!(done.outcome.card(), format!("Trần Thị Hai xin vào hộ #{id}: đã đồng ý."));
        assert_eq!(done.told[0].to, To::Person(asker));
        assert!(done.told[0].text.contains("bác đã vào hộ"), "{}", done.told[0].text);
        let twice = act!(ward, |c| answer(c, &ward.actor(ward.resident), request, false));
        assert!(matches!(refused(&twice), Refusal::State(_)));
        let member = act!(ward, |c| ask(c, &ward.actor(asker), &code)).unwrap();
        assert_eq!(member.outcome, Asked::Already { household: id });

        let audit: Vec<_> = ward.audit().await.into_iter().map(|r| (r.0, r.1, r.4)).collect();
        assert_eq!(
            audit[1..],
            [
                (Some(asker), "household.member.ask".into(), Some("zalo".into())),
                (Some(ward.resident), "household.member.accept".into(), Some("telegram".into())),
            ]
        );
    }

    #[tokio::test]
    async fn a_code_three_days_old_is_refused() {
        let ward = Ward::new().await;
        let (_, asker, code) = invited(&ward).await;
        ward.clock.advance(Duration::days(VALID_DAYS) + Duration::seconds(1));
        let late = act!(ward, |c| ask(c, &ward.actor(asker), &code));
        assert!(matches!(refused(&late), Refusal::State(t) if t == WRONG_CODE));
    }

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
