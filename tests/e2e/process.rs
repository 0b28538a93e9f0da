//! The real `todanpho` binary: its errors for a missing token or a broken
//! config, and a kill -9 in the middle of a dialogue.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_todanpho");

fn write_config(dir: &Path, api_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[ward]\nname = \"Phường Xuân La\"\n[database]\npath = \"bot.db\"\n[telegram]\napi_url = \"{api_url}\"\nofficials = [{}]\n[ops]\nlisten = \"127.0.0.1:0\"\n{extra}",
            OFFICIAL.id
        ),
    )
    .unwrap();
    path
}

fn run(args: &[&str], token: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("TELOXIDE_TOKEN").env_remove("TELOXIDE_API_URL").env_remove("ZALO_BOT_TOKEN");
    if let Some(t) = token {
        cmd.env("TELOXIDE_TOKEN", t);
    }
    let out = cmd.output().expect("run todanpho");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn missing_token_and_broken_config_explain_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9/", "");
    let (ok, out) = run(&["--config", config.to_str().unwrap()], None);
    assert!(!ok);
    assert!(out.contains("TELOXIDE_TOKEN is not set") && !out.contains("panicked"), "{out}");

    std::fs::write(&config, "[ward]\nname = \"x\"\n[database]\n").unwrap();
    let (ok, out) = run(&["--config", config.to_str().unwrap()], Some("1:x"));
    assert!(!ok);
    assert!(out.contains("is not valid") && out.contains("config.toml") && !out.contains("panicked"), "{out}");

    let (ok, out) = run(&["--config", "/nonexistent/config.toml"], Some("1:x"));
    assert!(!ok && out.contains("cannot read the config file"), "{out}");

    let (ok, out) = run(&["--help"], None);
    assert!(ok && out.contains("TELOXIDE_TOKEN") && out.contains("--config"), "{out}");
}

#[tokio::test]
async fn dialogue_files_can_be_overridden_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dialogues = dir.path().join("wording");
    std::fs::create_dir(&dialogues).unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9/", "[dialogues]\ndir = \"wording\"\n");

    let original = include_str!("../../dialogues/household.toml");
    let reworded = original.replace("Họ và tên chủ hộ là gì ạ?", "Xin cho biết tên chủ hộ?");
    std::fs::write(dialogues.join("household.toml"), &reworded).unwrap();
    let (ok, out) = run(&["--config", config.to_str().unwrap(), "check"], None);
    assert!(ok, "{out}");
    let (app, db) = todanpho::startup::build_app(&todanpho::config::Config::load(&config).unwrap()).await.unwrap();
    assert_eq!(app.book.get("household").unwrap().steps[0].prompt, "Xin cho biết tên chủ hộ? (ví dụ: Nguyễn Văn An)");
    db.close().await;

    let broken = original.replacen("kind = \"number\"\nmin = 1", "kind = \"numbr\"\nmin = 1", 1);
    std::fs::write(dialogues.join("household.toml"), broken).unwrap();
    let (ok, out) = run(&["--config", config.to_str().unwrap(), "check"], None);
    assert!(!ok && out.contains("household.toml") && out.contains("'members'") && out.contains("numbr"), "{out}");

    // A reworded file that drops a step the Rust side needs is refused too.
    let missing = original.replace("key = \"phone\"", "key = \"telephone\"");
    std::fs::write(dialogues.join("household.toml"), missing).unwrap();
    let (ok, out) = run(&["--config", config.to_str().unwrap(), "check"], None);
    assert!(!ok && out.contains("'phone'") && out.contains("required"), "{out}");
}

struct Bot(Child);

impl Bot {
    fn spawn(config: &Path, api_url: &str) -> Self {
        let child = Command::new(BIN)
            .args(["--config", config.to_str().unwrap()])
            .env("TELOXIDE_TOKEN", "123456:TEST")
            .env("TELOXIDE_API_URL", api_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start todanpho");
        Self(child)
    }

    fn kill(mut self) {
        // SIGKILL: no chance to finish anything.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_text(tg: &FakeTelegram, chat: i64, needle: &str, after: usize) -> usize {
    for _ in 0..1500 {
        let requests = tg.requests();
        if let Some(i) = requests.iter().enumerate().skip(after).position(|(_, r)| {
            r.method == "sendMessage"
                && r.body["chat_id"] == json!(chat)
                && r.body["text"].as_str().unwrap_or("").contains(needle)
        }) {
            return after + i + 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the bot never sent '{needle}' to {chat}");
}

fn private_text(user: &User, text: &str, message_id: i64) -> serde_json::Value {
    json!({ "message": {
        "message_id": message_id, "date": 1_790_000_000,
        "chat": { "id": user.id, "type": "private", "first_name": user.first_name },
        "from": user.json(), "text": text
    }})
}

#[tokio::test]
async fn the_binary_killed_mid_dialogue_continues_after_restart() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9/", "");
    let group = json!({ "message": {
        "message_id": 1, "date": 1_790_000_000, "chat": chat_json(GROUP_CHAT), "from": OFFICIAL.json(),
        "text": "/lienket Tổ dân phố số 12"
    }});

    let bot = Bot::spawn(&config, &tg.url);
    tg.push(group);
    let seen = wait_for_text(&tg, GROUP_CHAT, "Đã liên kết", 0).await;
    tg.push(private_text(&RESIDENT, "/dangky", 2));
    let seen = wait_for_text(&tg, RESIDENT.id, "Họ và tên chủ hộ", seen).await;
    tg.push(private_text(&RESIDENT, "Nguyễn Văn An", 3));
    let seen = wait_for_text(&tg, RESIDENT.id, "Số nhà", seen).await;
    bot.kill();

    let bot = Bot::spawn(&config, &tg.url);
    tg.push(private_text(&RESIDENT, "12", 4));
    wait_for_text(&tg, RESIDENT.id, "ngõ", seen).await;
    bot.kill();

    let pool = crate::support::open_pool(&dir.path().join("bot.db")).await;
    let state: String = sqlx::query_scalar("SELECT state FROM dialogues").fetch_one(&pool).await.unwrap();
    assert!(state.contains("Nguyễn Văn An") && state.contains("\"12\""), "{state}");
    let linked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_chats").fetch_one(&pool).await.unwrap();
    assert_eq!(linked, 1);
}

#[tokio::test]
async fn the_binary_runs_with_zalo_only() {
    let zalo = crate::fake_zalo::FakeZalo::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "http://127.0.0.1:9/",
        &format!("[zalo]\napi_url = \"{}\"\npoll_timeout_secs = 1\n", zalo.url),
    );
    // With the log as JSON for a log shipper (issue 24).
    let log = std::fs::File::create(dir.path().join("log.json")).unwrap();
    let mut child = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "--log-format", "json"])
        .env_remove("TELOXIDE_TOKEN")
        .env("ZALO_BOT_TOKEN", "12345:zalo-test-token")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start todanpho");
    zalo.text("6ede9afa66b88fe6d6a9", "Bác An", "/dangky");
    let mut answer = String::new();
    for _ in 0..1000 {
        answer = zalo.last_to("6ede9afa66b88fe6d6a9");
        if !answer.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The update's last line is written after its answer is sent.
    for _ in 0..500 {
        if std::fs::read_to_string(dir.path().join("log.json")).unwrap_or_default().contains("handled update") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.contains("chưa có tổ dân phố nào"), "a Zalo-only bot answers: {answer:?}");
    // Every line is one JSON object; the update's lines name it and its
    // kind of chat, and nothing the resident wrote.
    let log = std::fs::read_to_string(dir.path().join("log.json")).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let handled = lines
        .iter()
        .find(|l| l["fields"]["message"] == "handled update")
        .unwrap_or_else(|| panic!("no 'handled update' line in {log}"));
    assert_eq!(handled["span"]["name"], "update", "{handled}");
    assert_eq!(handled["span"]["chat"], "private", "{handled}");
    assert_eq!(handled["span"]["platform"], "zalo", "{handled}");
    assert!(handled["span"]["update"].as_str().is_some_and(|id| !id.is_empty()), "{handled}");
    assert!(!log.contains("Bác An"), "a name in the log");
}

/// `deploy/todanpho.service` is a unit systemd accepts as it is, with no
/// warning (an unknown key is only a warning to systemd, so any output
/// fails the test), and it keeps the promises README makes of it.
#[test]
fn the_service_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/todanpho.service")).unwrap();
    for line in [
        "DynamicUser=yes",
        "StateDirectory=todanpho",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "Restart=on-failure",
        "EnvironmentFile=/etc/todanpho/env",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("systemd-analyze is not on this machine: the unit was checked for its settings only");
        return;
    }
    // Verified where the binary really is (systemd checks it exists).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todanpho.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/todanpho", BIN)).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// A database left at each earlier migration (built here from the
/// migrations themselves) is brought up to date at start-up, keeps its
/// rows, and leaves the pre-upgrade copy beside it.
#[tokio::test]
async fn an_upgrade_from_each_earlier_migration_keeps_every_row_and_a_copy() {
    use std::borrow::Cow;
    use todanpho::db::upgrade::{latest, MIGRATIONS};
    let (ok, out) = run(&["--version"], None);
    assert!(ok && out.contains(&format!("database migrations up to {:04}", latest())), "{out}");
    let all: Vec<_> = MIGRATIONS.iter().cloned().collect();
    for at in 1..all.len() {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), "http://127.0.0.1:9/", "");
        let file = dir.path().join("bot.db");
        {
            let pool = open_pool(&file).await;
            let old = sqlx::migrate::Migrator {
                migrations: Cow::Owned(all[..at].to_vec()),
                ..sqlx::migrate::Migrator::DEFAULT
            };
            old.run(&pool).await.unwrap();
            sqlx::query("INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', '42', 'x', '2026-01-01T00:00:00Z')")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        // The last one as an operator who keeps their own backups would.
        let no_copy = at + 1 == all.len();
        let mut args = vec!["--config", config.to_str().unwrap(), "check"];
        if no_copy {
            args.insert(0, "--no-upgrade-backup");
        }
        let (ok, out) = run(&args, None);
        assert!(ok, "from migration {at}: {out}");
        let copy = dir.path().join(format!("bot.db.before-{:04}", all[at].version));
        assert_eq!(copy.exists(), !no_copy, "from migration {at}: the copy at {}", copy.display());
        let pool = open_pool(&file).await;
        let users: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE external_id = '42'").fetch_one(&pool).await.unwrap();
        assert_eq!(users, 1, "from migration {at}");
        let newest: i64 =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&pool).await.unwrap();
        assert_eq!(newest, latest());
        pool.close().await;
    }
}

/// An older binary on a database a newer one upgraded stops with words an
/// operator understands, and changes nothing.
#[tokio::test]
async fn an_older_binary_on_a_newer_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9/", "");
    let (ok, out) = run(&["--config", config.to_str().unwrap(), "check"], None);
    assert!(ok, "{out}");
    let pool = open_pool(&dir.path().join("bot.db")).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (9999, 'from the future', '2027-01-01', 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (ok, out) = run(&["--config", config.to_str().unwrap(), "check"], None);
    assert!(!ok, "{out}");
    assert!(out.contains("upgraded by a newer version of todanpho") && out.contains("9999"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    // Refused before anything is copied or applied.
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("before-")));
}

/// `init` writes a config for a new ward that `check` accepts, from flags
/// or from answers typed at its questions, and never overwrites one.
#[test]
fn init_writes_a_config_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let path = config.to_str().unwrap();
    let (ok, out) = run(
        &["--config", path, "init", "--ward", "Xã Song Phượng", "--timezone", "Asia/Ho_Chi_Minh", "--official", "777"],
        None,
    );
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("name = \"Xã Song Phượng\"") && text.contains("officials = [777]"), "{text}");
    let (ok, out) = run(&["--config", path, "check"], None);
    assert!(ok, "check after init: {out}");
    let (ok, out) = run(&["--config", path, "init", "--ward", "Khác", "--official", "1"], None);
    assert!(!ok && out.contains("already exists"), "{out}");

    // Asked, with the time zone's default taken by pressing Enter.
    let asked = dir.path().join("asked.toml");
    let mut child = Command::new(BIN)
        .args(["--config", asked.to_str().unwrap(), "init"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all("Phường Mới\n\n12345\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&asked).unwrap();
    assert!(text.contains("name = \"Phường Mới\"") && text.contains("timezone = \"Asia/Ho_Chi_Minh\""), "{text}");
    assert!(text.contains("officials = [12345]"), "{text}");
}
