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
    assert_eq!(record_batch(&db, Channel::Telegram, &updates(&["1", "2"]), Utc::now()).await.unwrap(), vec![0, 1]);
    // 2 was recorded before; 4 comes twice; Zalo's 1 is another update.
    let fresh = record_batch(&db, Channel::Telegram, &updates(&["2", "3", "4", "4", "5"]), Utc::now()).await.unwrap();
    assert_eq!(fresh, vec![1, 2, 4]);
    assert_eq!(record_batch(&db, Channel::Zalo, &updates(&["1"]), Utc::now()).await.unwrap(), vec![0]);
    let unhandled: Vec<String> =
        unhandled(&db, Channel::Telegram).await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(unhandled, ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn marks_record_each_update_handled_with_its_own_error() {
    let (_dir, db) = database().await;
    record_batch(&db, Channel::Telegram, &updates(&["1", "2", "3"]), Utc::now()).await.unwrap();
    let marks = Marks::start(db.clone(), Channel::Telegram, std::sync::Arc::new(crate::clock::SystemClock));
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
    let queued =
        commit_with_replies(marks, Written::Rows(Vec::new()), Channel::Telegram, update, actions, None, Vec::new());
    queued.await.unwrap().into_iter().map(|(id, _)| id).collect()
}

/// What a Zalo person may type back is committed with the update that
/// showed it, before anything is sent (no sender runs here), and in a group
/// chat it is the person's who asked: another resident's question in the
/// same group leaves it be.
#[tokio::test]
async fn the_options_a_zalo_reply_offers_are_committed_with_the_update_per_person() {
    let (_dir, db) = database().await;
    let marks = Marks::start(db.clone(), Channel::Zalo, std::sync::Arc::new(crate::clock::SystemClock));
    let group = crate::channel::ChatAddr { channel: Channel::Zalo, id: "zgr-1".into() };
    let person = |id: &str| crate::channel::UserAddr { channel: Channel::Zalo, id: id.into() };
    let ask = |options: &[&str]| {
        let rows = options.iter().map(|o| vec![crate::channel::Button::callback(*o, format!("x:{o}"))]).collect();
        vec![Action::Send { to: group.clone(), text: "Chọn".into(), keyboard: crate::channel::Keyboard::rows(rows) }]
    };
    let options = |db: Database, who: &'static str| async move {
        sqlx::query_scalar::<_, String>("SELECT options FROM zalo_menus WHERE chat_id = 'zgr-1' AND person_id = ?")
            .bind(who)
            .fetch_optional(&mut *db.read().await.unwrap())
            .await
            .unwrap()
    };
    // A turn that wrote rows of its own (its transaction still open).
    let mut tx = db.write().await.unwrap();
    sqlx::query("INSERT INTO private_chats (channel, chat_id, opened_at) VALUES ('zalo', 'an', '2026-01-01')")
        .execute(&mut *tx)
        .await
        .unwrap();
    let actions = ask(&["A", "B"]);
    let kept = crate::channel::menus::kept(&actions, Some((&group, &person("an"))));
    commit_with_replies(&marks, Written::Open(tx), Channel::Zalo, "1", actions, None, kept).await.unwrap();
    assert!(options(db.clone(), "an").await.is_some_and(|o| o.contains("x:B")), "committed with the update");
    // A turn that wrote nothing else, for another resident in the group.
    let actions = ask(&["C"]);
    let kept = crate::channel::menus::kept(&actions, Some((&group, &person("binh"))));
    commit_with_replies(&marks, Written::Rows(Vec::new()), Channel::Zalo, "2", actions, None, kept).await.unwrap();
    assert!(options(db.clone(), "binh").await.is_some_and(|o| o.contains("x:C")));
    assert!(options(db.clone(), "an").await.is_some_and(|o| o.contains("x:B")), "An's numbers are still An's");
}

/// The kill of issue 18: B was sent, logged and removed; A was sent and
/// logged, its removal not yet written; then C was committed and the
/// process died. Before migration 0014, C took B's id and the restart
/// dropped it as sent.
#[tokio::test]
async fn a_reply_logged_as_sent_never_hides_a_later_one_after_a_restart() {
    let (dir, db) = database().await;
    let marks = Marks::start(db.clone(), Channel::Telegram, std::sync::Arc::new(crate::clock::SystemClock));
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
    let marks = Marks::start(db.clone(), Channel::Telegram, std::sync::Arc::new(crate::clock::SystemClock));
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
    record_batch(&db, Channel::Telegram, &updates(&["1", "2", "3"]), Utc::now()).await.unwrap();
    let marks = Marks::start(db.clone(), Channel::Telegram, std::sync::Arc::new(crate::clock::SystemClock));
    marks.handled(Channel::Telegram, "1", None).await.unwrap();
    marks.handled(Channel::Telegram, "2", None).await.unwrap();
    let now = Utc::now();
    assert_eq!(forget_handled(&db, now, chrono::Duration::days(2)).await.unwrap(), 0, "handled just now");
    // Three days on, 1 and 2 are forgotten: after a week of silence
    // Telegram may give a new update id 1, and it is new.
    assert_eq!(forget_handled(&db, now + chrono::Duration::days(3), chrono::Duration::days(2)).await.unwrap(), 2);
    assert_eq!(record_batch(&db, Channel::Telegram, &updates(&["1", "3"]), Utc::now()).await.unwrap(), vec![0]);
}

/// A platform whose updates are `chat:n`, read by noting the order.
struct Numbered {
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, u32)>>>,
}

impl Platform for Numbered {
    type Update = (String, u32);

    fn channel(&self) -> Channel {
        Channel::Zalo
    }

    fn parse(&self, payload: &str) -> Result<(String, u32), String> {
        let (chat, n) = payload.split_once(':').ok_or("no colon")?;
        Ok((chat.to_string(), n.parse().map_err(|_| "no number")?))
    }

    fn chat_of(&self, update: &(String, u32)) -> Option<String> {
        Some(update.0.clone())
    }

    fn read<'a>(
        &'a self,
        _: &'a Database,
        (chat, n): (String, u32),
    ) -> futures_util::future::BoxFuture<'a, anyhow::Result<Inbound>> {
        Box::pin(async move {
            // The first chat is slow: the others must not wait for it.
            if chat == "a" {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            self.seen.lock().unwrap().push((chat, n));
            Ok(Inbound::Other)
        })
    }
}

async fn numbered_intake() -> (tempfile::TempDir, std::sync::Arc<Intake<Numbered>>, Numbered) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[ward]\nname = \"P\"\n[database]\npath = \"{}\"\n[telegram]\nofficials = []\n",
        dir.path().join("t.db").display()
    );
    let config = crate::config::Config::parse(&text).unwrap();
    let (app, db) = crate::startup::build_app(&config).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let intake = Intake::start(app, db, Numbered { seen: seen.clone() }).await;
    (dir, intake, Numbered { seen })
}

fn batch(chats: &[&str], per_chat: u32, from: u32) -> Vec<(String, String, (String, u32))> {
    let mut batch = Vec::new();
    for n in from..from + per_chat {
        for chat in chats {
            let payload = format!("{chat}:{n}");
            batch.push((payload.clone(), payload, (chat.to_string(), n)));
        }
    }
    batch
}

#[tokio::test]
async fn each_chat_is_handled_in_order_and_its_worker_ends_when_it_is_quiet() {
    let (_dir, intake, probe) = numbered_intake().await;
    intake.take(batch(&["a", "b", "c"], 40, 0)).await.unwrap();
    // The same batch again (a platform delivering twice) changes nothing.
    intake.take(batch(&["a", "b", "c"], 40, 0)).await.unwrap();
    for _ in 0..2000 {
        if probe.seen.lock().unwrap().len() >= 120 && intake.busy_chats() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let seen = probe.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 120, "each update once");
    for chat in ["a", "b", "c"] {
        let order: Vec<u32> = seen.iter().filter(|(c, _)| c == chat).map(|(_, n)| *n).collect();
        assert_eq!(order, (0..40).collect::<Vec<_>>(), "chat {chat} in the order it came");
    }
    // The quick chats did not wait for the slow one.
    let last_b = seen.iter().rposition(|(c, _)| c == "b").unwrap();
    let last_a = seen.iter().rposition(|(c, _)| c == "a").unwrap();
    assert!(last_b < last_a, "chat b waited for chat a");
    assert!(intake.busy_chats() == 0, "a quiet chat keeps no worker");
}

#[tokio::test]
async fn draining_handles_everything_taken_in_and_takes_nothing_more() {
    let (_dir, intake, probe) = numbered_intake().await;
    intake.take(batch(&["a", "b"], 30, 0)).await.unwrap();
    intake.drain().await;
    assert_eq!(probe.seen.lock().unwrap().len(), 60, "all taken in is handled before drain returns");
    // After: recorded, left for the restart.
    intake.take(batch(&["a"], 1, 100)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(probe.seen.lock().unwrap().len(), 60);
    assert_eq!(unhandled(intake.database(), Channel::Zalo).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_busy_days_handled_updates_are_forgotten_a_few_hundred_at_a_time() {
    let (_dir, db) = database().await;
    let ids: Vec<String> = (0..1_234).map(|i| i.to_string()).collect();
    let rows: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), "{}".to_string())).collect();
    record_batch(&db, Channel::Telegram, &rows, Utc::now()).await.unwrap();
    let marks = Marks::start(db.clone(), Channel::Telegram, std::sync::Arc::new(crate::clock::SystemClock));
    for id in &ids {
        marks.handled(Channel::Telegram, id, None).await.unwrap();
    }
    let commits = db.commits();
    let later = Utc::now() + chrono::Duration::days(3);
    assert_eq!(forget_handled(&db, later, chrono::Duration::days(2)).await.unwrap(), 1_234);
    assert!(db.commits() - commits >= 3, "three turns at the writer at least, not one long one");
    assert!(unhandled(&db, Channel::Telegram).await.unwrap().is_empty());
}
