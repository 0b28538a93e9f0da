//! A fake Zalo Bot Platform API on a loopback port, in the documented
//! shapes and quirks: `POST /bot<TOKEN>/<method>` with JSON; errors come as
//! HTTP 200 with `{"ok":false,"error_code":…}`; a token other than
//! [`TOKEN`] is refused (getMe included); getUpdates hands out one event per
//! call (`{"ok":true,"result":{event_name, message}}`), ends an empty long
//! poll with error 408, and gives nothing while a webhook is set; an image
//! event carries its picture in `photo_url`; sendMessage refuses an empty
//! text or one over 2,000 characters. Every request is recorded.

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

/// The one token this fake accepts.
pub const TOKEN: &str = "12345:zalo-test-token";

#[derive(Default)]
struct Inner {
    pending: VecDeque<Value>,
    requests: Vec<(String, Value)>,
    next_id: u64,
    /// The webhook URL, while one is set.
    webhook: Option<String>,
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

    /// A picture, in `photo_url` as Zalo sends it now.
    pub fn photo(&self, user: &str, name: &str, url: &str) -> String {
        self.event(user, name, user, "PRIVATE", "message.image.received", json!({ "photo_url": url }))
    }

    /// A picture in the older `photo` field.
    pub fn photo_old(&self, user: &str, name: &str, url: &str) -> String {
        self.event(user, name, user, "PRIVATE", "message.image.received", json!({ "photo": url }))
    }

    /// Sets a webhook as if another process had, and leaves it set.
    pub fn set_webhook(&self, url: &str) {
        self.shared.inner.lock().unwrap().webhook = Some(url.to_string());
    }

    /// Events queued but not yet handed out.
    pub fn pending(&self) -> usize {
        self.shared.inner.lock().unwrap().pending.len()
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

/// Zalo answers errors with HTTP 200 and `ok: false`.
fn error(code: u16, description: &str) -> Response {
    Json(json!({ "ok": false, "error_code": code, "description": description })).into_response()
}

async fn api(State(shared): State<Arc<Shared>>, Path(path): Path<String>, Json(body): Json<Value>) -> Response {
    let method = path.rsplit('/').next().unwrap_or("").to_string();
    let Some(token) = path.strip_prefix("bot").and_then(|p| p.rsplit_once('/')).map(|(t, _)| t) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if token != TOKEN {
        return error(401, "Unauthorized");
    }
    if method == "getUpdates" {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        loop {
            let notified = shared.arrived.notified();
            {
                let mut inner = shared.inner.lock().unwrap();
                // Events go to the webhook while one is set.
                if inner.webhook.is_none() {
                    if let Some(event) = inner.pending.pop_front() {
                        return ok(event);
                    }
                }
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
        "setWebhook" => {
            shared.inner.lock().unwrap().webhook = body["url"].as_str().map(str::to_string);
            ok(json!({ "url": body["url"], "updated_at": 1_750_316_131_602i64 }))
        }
        "deleteWebhook" => {
            shared.inner.lock().unwrap().webhook = None;
            ok(json!({ "url": "", "updated_at": 1_750_316_131_602i64 }))
        }
        _ => ok(json!(true)),
    }
}

fn rand_id(shared: &Shared) -> u64 {
    let mut inner = shared.inner.lock().unwrap();
    inner.next_id += 1;
    inner.next_id
}
