//! `cargo bench --bench throughput`: the real `todanpho` binary against the
//! local fake Bot API, all on loopback, driven by simulated residents who run
//! whole dialogues (household registration, a scene report with a photo, a
//! pledge) as fast as the bot answers. Beside it, a bare teloxide echo bot
//! (built into this benchmark, same dispatcher settings) under the same load.
//! Prints one table: updates/s, latency percentiles, the ratio to the bare
//! bot, peak memory, start-up time on 1,000,000 households, and the same run
//! with `synchronous = normal` beside the default `full`. A measurement, not
//! a test: it asserts nothing.
//!
//! The saturated runs have every resident send the next message the moment
//! the last answer arrives, so latency there is queueing (Little's law:
//! residents / updates per second); the paced run offers a steady
//! `THROUGHPUT_PACED_RATE` updates/s (default 1000) from the same number of
//! residents to show latency below saturation.
//!
//! `THROUGHPUT_USERS` (default 1000), `THROUGHPUT_DIALOGUES` (default
//! 10000) and `THROUGHPUT_STARTUP_HOUSEHOLDS` (default 1000000) shrink the
//! run; the 1M-household database is built once and kept in `target/`.
//!
//! `THROUGHPUT_SUMMARY=1` is the guard: only the saturated run and the bare
//! bot, and one line with the bot's CPU per update and the ratio
//! (`THROUGHPUT_SUMMARY=3`: three rounds, a line each). `THROUGHPUT_WRAP`
//! runs the bot under a profiler; under `valgrind --tool=callgrind
//! --callgrind-out-file=…` the counts are zeroed when the measured load
//! starts and dumped when it ends, and the instructions per update printed.
//! (Under a wrapper the CPU figures are those of the process started, the
//! profiler with or without the bot: not the bot's own.)

#[path = "../tests/e2e/fake_limits.rs"]
mod fake_limits;
#[allow(dead_code)]
#[path = "../tests/e2e/fake_telegram.rs"]
mod fake_telegram;
#[path = "../tests/e2e/scripts.rs"]
#[allow(dead_code)] // the benchmark uses part of it
mod scripts;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_telegram::{FakeTelegram, Observed};
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::SqlitePool;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_todanpho");
const GROUPS: i64 = 20;
const OFFICIAL: i64 = 1;
const ECHO_ENV: &str = "THROUGHPUT_ECHO_URL";
/// How long one step may wait for its replies before it counts as stalled.
/// Simulated residents type at machine speed, which flood control (made
/// for people) would rightly cut off; the load is spread over 1,000 of them
/// to stand for a ward's real traffic.
const FLOOD: &str = "[flood]\nper_person_burst = 100000\ngroup_burst = 100000\n";
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

fn ms(d: Option<&Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn leader(g: i64) -> i64 {
    10_000 + g
}

fn group_chat(g: i64) -> i64 {
    -100_000 - g
}

/// What a simulated person sends.
#[derive(Clone)]
enum Step {
    Text(String),
    Photo,
}

/// One resident's whole session: register, report with a photo, pledge.
fn resident_script(user: i64, group: i64) -> Vec<Step> {
    let t = |s: &str| Step::Text(s.to_string());
    let phone = format!("09{:08}", user % 100_000_000);
    let mut steps: Vec<Step> =
        scripts::registration(group, &user.to_string(), &phone).into_iter().map(Step::Text).collect();
    steps.extend([
        t(&format!("/start pa-{group}")),
        t("Chiếu sáng"),
        t("Đèn đường trước cổng hỏng ba hôm nay"),
        Step::Photo,
        t("xong"),
        t("Không gửi vị trí"),
        t("xác nhận"),
        t(&format!("/start uh-{group}")),
        t("200k"),
        t("Ghi tên tôi"),
        t("1"),
        t("xác nhận"),
    ]);
    steps
}

/// Builds Telegram updates and pushes them into the fake server.
struct Feeder {
    tg: FakeTelegram,
    next_message: std::sync::atomic::AtomicI64,
}

impl Feeder {
    fn user(id: i64) -> Value {
        json!({ "id": id, "is_bot": false, "first_name": format!("Cư dân {id}"), "language_code": "vi" })
    }

    fn message(&self, chat: i64, from: i64, send: &Step) -> Value {
        let chat_value = if chat > 0 {
            json!({ "id": chat, "type": "private", "first_name": "Cư dân" })
        } else {
            json!({ "id": chat, "type": "group", "title": "Nhóm tổ dân phố" })
        };
        let id = self.next_message.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut msg = json!({ "message_id": id, "date": 1_790_000_000, "chat": chat_value, "from": Self::user(from) });
        match send {
            Step::Text(text) => msg["text"] = json!(text),
            Step::Photo => {
                msg["photo"] = json!([{ "file_id": format!("photo-{from}"), "file_unique_id": format!("u{from}"),
                                        "width": 1280, "height": 960, "file_size": 200_000 }])
            }
        }
        msg
    }

    fn push(&self, chat: i64, from: i64, send: &Step) -> i64 {
        self.tg.push(json!({ "message": self.message(chat, from, send) }))
    }

    fn push_reply(&self, chat: i64, from: i64, text: &str, to: i64) -> i64 {
        let mut msg = self.message(chat, from, &Step::Text(text.into()));
        msg["reply_to_message"] = self.message(chat, to, &Step::Text("Chào mọi người".into()));
        self.tg.push(json!({ "message": msg }))
    }
}

/// Requests into each chat, forwarded to whoever waits on that chat.
#[derive(Default)]
struct Router {
    chats: std::sync::Mutex<HashMap<i64, mpsc::UnboundedSender<Instant>>>,
    first_get_updates: std::sync::Mutex<Option<Instant>>,
}

impl Router {
    fn spawn(self: &Arc<Self>, mut rx: mpsc::UnboundedReceiver<Observed>) {
        let router = self.clone();
        tokio::spawn(async move {
            while let Some(o) = rx.recv().await {
                if o.method == "getUpdates" {
                    router.first_get_updates.lock().unwrap().get_or_insert(o.at);
                    continue;
                }
                if let Some(tx) = router.chats.lock().unwrap().get(&o.chat) {
                    let _ = tx.send(o.at);
                }
            }
        });
    }

    fn listen(&self, chat: i64) -> mpsc::UnboundedReceiver<Instant> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.chats.lock().unwrap().insert(chat, tx);
        rx
    }
}

/// The bot under test, as a child process.
struct BotProcess {
    child: Child,
    /// The file callgrind writes to, when THROUGHPUT_WRAP runs the bot
    /// under `valgrind --tool=callgrind --callgrind-out-file=…`.
    callgrind: Option<String>,
    /// Dumps asked of callgrind so far: the n-th goes to `<file>.n`.
    dumps: std::cell::Cell<u32>,
}

impl BotProcess {
    fn start(dir: &Path, api_url: &str, synchronous: &str, database: &Path) -> anyhow::Result<Self> {
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[ward]\nname = \"Phường Bench\"\n[database]\npath = \"{}\"\nsynchronous = \"{synchronous}\"\n[telegram]\napi_url = \"{api_url}\"\nofficials = [{OFFICIAL}]\n[ops]\nlisten = \"127.0.0.1:0\"\n{FLOOD}",
                database.display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("bot.log"))?;
        // THROUGHPUT_WRAP runs the bot under a profiler, e.g.
        // "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out".
        let wrap = std::env::var("THROUGHPUT_WRAP").unwrap_or_default();
        let callgrind = wrap
            .contains("--tool=callgrind")
            .then(|| wrap.split_whitespace().find_map(|w| w.strip_prefix("--callgrind-out-file=")))
            .flatten()
            .map(str::to_string);
        let mut words = wrap.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let child = command
            .arg("--config")
            .arg(&config)
            .env("TELOXIDE_TOKEN", "1:BENCH")
            .env_remove("TELOXIDE_API_URL")
            .env("RUST_LOG", std::env::var("THROUGHPUT_BOT_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        Ok(Self { child, callgrind, dumps: 0.into() })
    }

    fn spawn_echo(api_url: &str) -> anyhow::Result<Self> {
        let child = Command::new(std::env::current_exe()?)
            .env(ECHO_ENV, api_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self { child, callgrind: None, dumps: 0.into() })
    }

    /// Under callgrind: sets its counts to zero, so that only what follows
    /// is counted (`callgrind_control -z`).
    fn callgrind_zero(&self) {
        if self.callgrind.is_some() {
            let _ = Command::new("callgrind_control").arg("-z").arg(self.child.id().to_string()).output();
        }
    }

    /// Under callgrind: the instructions counted since
    /// [`Self::callgrind_zero`], dumped now to the output file's `.n`.
    fn callgrind_dump(&self) -> Option<u64> {
        let out = self.callgrind.as_ref()?;
        let _ = Command::new("callgrind_control").arg("-d").arg(self.child.id().to_string()).output();
        self.dumps.set(self.dumps.get() + 1);
        let path = format!("{}.{}", out.replace("%p", &self.child.id().to_string()), self.dumps.get());
        let dump = std::fs::read_to_string(&path).ok()?;
        let totals = dump.lines().find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))?;
        totals.split_whitespace().next()?.parse().ok()
    }

    /// CPU time used so far (user + system), from /proc.
    fn cpu(&self) -> Duration {
        process_cpu(&self.child.id().to_string())
    }

    /// (current, peak) resident memory in MB.
    fn rss_mb(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// SIGTERM, so a profiler wrapping the bot writes its output; SIGKILL
    /// if it has not exited within 10 s.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..1000 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn open_read_only(path: &Path) -> anyhow::Result<SqlitePool> {
    for _ in 0..500 {
        if path.exists() {
            let options = SqliteConnectOptions::new().filename(path).read_only(true);
            if let Ok(pool) = SqlitePool::connect_with(options).await {
                return Ok(pool);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the bot did not create {}", path.display())
}

async fn count(db: &SqlitePool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db).await?)
}

async fn wait_handled(db: &SqlitePool, update: i64) -> anyhow::Result<()> {
    for _ in 0..2_000 {
        let done: Option<Option<String>> =
            sqlx::query_scalar("SELECT handled_at FROM processed_updates WHERE update_id = ?")
                .bind(update.to_string())
                .fetch_optional(db)
                .await
                .unwrap_or(None);
        if matches!(done, Some(Some(_))) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("update {update} was not handled within 10 s")
}

/// Links every group, appoints its leader and has the leader open a
/// campaign, one update at a time; not measured.
async fn set_up_groups(feeder: &Feeder, db: &SqlitePool) -> anyhow::Result<()> {
    for g in 1..=GROUPS {
        let chat = group_chat(g);
        let id = feeder.push(chat, OFFICIAL, &Step::Text(format!("/lienket Tổ dân phố số {g}")));
        wait_handled(db, id).await?;
        let id = feeder.push_reply(chat, OFFICIAL, "/phancong", leader(g));
        wait_handled(db, id).await?;
        for text in scripts::campaign(g) {
            let id = feeder.push(leader(g), leader(g), &Step::Text(text));
            wait_handled(db, id).await?;
        }
    }
    let campaigns: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(db).await?;
    anyhow::ensure!(campaigns == GROUPS, "set-up made {campaigns} campaigns, not {GROUPS}: see bot.log");
    Ok(())
}

/// How many requests into the person's chat each step of `script` causes,
/// found by running it once slowly.
async fn calibrate(feeder: &Feeder, router: &Router, db: &SqlitePool, user: i64, script: &[Step]) -> Vec<usize> {
    let mut rx = router.listen(user);
    let mut counts = Vec::new();
    for step in script {
        let id = feeder.push(user, user, step);
        let _ = wait_handled(db, id).await;
        // A bot under a profiler (THROUGHPUT_WRAP) sends its replies later.
        let settle = if std::env::var_os("THROUGHPUT_WRAP").is_some() { 500 } else { 30 };
        tokio::time::sleep(Duration::from_millis(settle)).await;
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        counts.push(n);
    }
    counts
}

/// CPU time a process has used (user + system), from /proc; `pid` may be
/// "self".
fn process_cpu(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the line, in clock ticks.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    // /proc counts in USER_HZ, which is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// The machine's (idle, total) clock ticks over all cores so far, from
/// /proc/stat (idle includes waiting for I/O).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (idle, fields.iter().sum())
}

/// Where the machine's CPU went during a run: the bot, this process (the
/// fake Bot API and the simulated residents), and nobody.
struct CpuMeter {
    bot: Duration,
    harness: Duration,
    machine: (u64, u64),
}

impl CpuMeter {
    fn start(bot: &BotProcess) -> Self {
        bot.callgrind_zero();
        Self { bot: bot.cpu(), harness: process_cpu("self"), machine: machine_ticks() }
    }

    fn stop(self, bot: &BotProcess, load: &mut LoadResult) {
        load.instructions = bot.callgrind_dump();
        load.bot_cpu = bot.cpu() - self.bot;
        load.harness_cpu = process_cpu("self") - self.harness;
        let (idle, total) = machine_ticks();
        let (idle, total) = (idle - self.machine.0, total - self.machine.1);
        load.idle = if total > 0 { idle as f64 / total as f64 } else { f64::NAN };
    }
}

#[derive(Default)]
struct LoadResult {
    updates: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Latencies by step of the script, for THROUGHPUT_STEPS=1.
    by_step: Vec<Vec<Duration>>,
    stalls: usize,
    /// CPU time the bot process used during the run (user + system).
    bot_cpu: Duration,
    /// CPU time the fake Bot API and the simulated residents used.
    harness_cpu: Duration,
    /// The share of the machine's CPU time nobody used.
    idle: f64,
    /// Instructions the bot executed during the run, under callgrind.
    instructions: Option<u64>,
}

impl LoadResult {
    fn per_second(&self) -> f64 {
        self.updates as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        self.latencies.sort();
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// Every user runs their script concurrently: push a step, wait for all the
/// requests it causes in their chat, go on. Latency is from the push to the
/// first of them.
async fn run_load(
    feeder: &Arc<Feeder>,
    router: &Router,
    users: Vec<(i64, Vec<Step>)>,
    expected: Arc<Vec<usize>>,
    think: Duration,
) -> LoadResult {
    let receivers: Vec<_> = users.iter().map(|(u, _)| router.listen(*u)).collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for ((user, script), mut rx) in users.into_iter().zip(receivers) {
        let feeder = feeder.clone();
        let expected = expected.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(script.len());
            let mut stalls = 0;
            if !think.is_zero() {
                // Spread the first messages over one think time.
                tokio::time::sleep(think.mul_f64((user % 997) as f64 / 997.0)).await;
            }
            for (step, send) in script.iter().enumerate() {
                if step > 0 && !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
                let pushed = Instant::now();
                feeder.push(user, user, send);
                let want = expected.get(step).copied().unwrap_or(1).max(1);
                for i in 0..want {
                    match tokio::time::timeout(STEP_TIMEOUT, rx.recv()).await {
                        Ok(Some(at)) => {
                            if i == 0 {
                                latencies.push((step, at.saturating_duration_since(pushed)));
                            }
                        }
                        _ => {
                            stalls += 1;
                            break;
                        }
                    }
                }
            }
            (script.len(), latencies, stalls)
        });
    }
    let mut result = LoadResult::default();
    while let Some(Ok((n, latencies, stalls))) = tasks.join_next().await {
        result.updates += n;
        for (step, latency) in latencies {
            if result.by_step.len() <= step {
                result.by_step.resize(step + 1, Vec::new());
            }
            result.by_step[step].push(latency);
            result.latencies.push(latency);
        }
        result.stalls += stalls;
    }
    result.elapsed = started.elapsed();
    result
}

struct BotRun {
    /// Households, reports and pledges in the database after the runs.
    stored: (i64, i64, i64),
    load: LoadResult,
    paced: Option<LoadResult>,
    rss_idle: (f64, f64),
    rss_after: (f64, f64),
    dialogues: Option<(usize, f64, f64, LoadResult)>,
}

async fn run_todanpho(synchronous: &str, users: i64, dialogues: i64, rate: i64) -> anyhow::Result<BotRun> {
    let mut dir = tempfile::tempdir()?;
    if std::env::var_os("THROUGHPUT_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    let tg = FakeTelegram::start().await;
    tg.forget_requests();
    let router = Arc::new(Router::default());
    router.spawn(tg.observe());
    let feeder = Arc::new(Feeder { tg: tg.clone(), next_message: 1.into() });
    let database = dir.path().join("bench.db");
    let bot = BotProcess::start(dir.path(), &tg.url, synchronous, &database)?;
    let db = open_read_only(&database).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss_idle = bot.rss_mb();

    let outcome = async {
        set_up_groups(&feeder, &db).await?;
        // A calibration resident in group 1, then the measured crowd.
        let probe = 900_000;
        let expected = Arc::new(calibrate(&feeder, &router, &db, probe, &resident_script(probe, 1)).await);
        let crowd: Vec<(i64, Vec<Step>)> = (0..users)
            .map(|i| {
                let user = 1_000_000 + i;
                (user, resident_script(user, i % GROUPS + 1))
            })
            .collect();
        let meter = CpuMeter::start(&bot);
        let mut load = run_load(&feeder, &router, crowd, expected.clone(), Duration::ZERO).await;
        meter.stop(&bot, &mut load);
        let rss_after = bot.rss_mb();

        // The same crowd size at a steady offered rate below saturation: each
        // resident reads and types between messages.
        let paced = if rate > 0 {
            let crowd: Vec<(i64, Vec<Step>)> = (0..users)
                .map(|i| {
                    let user = 5_000_000 + i;
                    (user, resident_script(user, i % GROUPS + 1))
                })
                .collect();
            let think = Duration::from_secs_f64(users as f64 / rate as f64);
            let meter = CpuMeter::start(&bot);
            let mut paced = run_load(&feeder, &router, crowd, expected.clone(), think).await;
            meter.stop(&bot, &mut paced);
            Some(paced)
        } else {
            None
        };

        let stored = (
            count(&db, "SELECT COUNT(*) FROM households").await?,
            count(&db, "SELECT COUNT(*) FROM reports").await?,
            count(&db, "SELECT COUNT(*) FROM pledges").await?,
        );
        let mut open = None;
        if dialogues > 0 {
            // People who start registering and stop after their name: their
            // dialogues stay open.
            let starters: Vec<(i64, Vec<Step>)> = (0..dialogues)
                .map(|i| {
                    let user = 3_000_000 + i;
                    (user, resident_script(user, i % GROUPS + 1).into_iter().take(2).collect())
                })
                .collect();
            let load = run_load(&feeder, &router, starters, expected, Duration::ZERO).await;
            let in_progress: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dialogues").fetch_one(&db).await?;
            let (rss, peak) = bot.rss_mb();
            open = Some((in_progress as usize, rss, peak, load));
        }
        anyhow::Ok((load, paced, rss_after, open, stored))
    }
    .await;
    bot.stop();
    let (load, paced, rss_after, dialogues, stored) = outcome.map_err(|e| {
        let log = std::fs::read_to_string(dir.path().join("bot.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        anyhow::anyhow!("{e:#}\nlast lines of bot.log:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
    })?;
    Ok(BotRun { load, paced, rss_idle, rss_after, dialogues, stored })
}

async fn run_echo(users: i64) -> anyhow::Result<(LoadResult, (f64, f64))> {
    let tg = FakeTelegram::start().await;
    tg.forget_requests();
    let router = Arc::new(Router::default());
    router.spawn(tg.observe());
    let feeder = Arc::new(Feeder { tg: tg.clone(), next_message: 1.into() });
    let bot = BotProcess::spawn_echo(&tg.url)?;
    // Warm up: the first reply means the bot is polling.
    let mut rx = router.listen(1);
    feeder.push(1, 1, &Step::Text("chào".into()));
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await?;
    let crowd: Vec<(i64, Vec<Step>)> = (0..users)
        .map(|i| {
            let user = 1_000_000 + i;
            (user, resident_script(user, i % GROUPS + 1))
        })
        .collect();
    let steps = crowd[0].1.len();
    let meter = CpuMeter::start(&bot);
    let mut load = run_load(&feeder, &router, crowd, Arc::new(vec![1; steps]), Duration::ZERO).await;
    meter.stop(&bot, &mut load);
    let rss = bot.rss_mb();
    bot.stop();
    Ok((load, rss))
}

/// The bare bot: echoes every message, on teloxide's default dispatcher and
/// long polling, like ours.
async fn echo_bot(api_url: String) {
    use teloxide::prelude::*;
    let Ok(url) = url::Url::parse(&api_url) else { return };
    let bot = Bot::new("1:ECHO").set_api_url(url);
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        bot.send_message(msg.chat.id, msg.text().unwrap_or("ảnh").to_string()).await?;
        anyhow::Ok(())
    });
    Dispatcher::builder(bot, handler).default_handler(|_| async {}).build().dispatch().await;
}

/// A database with `households` households, built once with the demo seeder
/// and kept under target/ for later runs.
async fn big_database(households: i64) -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-data");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("startup-{households}.db"));
    if path.exists() {
        return Ok(path);
    }
    let building = dir.join(format!("startup-{households}.building.db"));
    let _ = std::fs::remove_file(&building);
    let config = todanpho::config::Config::parse(&format!(
        "[ward]\nname = \"Bench\"\n[database]\npath = \"{}\"\n[telegram]\nofficials = []\n",
        building.display()
    ))
    .map_err(anyhow::Error::msg)?;
    let (_, db) = todanpho::startup::build_app(&config).await?;
    let sizes = todanpho::demo::Sizes { groups: 600, households, reports: households / 10, pledges: 0 };
    todanpho::demo::seed(&db, &todanpho::clock::SystemClock, sizes).await?;
    db.close().await;
    // The bot's pool only reads: the checkpoint is made on a connection
    // of its own.
    let mut conn =
        sqlx::ConnectOptions::connect(&sqlx::sqlite::SqliteConnectOptions::new().filename(&building)).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    sqlx::Connection::close(conn).await?;
    std::fs::rename(&building, &path)?;
    Ok(path)
}

/// From spawning the process to its first getUpdates, median of 5.
async fn startup_time(database: &Path) -> anyhow::Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir()?;
        let copy = dir.path().join("bot.db");
        std::fs::copy(database, &copy)?;
        let tg = FakeTelegram::start().await;
        let router = Arc::new(Router::default());
        router.spawn(tg.observe());
        let spawned = Instant::now();
        let bot = BotProcess::start(dir.path(), &tg.url, "full", &copy)?;
        let first = loop {
            if let Some(at) = *router.first_get_updates.lock().unwrap() {
                break Some(at);
            }
            if spawned.elapsed() > Duration::from_secs(30) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        bot.stop();
        let first = first.ok_or_else(|| anyhow::anyhow!("the bot never polled"))?;
        times.push(first.duration_since(spawned));
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    if let Ok(url) = std::env::var(ECHO_ENV) {
        runtime.block_on(echo_bot(url));
        return Ok(());
    }
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let users = env_or("THROUGHPUT_USERS", 1_000);
    let dialogues = env_or("THROUGHPUT_DIALOGUES", 10_000);
    let households = env_or("THROUGHPUT_STARTUP_HOUSEHOLDS", 1_000_000);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if let Some(rounds) = std::env::var("THROUGHPUT_SUMMARY").ok().and_then(|v| v.parse::<u32>().ok()) {
        return summary(rounds.max(1), users, cores).await;
    }
    println!("throughput benchmark — {cores} cores, {}", chrono::Utc::now().format("%Y-%m-%d"));
    println!(
        "{users} residents in {GROUPS} groups, each: registration, report with a photo, pledge ({} updates)",
        resident_script(0, 1).len()
    );

    let rate = env_or("THROUGHPUT_PACED_RATE", 1_000);
    // `full` is the bot's default: the paced run, the memory figures and
    // the 10,000 open dialogues are measured on it.
    let mut full = run_todanpho("full", users, dialogues, rate).await?;
    let mut normal = run_todanpho("normal", users, 0, 0).await?;
    let (mut echo, echo_rss) = run_echo(users).await?;
    let startup = if households > 0 {
        let db = big_database(households).await?;
        Some(startup_time(&db).await?)
    } else {
        None
    };

    println!();
    println!(
        "| run | updates | updates/s | p50 | p95 | p99 | stalled steps | bot CPU per update | harness CPU per update | CPU idle | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let row = |name: &str, r: &mut LoadResult, rss: f64| {
        let (p50, p95, p99) = (r.percentile(0.50), r.percentile(0.95), r.percentile(0.99));
        let cpu = r.bot_cpu.as_secs_f64() * 1e6 / r.updates.max(1) as f64;
        let harness = r.harness_cpu.as_secs_f64() * 1e6 / r.updates.max(1) as f64;
        println!(
            "| {name} | {} | {:.0} | {p50:.1} ms | {p95:.1} ms | {p99:.1} ms | {} | {cpu:.0} µs | {harness:.0} µs | {:.0}% | {rss:.1} MB |",
            r.updates,
            r.per_second(),
            r.stalls,
            r.idle * 100.0,
        );
    };
    row("todanpho, synchronous=FULL (default)", &mut full.load, full.rss_after.1);
    if let Some(i) = full.load.instructions {
        println!("instructions per update (FULL, callgrind): {}", i / full.load.updates.max(1) as u64);
    }
    if std::env::var_os("THROUGHPUT_STEPS").is_some() {
        for (name, r) in [("saturated", &mut full.load), ("paced", full.paced.as_mut().unwrap_or(&mut echo))] {
            let figures: Vec<String> = r
                .by_step
                .iter_mut()
                .enumerate()
                .map(|(i, l)| {
                    l.sort();
                    let p = |q: f64| l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)));
                    format!("{i}:{:.0}/{:.0}", ms(p(0.5)), ms(p(0.99)))
                })
                .collect();
            println!("{name} p50/p99 ms by step: {}", figures.join(" "));
        }
    }
    if let Some(paced) = full.paced.as_mut() {
        row(&format!("todanpho, FULL, paced at {rate} updates/s offered"), paced, full.rss_after.1);
    }
    row("todanpho, synchronous=NORMAL", &mut normal.load, normal.rss_after.1);
    row("bare teloxide echo bot", &mut echo, echo_rss.1);
    println!();
    let expected = users * if rate > 0 { 2 } else { 1 } + 1;
    println!(
        "stored (FULL run): {} households, {} reports, {} pledges; expected {expected} of each (one per resident and the calibration resident)",
        full.stored.0, full.stored.1, full.stored.2
    );
    println!("ratio todanpho/bare (FULL): {:.2}", full.load.per_second() / echo.per_second());
    // If nothing but CPU limited either run, each would reach cores / (its
    // bot's CPU + the harness's CPU per update). The ratio of those two
    // ceilings is what the CPU cost per update alone allows.
    let ceiling = |r: &LoadResult| {
        let per_update = (r.bot_cpu + r.harness_cpu).as_secs_f64() / r.updates.max(1) as f64;
        cores as f64 / per_update
    };
    println!(
        "CPU-bound ceilings: todanpho {:.0} updates/s, bare {:.0} updates/s, ratio {:.2}",
        ceiling(&full.load),
        ceiling(&echo),
        ceiling(&full.load) / ceiling(&echo)
    );
    println!("ratio FULL/NORMAL: {:.2}", full.load.per_second() / normal.load.per_second());
    println!(
        "memory: idle {:.1} MB (peak {:.1} MB); after the run {:.1} MB (peak {:.1} MB)",
        full.rss_idle.0, full.rss_idle.1, full.rss_after.0, full.rss_after.1
    );
    if let Some((open, rss, peak, mut load)) = full.dialogues.take() {
        println!(
            "memory with {open} dialogues in progress: {rss:.1} MB (peak {peak:.1} MB); opening them: {:.0} updates/s, p99 {:.1} ms",
            load.per_second(),
            load.percentile(0.99)
        );
    }
    if let Some(t) = startup {
        println!(
            "start-up to the first getUpdates on {households} households: {:.0} ms (median of 5)",
            t.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

/// `THROUGHPUT_SUMMARY=n`: the guard. n rounds of the saturated run
/// (`synchronous = full`) and the bare bot, one after the other; one line
/// each with the bot's CPU per update and the ratio to the bare bot, for a
/// change's closing note. About 15 s a round at 1,000 residents.
async fn summary(rounds: u32, users: i64, cores: usize) -> anyhow::Result<()> {
    let steps = resident_script(0, 1).len();
    for _ in 0..rounds {
        let todanpho = run_todanpho("full", users, 0, 0).await?;
        let (echo, _) = run_echo(users).await?;
        let cpu = |r: &LoadResult| r.bot_cpu.as_secs_f64() * 1e6 / r.updates.max(1) as f64;
        let ceiling = |r: &LoadResult| {
            let per_update = (r.bot_cpu + r.harness_cpu).as_secs_f64() / r.updates.max(1) as f64;
            cores as f64 / per_update
        };
        let (load, stored) = (&todanpho.load, todanpho.stored);
        let instructions = load
            .instructions
            .map(|i| format!(", {} instructions/update (callgrind)", i / load.updates.max(1) as u64))
            .unwrap_or_default();
        let short = if stored != (users + 1, users + 1, users + 1) || load.stalls > 0 { ", INCOMPLETE" } else { "" };
        println!(
            "throughput {} {cores} cores, {users}×{steps} updates: todanpho {:.0} µs CPU/update, {:.0} updates/s; bare {:.0} µs, {:.0}/s; ratio {:.2} (CPU-bound {:.2}){instructions}{short}",
            chrono::Utc::now().format("%Y-%m-%d"),
            cpu(load),
            load.per_second(),
            cpu(&echo),
            echo.per_second(),
            load.per_second() / echo.per_second(),
            ceiling(load) / ceiling(&echo),
        );
    }
    Ok(())
}
