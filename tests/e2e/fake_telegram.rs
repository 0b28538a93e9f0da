//! A fake Telegram Bot API server on a loopback port. It queues updates for
//! `getUpdates` the way Telegram does (an update stays until a later offset
//! confirms it), answers every method with a plausible result, records every
//! request, and can be told to fail chosen methods.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "todanpho_test_bot";

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub body: Value,
    /// The message_id the fake gave a sent message.
    pub message_id: Option<i64>,
    /// Uploaded files by form field.
    pub files: Vec<(String, Vec<u8>)>,
    /// Why the fake refused it, as Telegram would have (too long, bad
    /// HTML, too many buttons, an edit that changes nothing).
    pub refused: Option<String>,
}

/// How the fake answers one method, until told otherwise.
#[derive(Clone, Debug)]
pub struct Failure {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn new(code: u16, description: &str) -> Self {
        Self { code, description: description.into(), retry_after: None }
    }
}

/// Telegram's limits, enforced the way Telegram does: a 429 with
/// `retry_after` for a send past them.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_second: usize,
    pub per_chat_per_minute: usize,
}

#[derive(Default)]
struct Inner {
    pending: VecDeque<Value>,
    next_update_id: i64,
    requests: Vec<Request>,
    next_message_id: i64,
    failures: HashMap<String, Failure>,
    highest_offset: i64,
    /// Failures for sends to one chat, with how many times to answer so.
    chat_failures: HashMap<i64, (Failure, Option<i64>, usize)>,
    delays: HashMap<String, Duration>,
    limits: Option<Limits>,
    sends: VecDeque<Instant>,
    chat_sends: HashMap<i64, VecDeque<Instant>>,
    rejected: usize,
    observer: Option<tokio::sync::mpsc::UnboundedSender<Observed>>,
    forget_requests: bool,
    chaos: Option<Chaos>,
    /// What each message the bot sent or edited shows now, by chat and
    /// message id: text and inline keyboard.
    shown: HashMap<(i64, i64), (Value, Value)>,
}

/// Faults injected at random into a share of all requests, getUpdates
/// included, as a bad day at Telegram looks to the bot.
#[derive(Clone, Debug, Default)]
pub struct Chaos {
    percent: u64,
    state: u64,
    stall: Duration,
    /// How many of each fault were injected.
    pub injected: std::collections::BTreeMap<&'static str, usize>,
    /// Sends carried out whose answer the bot never got (the connection was
    /// reset after): the bot may rightly send these twice.
    pub carried_out_then_reset: Vec<(i64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    TooManyRequests,
    InternalError,
    BadGateway,
    ResetBefore,
    ResetAfter,
    Stall,
}

impl Chaos {
    fn draw(&mut self) -> Option<Fault> {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        if self.state % 100 >= self.percent {
            return None;
        }
        let fault = match (self.state / 100) % 6 {
            0 => Fault::TooManyRequests,
            1 => Fault::InternalError,
            2 => Fault::BadGateway,
            3 => Fault::ResetBefore,
            4 => Fault::ResetAfter,
            _ => Fault::Stall,
        };
        let name = match fault {
            Fault::TooManyRequests => "429 retry_after",
            Fault::InternalError => "500",
            Fault::BadGateway => "502 (HTML)",
            Fault::ResetBefore => "reset before handling",
            Fault::ResetAfter => "reset after handling",
            Fault::Stall => "stall",
        };
        *self.injected.entry(name).or_default() += 1;
        Some(fault)
    }
}

/// A request as a benchmark sees it: which method, into which chat, when.
#[allow(dead_code)] // read by benches/throughput.rs
#[derive(Clone, Debug)]
pub struct Observed {
    pub method: String,
    pub chat: i64,
    pub at: Instant,
}

struct Shared {
    inner: Mutex<Inner>,
    arrived: Notify,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    shared: Arc<Shared>,
}

// A toolkit for every test: not each one uses each fault or counter.
#[allow(dead_code)]
impl FakeTelegram {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner { next_update_id: 1, next_message_id: 1000, ..Inner::default() }),
            arrived: Notify::new(),
        });
        let router = Router::new().route("/{*path}", post(api)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url: format!("http://{addr}/"), shared }
    }

    /// Queues an update; `update_id` is filled in. Returns the id.
    pub fn push(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.shared.inner.lock().unwrap();
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update["update_id"] = json!(id);
            inner.pending.push_back(update);
            id
        };
        self.shared.arrived.notify_waiters();
        id
    }

    /// Queues an update again with the same id, as Telegram does when the
    /// bot did not confirm it.
    pub fn redeliver(&self, update: Value) {
        self.shared.inner.lock().unwrap().pending.push_back(update);
        self.shared.arrived.notify_waiters();
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.inner.lock().unwrap().requests.clone()
    }

    /// What a message the bot sent shows now: its text and inline keyboard.
    pub fn shown(&self, chat: i64, message_id: i64) -> Option<(Value, Value)> {
        self.shared.inner.lock().unwrap().shown.get(&(chat, message_id)).cloned()
    }

    /// Requests refused because Telegram would have refused them.
    pub fn refusals(&self) -> Vec<Request> {
        self.shared.inner.lock().unwrap().requests.iter().filter(|r| r.refused.is_some()).cloned().collect()
    }

    pub fn request_count(&self) -> usize {
        self.shared.inner.lock().unwrap().requests.len()
    }

    pub fn fail(&self, method: &str, failure: Failure) {
        self.shared.inner.lock().unwrap().failures.insert(method.to_string(), failure);
    }

    pub fn heal(&self, method: &str) {
        self.shared.inner.lock().unwrap().failures.remove(method);
    }

    /// Sends to `chat` fail `times` times with `failure`; with `migrate_to`
    /// the answer says the group became that supergroup.
    pub fn fail_chat(&self, chat: i64, failure: Failure, migrate_to: Option<i64>, times: usize) {
        self.shared.inner.lock().unwrap().chat_failures.insert(chat, (failure, migrate_to, times));
    }

    /// Answers `method` only after `delay`.
    pub fn delay(&self, method: &str, delay: Duration) {
        self.shared.inner.lock().unwrap().delays.insert(method.to_string(), delay);
    }

    pub fn enforce(&self, limits: Limits) {
        self.shared.inner.lock().unwrap().limits = Some(limits);
    }

    /// Sends refused with 429 because of the limits.
    pub fn rejected(&self) -> usize {
        self.shared.inner.lock().unwrap().rejected
    }

    /// Every request from now on, as it arrives (getUpdates included).
    pub fn observe(&self) -> tokio::sync::mpsc::UnboundedReceiver<Observed> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.shared.inner.lock().unwrap().observer = Some(tx);
        rx
    }

    /// Stops keeping requests (a long benchmark would hold them all).
    pub fn forget_requests(&self) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.forget_requests = true;
        inner.requests.clear();
    }

    /// From now on `percent` % of requests fail at random (seeded): 429
    /// with retry_after, 500, 502 with an HTML page, a connection reset
    /// before or after the request is carried out, or a stall of `stall`.
    pub fn chaos(&self, percent: u64, seed: u64, stall: Duration) {
        self.shared.inner.lock().unwrap().chaos =
            Some(Chaos { percent, state: seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15), stall, ..Chaos::default() });
    }

    /// Ends the faults and tells what was injected.
    pub fn calm(&self) -> Option<Chaos> {
        self.shared.inner.lock().unwrap().chaos.take()
    }

    /// The highest offset the bot confirmed with getUpdates.
    pub fn confirmed_offset(&self) -> i64 {
        self.shared.inner.lock().unwrap().highest_offset
    }
}

pub fn chat_json(id: i64) -> Value {
    if id > 0 {
        json!({ "id": id, "type": "private", "first_name": "Người dùng" })
    } else if id < -1_000_000_000_000 {
        json!({ "id": id, "type": "supergroup", "title": "Nhóm tổ dân phố" })
    } else {
        json!({ "id": id, "type": "group", "title": "Nhóm tổ dân phố" })
    }
}

fn bot_user() -> Value {
    json!({ "id": BOT_ID, "is_bot": true, "first_name": "Tổ dân phố", "username": BOT_USERNAME })
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

/// teloxide sends JSON for requests without files and multipart for
/// uploads; both end up as one JSON object here, with uploaded files kept
/// as bytes beside it.
fn parse_body(headers: &HeaderMap, body: &Bytes) -> (Value, Vec<(String, Vec<u8>)>) {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("multipart/form-data") {
        return (serde_json::from_slice(body).unwrap_or(Value::Null), Vec::new());
    }
    let boundary = format!("--{}", content_type.split("boundary=").nth(1).unwrap_or("").trim_matches('"'));
    let mut map = serde_json::Map::new();
    let mut files = Vec::new();
    for part in split_bytes(body, boundary.as_bytes()) {
        let Some(at) = find(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..at]).to_string();
        let mut content = &part[at + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let Some(name) = head.split("name=\"").nth(1).and_then(|s| s.split('"').next()) else { continue };
        if head.contains("filename=") {
            files.push((name.to_string(), content.to_vec()));
            map.insert(name.to_string(), Value::String(format!("<file {} bytes>", content.len())));
            continue;
        }
        let value = String::from_utf8_lossy(content).to_string();
        // Numbers and JSON objects arrive as text in multipart forms.
        let parsed =
            serde_json::from_str::<Value>(&value).ok().filter(|v| v.is_object() || v.is_array() || v.is_number());
        map.insert(name.to_string(), parsed.unwrap_or(Value::String(value)));
    }
    (Value::Object(map), files)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, separator) {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

async fn api(State(shared): State<Arc<Shared>>, Path(path): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let drawn = shared.inner.lock().unwrap().chaos.as_mut().map(|c| (c.draw(), c.stall));
    let Some((Some(fault), stall)) = drawn else { return answer(&shared, &path, &headers, &body).await };
    match fault {
        Fault::TooManyRequests => error(429, "Too Many Requests: retry after 1", Some(json!({ "retry_after": 1 }))),
        Fault::InternalError => error(500, "Internal Server Error", None),
        Fault::BadGateway => {
            (StatusCode::BAD_GATEWAY, "<html><body><h1>502 Bad Gateway</h1></body></html>").into_response()
        }
        Fault::ResetBefore => reset(),
        Fault::ResetAfter => {
            let _ = answer(&shared, &path, &headers, &body).await;
            let (sent, _) = parse_body(&headers, &body);
            if let (Some(chat), Some(text)) = (sent["chat_id"].as_i64(), sent["text"].as_str()) {
                if let Some(chaos) = shared.inner.lock().unwrap().chaos.as_mut() {
                    chaos.carried_out_then_reset.push((chat, text.to_string()));
                }
            }
            reset()
        }
        Fault::Stall => {
            tokio::time::sleep(stall).await;
            answer(&shared, &path, &headers, &body).await
        }
    }
}

/// A response cut off after its headers: the client sees the connection
/// fail and cannot know whether the request was carried out.
fn reset() -> Response {
    let cut = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by the fake"))
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(axum::body::Body::from_stream(cut))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn answer(shared: &Shared, path: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    // Bot API method names are case-insensitive; teloxide sends "SendMessage".
    let raw = path.rsplit('/').next().unwrap_or("");
    let mut chars = raw.chars();
    let method: String = chars.next().map(|c| c.to_ascii_lowercase()).into_iter().chain(chars).collect();
    let (body, files) = parse_body(headers, body);
    if let Some(observer) = &shared.inner.lock().unwrap().observer {
        let chat = body["chat_id"].as_i64().unwrap_or(0);
        let _ = observer.send(Observed { method: method.clone(), chat, at: Instant::now() });
    }

    if method == "getUpdates" {
        return get_updates(shared, &body).await;
    }

    let delay = shared.inner.lock().unwrap().delays.get(&method).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut inner = shared.inner.lock().unwrap();
    if !inner.forget_requests {
        inner.requests.push(Request {
            method: method.clone(),
            body: body.clone(),
            message_id: None,
            files,
            refused: None,
        });
    }
    if let Some(refusal) = crate::fake_limits::refusal(&method, &body, &inner.shown) {
        let forget = inner.forget_requests;
        if let Some(last) = inner.requests.last_mut().filter(|_| !forget) {
            last.refused = Some(refusal.clone());
        }
        return error(400, &refusal, None);
    }
    if matches!(method.as_str(), "sendMessage" | "sendPhoto") {
        if let Some(refusal) = refuse_send(&mut inner, body["chat_id"].as_i64().unwrap_or(0)) {
            return refusal;
        }
    }
    if let Some(f) = inner.failures.get(&method).cloned() {
        let mut answer = json!({ "ok": false, "error_code": f.code, "description": f.description });
        if let Some(after) = f.retry_after {
            answer["parameters"] = json!({ "retry_after": after });
        }
        let status = StatusCode::from_u16(f.code).unwrap_or(StatusCode::BAD_REQUEST);
        return (status, Json(answer)).into_response();
    }
    match method.as_str() {
        "getMe" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Tổ dân phố", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getWebhookInfo" => ok(json!({ "url": "", "has_custom_certificate": false, "pending_update_count": 0 })),
        "sendMessage" | "sendPhoto" | "sendLocation" | "sendDocument" => {
            inner.next_message_id += 1;
            let id = inner.next_message_id;
            let forget = inner.forget_requests;
            if let Some(last) = inner.requests.last_mut().filter(|_| !forget) {
                last.message_id = Some(id);
            }
            let chat_id = body["chat_id"].as_i64().unwrap_or(0);
            inner.shown.insert((chat_id, id), crate::fake_limits::content(&body));
            let mut message = json!({
                "message_id": inner.next_message_id, "date": now(), "chat": chat_json(chat_id), "from": bot_user(),
            });
            match method.as_str() {
                "sendMessage" => message["text"] = body["text"].clone(),
                "sendPhoto" => {
                    message["photo"] =
                        json!([{ "file_id": "sent-photo", "file_unique_id": "sp", "width": 1, "height": 1 }]);
                    message["caption"] = body["caption"].clone();
                }
                "sendLocation" => {
                    message["location"] = json!({ "latitude": body["latitude"], "longitude": body["longitude"] })
                }
                _ => {
                    message["document"] = json!({ "file_id": "sent-doc", "file_unique_id": "sd" });
                }
            }
            ok(message)
        }
        "editMessageText" => {
            let key = (body["chat_id"].as_i64().unwrap_or(0), body["message_id"].as_i64().unwrap_or(0));
            inner.shown.insert(key, crate::fake_limits::content(&body));
            ok(json!({
            "message_id": body["message_id"], "date": now(), "chat": chat_json(body["chat_id"].as_i64().unwrap_or(0)),
            "from": bot_user(), "text": body["text"]
            }))
        }
        _ => ok(json!(true)),
    }
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut answer = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(p) = parameters {
        answer["parameters"] = p;
    }
    (StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), Json(answer)).into_response()
}

/// Injected failures for one chat, then the rate limits.
fn refuse_send(inner: &mut Inner, chat: i64) -> Option<Response> {
    if let Some((failure, migrate_to, left)) = inner.chat_failures.get_mut(&chat) {
        if *left > 0 {
            *left -= 1;
            let parameters = match (migrate_to, failure.retry_after) {
                (Some(to), _) => Some(json!({ "migrate_to_chat_id": to })),
                (None, Some(after)) => Some(json!({ "retry_after": after })),
                _ => None,
            };
            return Some(error(failure.code, &failure.description.clone(), parameters));
        }
    }
    let limits = inner.limits?;
    let now = Instant::now();
    while inner.sends.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
        inner.sends.pop_front();
    }
    let window = inner.chat_sends.entry(chat).or_default();
    while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
        window.pop_front();
    }
    if inner.sends.len() >= limits.per_second || window.len() >= limits.per_chat_per_minute {
        inner.rejected += 1;
        return Some(error(429, "Too Many Requests: retry after 1", Some(json!({ "retry_after": 1 }))));
    }
    window.push_back(now);
    inner.sends.push_back(now);
    None
}

async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100) as usize;
    // Telegram holds a long poll up to `timeout` seconds; a shorter hold
    // keeps tests and shutdowns quick without changing the protocol.
    let hold = Duration::from_millis((body["timeout"].as_u64().unwrap_or(0) * 1000).min(300));
    let deadline = tokio::time::Instant::now() + hold;
    loop {
        let notified = shared.arrived.notified();
        {
            let mut inner = shared.inner.lock().unwrap();
            inner.highest_offset = inner.highest_offset.max(offset);
            if let Some(f) = inner.failures.get("getUpdates").cloned() {
                let answer = json!({ "ok": false, "error_code": f.code, "description": f.description });
                return (StatusCode::from_u16(f.code).unwrap_or(StatusCode::BAD_REQUEST), Json(answer)).into_response();
            }
            // Confirmed updates are forgotten, as on Telegram.
            inner.pending.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !inner.pending.is_empty() {
                let batch: Vec<Value> = inner.pending.iter().take(limit).cloned().collect();
                return ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}
