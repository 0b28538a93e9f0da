//! Exactly-once handling across crashes: the real `todanpho` binary runs a
//! scripted stream of about 2,000 updates from 200 people in 10 groups
//! (registrations, reports, pledges, digital teams' visits) and is
//! killed with SIGKILL at five random points, then started again. The fake
//! Bot API redelivers what the bot had not confirmed, as Telegram does.
//!
//! `TODANPHO_SOAK_SEEDS=1,2,3…` picks the runs (two by default); a longer
//! soak is `TODANPHO_SOAK_SEEDS=$(seq -s, 1 20)`.
//!
//! The same stream also runs against a Bot API that fails 10% of requests
//! (429, 500, 502, connection resets, 10-second stalls, getUpdates
//! included).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::SqlitePool;

use crate::binary::*;
use crate::fake_telegram::FakeTelegram;

const GROUPS: i64 = 10;

/// One run of the stream.
#[derive(Clone, Copy)]
struct Plan {
    seed: u64,
    residents_per_group: i64,
    kills: usize,
    /// Percent of requests failed by the fake Bot API, and how long a
    /// stall lasts.
    chaos: Option<(u64, Duration)>,
}

/// A small deterministic generator, so that a seed names a run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What one resident does: a quarter register their household, a quarter
/// send a report with a photo, a quarter pledge (and their leader confirms
/// the money), a quarter are members of their group's digital team and
/// record a visit to the same household; everyone acknowledges their
/// group's notice.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    Register,
    Report,
    Pledge,
    Visit,
}

const PARTS: [Part; 4] = [Part::Register, Part::Report, Part::Pledge, Part::Visit];

/// Who registered the household of group `g` that its team visits.
fn visited(g: i64) -> i64 {
    5_000_000 + g
}

fn script(part: Part, user: i64, group: i64) -> Vec<Send> {
    let t = |s: &str| Send::Text(s.to_string());
    match part {
        Part::Register => crate::scripts::registration(group, &user.to_string(), &format!("09{user:08}"))
            .into_iter()
            .map(Send::Text)
            .collect(),
        Part::Report => vec![
            t(&format!("/start pa-{group}")),
            t("Chiếu sáng"),
            t("Đèn đường trước cổng hỏng ba hôm nay"),
            Send::Photo,
            t("xong"),
            t("Không gửi vị trí"),
            t("xác nhận"),
        ],
        Part::Pledge => crate::scripts::pledge(group).into_iter().map(Send::Text).collect(),
        Part::Visit => {
            vec![t("/ditham"), Send::Find("dt:v:"), t("Hôm nay"), t("1"), t("2, 4"), t("Không ghi chú"), t("xác nhận")]
        }
    }
}

/// Links the groups, appoints leaders, opens a campaign and sends a notice
/// in each, registers the household each group's digital team visits and
/// makes the team (the visitors its members); the bot is not killed during
/// this.
async fn set_up(feeder: &Feeder, db: &SqlitePool, residents_per_group: i64) {
    for g in 1..=GROUPS {
        let chat = group_chat(g);
        send_and_wait(feeder, db, chat, OFFICIAL, &Send::Text(format!("/lienket Tổ dân phố số {g}"))).await;
        let id = feeder.push_reply(chat, OFFICIAL, "/phancong", leader(g));
        wait_done(db, id).await;
        for text in crate::scripts::campaign(g) {
            send_and_wait(feeder, db, leader(g), leader(g), &Send::Text(text)).await;
        }
    }
    let campaigns: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(db).await.unwrap();
    assert_eq!(campaigns, GROUPS, "every leader opened a campaign");
    for g in 1..=GROUPS {
        let owner = visited(g);
        for text in crate::scripts::registration(g, "7", &format!("09{owner:08}")) {
            send_and_wait(feeder, db, owner, owner, &Send::Text(text)).await;
        }
        let (data, message_id) = button(&feeder.tg, leader(g), "hh:ok:").await;
        send_and_wait(feeder, db, leader(g), leader(g), &Send::Press { data, message_id, chat: leader(g) }).await;
        let team = format!("/tocongnghe tao Đội {g}: {g}");
        send_and_wait(feeder, db, OFFICIAL, OFFICIAL, &Send::Text(team)).await;
        for i in (0..residents_per_group).filter(|i| PARTS[(i % 4) as usize] == Part::Visit) {
            let add = format!("/tocongnghe them {g} {}", resident(g, i));
            send_and_wait(feeder, db, OFFICIAL, OFFICIAL, &Send::Text(add)).await;
        }
    }
    let approved: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM households WHERE status = 'approved'").fetch_one(db).await.unwrap();
    assert_eq!(approved, GROUPS, "each group has the household its team visits");
}

/// What the bot had left to do when it was killed.
#[derive(Default)]
struct Kills {
    /// Updates recorded but not handled: handled again after the restart.
    replayed: i64,
    /// Replies committed but not yet marked sent, by chat and text: the
    /// only ones that may arrive twice.
    in_flight: Vec<(i64, String)>,
    /// Notices being sent at the kill.
    notices_in_flight: i64,
    /// Every reply committed and still in the outbox at a kill, logged as
    /// sent or not, by chat and text: each must reach its chat at least once.
    committed: Vec<(i64, String)>,
}

async fn note_kill(db: &SqlitePool, dir: &Path, kills: &Mutex<Kills>) {
    // Replies the bot logged as sent are not sent again (see `SentLog`).
    let sent: Vec<i64> = std::fs::read_to_string(dir.join("bot.db.sent-telegram"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    let replayed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM processed_updates WHERE handled_at IS NULL AND payload IS NOT NULL")
            .fetch_one(db)
            .await
            .unwrap();
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, action FROM reply_outbox").fetch_all(db).await.unwrap();
    let committed: Vec<(i64, String)> = rows.iter().filter_map(|(_, action)| chat_and_text(action)).collect();
    let rows = rows.into_iter().filter(|(id, _)| !sent.contains(id)).map(|(_, action)| action);
    let notices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_deliveries WHERE status = 'sending'")
        .fetch_one(db)
        .await
        .unwrap_or(0);
    let mut kills = kills.lock().unwrap();
    kills.replayed += replayed;
    kills.notices_in_flight += notices;
    kills.committed.extend(committed);
    for row in rows {
        let action: Value = serde_json::from_str(&row).unwrap();
        let body = action.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
        let chat = body["to"]["id"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
        let text = body["text"].as_str().unwrap_or("").to_string();
        kills.in_flight.push((chat, text));
    }
}

/// The chat and text of a stored reply that shows text in a chat.
fn chat_and_text(action: &str) -> Option<(i64, String)> {
    let action: Value = serde_json::from_str(action).ok()?;
    let body = action.as_object()?.values().next()?.clone();
    let chat = body["to"]["id"].as_str().or(body["message"]["chat"]["id"].as_str())?.parse().ok()?;
    let text = body["text"].as_str().or(body["caption"].as_str())?.to_string();
    Some((chat, text))
}

async fn soak(plan: Plan) {
    let Plan { seed, residents_per_group, kills: kill_count, chaos } = plan;
    let tg = FakeTelegram::start().await;
    let (dir, mut bot, db, feeder) = launch(&tg).await;
    set_up(&feeder, &db, residents_per_group).await;

    // Each leader sends a notice from the group and presses "Gửi".
    for g in 1..=GROUPS {
        send_and_wait(&feeder, &db, group_chat(g), leader(g), &Send::Text(format!("/thongbao Họp tổ {g} tối thứ Bảy")))
            .await;
        let (data, message_id) = button(&tg, leader(g), "nt:send:").await;
        send_and_wait(&feeder, &db, leader(g), leader(g), &Send::Press { data, message_id, chat: leader(g) }).await;
    }

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let set_up_updates = feeder.pushed.load(Ordering::Relaxed);
    let mut residents = Vec::new();
    for g in 1..=GROUPS {
        for i in 0..residents_per_group {
            let part = PARTS[(i % 4) as usize];
            residents.push((g, resident(g, i), part));
        }
    }
    let load: usize = residents.iter().map(|(g, u, p)| script(*p, *u, *g).len() + 1).sum::<usize>()
        + residents.iter().filter(|r| r.2 == Part::Pledge).count();
    let mut kill_points: Vec<usize> =
        (0..kill_count).map(|_| set_up_updates + 50 + rng.below(load as u64 - 150) as usize).collect();
    kill_points.sort_unstable();

    // The killer: SIGKILL when the stream passes each point, note what was
    // left, start again.
    let kills = Arc::new(Mutex::new(Kills::default()));
    let killer = {
        let (feeder, kills, db, url, path) =
            (feeder.clone(), kills.clone(), db.clone(), tg.url.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            for (run, point) in kill_points.into_iter().enumerate() {
                while feeder.pushed.load(Ordering::Relaxed) < point {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                bot.kill();
                note_kill(&db, &path, &kills).await;
                if run == 0 {
                    // A scheduled job fires during the kills: every
                    // member's weekly summary at this restart.
                    arm_weekly_summary(&path).await;
                }
                bot = BotProcess::start(&path, &url, run + 1);
            }
            bot
        })
    };

    if let Some((percent, stall)) = chaos {
        tg.chaos(percent, seed, stall);
    }
    let mut tasks = Vec::new();
    for (g, user, part) in residents.clone() {
        let (feeder, db, tg) = (feeder.clone(), db.clone(), tg.clone());
        tasks.push(tokio::spawn(async move {
            for send in script(part, user, g) {
                let send = match send {
                    Send::Find(prefix) => {
                        let (data, message_id) = button(&tg, user, prefix).await;
                        Send::Press { data, message_id, chat: user }
                    }
                    other => other,
                };
                send_and_wait(&feeder, &db, user, user, &send).await;
            }
            if part == Part::Pledge {
                let code: i64 = sqlx::query_scalar(
                    "SELECT p.id FROM pledges p JOIN users u ON u.id = p.user_id WHERE u.external_id = ?",
                )
                .bind(user.to_string())
                .fetch_one(&db)
                .await
                .expect("the pledge is stored");
                send_and_wait(&feeder, &db, leader(g), leader(g), &Send::Text(format!("/xacnhan P{code:04}"))).await;
            }
            let (data, message_id) = button(&tg, group_chat(g), "nt:seen:").await;
            send_and_wait(&feeder, &db, group_chat(g), user, &Send::Press { data, message_id, chat: group_chat(g) })
                .await;
        }));
    }
    for t in tasks {
        t.await.expect("a resident's script");
    }
    let mut bot = killer.await.expect("the killer");
    let faults = tg.calm().unwrap_or_default();
    // Let the notice sender and the last replies finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    bot.kill();

    let ids = feeder.ids.lock().unwrap().clone();
    let mut kills = Arc::try_unwrap(kills).ok().unwrap().into_inner().unwrap();
    let forced = faults.carried_out_then_reset.len();
    kills.in_flight.extend(faults.carried_out_then_reset.iter().cloned());
    let report = check(&db, &tg, &residents, &ids, &kills, dir.path(), kill_count > 0).await;
    let logs = logs(dir.path());
    assert_no_personal_data(&logs, &residents);
    if chaos.is_some() {
        assert!(logs.contains("trying again"), "failed requests are logged");
    }
    eprintln!(
        "soak seed {seed}: {} updates, {kill_count} kills, {} replayed after a restart, {} replies resent, \
         faults injected {:?} ({forced} sends carried out then reset), {} confirmations arrived twice \
         (each in flight at a kill or reset after being carried out), duplicate rows 0",
        ids.len(),
        kills.replayed,
        kills.in_flight.len() - forced,
        faults.injected,
        report.twice
    );
}

fn logs(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".log") {
            all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    all
}

/// What residents typed about themselves never reaches the log.
fn assert_no_personal_data(logs: &str, residents: &[(i64, i64, Part)]) {
    assert!(logs.contains("handled update"), "the bot logs each update");
    for needle in ["nguyễn văn an", "ngõ 41", "Hoàng Quốc Việt", "Đèn đường trước cổng"] {
        assert!(!logs.contains(needle), "the log holds '{needle}'");
    }
    for (_, user, _) in residents {
        let phone = format!("09{user:08}");
        assert!(!logs.contains(&phone), "the log holds the phone number {phone}");
    }
}

struct Report {
    twice: usize,
}

async fn check(
    db: &SqlitePool,
    tg: &FakeTelegram,
    residents: &[(i64, i64, Part)],
    ids: &[i64],
    kills: &Kills,
    dir: &Path,
    // The weekly summary fired during the kills: each member has it once.
    weekly: bool,
) -> Report {
    // Every update handled, none failed.
    let handled: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT update_id, handled_at, error FROM processed_updates").fetch_all(db).await.unwrap();
    let handled: HashMap<String, (Option<String>, Option<String>)> =
        handled.into_iter().map(|(id, at, e)| (id, (at, e))).collect();
    for id in ids {
        match handled.get(&id.to_string()) {
            Some((Some(_), None)) => {}
            other => panic!("update {id}: {other:?}; see {}", dir.display()),
        }
    }
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reply_outbox").fetch_one(db).await.unwrap();
    assert_eq!(left, 0, "every committed reply was sent");
    // Every reply that was committed and waiting at a kill reached its
    // chat at least once (issue 18: one whose outbox id was reused was
    // dropped at the restart as already sent).
    let delivered: std::collections::HashSet<(i64, String)> = tg
        .requests()
        .into_iter()
        .filter_map(|r| {
            let text = r.body["text"].as_str().or(r.body["caption"].as_str())?.to_string();
            Some((r.body["chat_id"].as_i64()?, text))
        })
        .collect();
    for (chat, text) in &kills.committed {
        assert!(delivered.contains(&(*chat, text.clone())), "a committed reply never reached {chat}: {text}");
    }

    // Every row exactly once.
    let count = |part: Part| residents.iter().filter(|r| r.2 == part).count() as i64;
    for (what, sql, expected) in [
        (
            "households",
            "SELECT COUNT(*), COUNT(DISTINCT owner_user_id) FROM households",
            count(Part::Register) + GROUPS,
        ),
        ("visits", "SELECT COUNT(*), COUNT(DISTINCT by_user_id) FROM visits", count(Part::Visit)),
        (
            "joining the group, once per visited household",
            "SELECT COUNT(*), COUNT(DISTINCT household_id) FROM indicator_events WHERE indicator = 'joined_group'",
            if count(Part::Visit) > 0 { GROUPS } else { 0 },
        ),
        ("reports", "SELECT COUNT(*), COUNT(DISTINCT reporter_user_id) FROM reports", count(Part::Report)),
        ("pledges", "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM pledges", count(Part::Pledge)),
        (
            "confirmed pledges",
            "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM pledges WHERE status = 'received'",
            count(Part::Pledge),
        ),
        (
            "notices",
            "SELECT COUNT(*), COUNT(DISTINCT sender_user_id) FROM notices WHERE status IN ('queued', 'done')",
            GROUPS,
        ),
        ("acknowledgements", "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM notice_acks", residents.len() as i64),
    ] {
        let (rows, distinct): (i64, i64) = sqlx::query_as(sql).fetch_one(db).await.unwrap();
        assert_eq!((rows, distinct), (expected, expected), "{what}: rows and distinct people");
    }
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_photos").fetch_one(db).await.unwrap();
    assert_eq!(photos, count(Part::Report));
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(db).await.unwrap();
    assert_eq!(integrity, "ok");

    // Every person got each confirmation at least once, and twice only if
    // it was on its way when the bot was killed.
    let mut texts: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for r in tg.requests() {
        if r.method == "sendMessage" {
            let chat = r.body["chat_id"].as_i64().unwrap_or(0);
            *texts.entry((chat, r.body["text"].as_str().unwrap_or("").to_string())).or_default() += 1;
        }
    }
    let confirmation = |part: Part| match part {
        Part::Register => "Đã gửi hồ sơ hộ #",
        Part::Report => "Đã nhận phản ánh PA-",
        Part::Pledge => "💝 Cảm ơn bác!",
        Part::Visit => "Đã ghi lần thăm hộ",
    };
    // Each registration reached its group's leader.
    for g in 1..=GROUPS {
        let registered = residents.iter().filter(|r| r.0 == g && r.2 == Part::Register).count();
        let told =
            texts.iter().filter(|((chat, text), _)| *chat == leader(g) && text.contains("Đăng ký hộ mới")).count();
        // And of the household its team visits.
        assert_eq!(told, registered + 1, "group {g}: the leader is told of each new household once");
    }
    let mut twice = 0;
    for (g, user, part) in residents {
        let mut expected = vec![confirmation(*part)];
        if *part == Part::Pledge {
            expected.push("Tổ đã nhận 200.000 đ");
        }
        if *part == Part::Visit && weekly {
            expected.push("Tổng kết tuần");
        }
        for needle in expected {
            let got: Vec<(&(i64, String), &usize)> =
                texts.iter().filter(|((chat, text), _)| chat == user && text.contains(needle)).collect();
            assert_eq!(got.len(), 1, "user {user} of group {g}: one '{needle}' message, got {got:?}");
            let (key, n) = got[0];
            if *n > 1 {
                // Each copy beyond the first needs its own cause.
                let causes = kills.in_flight.iter().filter(|k| *k == key).count();
                assert!(
                    *n <= 1 + causes,
                    "user {user}: '{needle}' arrived {n} times, but only {causes} time(s) was it in flight at a kill or reset after being sent"
                );
                twice += 1;
            }
        }
    }
    Report { twice }
}

fn seeds() -> Vec<u64> {
    std::env::var("TODANPHO_SOAK_SEEDS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_nothing_is_lost_or_doubled() {
    for seed in seeds() {
        soak(Plan { seed, residents_per_group: 19, kills: 5, chaos: None }).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_bot_api_loses_nothing_and_doubles_only_what_it_forced() {
    let stall = Duration::from_secs(10);
    soak(Plan { seed: 7, residents_per_group: 3, kills: 0, chaos: Some((10, stall)) }).await;
}

/// A consultation under SIGKILL (issue 22): 24 households of two groups
/// answer a secret ballot at once, some pressing twice, while the bot is
/// killed twice; then an official closes it and the bot is killed during
/// the close. Every household counts once, no answer is lost, the
/// consultation closes once and its result is queued once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_a_burst_of_answers_and_the_close_no_answer_is_lost_or_counted_twice() {
    const VOTERS: i64 = 12;
    let tg = FakeTelegram::start().await;
    let (dir, mut bot, db, feeder) = launch(&tg).await;
    let mut voters = Vec::new();
    for g in 1..=2 {
        link_group(&feeder, &db, g).await;
        for i in 0..VOTERS {
            let user = 6_000_000 + g * 100 + i;
            register_approved(&feeder, &db, g, user, &(10 + i).to_string()).await;
            voters.push(user);
        }
    }
    // A secret ballot for both groups, written and sent by the official.
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("/layykien".into())).await;
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("Đặt tên ngõ 41 là phố Xuân Thủy?".into())).await;
    for label in ["Không cần", "Bỏ qua", "Đồng ý / Không đồng ý", "Mỗi hộ", "Phiếu kín"] {
        tap(&feeder, &db, OFFICIAL, label).await;
    }
    send_and_wait(&feeder, &db, OFFICIAL, OFFICIAL, &Send::Text("2 ngày".into())).await;
    for label in ["Tất cả", "Xác nhận", "Gửi"] {
        tap(&feeder, &db, OFFICIAL, label).await;
    }
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM consultations WHERE status = 'open'").fetch_one(&db).await.unwrap();
    assert_eq!(open, 1, "the consultation is open");

    // The burst: everyone at once, a third pressing twice; two kills in it.
    let start = feeder.pushed.load(Ordering::Relaxed);
    let killer = {
        let (feeder, url, path) = (feeder.clone(), tg.url.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            for (run, point) in [start + 7, start + 19].into_iter().enumerate() {
                while feeder.pushed.load(Ordering::Relaxed) < point {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                bot.kill();
                bot = BotProcess::start(&path, &url, run + 1);
            }
            bot
        })
    };
    let mut tasks = Vec::new();
    for (n, user) in voters.iter().copied().enumerate() {
        let (feeder, db) = (feeder.clone(), db.clone());
        tasks.push(tokio::spawn(async move {
            let press = Send::Press { data: format!("yk:a:1:{}", n % 2), message_id: 1, chat: user };
            let first = feeder.push(user, user, &press);
            if n % 3 == 0 {
                let second = feeder.push(user, user, &press);
                wait_done(&db, second).await;
            }
            wait_done(&db, first).await;
        }));
    }
    for t in tasks {
        t.await.expect("a voter");
    }
    let mut bot = killer.await.expect("the killer");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&db).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM consultation_answered").await, 2 * VOTERS, "every household answered once");
    assert_eq!(count("SELECT COUNT(*) FROM ballot_box").await, 2 * VOTERS, "every answer counted once");
    assert_eq!(count("SELECT COUNT(*) FROM ballot_box WHERE option = 0").await, VOTERS);

    // The close, killed while it runs; after the restart it is done once.
    let close = feeder.push(OFFICIAL, OFFICIAL, &Send::Text("/ketquaykien YK1 ketthuc".into()));
    tokio::time::sleep(Duration::from_millis(5)).await;
    bot.kill();
    let mut bot = BotProcess::start(dir.path(), &tg.url, 3);
    wait_done(&db, close).await;
    assert_eq!(count("SELECT COUNT(*) FROM consultations WHERE status = 'closed'").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM notices WHERE about = 'kết quả lấy ý kiến YK1'").await, 1, "one result");
    for g in 1..=2 {
        let mut posted = 0;
        for _ in 0..500 {
            posted = tg
                .requests()
                .iter()
                .filter(|r| r.method == "sendMessage" && r.body["chat_id"] == json!(group_chat(g)))
                .filter(|r| r.body["text"].as_str().is_some_and(|t| t.contains("KẾT QUẢ LẤY Ý KIẾN YK1")))
                .count();
            if posted > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(posted, 1, "the result reaches group {g} once");
    }
    let result = tg
        .requests()
        .into_iter()
        .find(|r| r.body["text"].as_str().is_some_and(|t| t.contains("KẾT QUẢ LẤY Ý KIẾN YK1")))
        .unwrap();
    let text = result.body["text"].as_str().unwrap();
    assert!(text.contains("Tham gia: 24/24 hộ") && text.contains("• Đồng ý: 12 (50%)"), "{text}");
    bot.kill();
    let logs = logs(dir.path());
    for user in &voters {
        assert!(!logs.contains(&format!("09{user:08}")), "a phone number in the log");
    }
}
