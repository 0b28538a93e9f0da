//! `todanpho admin` is a second door to the same ward actions (issue 33):
//! run beside the real bot on the same database, it confirms a pledge as
//! the group's leader; the donor is thanked on Telegram by the running bot,
//! the audit row says `cli`; a refused action exits with status 2, says why
//! in Vietnamese and changes nothing.

use std::process::Command;
use std::sync::atomic::{AtomicI64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::binary::*;
use crate::fake_telegram::FakeTelegram;

const DONOR: i64 = 7_300_001;

fn admin(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["--config", dir.join("config.toml").to_str().unwrap(), "admin"])
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run todanpho admin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_confirms_a_pledge_and_the_donor_is_told_by_the_running_bot() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A short beat: the scheduler looks for what the command line queued
    // on each beat.
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[ward]\nname = \"Phường Xuân La\"\n[database]\npath = \"bot.db\"\n[telegram]\nofficials = [{OFFICIAL}]\n[flood]\nper_person_burst = 100000\ngroup_burst = 100000\n[reports]\ncheck_every_secs = 0.2\n[ops]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    let _bot = BotProcess::start(dir.path(), &tg.url, 0);
    let db = open_read_only(&dir.path().join("bot.db")).await;
    let feeder = Feeder {
        tg: tg.clone(),
        next_message: AtomicI64::new(1),
        pushed: AtomicUsize::new(0),
        ids: Mutex::new(Vec::new()),
    };
    let feeder = Arc::new(feeder);
    link_group(&feeder, &db, 1).await;
    for text in crate::scripts::campaign(1) {
        send_and_wait(&feeder, &db, leader(1), leader(1), &Send::Text(text)).await;
    }
    for text in crate::scripts::pledge(1) {
        send_and_wait(&feeder, &db, DONOR, DONOR, &Send::Text(text)).await;
    }
    let status = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM pledges WHERE id = 1").fetch_one(&db).await.unwrap()
    };
    assert_eq!(status().await, "registered");

    // A resident may not; nothing changes.
    let refused = admin(dir.path(), &["--as", &format!("telegram:{DONOR}"), "pledge", "confirm", "P0001"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).lines().last().unwrap_or_default(),
        "Xin lỗi, bác không có quyền xác nhận tiền của cuộc vận động này."
    );
    assert_eq!(status().await, "registered");

    // The group's leader may.
    let done = admin(dir.path(), &["--as", &format!("telegram:{}", leader(1)), "pledge", "confirm", "P0001"]);
    assert!(done.status.success(), "{done:?}");
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(said.contains("✅ Đã ghi nhận P0001: đã nhận 200.000 đ."), "{said}");
    assert_eq!(status().await, "received");
    let audit: (String, Option<String>, String) = sqlx::query_as(
        "SELECT a.action, a.door, u.external_id FROM audit_log a JOIN users u ON u.id = a.actor_user_id
         WHERE a.action LIKE 'pledge.%'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(audit, ("pledge.received".into(), Some("cli".into()), leader(1).to_string()));

    // The donor is thanked in private by the running bot, once.
    let thanked = || {
        tg.requests()
            .iter()
            .filter(|r| r.method == "sendMessage" && r.body["chat_id"] == json!(DONOR))
            .filter(|r| r.body["text"].as_str().is_some_and(|t| t.contains("Tổ đã nhận 200.000 đ")))
            .count()
    };
    for _ in 0..1_500 {
        if thanked() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(thanked(), 1, "the donor is thanked once");
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reply_outbox").fetch_one(&db).await.unwrap();
    assert_eq!(waiting, 0, "nothing is left in the outbox");

    // Counted once: the second confirmation is refused for its state.
    let again = admin(dir.path(), &["--as", &OFFICIAL.to_string(), "pledge", "confirm", "P0001"]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("không ghi nhận lại"));
}
