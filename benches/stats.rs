//! `cargo bench --bench stats`: the full `/thongke` computation (the
//! households' figures from the running totals of migrations 0022 and 0025) and the
//! xlsx export at ward scale (10,000 and 30,000 households) and city scale
//! (1,000,000 households, 100,000 reports, 500,000 contributions), with the
//! query plans of the heaviest queries; and for the digital teams (a visit
//! to every third household), `/tiendo` for the ward and the walking list
//! of one group. A measurement, not a test.

use std::time::{Duration, Instant};

use todanpho::config::Config;
use todanpho::demo::{seed, Sizes};
use todanpho::digital::{doors, progress};
use todanpho::startup;
use todanpho::stats::{compute, export, households, Period};

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

/// The process's peak resident memory (VmHWM), in KB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "stats benchmark — {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!(
        "| households | groups | reports | pledges | seed | /thongke (median of 5) | /tiendo ward (median of 5) | walking list, one group (median of 5) | xlsx export |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut plans = String::new();
    // STATS_BENCH=small runs only the ward size (seconds instead of minutes).
    let small_only = std::env::var("STATS_BENCH").is_ok_and(|v| v == "small");
    let all = [
        Sizes { groups: 40, households: 10_000, reports: 5_000, pledges: 20_000 },
        Sizes { groups: 100, households: 30_000, reports: 10_000, pledges: 50_000 },
        Sizes { groups: 600, households: 1_000_000, reports: 100_000, pledges: 500_000 },
    ];
    for sizes in all.into_iter().take(if small_only { 1 } else { 3 }) {
        let dir = tempfile::tempdir()?;
        let config = Config::parse(&format!(
            "[ward]\nname = \"Bench\"\n[database]\npath = \"{}\"\n[telegram]\nofficials = []\n",
            dir.path().join("stats.db").display()
        ))
        .map_err(anyhow::Error::msg)?;
        let (app, db) = startup::build_app(&config).await?;
        let t = Instant::now();
        seed(&db, &todanpho::clock::SystemClock, sizes).await?;
        let mut tx = db.write().await?;
        sqlx::query("ANALYZE").execute(&mut *tx).await?;
        tx.commit().await?;
        let seeded = t.elapsed();
        let period = Period::last_days(app.clock.now(), 30);
        let summary = median(5, || async {
            let mut conn = db.read().await?;
            compute(&app, &mut conn, &None, period).await?;
            Ok(())
        })
        .await?;
        // `/tiendo` for the ward: the figures and both rankings over 7 days.
        let now = app.clock.now();
        let since_at = now - chrono::Duration::days(7);
        let since = app.settings.day(since_at);
        let tiendo = median(5, || async {
            let mut conn = db.read().await?;
            progress::compute(&mut conn, &None, since, since_at).await?;
            Ok(())
        })
        .await?;
        let walk = median(5, || async {
            let mut conn = db.read().await?;
            doors::remaining(&mut conn, 1).await?;
            Ok(())
        })
        .await?;
        let doors_found = doors::remaining(&mut *db.read().await?, 1).await?.len();
        let export_time = {
            let before = peak_rss_kb();
            let t = Instant::now();
            let mut conn = db.read().await?;
            let bytes = export::workbook(&app, &mut conn, &None).await?;
            format!(
                "{:.2} s, {} KB file, peak RSS {} → {} MB",
                t.elapsed().as_secs_f64(),
                bytes.len() / 1024,
                before / 1024,
                peak_rss_kb() / 1024
            )
        };
        println!(
            "| {} | {} | {} | {} | {:.1} s | {:.1} ms | {:.1} ms | {:.1} ms ({doors_found} doors) | {export_time} |",
            sizes.households,
            sizes.groups,
            sizes.reports,
            sizes.pledges,
            seeded.as_secs_f64(),
            summary.as_secs_f64() * 1000.0,
            tiendo.as_secs_f64() * 1000.0,
            walk.as_secs_f64() * 1000.0
        );
        if sizes.households > 10_000 {
            let mut conn = db.read().await?;
            let t = Instant::now();
            households(&mut conn, &None).await?;
            plans.push_str(&format!("households per group alone: {:.1} ms\n", t.elapsed().as_secs_f64() * 1000.0));
            for (name, sql) in [
                ("households per group (running totals)", "SELECT g.id, d.households, t.pending, t.people FROM groups g LEFT JOIN group_digital_totals d ON d.group_id = g.id LEFT JOIN group_household_totals t ON t.group_id = g.id ORDER BY g.id"),
                ("reports closed in the period", "SELECT created_at, closed_at, rating FROM reports WHERE status IN ('resolved', 'declined') AND closed_at >= '2026-01-01' AND closed_at < '2027-01-01'"),
                ("campaign totals", "SELECT c.id, COALESCE(SUM(p.amount), 0), (SELECT COUNT(DISTINCT r.user_id) FROM pledges r WHERE r.campaign_id = c.id AND r.status = 'received') FROM campaigns c LEFT JOIN pledges p ON p.campaign_id = c.id WHERE c.status = 'open' GROUP BY c.id"),
                ("open reports by category", "SELECT category, COUNT(*) FROM reports WHERE status IN ('new', 'accepted', 'in_progress') GROUP BY category"),
            ] {
                let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(&mut *conn).await?;
                plans.push_str(&format!("{name}:\n"));
                for (_, _, _, detail) in rows {
                    plans.push_str(&format!("  {detail}\n"));
                }
            }
        }
    }
    println!("\n{plans}");
    Ok(())
}
