//! Joining a household: the head's code to share, a person asking with
//! it, the head's answer. Only the head lets anyone in.

use chrono::Duration;
use sqlx::SqliteConnection;

use super::display_name;
use crate::action::{Acted, Actor, Choice, Done, Notification};
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

/// The head's Đồng ý / Không question for a request.
pub(super) fn head_question(household: &Household, request: i64, text: String) -> Notification {
    Notification::person(household.owner_user_id, text).with_choices(vec![vec![
        Choice::new("✅ Đồng ý", JoinAnswer { request, accept: true }.data()),
        Choice::new("Không", JoinAnswer { request, accept: false }.data()),
    ]])
}

/// A request for `user` to join `household`, unless they are in it or
/// one waits; `proposed_by` the leader who proposed it.
pub(super) async fn request(
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

#[cfg(test)]
mod tests {
    use super::super::tests::{actions, household, invited, refused, who};
    use super::*;
    use crate::action::{Door, To};
    use crate::testing::Ward;

    #[test]
    fn answers_read_back() {
        for a in [JoinAnswer { request: 12, accept: true }, JoinAnswer { request: 3, accept: false }] {
            assert_eq!(JoinAnswer::parse(&a.data()), Some(a));
        }
        assert_eq!(JoinAnswer::parse("hj:maybe:1"), None);
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
}
