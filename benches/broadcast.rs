//! `cargo bench --bench broadcast`: one notice to 1,000 group chats through
//! the local fake Bot API, which enforces Telegram's 30 messages a second
//! with 429s. Prints the total time, the ideal time under the limit, their
//! ratio and the 429s received. A measurement, not a test: it asserts
//! nothing.

#[path = "../tests/e2e/fake_limits.rs"]
mod fake_limits;
#[allow(dead_code)]
#[path = "../tests/e2e/fake_telegram.rs"]
mod fake_telegram;

use std::time::{Duration, Instant};

use fake_telegram::{FakeTelegram, Limits};
use todanpho::config::{Config, Secret};
use todanpho::startup;

const CHATS: i64 = 1_000;
const PER_SECOND: usize = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tg = FakeTelegram::start().await;
    tg.enforce(Limits { per_second: PER_SECOND, per_chat_per_minute: 20 });
    let dir = tempfile::tempdir()?;
    let config = Config::parse(&format!(
        "[ward]\nname = \"Phường Bench\"\n[database]\npath = \"{}\"\n[telegram]\napi_url = \"{}\"\nofficials = [1]\n[notices]\nper_second = {PER_SECOND}\n",
        dir.path().join("bench.db").display(),
        tg.url
    ))
    .map_err(anyhow::Error::msg)?;
    let (app, db) = startup::build_app(&config).await?;

    let mut tx = db.write().await?;
    let mut groups = Vec::new();
    for i in 0..CHATS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z') RETURNING id",
        )
        .bind(format!("Tổ {i}"))
        .bind(format!("to {i}"))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO group_chats (channel, chat_id, group_id, linked_at) VALUES ('telegram', ?, ?, '2026-11-01T00:00:00Z')")
            .bind((-6_000_000_000 - i).to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        groups.push(id);
    }
    let official: i64 = sqlx::query_scalar("SELECT user_id FROM officials LIMIT 1").fetch_one(&mut *tx).await?;
    tx.commit().await?;

    let bot = startup::telegram_bot(&Secret::new("1:BENCH"), &config.telegram.api_url)?;
    let running = startup::spawn_telegram(bot, app.clone(), db.clone()).await;
    // Let start-up traffic (menus, getMe) pass before the clock starts.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let started = Instant::now();
    {
        let mut tx = db.write().await?;
        let code =
            todanpho::notice::repo::create_draft(&mut tx, official, "Bench notice", None, &groups, chrono::Utc::now())
                .await?;
        todanpho::notice::repo::queue(&mut tx, code, chrono::Utc::now()).await?;
        tx.commit().await?;
    }
    app.outbox.notify_one();
    loop {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notices WHERE status = 'done'")
            .fetch_one(&mut *db.read().await?)
            .await?;
        if done == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_deliveries WHERE status = 'sent'")
        .fetch_one(&mut *db.read().await?)
        .await?;
    running.stop().await?;

    let ideal = Duration::from_secs_f64(CHATS as f64 / PER_SECOND as f64);
    println!(
        "broadcast benchmark — {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!("| chats | delivered | total | ideal (1000/30 s) | ratio | 429s |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {CHATS} | {sent} | {:.2} s | {:.2} s | {:.3} | {} |",
        total.as_secs_f64(),
        ideal.as_secs_f64(),
        total.as_secs_f64() / ideal.as_secs_f64(),
        tg.rejected()
    );
    Ok(())
}
