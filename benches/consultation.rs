//! `cargo bench --bench consultation`: a consultation at ward and city
//! scale. A measurement, not a test: it asserts nothing.
//!
//! 1. Answers: 30,000 households of 100 groups answer a secret ballot in
//!    private through the local fake Bot API (the real dispatcher, polling
//!    over HTTP), offered at a steady rate (`CONSULTATION_RATE`, default
//!    500 answers/s: 30,000 in a minute, ten times what "within 10 minutes
//!    of the post" asks). Printed: answers/s achieved, and the latency from
//!    the press to the confirmation's `sendMessage` (p50, p99, max).
//! 2. Tally and close: the full tally (participation per group, each
//!    option's count per group) and the close (status, result, the result
//!    queued to every group, the posts' last edit, each leader's and
//!    official's private view) at 30,000 and 1,000,000 households, all of
//!    whom answered (`CONSULTATION_BIG=0` skips the million).

#[allow(dead_code)]
#[path = "../tests/e2e/fake_limits.rs"]
mod fake_limits;
#[allow(dead_code)]
#[path = "../tests/e2e/fake_telegram.rs"]
mod fake_telegram;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use todanpho::config::{Config, Secret};
use todanpho::consultation::{actions, repo, tally, Ballot, Unit};
use todanpho::db::Database;
use todanpho::demo::{seed, Sizes};
use todanpho::startup;

const GROUPS: i64 = 100;

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(path: &std::path::Path, api_url: &str) -> anyhow::Result<Config> {
    Config::parse(&format!(
        "[ward]\nname = \"Phường Bench\"\n[database]\npath = \"{}\"\n[telegram]\napi_url = \"{api_url}\"\nofficials = []\n\
         [ops]\nlisten = \"127.0.0.1:0\"\n[flood]\nper_person_burst = 100000\ngroup_burst = 100000\n",
        path.display()
    ))
    .map_err(anyhow::Error::msg)
}

/// `households` approved households of [`GROUPS`] groups, their heads on
/// Telegram (user id = Telegram id) with the private chat opened, each
/// group with a chat; and a secret consultation to them all, open.
async fn world(
    app: &todanpho::app::App,
    db: &Database,
    households: i64,
    ballot: Ballot,
) -> anyhow::Result<repo::Draft> {
    seed(db, &todanpho::clock::SystemClock, Sizes { groups: GROUPS, households, reports: 0, pledges: 0 }).await?;
    let mut tx = db.write().await?;
    for sql in [
        "UPDATE users SET channel = 'telegram', external_id = CAST(id AS TEXT)",
        "UPDATE households SET status = 'approved'",
        "INSERT INTO private_chats (channel, chat_id, opened_at) SELECT 'telegram', CAST(id AS TEXT), created_at FROM users",
        "INSERT INTO group_chats (channel, chat_id, group_id, linked_at) SELECT 'telegram', CAST(-5000000000 - id AS TEXT), id, created_at FROM groups",
        "INSERT INTO leaders (user_id, group_id, appointed_at) SELECT MIN(owner_user_id), group_id, '2026-11-01T00:00:00Z' FROM households GROUP BY group_id",
        "ANALYZE",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let (options, other) = todanpho::consultation::default_options();
    Ok(repo::Draft {
        question: "Bà con có đồng ý đặt tên ngõ 41 là phố Xuân Thủy không?".into(),
        explanation: None,
        photo: None,
        options,
        other,
        unit: Unit::Household,
        ballot,
        closes_at: app.clock.now() + chrono::Duration::days(2),
    })
}

/// Creates and opens the consultation (as **Gửi** does); its post queued.
async fn open(
    app: &todanpho::app::App,
    db: &Database,
    draft: &repo::Draft,
) -> anyhow::Result<todanpho::consultation::Consultation> {
    let mut tx = db.write().await?;
    let groups: Vec<i64> = sqlx::query_scalar("SELECT id FROM groups").fetch_all(&mut *tx).await?;
    let code = repo::create(&mut tx, 1, draft, &groups, app.clock.now()).await?;
    let c = repo::get(&mut tx, code).await?.expect("created");
    let registered = repo::open(&mut tx, &c, app.clock.now()).await?.expect("a draft");
    let c = repo::get(&mut tx, code).await?.expect("opened");
    todanpho::consultation::post::send(app, &mut tx, &c, registered, app.clock.now()).await?;
    tx.commit().await?;
    Ok(c)
}

async fn answers() -> anyhow::Result<()> {
    let households = env_or("CONSULTATION_HOUSEHOLDS", 30_000);
    let rate = env_or("CONSULTATION_RATE", 500).max(1);
    let tg = fake_telegram::FakeTelegram::start().await;
    let dir = tempfile::tempdir()?;
    let config = config(&dir.path().join("answers.db"), &tg.url)?;
    let (app, db) = startup::build_app(&config).await?;
    // CONSULTATION_BALLOT=open: the same with an open ballot (no scrub of
    // the journal, every answer kept with who and when).
    let ballot = match std::env::var("CONSULTATION_BALLOT").as_deref() {
        Ok("open") => Ballot::Open,
        _ => Ballot::Secret,
    };
    let draft = world(&app, &db, households, ballot).await?;
    let c = open(&app, &db, &draft).await?;
    let voters: Vec<i64> = sqlx::query_scalar("SELECT owner_user_id FROM households ORDER BY id")
        .fetch_all(&mut *db.read().await?)
        .await?;
    let mut observed = tg.observe();
    let bot = startup::telegram_bot(&Secret::new("123:bench"), &tg.url)?;
    let running = startup::spawn_telegram(bot, app.clone(), db.clone()).await;

    let pushed: std::sync::Arc<std::sync::Mutex<HashMap<i64, Instant>>> = Default::default();
    let collector = {
        let pushed = pushed.clone();
        let want = voters.len();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(want);
            while latencies.len() < want {
                let Some(o) = observed.recv().await else { break };
                if o.method != "sendMessage" || o.chat <= 0 {
                    continue;
                }
                if let Some(at) = pushed.lock().unwrap().remove(&o.chat) {
                    latencies.push(o.at.saturating_duration_since(at));
                }
            }
            (latencies, Instant::now())
        })
    };
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    for (i, voter) in voters.iter().enumerate() {
        let due = start + every * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let option = (voter % 7 % 2) as usize; // no "Ý kiến khác": it asks for words
        pushed.lock().unwrap().insert(*voter, Instant::now());
        tg.push(json!({ "callback_query": {
            "id": format!("cb{voter}"), "chat_instance": "ci",
            "from": { "id": voter, "is_bot": false, "first_name": "Cư dân" },
            "message": { "message_id": 1, "date": 1_790_000_000, "text": "🗳",
                         "chat": { "id": voter, "type": "private", "first_name": "Cư dân" } },
            "data": format!("yk:a:{}:{option}", c.code.id()),
        }}));
    }
    let (mut latencies, done) = tokio::time::timeout(Duration::from_secs(600), collector).await??;
    let elapsed = done - start;
    running.stop().await?;
    let counted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM consultation_answered").fetch_one(&mut *db.read().await?).await?;
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!("| ballot | households | offered | answers confirmed | answers/s | p50 | p99 | max | counted |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {households} | {rate}/s | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {counted} |",
        c.ballot.label(),
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(latencies.last())
    );
    Ok(())
}

async fn tally_and_close(households: i64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config(&dir.path().join("tally.db"), "http://127.0.0.1:9/")?;
    let (app, db) = startup::build_app(&config).await?;
    let t = Instant::now();
    let draft = world(&app, &db, households, Ballot::Secret).await?;
    let c = open(&app, &db, &draft).await?;
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO consultation_answered (consultation_id, household_id, person, group_id, receipt, via, answered_at)
         SELECT ?1, id, 0, group_id, 'YK' || ?1 || '-' || id, 'telegram', created_at FROM households",
    )
    .bind(c.code.id())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO ballot_box (consultation_id, token, group_id, option, other_text)
         SELECT ?1, randomblob(16), group_id, abs(random()) % 3, CASE WHEN abs(random()) % 1000 = 0 THEN 'Ý kiến khác mẫu' END
         FROM households",
    )
    .bind(c.code.id())
    .execute(&mut *tx)
    .await?;
    sqlx::query("ANALYZE").execute(&mut *tx).await?;
    tx.commit().await?;
    let seeded = t.elapsed();
    let mut tallies = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        tally::Figures::read(&mut *db.read().await?, &c).await?;
        tallies.push(t.elapsed());
    }
    tallies.sort();
    let mut tx = db.write().await?;
    let mut out = todanpho::channel::Replies::default();
    let t = Instant::now();
    // The close at its time, as the scheduler's job does it.
    let job = todanpho::action::Actor::new(c.creator, todanpho::action::Door::Job, c.closes_at);
    let done = actions::close(&app, &mut tx, &job, c.code).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    todanpho::action::told::render(&mut tx, done.told, &mut out).await?;
    tx.commit().await?;
    let closing = t.elapsed();
    println!(
        "| {households} | {:.1} s | {:.1} ms | {:.1} ms | {} |",
        seeded.as_secs_f64(),
        tallies[2].as_secs_f64() * 1000.0,
        closing.as_secs_f64() * 1000.0,
        out.actions.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "consultation benchmark — {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!("\nAnswers through the fake Bot API:\n");
    answers().await?;
    println!("\nTally and close (secret ballot, every household answered):\n");
    println!("| households | seed | full tally (median of 5) | close (tally, result queued, posts, private views) | messages |");
    println!("|---|---|---|---|---|");
    tally_and_close(30_000).await?;
    if env_or("CONSULTATION_BIG", 1) != 0 {
        tally_and_close(1_000_000).await?;
    }
    Ok(())
}
