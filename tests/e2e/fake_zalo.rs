//! A fake Zalo Bot Platform API on a loopback port, in the documented
//! shapes: `POST /bot<TOKEN>/<method>` with JSON; getUpdates hands out one
//! event per call (`{"ok":true,"result":{event_name, message}}`) and ends an
//! empty long poll with error 408; sendMessage refuses more than 2,000
//! characters. Every request is recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    pending: VecDeque<Value>,
    requests: Vec<(String, Value)>,
    next_id: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    arrived: Notify,
}

#[derive(Clone)]
pub struct FakeZalo {
    pub url: String,
    shared: Arc<Shared>,
}

#[allow(dead_code)]
impl FakeZalo {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared { inner: Mutex::new(Inner::default()), arrived: Notify::new() });
        let router = Router::new()
            .route("/files/{name}", axum::routing::get(file))
            .route("/{*path}", post(api))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url: format!("http://{addr}"), shared }
    }

    /// Queues a text (or command) from `user` in their private chat.
    /// Returns the message id, which is the inbox's update id.
    pub fn text(&self, user: &str, name: &str, text: &str) -> String {
        self.event(user, name, user, "PRIVATE", "message.text.received", json!({ "text": text }))
    }

    pub fn photo(&self, user: &str, name: &str, url: &str) -> String {
        self.event(user, name, user, "PRIVATE", "message.image.received", json!({ "photo": url }))
    }

    pub fn sticker(&self, user: &str, name: &str) -> String {
        self.event(user, name, user, "PRIVATE", "message.sticker.received", json!({ "sticker": "st-1" }))
    }

    pub fn group_text(&self, group: &str, user: &str, name: &str, text: &str) -> String {
        self.event(user, name, group, "GROUP", "message.text.received", json!({ "text": text }))
    }

    fn event(&self, user: &str, name: &str, chat: &str, chat_type: &str, event: &str, extra: Value) -> String {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.next_id += 1;
        let id = format!("e4ea2cd5189df1c3{:04x}", inner.next_id);
        let mut message = json!({
            "message_id": id, "date": 1_750_316_131_602i64,
            "from": { "id": user, "display_name": name, "is_bot": false },
            "chat": { "id": chat, "chat_type": chat_type },
        });
        for (k, v) in extra.as_object().unwrap() {
            message[k] = v.clone();
        }
        inner.pending.push_back(json!({ "event_name": event, "message": message }));
        drop(inner);
        self.shared.arrived.notify_waiters();
        id
    }

    /// Texts sent to `chat`, in order.
    pub fn texts_to(&self, chat: &str) -> Vec<String> {
        self.shared
            .inner
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(m, b)| m == "sendMessage" && b["chat_id"] == json!(chat))
            .map(|(_, b)| b["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub fn last_to(&self, chat: &str) -> String {
        self.texts_to(chat).pop().unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<(String, Value)> {
        self.shared.inner.lock().unwrap().requests.clone()
    }
}

/// Where photos residents send can be fetched, as on Zalo's servers.
pub const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 a JPEG from Zalo";

async fn file(Path(name): Path<String>) -> Response {
    if name.ends_with(".jpg") {
        ([("content-type", "image/jpeg")], PHOTO).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

fn error(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({ "ok": false, "error_code": code, "description": description }))).into_response()
}

async fn api(State(shared): State<Arc<Shared>>, Path(path): Path<String>, Json(body): Json<Value>) -> Response {
    let method = path.rsplit('/').next().unwrap_or("").to_string();
    if !path.starts_with("bot") {
        return error(404, "Not Found");
    }
    if method == "getUpdates" {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        loop {
            let notified = shared.arrived.notified();
            if let Some(event) = shared.inner.lock().unwrap().pending.pop_front() {
                return ok(event);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return error(408, "Request timeout");
            }
        }
    }
    shared.inner.lock().unwrap().requests.push((method.clone(), body.clone()));
    match method.as_str() {
        "getMe" => ok(json!({ "id": "bot-1", "account_name": "bot.todanpho", "display_name": "Tổ dân phố",
                              "can_join_groups": false })),
        "sendMessage" => {
            let text = body["text"].as_str().unwrap_or("");
            let n = text.chars().count();
            if n == 0 || n > 2000 {
                return error(400, "text must be 1-2000 characters");
            }
            ok(json!({ "message_id": format!("m{}", rand_id(&shared)), "date": 1_750_316_131_602i64 }))
        }
        "sendPhoto" | "sendSticker" | "sendChatAction" => ok(json!({ "message_id": format!("m{}", rand_id(&shared)) })),
        _ => ok(json!(true)),
    }
}

fn rand_id(shared: &Shared) -> u64 {
    let mut inner = shared.inner.lock().unwrap();
    inner.next_id += 1;
    inner.next_id
}
