//! `cargo bench --bench metrics`: what a `/metrics` scrape reads from the
//! database ([`todanpho::ops::read_figures`]: the outbox, deliveries,
//! dialogues, every table's rows, the file's size) on a ward of 30,000
//! households whose audit log holds 1,000,000 rows, beside two days of a
//! busy ward's inbox (50,000 handled updates). Also times what the scrape
//! did before issue 34, `COUNT(*)` of every table, for comparison. A
//! measurement, not a test.

use std::time::{Duration, Instant};

use todanpho::config::Config;
use todanpho::demo::{seed, Sizes};
use todanpho::startup;

const AUDIT_ROWS: i64 = 1_000_000;
const INBOX_ROWS: i64 = 50_000;

async fn median<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todanpho::ops::install();
    let dir = tempfile::tempdir()?;
    let config = Config::parse(&format!(
        "[ward]\nname = \"Bench\"\n[database]\npath = \"{}\"\n[telegram]\nofficials = []\n",
        dir.path().join("metrics.db").display()
    ))
    .map_err(anyhow::Error::msg)?;
    let (app, db) = startup::build_app(&config).await?;
    let t = Instant::now();
    seed(
        &db,
        &todanpho::clock::SystemClock,
        Sizes { groups: 100, households: 30_000, reports: 10_000, pledges: 50_000 },
    )
    .await?;
    let now = app.clock.now();
    let mut tx = db.write().await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO audit_log (actor_user_id, action, subject, detail, at)
         SELECT NULL, 'household.approve', 'household:' || i, NULL, ? FROM n",
    )
    .bind(AUDIT_ROWS)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO processed_updates (channel, update_id, received_at, handled_at)
         SELECT 'telegram', 'bench-' || i, ?2, ?2 FROM n",
    )
    .bind(INBOX_ROWS)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("ANALYZE").execute(&mut *tx).await?;
    tx.commit().await?;
    let seeded = t.elapsed();

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name NOT IN ('_sqlx_migrations', 'ops_heartbeat') ORDER BY name",
    )
    .fetch_all(&mut *db.read().await?)
    .await?;
    // Warm the cache once, as a running bot's would be.
    todanpho::ops::read_figures(&db, now).await?;
    let count_all = median(7, || async {
        let mut conn = db.read().await?;
        for table in &tables {
            let _: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *conn).await?;
        }
        Ok(())
    })
    .await?;
    let scrape = median(7, || async { todanpho::ops::read_figures(&db, now).await }).await?;
    println!(
        "metrics benchmark — {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!("| households | audit rows | inbox rows | tables | seed | COUNT(*) of every table (median of 7) | /metrics figures (median of 7) |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| 30000 | {AUDIT_ROWS} | {INBOX_ROWS} | {} | {:.1} s | {:.1} ms | {:.2} ms |",
        tables.len(),
        seeded.as_secs_f64(),
        count_all.as_secs_f64() * 1000.0,
        scrape.as_secs_f64() * 1000.0
    );
    Ok(())
}
