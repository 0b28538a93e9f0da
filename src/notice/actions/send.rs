//! Sending a draft (now, or at the time set for it) and cancelling a notice
//! before it goes. Sending writes one delivery row per chat in the durable
//! notice outbox (see `notice::outbox`), in the action's transaction; the
//! drain sends them.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{own_draft, reach, subject, NOT_AUTHOR};
use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::notice::{repo, Notice, NoticeCode, Status};
use crate::refusal::Refusal;
use crate::roles;

/// A notice on its way: to how many chats (and households in private).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub notice: Notice,
    pub chats: usize,
}

impl Sent {
    /// What its author reads.
    pub fn text(&self, app: &App) -> String {
        let (code, count) = (self.notice.code, self.chats);
        match self.notice.scheduled_for {
            Some(at) => format!(
                "⏰ Thông báo {code} sẽ được gửi tới {count} nhóm chat lúc {}. Gõ /henlich để xem hoặc huỷ.",
                app.settings.show_time(at)
            ),
            None => format!("📤 Đang gửi thông báo {code} tới {count} nhóm chat. Bot sẽ báo khi gửi xong."),
        }
    }
}

/// **Send a notice** (the action): its author's draft, to groups they
/// still reach, at least one chat among them, at its time if it has one
/// (which must not have passed). Queued in the notice outbox for its
/// groups; audited (`notice.send`, with the number of deliveries). The
/// groups hear it from the outbox, not as notifications.
pub async fn send(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: NoticeCode) -> Acted<Sent> {
    let (notice, reach) = own_draft(&mut *conn, actor.user, code).await?;
    let targets = repo::targets(&mut *conn, code).await?;
    // A role revoked since the draft was written no longer reaches.
    if targets.is_empty() || targets.iter().any(|t| !reach.contains(t)) {
        return Err(Refusal::input("Xin chọn ít nhất một nhóm bác được phép gửi.").into());
    }
    if notice.scheduled_for.is_some_and(|at| at <= actor.at) {
        return Err(Refusal::input("Giờ hẹn đã qua. Xin bấm «Hẹn giờ» để chọn lại.").into());
    }
    let Some(chats) = repo::queue(&mut *conn, code, actor.at).await? else {
        return Err(Refusal::state(format!("Thông báo {code} đã được gửi.")).into());
    };
    if chats == 0 {
        // Queued to nobody: back to a draft, as if never pressed.
        repo::unqueue(&mut *conn, code).await?;
        return Err(Refusal::state("Các tổ đã chọn chưa liên kết nhóm chat nào.").into());
    }
    crate::audit::record(&mut *conn, actor, "notice.send", &subject(code), Some(&chats.to_string())).await?;
    // A hint to the drain, which also looks on its own every moment: it
    // finds the rows once they are committed.
    app.outbox.notify_one();
    Ok(Done::quiet(Sent { notice, chats }))
}

/// **Set a draft's time** (the action): its author's draft, a time after
/// now. Audited (`notice.schedule`, with the time).
pub async fn schedule(
    app: &App,
    conn: &mut SqliteConnection,
    actor: &Actor,
    code: NoticeCode,
    at: DateTime<Utc>,
) -> Acted<DateTime<Utc>> {
    own_draft(&mut *conn, actor.user, code).await?;
    if at <= actor.at {
        return Err(Refusal::input(format!("Giờ hẹn phải sau bây giờ ({}).", app.settings.show_time(actor.at))).into());
    }
    repo::set_schedule(&mut *conn, code, Some(at)).await?;
    crate::audit::record(&mut *conn, actor, "notice.schedule", &subject(code), Some(&at.to_rfc3339())).await?;
    Ok(Done::quiet(at))
}

/// A notice that will not go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    pub code: NoticeCode,
}

impl Cancelled {
    pub fn text(&self) -> String {
        format!("Đã huỷ thông báo {}.", self.code)
    }
}

/// **Cancel a notice** (the action): a draft by its author; a notice
/// waiting for its time, none of it sent yet, by its author or an
/// official. Audited (`notice.cancel`, with what it was); an author whose
/// notice an official cancelled is told.
pub async fn cancel(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: NoticeCode) -> Acted<Cancelled> {
    let Some(notice) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("thông báo", code).into());
    };
    let mine = notice.sender == actor.user;
    let official = !mine && notice.status != Status::Draft && roles::is_official(&mut *conn, actor.user).await?;
    if !mine && !official {
        return Err(NOT_AUTHOR.into());
    }
    reach(&mut *conn, actor.user).await?;
    if !repo::cancel(&mut *conn, code, actor.at).await? {
        return Err(Refusal::state(format!("Thông báo {code} đã gửi đi, không huỷ được.")).into());
    }
    crate::audit::record(&mut *conn, actor, "notice.cancel", &subject(code), Some(notice.status.code())).await?;
    let mut told = Vec::new();
    if !mine {
        let at = notice.scheduled_for.map(|t| format!(" (hẹn gửi lúc {})", app.settings.show_time(t)));
        let short: String = notice.text.chars().take(120).collect();
        told.push(Notification::person(
            notice.sender,
            format!("❌ Cán bộ phường đã huỷ thông báo {code} của bác{}:\n{short}", at.unwrap_or_default()),
        ));
    }
    Ok(Done::new(Cancelled { code }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{actor_of, drafted, notice, refused};
    use super::super::{edit, Edit};
    use super::*;
    use crate::action::{Door, To};
    use crate::testing::Ward;

    async fn try_send(ward: &Ward, actor: &Actor, code: NoticeCode) -> Acted<Sent> {
        let mut tx = ward.tx().await;
        let acted = send(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_schedule(ward: &Ward, actor: &Actor, code: NoticeCode, at: DateTime<Utc>) -> Acted<DateTime<Utc>> {
        let mut tx = ward.tx().await;
        let acted = schedule(&ward.app, &mut tx, actor, code, at).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn try_cancel(ward: &Ward, actor: &Actor, code: NoticeCode) -> Acted<Cancelled> {
        let mut tx = ward.tx().await;
        let acted = cancel(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    async fn deliveries(ward: &Ward, code: NoticeCode) -> Vec<(i64, String)> {
        sqlx::query_as("SELECT group_id, chat_id FROM notice_deliveries WHERE notice_id = ? ORDER BY id")
            .bind(code.id())
            .fetch_all(&mut *ward.db.read().await.unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn only_the_author_sends_their_draft_once_into_the_outbox() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ").await;
        for role in ["official", "other leader", "resident"] {
            let refusal = refused(try_send(&ward, &actor_of(&ward, role), code).await);
            assert!(matches!(refusal, Refusal::OnlyFor { who: "người soạn thông báo", .. }), "{role}: {refusal:?}");
        }
        assert!(deliveries(&ward, code).await.is_empty());
        let leader = ward.actor_at(ward.leader, Door::Zalo);
        let done = try_send(&ward, &leader, code).await.unwrap();
        assert_eq!(done.outcome.chats, 1);
        assert!(done.told.is_empty(), "the groups hear it from the notice outbox");
        assert_eq!(done.outcome.text(&ward.app), "📤 Đang gửi thông báo TB1 tới 1 nhóm chat. Bot sẽ báo khi gửi xong.");
        assert_eq!(deliveries(&ward, code).await, [(ward.group, "-1001".to_string())]);
        assert_eq!(notice(&ward, code).await.status, Status::Queued);
        let audit = ward.audit().await;
        let send = (Some(ward.leader), "notice.send".into(), "notice:1".into(), Some("1".into()), Some("zalo".into()));
        assert_eq!(audit.last(), Some(&send));
        // Sent once: the second press is refused for its state.
        let again = refused(try_send(&ward, &leader, code).await);
        assert_eq!(again, Refusal::State("Thông báo TB1 đã được gửi hoặc huỷ.".into()));
        assert_eq!(deliveries(&ward, code).await.len(), 1);
        assert_eq!(ward.audit().await.len(), audit.len());
    }

    #[tokio::test]
    async fn a_notice_to_no_group_no_chat_or_a_past_time_is_refused_and_stays_a_draft() {
        let ward = Ward::new().await;
        let official = ward.actor(ward.official);
        let code = drafted(&ward, ward.official, "Họp toàn phường").await;
        let mut tx = ward.tx().await;
        assert!(edit(&mut tx, &official, code, Edit::NoGroups).await.unwrap().told.is_empty());
        tx.commit().await.unwrap();
        assert!(matches!(refused(try_send(&ward, &official, code).await), Refusal::Input(_)));

        // A group with no chat linked.
        let lonely = ward.add_group("Tổ 3", "-1003").await;
        let mut tx = ward.tx().await;
        sqlx::query("DELETE FROM group_chats WHERE group_id = ?").bind(lonely).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = ward.tx().await;
        assert!(edit(&mut tx, &official, code, Edit::ToggleGroup(lonely)).await.unwrap().told.is_empty());
        tx.commit().await.unwrap();
        let refusal = refused(try_send(&ward, &official, code).await);
        assert_eq!(refusal, Refusal::State("Các tổ đã chọn chưa liên kết nhóm chat nào.".into()));
        assert_eq!(notice(&ward, code).await.status, Status::Draft, "back to a draft");

        // A time that passed while the preview waited.
        let soon = ward.now() + chrono::Duration::minutes(5);
        let other = drafted(&ward, ward.leader, "Họp tổ").await;
        assert!(try_schedule(&ward, &ward.actor(ward.leader), other, soon).await.unwrap().told.is_empty());
        ward.clock.advance(chrono::Duration::minutes(10));
        let late = refused(try_send(&ward, &ward.actor(ward.leader), other).await);
        assert!(matches!(late, Refusal::Input(ref s) if s.contains("Giờ hẹn đã qua")), "{late:?}");
        assert!(ward.audit().await.iter().all(|row| row.1 != "notice.send"));
    }

    #[tokio::test]
    async fn the_author_sets_a_time_after_now_and_the_notice_waits_for_it() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ").await;
        let leader = ward.actor_at(ward.leader, Door::Web);
        let past = refused(try_schedule(&ward, &leader, code, ward.now()).await);
        assert_eq!(past, Refusal::Input("Giờ hẹn phải sau bây giờ (07/12/2026 09:00).".into()));
        let at = ward.now() + chrono::Duration::days(1);
        for role in ["official", "other leader", "resident"] {
            let refusal = refused(try_schedule(&ward, &actor_of(&ward, role), code, at).await);
            assert!(matches!(refusal, Refusal::OnlyFor { .. }), "{role}: {refusal:?}");
        }
        assert_eq!(try_schedule(&ward, &leader, code, at).await.unwrap().outcome, at);
        let audit = ward.audit().await;
        assert_eq!(audit.last().map(|r| (r.1.as_str(), r.4.as_deref())), Some(("notice.schedule", Some("web"))));
        let sent = try_send(&ward, &leader, code).await.unwrap().outcome;
        assert_eq!(
            sent.text(&ward.app),
            "⏰ Thông báo TB1 sẽ được gửi tới 1 nhóm chat lúc 08/12/2026 09:00. Gõ /henlich để xem hoặc huỷ."
        );
        let again = refused(try_schedule(&ward, &leader, code, at).await);
        assert!(matches!(again, Refusal::State(_)), "{again:?}");
    }

    #[tokio::test]
    async fn a_draft_is_cancelled_by_its_author_only() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ").await;
        for role in ["official", "other leader", "resident"] {
            let refusal = refused(try_cancel(&ward, &actor_of(&ward, role), code).await);
            assert!(matches!(refusal, Refusal::OnlyFor { .. }), "{role}: {refusal:?}");
        }
        let leader = ward.actor_at(ward.leader, Door::Cli);
        let done = try_cancel(&ward, &leader, code).await.unwrap();
        assert_eq!(done.outcome.text(), "Đã huỷ thông báo TB1.");
        assert!(done.told.is_empty());
        assert_eq!(notice(&ward, code).await.status, Status::Cancelled);
        let row =
            (Some(ward.leader), "notice.cancel".into(), "notice:1".into(), Some("draft".into()), Some("cli".into()));
        assert_eq!(ward.audit().await.last(), Some(&row));
        let missing = refused(try_cancel(&ward, &leader, NoticeCode::new(9)).await);
        assert!(matches!(missing, Refusal::NotFound { .. }), "{missing:?}");
    }

    #[tokio::test]
    async fn an_official_cancels_a_waiting_notice_and_its_author_is_told() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ tối thứ Bảy").await;
        let leader = ward.actor(ward.leader);
        assert!(try_schedule(&ward, &leader, code, ward.now() + chrono::Duration::days(1))
            .await
            .unwrap()
            .told
            .is_empty());
        assert!(try_send(&ward, &leader, code).await.unwrap().told.is_empty());
        for role in ["other leader", "resident"] {
            let refusal = refused(try_cancel(&ward, &actor_of(&ward, role), code).await);
            assert!(matches!(refusal, Refusal::OnlyFor { .. }), "{role}: {refusal:?}");
        }
        let done = try_cancel(&ward, &ward.actor(ward.official), code).await.unwrap();
        let [told] = done.told.as_slice() else { panic!("{:?}", done.told) };
        assert_eq!(told.to, To::Person(ward.leader));
        assert!(told.text.contains("TB1") && told.text.contains("08/12/2026 09:00"), "{}", told.text);
        let row = ward.audit().await.pop().unwrap();
        assert_eq!((row.0, row.1.as_str(), row.3.as_deref()), (Some(ward.official), "notice.cancel", Some("queued")));
    }

    #[tokio::test]
    async fn a_notice_that_went_out_cannot_be_cancelled() {
        let ward = Ward::new().await;
        let code = drafted(&ward, ward.leader, "Họp tổ").await;
        let leader = ward.actor(ward.leader);
        assert!(try_send(&ward, &leader, code).await.unwrap().told.is_empty());
        let mut tx = ward.tx().await;
        sqlx::query("UPDATE notice_deliveries SET status = 'sent'").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        for actor in [leader, ward.actor(ward.official)] {
            let refusal = refused(try_cancel(&ward, &actor, code).await);
            assert_eq!(refusal, Refusal::State("Thông báo TB1 đã gửi đi, không huỷ được.".into()));
        }
        assert_eq!(notice(&ward, code).await.status, Status::Queued);
    }
}
