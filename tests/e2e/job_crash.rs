//! Scheduled work is told exactly once across a kill (issue 32): the real
//! binary is made to die the moment a job has committed its change and what
//! it must tell, before anything is sent (`TODANPHO_FAULT_DIE_AFTER_JOB`);
//! after the restart each message arrives once. For a consultation's
//! reminder, the digital teams' weekly summary and a busy group's combined
//! answer.

use std::path::Path;

use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::SqlitePool;

use crate::binary::*;
use crate::fake_telegram::FakeTelegram;

const RESIDENTS: [i64; 2] = [7_100_001, 7_100_002];

/// Messages sent to `chat` whose text contains `part`.
fn sent(tg: &FakeTelegram, chat: i64, part: &str) -> usize {
    tg.requests()
        .iter()
        .filter(|r| r.method == "sendMessage" && r.body["chat_id"] == json!(chat))
        .filter(|r| r.body["text"].as_str().is_some_and(|t| t.contains(part)))
        .count()
}

/// Waits until `chat` has had a message containing `part`, then a little
/// longer for any second copy; how many came.
async fn arrived(tg: &FakeTelegram, chat: i64, part: &str) -> usize {
    for _ in 0..3_000 {
        if sent(tg, chat, part) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sent(tg, chat, part)
}

/// The bot's database, writable, while the bot is down.
async fn open_writable(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path)).await.expect("open the database")
}

/// Starts the bot so that it dies right after `job` commits; waits until it
/// has.
async fn die_after(dir: &Path, tg: &FakeTelegram, run: usize, job: &str) {
    let mut dying = BotProcess::start_with(dir, &tg.url, run, &[("TODANPHO_FAULT_DIE_AFTER_JOB", job)]);
    assert!(dying.ended().await, "the bot did not die after the job {job} committed");
    let log = std::fs::read_to_string(dir.join(format!("bot-{run}.log"))).unwrap_or_default();
    assert!(log.contains(&format!("dying after the job {job} committed")), "the fault was not reached:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_killed_between_its_commit_and_its_send_tells_once_after_the_restart() {
    let tg = FakeTelegram::start().await;
    let (dir, mut bot, db, feeder) = launch(&tg).await;
    let file = dir.path().join("bot.db");
    let group = group_chat(1);
    link_group(&feeder, &db, 1).await;
    for (i, user) in RESIDENTS.into_iter().enumerate() {
        register_approved(&feeder, &db, 1, user, &(20 + i).to_string()).await;
    }
    for text in ["/tocongnghe tao Đội 1: 1".to_string(), format!("/tocongnghe them 1 {}", RESIDENTS[0])] {
        send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text(text)).await;
    }
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("/layykien".into())).await;
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("Làm mái che nhà văn hoá tổ?".into())).await;
    for label in ["Không cần", "Bỏ qua", "Đồng ý / Không đồng ý", "Mỗi hộ", "Công khai"] {
        tap(&feeder, &db, OFFICIAL, label).await;
    }
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("2 ngày".into())).await;
    for label in ["Tất cả", "Xác nhận", "Gửi"] {
        tap(&feeder, &db, OFFICIAL, label).await;
    }
    bot.kill();

    // A consultation's reminder: its 24-hour reminder fell due an hour ago.
    let now = chrono::Utc::now();
    let writable = open_writable(&file).await;
    sqlx::query("UPDATE consultations SET opened_at = ?, closes_at = ?")
        .bind(now - chrono::Duration::hours(2))
        .bind(now + chrono::Duration::hours(23))
        .execute(&writable)
        .await
        .unwrap();
    writable.close().await;
    die_after(dir.path(), &tg, 1, "consultation_reminder").await;
    let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scheduled_runs WHERE job = 'consultation_reminder'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(claimed, 1, "the reminder was claimed before the bot died");
    for user in RESIDENTS {
        assert_eq!(sent(&tg, user, "⏰ Nhắc"), 0, "nothing was sent before the bot died");
    }
    let mut bot = BotProcess::start(dir.path(), &tg.url, 2);
    for user in RESIDENTS {
        assert_eq!(arrived(&tg, user, "⏰ Nhắc").await, 1, "the reminder reaches {user} once");
    }
    assert_eq!(arrived(&tg, leader(1), "chưa cho ý kiến").await, 1, "the leader's walking list, once");
    bot.kill();

    // The digital teams' weekly summary, due today from midnight.
    arm_weekly_summary(dir.path()).await;
    die_after(dir.path(), &tg, 3, "digital_weekly").await;
    assert_eq!(sent(&tg, RESIDENTS[0], "Tổng kết tuần"), 0, "nothing was sent before the bot died");
    let mut bot = BotProcess::start(dir.path(), &tg.url, 4);
    assert_eq!(arrived(&tg, RESIDENTS[0], "Tổng kết tuần").await, 1, "the member's weekly summary, once");
    assert_eq!(sent(&tg, RESIDENTS[1], "Tổng kết tuần"), 0, "only members get a summary");
    bot.kill();

    // A busy group's waiting answers, combined into one message.
    let writable = open_writable(&file).await;
    for name in ["Nam", "Mai"] {
        let answer = todanpho::channel::Action::Send {
            to: todanpho::channel::ChatAddr { channel: todanpho::channel::Channel::Telegram, id: group.to_string() },
            text: "Mời bác bấm nút dưới đây để đăng ký hộ.".into(),
            keyboard: todanpho::channel::Keyboard::none(),
        };
        sqlx::query(
            "INSERT INTO group_waiting (channel, chat_id, name, action, asked_at) VALUES ('telegram', ?, ?, ?, ?)",
        )
        .bind(group.to_string())
        .bind(name)
        .bind(serde_json::to_string(&answer).unwrap())
        .bind(now)
        .execute(&writable)
        .await
        .unwrap();
    }
    writable.close().await;
    die_after(dir.path(), &tg, 5, "busy_group").await;
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_waiting").fetch_one(&db).await.unwrap();
    assert_eq!(waiting, 0, "the waiting answers were taken with the combined one queued");
    assert_eq!(sent(&tg, group, "bác Nam"), 0, "nothing was sent before the bot died");
    let mut bot = BotProcess::start(dir.path(), &tg.url, 6);
    assert_eq!(arrived(&tg, group, "bác Nam, bác Mai").await, 1, "one combined answer, once");
    bot.kill();
}
