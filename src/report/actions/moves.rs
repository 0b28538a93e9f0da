//! Staff move a case through its lifecycle (accept, in progress, done,
//! decline with a reason) and share its photos with the group's feed.

use sqlx::SqliteConnection;

use super::super::{feed, repo, Report, ReportCode, Status};
use super::ReportButton;
use crate::action::{Acted, Actor, Choice, Done, Notification};
use crate::app::App;
use crate::refusal::{Handled, Refusal};
use crate::roles;

const MAX_NOTE: usize = 500;

/// The report `code`, if the actor may handle it: the leaders of its group
/// and officials. Asked by every action on a case, and by a door before it
/// asks the reason for a decline.
pub async fn may_handle(conn: &mut SqliteConnection, actor: &Actor, code: ReportCode) -> Handled<Report> {
    let Some(report) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("phản ánh", code).into());
    };
    if !roles::can_manage_group(conn, actor.user, report.group_id).await? {
        tracing::warn!(user = actor.user, "report move refused: not staff of the group");
        return Err(Refusal::no_right("xử lý phản ánh của tổ này").into());
    }
    Ok(report)
}

/// A case moved: as it is now, and where it came from.
#[derive(Debug, Clone)]
pub struct Moved {
    pub report: Report,
    pub from: Status,
}

impl Moved {
    /// What the one who moved it reads.
    pub fn text(&self) -> String {
        format!("Đã chuyển {} sang «{}». Người phản ánh đã được báo.", self.report.code, self.report.status.label())
    }
}

/// **Move a case** to `to` (the action: accept, in progress, done, or
/// decline, which needs a reason): staff of its group may, along
/// [`Status::next`]; a closed case stays closed. The move is written with
/// its event (and the note) and audited (`report.status`, with the new
/// status); the reporter is told, and asked for a rating when it is done;
/// a closed case's line goes to the group's feed.
pub async fn move_report(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: ReportCode,
    to: Status,
    note: Option<&str>,
) -> Acted<Moved> {
    let report = may_handle(&mut *conn, actor, code).await?;
    if !report.status.can_move_to(to) {
        return Err(Refusal::State(format!(
            "Phản ánh {code} đang ở trạng thái «{}», không chuyển sang «{}» được.",
            report.status.label(),
            to.label()
        ))
        .into());
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if to == Status::Declined && note.is_none() {
        return Err(Refusal::input("Xin ghi lý do không xử lý.").into());
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Refusal::input("Ghi chú dài quá 500 ký tự. Xin viết ngắn lại.").into());
    }
    if !repo::set_status(&mut *conn, code, report.status, to, actor.at).await? {
        return Err(Refusal::Overtaken { what: format!("Phản ánh {code}") }.into());
    }
    repo::add_event(&mut *conn, code.id(), Some(actor.user), Some(report.status), to, note, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "report.status", &format!("report:{}", code.id()), Some(to.code())).await?;
    let from = report.status;
    let report = repo::get(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;

    let mut told = Vec::new();
    let reporter = report.reporter_user_id;
    let note_line = note.map(|n| format!("\nGhi chú: {n}")).unwrap_or_default();
    match to {
        Status::Accepted => told
            .push(Notification::person(reporter, format!("📥 Phản ánh {code} của bác đã được tiếp nhận.{note_line}"))),
        Status::InProgress => {
            told.push(Notification::person(reporter, format!("🔧 Phản ánh {code} của bác đang được xử lý.{note_line}")))
        }
        Status::Resolved => told.push(
            Notification::person(
                reporter,
                format!("✅ Phản ánh {code} của bác đã được xử lý.{note_line}\n\nBác có hài lòng với kết quả không ạ?"),
            )
            .with_choices(vec![vec![
                Choice::new("😊 Hài lòng", ReportButton::Rate { code, satisfied: true }.data()),
                Choice::new("😞 Không hài lòng", ReportButton::Rate { code, satisfied: false }.data()),
            ]]),
        ),
        Status::Declined => told.push(Notification::person(
            reporter,
            format!("Phản ánh {code} của bác không thuộc phạm vi tổ xử lý.\nLý do: {}", note.unwrap_or("không ghi")),
        )),
        Status::New => {}
    }
    if to.is_closed() {
        told.extend(feed::told(app, &mut *conn, &report, actor.at).await?);
    }
    Ok(Done::new(Moved { report, from }, told))
}

/// The photos of a case shared with its group's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub code: ReportCode,
    /// False if they had been shared already.
    pub posted: bool,
}

impl Shared {
    pub fn text(&self) -> String {
        "Đã đăng ảnh lên bảng tin nhóm.".into()
    }
}

/// **Share a case's photos with the group's feed** (the action): staff of
/// its group may, once the group keeps a feed; once per case. Audited
/// (`report.share_photos`); the photos go to the group's chats.
pub async fn share_photos(conn: &mut SqliteConnection, actor: &Actor, code: ReportCode) -> Acted<Shared> {
    let report = may_handle(&mut *conn, actor, code).await?;
    if !feed::enabled(&mut *conn, report.group_id).await? {
        return Err(Refusal::state("Nhóm chưa bật bảng tin. Gõ /bangtin bat trong nhóm để bật.").into());
    }
    if !repo::set_share_photos(&mut *conn, code).await? {
        return Ok(Done::quiet(Shared { code, posted: false }));
    }
    crate::audit::record(&mut *conn, actor, "report.share_photos", &format!("report:{}", code.id()), None).await?;
    let told = feed::photos_told(&mut *conn, &report).await?;
    Ok(Done::new(Shared { code, posted: true }, told))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Door, Media, To};
    use crate::refusal::Stop;
    use crate::report::actions::tests::{feed_on, filed, status_of};
    use crate::testing::Ward;

    async fn try_move(ward: &Ward, actor: &Actor, code: ReportCode, to: Status, note: Option<&str>) -> Acted<Moved> {
        let mut tx = ward.tx().await;
        let acted = move_report(&ward.app, &mut tx, actor, code, to, note).await;
        tx.commit().await.unwrap();
        acted
    }

    fn refused_with(acted: &Acted<Moved>) -> Option<&Refusal> {
        match acted {
            Err(Stop::Refused(r)) => Some(r),
            _ => None,
        }
    }

    #[tokio::test]
    async fn only_the_groups_leader_and_officials_may_move_a_case() {
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let code = filed(&ward, ward.resident).await;
            let user = ward.everyone().into_iter().find(|(r, _)| *r == role).unwrap().1;
            let acted = try_move(&ward, &ward.actor(user), code, Status::Accepted, None).await;
            if may {
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                assert_eq!((done.outcome.from, done.outcome.report.status), (Status::New, Status::Accepted));
                assert_eq!(done.outcome.text(), "Đã chuyển PA-000001 sang «đã tiếp nhận». Người phản ánh đã được báo.");
            } else {
                assert!(matches!(refused_with(&acted), Some(Refusal::NoRight { .. })), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}");
                assert_eq!(status_of(&ward, code).await, Status::New, "{role}");
            }
        }
        let ward = Ward::new().await;
        let missing = try_move(&ward, &ward.actor(ward.official), ReportCode::new(9), Status::Accepted, None).await;
        assert!(matches!(refused_with(&missing), Some(Refusal::NotFound { .. })), "{missing:?}");
    }

    #[tokio::test]
    async fn each_move_along_the_lifecycle_tells_the_reporter() {
        let ward = Ward::new().await;
        let code = filed(&ward, ward.resident).await;
        let leader = ward.actor_at(ward.leader, Door::Cli);
        let done = try_move(&ward, &leader, code, Status::Accepted, None).await.unwrap();
        assert_eq!(done.told.len(), 1);
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert_eq!(done.told[0].text, "📥 Phản ánh PA-000001 của bác đã được tiếp nhận.");
        let done = try_move(&ward, &leader, code, Status::InProgress, Some("Đã báo điện lực")).await.unwrap();
        assert_eq!(done.told[0].text, "🔧 Phản ánh PA-000001 của bác đang được xử lý.\nGhi chú: Đã báo điện lực");
        let done = try_move(&ward, &leader, code, Status::Resolved, Some("Đã thay bóng đèn")).await.unwrap();
        let asked = &done.told[0];
        assert!(asked.text.contains("đã được xử lý.\nGhi chú: Đã thay bóng đèn"), "{}", asked.text);
        assert_eq!(
            asked.choices,
            [[Choice::new("😊 Hài lòng", "rp:rt:1:y"), Choice::new("😞 Không hài lòng", "rp:rt:1:n")]]
        );
        assert_eq!(done.outcome.report.status, Status::Resolved);

        let audit = ward.audit().await;
        let moves: Vec<_> = audit
            .iter()
            .map(|(who, action, subject, detail, door)| {
                (*who, action.as_str(), subject.as_str(), detail.as_deref(), door.as_deref())
            })
            .collect();
        let row = |to| (Some(ward.leader), "report.status", "report:1", Some(to), Some("cli"));
        assert_eq!(moves, [row("accepted"), row("in_progress"), row("resolved")]);
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_events WHERE report_id = 1")
            .fetch_one(&mut *ward.tx().await)
            .await
            .unwrap();
        assert_eq!(events, 4, "filed and three moves");
    }

    #[tokio::test]
    async fn a_wrong_move_is_refused_for_its_state() {
        let ward = Ward::new().await;
        let official = ward.actor(ward.official);
        let code = filed(&ward, ward.resident).await;
        let to_new = try_move(&ward, &official, code, Status::New, None).await;
        assert!(matches!(refused_with(&to_new), Some(Refusal::State(_))), "{to_new:?}");
        let _setup = try_move(&ward, &official, code, Status::InProgress, None).await.unwrap();
        let back = try_move(&ward, &official, code, Status::Accepted, None).await;
        assert!(matches!(refused_with(&back), Some(Refusal::State(_))), "{back:?}");
        let _setup = try_move(&ward, &official, code, Status::Resolved, None).await.unwrap();
        for to in Status::ALL {
            let acted = try_move(&ward, &official, code, to, Some("lần nữa")).await;
            let Some(Refusal::State(why)) = refused_with(&acted) else { panic!("{to:?}: {acted:?}") };
            assert!(why.contains("đang ở trạng thái «đã xử lý»"), "{why}");
        }
        assert_eq!(ward.audit().await.len(), 2, "only the two moves");
    }

    #[tokio::test]
    async fn a_decline_needs_its_reason_and_closes_the_case_in_the_feed() {
        let ward = Ward::new().await;
        feed_on(&ward, ward.group).await;
        let code = filed(&ward, ward.resident).await;
        let leader = ward.actor(ward.leader);
        for blank in [None, Some("   ")] {
            let acted = try_move(&ward, &leader, code, Status::Declined, blank).await;
            assert!(matches!(refused_with(&acted), Some(Refusal::Input(_))), "{acted:?}");
        }
        let long = "x".repeat(501);
        let acted = try_move(&ward, &leader, code, Status::Declined, Some(&long)).await;
        assert!(matches!(refused_with(&acted), Some(Refusal::Input(_))), "{acted:?}");
        assert_eq!(status_of(&ward, code).await, Status::New);

        let done = try_move(&ward, &leader, code, Status::Declined, Some("Đã chuyển Điện lực")).await.unwrap();
        assert_eq!(done.told[0].to, To::Person(ward.resident));
        assert!(done.told[0].text.ends_with("Lý do: Đã chuyển Điện lực"), "{}", done.told[0].text);
        assert_eq!(done.told[1].to, To::Chat(ward.chat("-1001")));
        assert!(done.told[1].text.contains("không xử lý"), "{}", done.told[1].text);
        assert_eq!(done.told.len(), 2);
    }

    #[tokio::test]
    async fn staff_share_photos_once_with_a_feed_that_is_on() {
        let ward = Ward::new().await;
        let code = filed(&ward, ward.resident).await;
        let mut tx = ward.tx().await;
        sqlx::query("INSERT INTO report_photos (report_id, position, file_id) VALUES (1, 0, 'house-photo')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let share = |user| {
            let ward = &ward;
            async move {
                let mut tx = ward.tx().await;
                let acted = share_photos(&mut tx, &ward.actor(user), code).await;
                tx.commit().await.unwrap();
                acted
            }
        };
        for (role, user) in [("other leader", ward.other_leader), ("resident", ward.resident)] {
            let acted = share(user).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::NoRight { .. }))), "{role}: {acted:?}");
        }
        let off = share(ward.leader).await;
        assert!(matches!(off, Err(Stop::Refused(Refusal::State(_)))), "{off:?}");
        feed_on(&ward, ward.group).await;
        let done = share(ward.leader).await.unwrap();
        assert_eq!(done.outcome, Shared { code, posted: true });
        assert_eq!(done.told.len(), 1);
        assert_eq!(done.told[0].to, To::Chat(ward.chat("-1001")));
        assert_eq!(done.told[0].media, Some(Media::Photo("house-photo".into())));
        let again = share(ward.official).await.unwrap();
        assert_eq!(again.outcome, Shared { code, posted: false });
        assert!(again.told.is_empty());
        let audit = ward.audit().await;
        assert_eq!(audit.len(), 1);
        assert_eq!((audit[0].0, audit[0].1.as_str()), (Some(ward.leader), "report.share_photos"));
    }
}
