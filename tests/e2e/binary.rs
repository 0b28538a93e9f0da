//! The real `todanpho` binary under kills: its process, the feeder that
//! pushes updates into the fake Bot API as people would, and how to wait
//! for them to be handled. Shared by the crash tests (`crash`,
//! `job_crash`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::SqlitePool;

use crate::fake_telegram::FakeTelegram;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_todanpho");
pub(crate) const OFFICIAL: i64 = 1;

pub(crate) fn leader(g: i64) -> i64 {
    10_000 + g
}

pub(crate) fn resident(g: i64, i: i64) -> i64 {
    20_000 + g * 100 + i
}

pub(crate) fn group_chat(g: i64) -> i64 {
    -500_000 - g
}

#[derive(Clone)]
pub(crate) enum Send {
    Text(String),
    Photo,
    /// A press on a button of a message the bot sent.
    Press {
        data: String,
        message_id: i64,
        chat: i64,
    },
    /// A press on the first button starting with this that the bot sent
    /// the person.
    Find(&'static str),
}

/// Builds updates and pushes them into the fake server; counts them, so that
/// the killer knows how far the stream is.
pub(crate) struct Feeder {
    pub(crate) tg: FakeTelegram,
    pub(crate) next_message: AtomicI64,
    pub(crate) pushed: AtomicUsize,
    pub(crate) ids: Mutex<Vec<i64>>,
}

impl Feeder {
    pub(crate) fn user(id: i64) -> Value {
        json!({ "id": id, "is_bot": false, "first_name": format!("Người {id}"), "language_code": "vi" })
    }

    pub(crate) fn chat(chat: i64) -> Value {
        if chat > 0 {
            json!({ "id": chat, "type": "private", "first_name": "Người" })
        } else {
            json!({ "id": chat, "type": "group", "title": "Nhóm tổ dân phố" })
        }
    }

    pub(crate) fn message(&self, chat: i64, from: i64) -> Value {
        let id = self.next_message.fetch_add(1, Ordering::Relaxed);
        json!({ "message_id": id, "date": 1_790_000_000, "chat": Self::chat(chat), "from": Self::user(from) })
    }

    pub(crate) fn push(&self, chat: i64, from: i64, send: &Send) -> i64 {
        let update = match send {
            Send::Text(text) => {
                let mut msg = self.message(chat, from);
                msg["text"] = json!(text);
                json!({ "message": msg })
            }
            Send::Photo => {
                let mut msg = self.message(chat, from);
                msg["photo"] = json!([{ "file_id": format!("photo-{from}"), "file_unique_id": format!("u{from}"),
                                        "width": 1280, "height": 960, "file_size": 200_000 }]);
                json!({ "message": msg })
            }
            Send::Press { data, message_id, chat: at } => {
                let id = self.next_message.fetch_add(1, Ordering::Relaxed);
                json!({ "callback_query": {
                    "id": format!("cb-{id}"), "from": Self::user(from), "chat_instance": "ci", "data": data,
                    "message": { "message_id": message_id, "date": 1_790_000_000, "chat": Self::chat(*at),
                                 "from": { "id": crate::fake_telegram::BOT_ID, "is_bot": true, "first_name": "Bot" },
                                 "text": "…" }
                }})
            }
            Send::Find(prefix) => unreachable!("a press on '{prefix}' is found before it is pushed"),
        };
        let id = self.tg.push(update);
        self.ids.lock().unwrap().push(id);
        self.pushed.fetch_add(1, Ordering::Relaxed);
        id
    }

    pub(crate) fn push_reply(&self, chat: i64, from: i64, text: &str, to: i64) -> i64 {
        let mut msg = self.message(chat, from);
        msg["text"] = json!(text);
        let mut replied = self.message(chat, to);
        replied["text"] = json!("Chào mọi người");
        msg["reply_to_message"] = replied;
        let id = self.tg.push(json!({ "message": msg }));
        self.ids.lock().unwrap().push(id);
        self.pushed.fetch_add(1, Ordering::Relaxed);
        id
    }
}

pub(crate) struct BotProcess(pub(crate) Child);

impl BotProcess {
    pub(crate) fn start(dir: &Path, api_url: &str, run: usize) -> Self {
        Self::start_with(dir, api_url, run, &[])
    }

    /// As [`BotProcess::start`], with more environment (a fault to inject).
    pub(crate) fn start_with(dir: &Path, api_url: &str, run: usize, env: &[(&str, &str)]) -> Self {
        let log = std::fs::File::create(dir.join(format!("bot-{run}.log"))).expect("create the bot log");
        let child = Command::new(BIN)
            .envs(env.iter().copied())
            .args(["--config", dir.join("config.toml").to_str().unwrap()])
            .env("TELOXIDE_TOKEN", "123456:TEST")
            .env("TELOXIDE_API_URL", api_url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start todanpho");
        Self(child)
    }

    /// Waits up to a minute for the process to end by itself (an injected
    /// fault); whether it did.
    pub(crate) async fn ended(&mut self) -> bool {
        for _ in 0..6_000 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    pub(crate) fn kill(&mut self) {
        // SIGKILL: nothing gets to finish.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A ward's bot process on a fresh database, its database to look at, and
/// the feeder of its updates.
pub(crate) async fn launch(tg: &FakeTelegram) -> (tempfile::TempDir, BotProcess, SqlitePool, Arc<Feeder>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[ward]\nname = \"Phường Xuân La\"\n[database]\npath = \"bot.db\"\n[telegram]\nofficials = [{OFFICIAL}]\n[flood]\nper_person_burst = 100000\ngroup_burst = 100000\n[ops]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    let bot = BotProcess::start(dir.path(), &tg.url, 0);
    let db = open_read_only(&dir.path().join("bot.db")).await;
    let feeder = Arc::new(Feeder {
        tg: tg.clone(),
        next_message: AtomicI64::new(1),
        pushed: AtomicUsize::new(0),
        ids: Mutex::new(Vec::new()),
    });
    (dir, bot, db, feeder)
}

pub(crate) async fn open_read_only(path: &Path) -> SqlitePool {
    for _ in 0..500 {
        if path.exists() {
            let options = SqliteConnectOptions::new().filename(path).read_only(true);
            if let Ok(pool) = SqlitePool::connect_with(options).await {
                return pool;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the bot did not create {}", path.display());
}

/// Handled, and every reply it committed sent. Waits through restarts.
pub(crate) async fn wait_done(db: &SqlitePool, update: i64) {
    for _ in 0..6_000 {
        if crate::support::done(db, "telegram", &update.to_string()).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("update {update} was not handled within 60 s");
}

pub(crate) async fn send_and_wait(feeder: &Feeder, db: &SqlitePool, chat: i64, from: i64, send: &Send) {
    let id = feeder.push(chat, from, send);
    wait_done(db, id).await;
}

/// The callback data and message id of the first button starting with
/// `prefix` the bot sent into `chat`, waiting for it a while.
pub(crate) async fn button(tg: &FakeTelegram, chat: i64, prefix: &str) -> (String, i64) {
    for _ in 0..3_000 {
        if let Some(found) = find_button(tg, chat, prefix) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no '{prefix}' button was sent to {chat}");
}

pub(crate) fn find_button(tg: &FakeTelegram, chat: i64, prefix: &str) -> Option<(String, i64)> {
    tg.requests().into_iter().find_map(|r| {
        if r.body["chat_id"] != json!(chat) {
            return None;
        }
        let rows = r.body["reply_markup"]["inline_keyboard"].as_array()?.clone();
        let data = rows
            .iter()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .find_map(|b| b["callback_data"].as_str().filter(|d| d.starts_with(prefix)).map(str::to_string))?;
        Some((data, r.message_id?))
    })
}

/// The last button whose label contains `label` the bot sent into `chat`.
pub(crate) fn last_button(tg: &FakeTelegram, chat: i64, label: &str) -> Option<(String, i64)> {
    tg.requests().into_iter().rev().find_map(|r| {
        if r.body["chat_id"] != json!(chat) {
            return None;
        }
        let rows = r.body["reply_markup"]["inline_keyboard"].as_array()?.clone();
        let data = rows.iter().flat_map(|row| row.as_array().cloned().unwrap_or_default()).find_map(|b| {
            b["callback_data"]
                .as_str()
                .filter(|_| b["text"].as_str().is_some_and(|t| t.contains(label)))
                .map(str::to_string)
        })?;
        Some((data, r.message_id.or(r.body["message_id"].as_i64())?))
    })
}

pub(crate) async fn tap(feeder: &Feeder, db: &SqlitePool, who: i64, label: &str) {
    let mut found = None;
    for _ in 0..500 {
        found = last_button(&feeder.tg, who, label);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (data, message_id) = found.unwrap_or_else(|| panic!("no '{label}' button was sent to {who}"));
    send_and_wait(feeder, db, who, who, &Send::Press { data, message_id, chat: who }).await;
}

/// Makes the digital teams' weekly summary due at the next start (the bot
/// is down): the config sets it for today from midnight, in the ward's
/// zone, and any week already claimed is forgotten.
pub(crate) async fn arm_weekly_summary(dir: &Path) {
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let weekday = local.format("%a").to_string().to_lowercase();
    let file = dir.join("config.toml");
    let config = std::fs::read_to_string(&file).expect("read the config");
    std::fs::write(&file, format!("{config}[digital_teams]\nweekly_summary = \"{weekday} 00:00\"\n"))
        .expect("write the config");
    let writable = SqlitePool::connect_with(SqliteConnectOptions::new().filename(dir.join("bot.db")))
        .await
        .expect("open the database");
    sqlx::query("DELETE FROM scheduled_runs WHERE job = 'digital_weekly'").execute(&writable).await.unwrap();
    writable.close().await;
}

/// Links group `g`'s chat and appoints its leader, as the official does.
pub(crate) async fn link_group(feeder: &Feeder, db: &SqlitePool, g: i64) {
    let chat = group_chat(g);
    send_and_wait(feeder, db, chat, OFFICIAL, &Send::Text(format!("/lienket Tổ dân phố số {g}"))).await;
    let id = feeder.push_reply(chat, OFFICIAL, "/phancong", leader(g));
    wait_done(db, id).await;
}

/// `user` registers a household at house `house` of group `g` and the
/// group's leader approves it.
pub(crate) async fn register_approved(feeder: &Feeder, db: &SqlitePool, g: i64, user: i64, house: &str) {
    for text in crate::scripts::registration(g, house, &format!("09{user:08}")) {
        send_and_wait(feeder, db, user, user, &Send::Text(text)).await;
    }
    let household: i64 = sqlx::query_scalar(
        "SELECT h.id FROM households h JOIN users u ON u.id = h.owner_user_id WHERE u.external_id = ?",
    )
    .bind(user.to_string())
    .fetch_one(db)
    .await
    .unwrap();
    let (data, message_id) = button(&feeder.tg, leader(g), &format!("hh:ok:{household}")).await;
    send_and_wait(feeder, db, leader(g), leader(g), &Send::Press { data, message_id, chat: leader(g) }).await;
}
