//! Drives the real bot as Telegram would: the real dispatcher, over HTTP,
//! against [`FakeTelegram`], on a fresh SQLite file per test.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use todanpho::clock::ManualClock;

use serde_json::{json, Value};
use sqlx::SqlitePool;
use todanpho::app::App;
use todanpho::config::{Config, Secret};
use todanpho::db::Database;
use todanpho::startup::{self, Running};

pub use crate::fake_telegram::{chat_json, Failure, FakeTelegram};

/// Whether an update is handled, with every reply it committed sent (gone
/// from the reply outbox).
pub async fn done(db: &SqlitePool, channel: &str, update_id: &str) -> bool {
    let done: Option<bool> = sqlx::query_scalar(
        "SELECT handled_at IS NOT NULL AND NOT EXISTS
                (SELECT 1 FROM reply_outbox o WHERE o.channel = p.channel AND o.update_id = p.update_id)
         FROM processed_updates p WHERE channel = ? AND update_id = ?",
    )
    .bind(channel)
    .bind(update_id)
    .fetch_optional(db)
    .await
    .unwrap_or(None);
    done == Some(true)
}

/// What every test's bot logged at info level and above.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogSink;

/// Everything logged at info level and above so far, by every test's bot.
pub fn log_text() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap()).to_string()
}

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Info and above into `LOG` (checked for personal data by `finish`);
/// warnings and errors (or `RUST_LOG`) to the test's output as well.
fn install_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let shown = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(shown))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| LogSink)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        // The same lines as a log shipper gets them (`[ops] log_format =
        // "json"`): the scan for personal data reads both.
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(|| LogSink)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .try_init();
}

pub const OFFICIAL: User = User { id: 100_001, first_name: "Trần", last_name: Some("Văn Cán") };
pub const LEADER: User = User { id: 200_002, first_name: "Lê", last_name: Some("Thị Hoa") };
pub const RESIDENT: User = User { id: 300_003, first_name: "An", last_name: Some("Nguyễn") };
pub const NEIGHBOUR: User = User { id: 300_004, first_name: "Bình", last_name: None };
pub const GROUP_CHAT: i64 = -4_000_000_012;
/// 07:00 in Hà Nội on 23/11/2026: before the daily reminder hour (08:00).
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().expect("valid time")
}

#[derive(Clone, Copy, Debug)]
pub struct User {
    pub id: i64,
    pub first_name: &'static str,
    pub last_name: Option<&'static str>,
}

impl User {
    pub fn json(&self) -> Value {
        let mut u = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name, "language_code": "vi" });
        if let Some(last) = self.last_name {
            u["last_name"] = json!(last);
        }
        u
    }
}

/// A message or edit the bot sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    /// (label, callback data or URL)
    pub buttons: Vec<(String, String)>,
    pub body: Value,
}

impl Sent {
    pub fn button(&self, label_part: &str) -> &str {
        self.buttons
            .iter()
            .find(|(label, _)| label.contains(label_part))
            .map(|(_, data)| data.as_str())
            .unwrap_or_else(|| panic!("no button with '{label_part}' in {:?}\n{}", self.buttons, self.text))
    }
}

pub struct TestBot {
    pub tg: FakeTelegram,
    pub config: Config,
    /// The same config, written to a file, for running the binary.
    pub config_file: PathBuf,
    pub app: App,
    /// The bot's database handle (for calling into the bot's own code).
    pub database: Database,
    /// A pool of the test's own over the same file, to look at what the
    /// bot stored as an inspector would, from outside.
    inspect: SqlitePool,
    pub clock: Arc<ManualClock>,
    running: Option<Running>,
    webhook: Option<todanpho::telegram::Webhook>,
    _dir: tempfile::TempDir,
    next_message_id: Mutex<i64>,
    /// Strings a resident typed that are personal data.
    personal: Mutex<Vec<String>>,
}

/// The scheduler's beat in tests: it looks often, as tests move fast.
const BEAT_SECS: f64 = 0.02;

impl TestBot {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&FakeTelegram)) -> Self {
        Self::build(tweak, None).await
    }

    /// A bot that receives updates by webhook at `hook.listen`.
    pub async fn start_webhook(hook: todanpho::telegram::Webhook) -> Self {
        Self::build(|_| {}, Some(hook)).await
    }

    /// With the flood control of a real deployment.
    pub async fn start_with_flood_control() -> Self {
        Self::build_with(|_| {}, None, true, BEAT_SECS).await
    }

    /// With the scheduler's beat (`[reports] check_every_secs`) this long:
    /// a day, and nothing time-driven happens but when the bot's clock
    /// brings it.
    pub async fn start_with_beat(secs: f64) -> Self {
        Self::build_with(|_| {}, None, false, secs).await
    }

    async fn build(tweak: impl FnOnce(&FakeTelegram), webhook: Option<todanpho::telegram::Webhook>) -> Self {
        Self::build_with(tweak, webhook, false, BEAT_SECS).await
    }

    async fn build_with(
        tweak: impl FnOnce(&FakeTelegram),
        webhook: Option<todanpho::telegram::Webhook>,
        flood_control: bool,
        beat_secs: f64,
    ) -> Self {
        install_logging();
        let tg = FakeTelegram::start().await;
        tweak(&tg);
        let dir = tempfile::tempdir().expect("temp dir");
        let text = format!(
            "[ward]\nname = \"Phường Xuân La\"\n[database]\npath = \"{}\"\n[telegram]\napi_url = \"{}\"\nofficials = [{}]\n[reports]\ndeadline_hours = 72\nreminder_hour = 8\ncheck_every_secs = {beat_secs}\n[ops]\nlisten = \"127.0.0.1:0\"\nstale_after_secs = 30\n{}",
            dir.path().join("test.db").display(),
            tg.url,
            OFFICIAL.id,
            // Tests talk at machine speed; the flood test turns this back
            // to the defaults.
            if flood_control { "" } else { "[flood]\nper_person_burst = 100000\ngroup_burst = 100000\n" }
        );
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, &text).expect("write test config");
        let config = Config::parse(&text).expect("test config");
        let clock = Arc::new(ManualClock::new(start_time()));
        let (app, database) = startup::build_app_with_clock(&config, clock.clone()).await.expect("app builds");
        let inspect = open_pool(&config.database.path).await;
        let mut bot = Self {
            tg,
            config,
            config_file,
            app,
            database,
            inspect,
            clock,
            running: None,
            webhook,
            _dir: dir,
            next_message_id: Mutex::new(1),
            personal: Mutex::new(Vec::new()),
        };
        bot.spawn().await;
        bot
    }

    async fn spawn(&mut self) {
        let bot = startup::telegram_bot(&Secret::new("123456:TEST"), &self.config.telegram.api_url).expect("bot");
        self.running = Some(
            startup::spawn_telegram_with(bot, self.app.clone(), self.database.clone(), self.webhook.clone()).await,
        );
    }

    pub fn db(&self) -> &SqlitePool {
        &self.inspect
    }

    /// Stops the dispatcher and starts a new one on a new pool over the
    /// same database file, as a restarted process would.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.database.close().await;
        (self.app, self.database) =
            startup::build_app_with_clock(&self.config, self.clock.clone()).await.expect("app rebuilds");
        self.spawn().await;
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("dispatcher stops cleanly");
        }
    }

    /// Ends a test: checks that nothing personal went to a group chat or
    /// into the log.
    pub async fn finish(mut self) {
        self.assert_nothing_refused();
        self.assert_every_button_is_known();
        self.assert_no_personal_data_in_groups();
        self.stop().await;
        self.assert_no_personal_data_in_logs();
    }

    /// Every button the bot showed is one the router knows
    /// (`buttons::Press`): a button kind added without its route fails
    /// every test that shows it.
    pub fn assert_every_button_is_known(&self) {
        for request in self.tg.requests() {
            let rows = request.body["reply_markup"]["inline_keyboard"].as_array().cloned().unwrap_or_default();
            for button in rows.iter().filter_map(|r| r.as_array()).flatten() {
                if let Some(data) = button["callback_data"].as_str() {
                    assert!(
                        todanpho::buttons::Press::parse(data).is_some(),
                        "the bot showed a button no route knows: {data}"
                    );
                }
            }
        }
    }

    /// Telegram would have accepted every request the bot made.
    pub fn assert_nothing_refused(&self) {
        let refused: Vec<String> = self
            .tg
            .refusals()
            .iter()
            .map(|r| format!("{} to {}: {}", r.method, r.body["chat_id"], r.refused.as_deref().unwrap_or("")))
            .collect();
        assert!(refused.is_empty(), "Telegram would have refused: {refused:#?}");
    }

    /// Every line logged at info level or above by any test so far (the
    /// tests share one process and one log).
    pub fn assert_no_personal_data_in_logs(&self) {
        let log = String::from_utf8_lossy(&LOG.lock().unwrap()).to_string();
        let mobile = regex::Regex::new(r"(^|[^\d])(\+?84|0)[35789]\d{8}([^\d]|$)").unwrap();
        let personal = self.personal.lock().unwrap().clone();
        for line in log.lines() {
            assert!(!mobile.is_match(line), "a phone number in the log: {line}");
            for value in &personal {
                assert!(!line.contains(value.as_str()), "personal data '{value}' in the log: {line}");
            }
        }
    }

    pub fn mark_personal(&self, values: &[&str]) {
        self.personal.lock().unwrap().extend(values.iter().map(|v| v.to_string()));
    }

    pub fn assert_no_personal_data_in_groups(&self) {
        let phone = regex::Regex::new(r"(\+?84|0)[\s.\-]?\d{2,3}[\s.\-]?\d{3}[\s.\-]?\d{3,4}").unwrap();
        let personal = self.personal.lock().unwrap().clone();
        for sent in self.sent().into_iter().filter(|s| s.chat_id < 0) {
            assert!(!phone.is_match(&sent.text), "a phone number was sent to group {}: {}", sent.chat_id, sent.text);
            for value in &personal {
                assert!(
                    !sent.text.contains(value.as_str()),
                    "personal data '{value}' was sent to group {}: {}",
                    sent.chat_id,
                    sent.text
                );
            }
        }
    }

    fn message_id(&self) -> i64 {
        let mut id = self.next_message_id.lock().unwrap();
        *id += 1;
        *id
    }

    pub fn message(&self, chat: i64, from: &User, text: &str) -> Value {
        let chat_value = if chat > 0 {
            json!({ "id": chat, "type": "private", "first_name": from.first_name })
        } else {
            chat_json(chat)
        };
        json!({ "message_id": self.message_id(), "date": 1_790_000_000, "chat": chat_value, "from": from.json(), "text": text })
    }

    /// Pushes an update and waits until the bot has handled it.
    pub async fn deliver(&self, update: Value) -> i64 {
        let id = self.tg.push(update);
        self.wait_handled(id).await;
        id
    }

    /// Handled means marked so, with every reply it committed sent (gone
    /// from the reply outbox).
    pub async fn wait_handled(&self, update_id: i64) {
        for _ in 0..1000 {
            if done(self.db(), "telegram", &update_id.to_string()).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("update {update_id} was not handled within 10 s");
    }

    pub async fn private(&self, from: &User, text: &str) -> i64 {
        let msg = self.message(from.id, from, text);
        self.deliver(json!({ "message": msg })).await
    }

    pub async fn group(&self, chat: i64, from: &User, text: &str) -> i64 {
        let msg = self.message(chat, from, text);
        self.deliver(json!({ "message": msg })).await
    }

    /// `from` replies in the group to a message written by `to`.
    pub async fn group_reply(&self, chat: i64, from: &User, text: &str, to: &User) -> i64 {
        let mut msg = self.message(chat, from, text);
        msg["reply_to_message"] = self.message(chat, to, "Dạ, tôi đây.");
        self.deliver(json!({ "message": msg })).await
    }

    pub async fn photo(&self, from: &User, file_id: &str) -> i64 {
        let mut msg = self.message(from.id, from, "");
        msg.as_object_mut().unwrap().remove("text");
        msg["photo"] = json!([
            { "file_id": format!("{file_id}-small"), "file_unique_id": "s", "width": 90, "height": 90 },
            { "file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960 }
        ]);
        self.deliver(json!({ "message": msg })).await
    }

    pub async fn location(&self, from: &User, latitude: f64, longitude: f64) -> i64 {
        let mut msg = self.message(from.id, from, "");
        msg.as_object_mut().unwrap().remove("text");
        msg["location"] = json!({ "latitude": latitude, "longitude": longitude });
        self.deliver(json!({ "message": msg })).await
    }

    pub async fn sticker(&self, from: &User) -> i64 {
        let mut msg = self.message(from.id, from, "");
        msg.as_object_mut().unwrap().remove("text");
        msg["sticker"] = json!({
            "file_id": "st1", "file_unique_id": "st", "type": "regular", "width": 512, "height": 512,
            "is_animated": false, "is_video": false
        });
        self.deliver(json!({ "message": msg })).await
    }

    pub async fn edited(&self, from: &User, text: &str) -> i64 {
        let mut msg = self.message(from.id, from, text);
        msg["edit_date"] = json!(1_790_000_100);
        self.deliver(json!({ "edited_message": msg })).await
    }

    /// Requests of one Bot API method to one chat.
    pub fn requests_to(&self, method: &str, chat: i64) -> Vec<Value> {
        self.tg
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.body["chat_id"] == json!(chat))
            .map(|r| r.body)
            .collect()
    }

    /// Waits (without touching the clock) until `chat` has received `n`
    /// messages containing `needle`.
    pub async fn wait_for(&self, chat: i64, needle: &str, n: usize) {
        for _ in 0..500 {
            if self.messages_to(chat).iter().filter(|m| m.text.contains(needle)).count() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{chat} never received {n} message(s) with '{needle}'");
    }

    /// Presses a button on a message the bot sent.
    pub async fn press(&self, from: &User, on: &Sent, data: &str) -> i64 {
        let mut message = json!({
            "message_id": on.message_id, "date": 1_790_000_000, "chat": chat_json(on.chat_id),
            "from": { "id": crate::fake_telegram::BOT_ID, "is_bot": true, "first_name": "Tổ dân phố" },
            "text": on.text,
        });
        // As Telegram does: the message as it shows now, buttons included.
        if let Some((text, keyboard)) = self.tg.shown(on.chat_id, on.message_id) {
            if text.is_string() {
                message["text"] = text;
            }
            if keyboard.is_array() {
                message["reply_markup"] = json!({ "inline_keyboard": keyboard });
            }
        }
        let cb = json!({
            "id": format!("cb{}", self.message_id()), "from": from.json(), "message": message,
            "chat_instance": "ci", "data": data,
        });
        self.deliver(json!({ "callback_query": cb })).await
    }

    /// Presses the button whose label contains `label` on `on`.
    pub async fn tap(&self, from: &User, on: &Sent, label: &str) -> i64 {
        let data = on.button(label).to_string();
        self.press(from, on, &data).await
    }

    /// Every sendMessage and editMessageText, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.tg
            .requests()
            .into_iter()
            .filter(|r| matches!(r.method.as_str(), "sendMessage" | "editMessageText" | "sendPhoto"))
            .map(|r| {
                let buttons = r.body["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .map(|rows| {
                        rows.iter()
                            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                            .map(|b| {
                                let target =
                                    b["callback_data"].as_str().or(b["url"].as_str()).unwrap_or("").to_string();
                                (b["text"].as_str().unwrap_or("").to_string(), target)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Sent {
                    method: r.method.clone(),
                    chat_id: r.body["chat_id"].as_i64().unwrap_or(0),
                    message_id: r.message_id.or(r.body["message_id"].as_i64()).unwrap_or(0),
                    text: r.body["text"].as_str().or(r.body["caption"].as_str()).unwrap_or("").to_string(),
                    buttons,
                    body: r.body,
                }
            })
            .collect()
    }

    /// Messages (not edits) sent to a chat.
    pub fn messages_to(&self, chat: i64) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.method != "editMessageText" && s.chat_id == chat).collect()
    }

    pub fn last_to(&self, chat: i64) -> Sent {
        self.messages_to(chat).pop().unwrap_or_else(|| panic!("nothing was sent to {chat}"))
    }

    pub fn edits_in(&self, chat: i64) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.method == "editMessageText" && s.chat_id == chat).collect()
    }

    /// Toasts shown for button presses.
    pub fn callback_answers(&self) -> Vec<String> {
        self.tg
            .requests()
            .into_iter()
            .filter(|r| r.method == "answerCallbackQuery")
            .map(|r| r.body["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.db()).await.expect("count query")
    }

    /// Links groups straight in the database, each to its chat; returns the
    /// chats.
    pub async fn link_groups(&self, groups: impl Iterator<Item = (String, i64)>) -> Vec<i64> {
        let mut chats = Vec::new();
        for (name, chat) in groups {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, '2026-11-01T00:00:00Z') RETURNING id",
            )
            .bind(&name)
            .bind(todanpho::text::fold(&name))
            .fetch_one(self.db())
            .await
            .expect("a group");
            sqlx::query(
                "INSERT INTO group_chats (channel, chat_id, group_id, linked_at) VALUES ('telegram', ?, ?, '2026-11-01T00:00:00Z')",
            )
            .bind(chat.to_string())
            .bind(id)
            .execute(self.db())
            .await
            .expect("its chat");
            chats.push(chat);
        }
        chats
    }

    /// Links GROUP_CHAT to "Tổ dân phố số 12" and makes LEADER its leader.
    pub async fn setup_group(&self) {
        self.group(GROUP_CHAT, &OFFICIAL, "/lienket Tổ dân phố số 12").await;
        self.group_reply(GROUP_CHAT, &OFFICIAL, "/phancong", &LEADER).await;
    }
}

/// A pool over a database file, for a test to look at what is stored (and
/// set up what a test needs) from outside the bot.
pub async fn open_pool(path: &std::path::Path) -> SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqlitePool::connect_with(options).await.expect("the test opens the database")
}
