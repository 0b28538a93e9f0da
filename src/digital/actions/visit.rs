//! A visit to a household recorded, callable from any door: the visit is
//! kept, and the household's indicators move at once, each change an event
//! with the visit ([`crate::digital::change`]); a member is trusted for
//! these.

use chrono::NaiveDate;
use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::digital::{self, Household, Indicators, Source};
use crate::refusal::{Refusal, Stop};

/// The longest note.
pub const MAX_NOTE: usize = 300;

/// What was done for a helped household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Help {
    /// VNeID level 2 reached by this many more people.
    Vneid(i64),
    Epayment,
    WardApp,
    JoinedGroup,
    PublicService,
}

impl Help {
    /// As the visit's dialogue names it (`dialogues/visit.toml`); a VNeID
    /// help with the number of people.
    pub fn parse(code: &str, vneid_added: i64) -> Option<Self> {
        Some(match code {
            "vneid" => Help::Vneid(vneid_added),
            "epayment" => Help::Epayment,
            "ward_app" => Help::WardApp,
            "joined_group" => Help::JoinedGroup,
            "public_service" => Help::PublicService,
            _ => return None,
        })
    }

    fn label(self) -> String {
        match self {
            Help::Vneid(n) => format!("VNeID mức 2 cho {n} người"),
            Help::Epayment => "mở tài khoản thanh toán".into(),
            Help::WardApp => "cài ứng dụng của phường".into(),
            Help::JoinedGroup => "vào nhóm của tổ".into(),
            Help::PublicService => "hướng dẫn dịch vụ công".into(),
        }
    }
}

/// How the visit went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Met, and helped with these (maybe none).
    Helped(Vec<Help>),
    NotHome,
    Declined,
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Helped(_) => "helped",
            Outcome::NotHome => "not_home",
            Outcome::Declined => "declined",
        }
    }

    fn did(&self, what: Help) -> bool {
        matches!(self, Outcome::Helped(done) if done.contains(&what))
    }

    fn vneid_added(&self) -> Option<i64> {
        match self {
            Outcome::Helped(done) => done.iter().find_map(|h| match h {
                Help::Vneid(n) => Some(*n),
                _ => None,
            }),
            _ => None,
        }
    }
}

/// A kept outcome's code in words ("đã hỗ trợ").
pub fn outcome_label(code: &str) -> &'static str {
    match code {
        "helped" => "đã hỗ trợ",
        "not_home" => "không có nhà",
        "declined" => "hộ từ chối",
        _ => "đã thăm",
    }
}

/// A visit as told by who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// The day of the visit; None: today.
    pub on: Option<NaiveDate>,
    pub outcome: Outcome,
    pub note: Option<String>,
}

/// What was recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub visit: i64,
    pub household: Household,
    pub on: NaiveDate,
    pub outcome: Outcome,
    /// The household's indicators after the visit.
    pub after: Indicators,
}

impl Recorded {
    /// What the visitor reads.
    pub fn text(&self) -> String {
        let what = match &self.outcome {
            Outcome::Helped(done) if done.is_empty() => "đã gặp hộ".to_string(),
            Outcome::Helped(done) => done.iter().map(|h| h.label()).collect::<Vec<_>>().join(", "),
            other => outcome_label(other.code()).to_string(),
        };
        format!(
            "✅ Đã ghi lần thăm hộ {} ngày {}: {what}.\nHộ nay: {}.\nGõ /ditham để xem các hộ còn lại.",
            self.household.address(),
            self.on.format("%d/%m/%Y"),
            self.after.describe(self.household.members)
        )
    }
}

/// The household `user` may visit: approved (else not found) and in a
/// group they reach (else no right): its team's members, its leaders,
/// officials.
pub async fn visitable(conn: &mut SqliteConnection, user: i64, household: i64) -> Result<Household, Stop> {
    let Some(found) = digital::household(&mut *conn, household).await?.filter(|h| h.approved) else {
        return Err(Refusal::not_found("hộ", format!("#{household}")).into());
    };
    if !digital::reaches(&mut *conn, user, found.group_id).await? {
        return Err(Refusal::no_right("ghi lần thăm hộ của tổ này").into());
    }
    Ok(found)
}

/// **Record a visit** (the action): whoever reaches the household's group
/// ([`visitable`]), on a day not after today. The VNeID count must fit the
/// household as it is now, in this transaction, so that another visit
/// saved meanwhile counts: a household where everyone has it already is
/// the wrong state for it, a number above the room left is wrong input.
/// The visit counts for the visitor's team covering the group. Audited
/// (`visit.record`, with the household); nobody else is told.
pub async fn record(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    household: i64,
    visit: Visit,
) -> Acted<Recorded> {
    let household = visitable(&mut *conn, actor.user, household).await?;
    let today = app.settings.day(actor.at);
    let on = visit.on.unwrap_or(today);
    if on > today {
        return Err(Refusal::input("Ngày thăm không thể sau hôm nay.").into());
    }
    if visit.note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Refusal::input(format!("Ghi chú dài nhất {MAX_NOTE} ký tự.")).into());
    }
    let vneid_added = visit.outcome.vneid_added();
    let room = household.members - household.now.vneid_level2;
    if vneid_added.is_some() && room <= 0 {
        return Err(Refusal::state(format!(
            "Cả {} người trong hộ đã có VNeID mức 2 rồi ạ. Xin bỏ chọn việc VNeID.",
            household.members
        ))
        .into());
    }
    let vneid_added = vneid_added.unwrap_or(0);
    if !(0..=room).contains(&vneid_added) {
        return Err(Refusal::input(format!(
            "Hộ có {} người, đã có {} người có VNeID mức 2, nên lần này nhiều nhất {room} người. Xin nhập lại.",
            household.members, household.now.vneid_level2
        ))
        .into());
    }
    let did = |what| visit.outcome.did(what);
    let team = digital::team_for(&mut *conn, actor.user, household.group_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO visits (household_id, group_id, team_id, by_user_id, visited_on, outcome, vneid_added,
                             epayment_opened, ward_app, joined_group, public_service, note, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(household.id)
    .bind(household.group_id)
    .bind(team)
    .bind(actor.user)
    .bind(on.format("%Y-%m-%d").to_string())
    .bind(visit.outcome.code())
    .bind(vneid_added)
    .bind(did(Help::Epayment))
    .bind(did(Help::WardApp))
    .bind(did(Help::JoinedGroup))
    .bind(did(Help::PublicService))
    .bind(&visit.note)
    .bind(actor.at)
    .fetch_one(&mut *conn)
    .await?;
    let mut after = household.now;
    after.vneid_level2 += vneid_added;
    if vneid_added > 0 {
        // VNeID level 2 is used through its app on a phone: whoever reached
        // it on this visit uses a smartphone.
        after.smartphone_users = after.smartphone_users.max(after.vneid_level2.min(household.members));
    }
    after.has_epayment |= did(Help::Epayment);
    after.ward_app |= did(Help::WardApp);
    after.joined_group |= did(Help::JoinedGroup);
    digital::change(&mut *conn, household.id, after, actor.user, Source::Visit(id), actor.at).await?;
    let detail = format!("household:{}", household.id);
    crate::audit::record(&mut *conn, actor, "visit.record", &format!("visit:{id}"), Some(&detail)).await?;
    Ok(Done::quiet(Recorded { visit: id, household, on, outcome: visit.outcome, after }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Door;
    use crate::digital::actions::team;
    use crate::digital::actions::tests::household as approved;
    use crate::testing::Ward;

    async fn try_record(ward: &Ward, actor: &Actor, household: i64, visit: Visit) -> Acted<Recorded> {
        let mut tx = ward.tx().await;
        let acted = record(&ward.app, &mut tx, actor, household, visit).await;
        tx.commit().await.unwrap();
        acted
    }

    fn helped(done: Vec<Help>) -> Visit {
        Visit { on: None, outcome: Outcome::Helped(done), note: None }
    }

    async fn count(ward: &Ward, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut *ward.db.read().await.unwrap()).await.unwrap()
    }

    /// A team covering the first group, with `member` on it.
    async fn team_with(ward: &Ward, member: i64) -> i64 {
        let mut tx = ward.tx().await;
        let official = ward.actor(ward.official);
        let id = team::create(&mut tx, &official, "Đội Một", &[ward.group]).await.unwrap().outcome.id;
        let _ = team::add_member(&ward.app, &mut tx, &official, id, member).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    #[tokio::test]
    async fn a_member_records_a_visit_that_moves_the_indicators() {
        let ward = Ward::new().await;
        let member = ward.person("500", "Phạm Thị Số").await;
        let team = team_with(&ward, member).await;
        let before = ward.audit().await.len();
        let h = approved(&ward, ward.resident, "8", 4, 1).await;
        let actor = ward.actor_at(member, Door::Zalo);
        let done = try_record(&ward, &actor, h, helped(vec![Help::Vneid(2), Help::Epayment])).await.unwrap();
        assert!(done.told.is_empty());
        let text = done.outcome.text();
        assert!(
            text.starts_with("✅ Đã ghi lần thăm hộ số 8, Xuân La ngày 07/12/2026: VNeID mức 2 cho 2 người, mở tài khoản thanh toán.")
                && text.contains("3 người dùng điện thoại thông minh, có tài khoản thanh toán, VNeID mức 2: 3/4 người"),
            "{text}"
        );
        let row: (Option<i64>, String, i64, bool) =
            sqlx::query_as("SELECT team_id, outcome, vneid_added, epayment_opened FROM visits WHERE id = ?")
                .bind(done.outcome.visit)
                .fetch_one(&mut *ward.db.read().await.unwrap())
                .await
                .unwrap();
        assert_eq!(row, (Some(team), "helped".into(), 2, true));
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM indicator_events WHERE source = 'visit'").await, 3);
        let audit = ward.audit().await;
        assert_eq!(audit.len(), before + 1);
        assert_eq!(
            audit[before],
            (
                Some(member),
                "visit.record".into(),
                format!("visit:{}", done.outcome.visit),
                Some(format!("household:{h}")),
                Some("zalo".into())
            )
        );
        // Not at home: kept, the figures untouched.
        let away = Visit { on: None, outcome: Outcome::NotHome, note: Some("hẹn thứ Bảy".into()) };
        let done = try_record(&ward, &actor, h, away).await.unwrap();
        assert!(done.outcome.text().contains("ngày 07/12/2026: không có nhà."), "{}", done.outcome.text());
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM indicator_events").await, 3);
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM visits").await, 2);
    }

    #[tokio::test]
    async fn who_reaches_the_group_may_record() {
        // The refused first, on one ward: a refusal writes nothing.
        let ward = Ward::new().await;
        let h = approved(&ward, ward.resident, "8", 4, 1).await;
        for (role, user) in ward.everyone().into_iter().rev() {
            let acted = try_record(&ward, &ward.actor(user), h, helped(vec![])).await;
            if ["official", "leader"].contains(&role) {
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                assert!(done.outcome.text().contains(": đã gặp hộ."), "{role}");
            } else {
                assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
                assert_eq!(count(&ward, "SELECT COUNT(*) FROM visits").await, 0, "{role}");
                assert!(ward.audit().await.is_empty(), "{role}");
            }
        }
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM visits").await, 2);
        // A member removed from the team records nothing more.
        let member = ward.person("500", "Phạm Thị Số").await;
        let team = team_with(&ward, member).await;
        let mut tx = ward.tx().await;
        let _ = team::remove_member(&mut tx, &ward.actor(ward.official), team, member).await.unwrap();
        tx.commit().await.unwrap();
        let acted = try_record(&ward, &ward.actor(member), h, helped(vec![])).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{acted:?}");
    }

    #[tokio::test]
    async fn a_visit_that_does_not_fit_the_household_is_refused() {
        let ward = Ward::new().await;
        let leader = ward.actor(ward.leader);
        let full = approved(&ward, ward.resident, "8", 2, 2).await;
        let acted = try_record(&ward, &leader, full, helped(vec![Help::Vneid(1)])).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::State(_)))), "everyone has it: {acted:?}");
        let h = approved(&ward, ward.resident, "10", 4, 3).await;
        let acted = try_record(&ward, &leader, h, helped(vec![Help::Vneid(2)])).await;
        match acted {
            Err(Stop::Refused(Refusal::Input(text))) => assert!(text.contains("nhiều nhất 1 người"), "{text}"),
            other => panic!("{other:?}"),
        }
        let tomorrow = ward.now().date_naive() + chrono::Days::new(1);
        let later = Visit { on: Some(tomorrow), outcome: Outcome::Declined, note: None };
        let acted = try_record(&ward, &leader, h, later).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{acted:?}");
        let gone = try_record(&ward, &leader, 9999, helped(vec![])).await;
        assert!(matches!(gone, Err(Stop::Refused(Refusal::NotFound { .. }))), "{gone:?}");
        assert_eq!(count(&ward, "SELECT COUNT(*) FROM visits").await, 0);
        assert!(ward.audit().await.is_empty());
    }
}
