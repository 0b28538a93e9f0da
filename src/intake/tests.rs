//! The inbox, outbox and sent logs across restarts.

use super::*;

use super::rows::remove_replies;
use crate::channel::{Action, Channel};
use crate::db::{Database, Written};
use chrono::Utc;

async fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::connect(&dir.path().join("t.db"), crate::config::Durability::Normal).await.unwrap();
    (dir, db)
}

fn updates(ids: &[&str]) -> Vec<(String, String)> {
    ids.iter().map(|id| (id.to_string(), format!("{{\"update_id\":{id}}}"))).collect()
}

#[tokio::test]
async fn an_update_is_new_once_whether_seen_before_or_twice_in_a_batch() {
    let (_dir, db) = database().await;
    assert_eq!(record_batch(&db, Channel::Telegram, &updates(&["1", "2"])).await.unwrap(), vec![0, 1]);
    // 2 was recorded before; 4 comes twice; Zalo's 1 is another update.
    let fresh = record_batch(&db, Channel::Telegram, &updates(&["2", "3", "4", "4", "5"])).await.unwrap();
    assert_eq!(fresh, vec![1, 2, 4]);
    assert_eq!(record_batch(&db, Channel::Zalo, &updates(&["1"])).await.unwrap(), vec![0]);
    let unhandled: Vec<String> =
        unhandled(&db, Channel::Telegram).await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(unhandled, ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn marks_record_each_update_handled_with_its_own_error() {
    let (_dir, db) = database().await;
    record_batch(&db, Channel::Telegram, &updates(&["1", "2", "3"])).await.unwrap();
    let marks = Marks::start(db.clone(), Channel::Telegram);
    let (a, b) = tokio::join!(
        marks.handled(Channel::Telegram, "1", None),
        marks.handled(Channel::Telegram, "2", Some("handler failed")),
    );
    a.unwrap();
    b.unwrap();
    let rows: Vec<(String, Option<String>, Option<String>, bool)> = sqlx::query_as(
        "SELECT update_id, payload, error, handled_at IS NOT NULL FROM processed_updates ORDER BY update_id",
    )
    .fetch_all(&mut *db.read().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("1".into(), None, None, true),
            ("2".into(), None, Some("handler failed".into()), true),
            ("3".into(), Some("{\"update_id\":3}".into()), None, false),
        ]
    );
}

fn reply(text: &str) -> Action {
    let to = crate::channel::ChatAddr { channel: Channel::Telegram, id: "300003".into() };
    Action::Send { to, text: text.into(), keyboard: crate::channel::Keyboard::none() }
}

async fn queue(marks: &Marks, update: &str, texts: &[&str]) -> Vec<i64> {
    let actions = texts.iter().map(|t| reply(t)).collect();
    let queued = commit_with_replies(marks, Written::Rows(Vec::new()), Channel::Telegram, update, actions);
    queued.await.unwrap().into_iter().map(|(id, _)| id).collect()
}

/// The kill of issue 18: B was sent, logged and removed; A was sent and
/// logged, its removal not yet written; then C was committed and the
/// process died. Before migration 0014, C took B's id and the restart
/// dropped it as sent.
#[tokio::test]
async fn a_reply_logged_as_sent_never_hides_a_later_one_after_a_restart() {
    let (dir, db) = database().await;
    let marks = Marks::start(db.clone(), Channel::Telegram);
    let [a, b] = queue(&marks, "1", &["A", "B"]).await[..] else { panic!("two replies") };
    let log = dir.path().join("t.db.sent-telegram");
    std::fs::write(&log, format!("{b}\n{a}\n")).unwrap();
    remove_replies(&db, &[b]).await.unwrap();
    let [c] = queue(&marks, "2", &["C"]).await[..] else { panic!("one reply") };
    assert_ne!(c, b, "an outbox id was handed out twice");
    db.close().await;

    let db = crate::db::connect(&dir.path().join("t.db"), crate::config::Durability::Normal).await.unwrap();
    settle_sent_logs(&db).await.unwrap();
    let unsent = unsent_replies(&db, Channel::Telegram).await.unwrap();
    assert_eq!(unsent, vec![(c, reply("C"))], "A was sent; C never was");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "", "the log starts empty");
}

/// A log from before migration 0014 may name a reused id: it is dropped
/// unread, so its replies may come twice but none is lost.
#[tokio::test]
async fn the_old_log_of_sent_replies_is_dropped_unread() {
    let (dir, db) = database().await;
    let marks = Marks::start(db.clone(), Channel::Telegram);
    let [a] = queue(&marks, "1", &["A"]).await[..] else { panic!("one reply") };
    let legacy = dir.path().join("t.db.sent");
    std::fs::write(&legacy, format!("{a}\n")).unwrap();
    settle_sent_logs(&db).await.unwrap();
    assert!(!legacy.exists());
    assert_eq!(unsent_replies(&db, Channel::Telegram).await.unwrap(), vec![(a, reply("A"))]);
}

#[tokio::test]
async fn handled_updates_are_forgotten_after_two_days_and_unhandled_ones_kept() {
    let (_dir, db) = database().await;
    record_batch(&db, Channel::Telegram, &updates(&["1", "2", "3"])).await.unwrap();
    let marks = Marks::start(db.clone(), Channel::Telegram);
    marks.handled(Channel::Telegram, "1", None).await.unwrap();
    marks.handled(Channel::Telegram, "2", None).await.unwrap();
    let now = Utc::now();
    assert_eq!(forget_handled(&db, now).await.unwrap(), 0, "handled just now");
    // Three days on, 1 and 2 are forgotten: after a week of silence
    // Telegram may give a new update id 1, and it is new.
    assert_eq!(forget_handled(&db, now + chrono::Duration::days(3)).await.unwrap(), 2);
    assert_eq!(record_batch(&db, Channel::Telegram, &updates(&["1", "3"])).await.unwrap(), vec![0]);
}
