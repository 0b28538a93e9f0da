//! Running it: `/healthz` and `/metrics` on the operator's listener.

use std::collections::HashMap;
use std::time::Duration;

use todanpho::channel::Channel;

use crate::fake_telegram::Failure;
use crate::support::{TestBot, RESIDENT};

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let answer = reqwest::get(format!("http://{addr}{path}")).await.expect("the ops listener answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

async fn health_becomes(addr: std::net::SocketAddr, status: u16) -> String {
    let mut last = (0, String::new());
    for _ in 0..1000 {
        last = get(addr, "/healthz").await;
        if last.0 == status {
            return last.1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("/healthz stayed {} ({})", last.0, last.1);
}

/// The samples of `/metrics`, parsed as Prometheus would, by name and
/// labels.
async fn scrape(addr: std::net::SocketAddr) -> HashMap<String, f64> {
    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("/metrics is Prometheus text");
    parsed
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
                prometheus_parse::Value::Summary(_) => return None,
            };
            let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            Some((format!("{}{{{}}}", s.metric, labels.join(",")), value))
        })
        .collect()
}

#[tokio::test]
async fn health_follows_the_bot_api_and_metrics_move_with_a_dialogue() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let (addr, ops) =
        todanpho::ops::serve(bot.app.clone(), bot.database.clone(), vec![Channel::Telegram]).await.unwrap();
    assert!(addr.ip().is_loopback());
    assert_eq!(health_becomes(addr, 200).await, "ok\n");

    // The Bot API goes away: once nothing has answered for longer than
    // `stale_after_secs` (30 in the tests), the bot is reported down.
    bot.tg.fail("getUpdates", Failure::new(502, "Bad Gateway"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.clock.advance(chrono::Duration::seconds(31));
    let why = health_becomes(addr, 503).await;
    assert!(why.contains("telegram: no answer for"), "{why}");
    // It comes back (a resident writes, so the long poll answers at once):
    // so does the bot.
    bot.tg.heal("getUpdates");
    bot.private(&RESIDENT, "/help").await;
    assert_eq!(health_becomes(addr, 200).await, "ok\n");

    // A scripted dialogue moves the counters.
    let before = scrape(addr).await;
    let handled = |m: &HashMap<String, f64>, kind: &str| {
        m.get(&format!("todanpho_updates_handled_total{{kind={kind},platform=telegram}}")).copied().unwrap_or(0.0)
    };
    crate::registration::register(&bot, &RESIDENT).await;
    let after = scrape(addr).await;
    assert!(handled(&after, "command") > handled(&before, "command"), "a command was handled");
    assert!(handled(&after, "text") >= handled(&before, "text") + 5.0, "the form's answers were handled");
    let received = |m: &HashMap<String, f64>| m.get("todanpho_updates_received_total{platform=telegram}").copied();
    assert!(received(&after) > received(&before), "updates were taken in");
    assert!(after.get("todanpho_writer_commit_seconds{}").copied().unwrap_or(0.0) > 0.0, "commits are timed");
    assert_eq!(after.get("todanpho_table_rows{table=households}"), Some(&1.0));
    assert_eq!(after.get("todanpho_dialogues{}"), Some(&0.0), "the dialogue ended with the form");
    assert!(after.contains_key("todanpho_reply_outbox_depth{}"));
    assert!(after.contains_key("todanpho_reply_outbox_oldest_age_seconds{}"));
    assert!(after.contains_key("todanpho_notice_deliveries{status=failed}"));
    assert!(after.get("todanpho_database_bytes{}").copied().unwrap_or(0.0) > 0.0);
    // No label carries personal data.
    let (_, text) = get(addr, "/metrics").await;
    for personal in [RESIDENT.id.to_string(), "Nguyễn Văn An".to_string(), "0912345678".to_string()] {
        assert!(!text.contains(&personal), "/metrics shows {personal}");
    }
    ops.abort();
    bot.finish().await;
}

/// Handled updates are kept `[ops] keep_handled_updates` (2 days) to
/// recognise a copy, then pruned by the scheduler, on the bot's clock.
#[tokio::test]
async fn a_handled_update_is_recognised_within_the_retention_and_pruned_after_it() {
    let bot = TestBot::start().await;
    let update = serde_json::json!({ "message": {
        "message_id": 5, "date": 1_790_000_000, "chat": { "id": RESIDENT.id, "type": "private", "first_name": "An" },
        "from": RESIDENT.json(), "text": "/help"
    }});
    let id = bot.deliver(update.clone()).await;
    let answered = bot.messages_to(RESIDENT.id).len();

    // A day on, Telegram sends it again: still recognised, not answered twice.
    bot.clock.advance(chrono::Duration::days(1));
    let mut again = update;
    again["update_id"] = serde_json::json!(id);
    bot.tg.redeliver(again);
    bot.private(&RESIDENT, "/quy").await;
    assert_eq!(bot.messages_to(RESIDENT.id).len(), answered + 1, "only /quy was answered");
    let kept = format!("SELECT COUNT(*) FROM processed_updates WHERE update_id = '{id}'");
    assert_eq!(bot.count(&kept).await, 1);

    // Past the retention, the scheduler's hourly pruning forgets it.
    bot.clock.advance(chrono::Duration::days(2));
    for _ in 0..500 {
        if bot.count(&kept).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bot.count(&kept).await, 0, "pruned after two days");
    bot.finish().await;
}
