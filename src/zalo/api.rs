//! A small client for Zalo's Bot Platform API (modelled on Telegram's:
//! `POST <base>/bot<TOKEN>/<method>` with a JSON body). Our own rather than
//! the `zalo-bot` crate (0.1.0, one release, no retry or 408 handling): the
//! few methods the bot needs fit in this file, on the reqwest client that
//! teloxide already brings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ZaloError {
    #[error("Zalo refused the request ({code}): {description}")]
    Api { code: i64, description: String },
    #[error("the request to Zalo failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("Zalo's answer could not be read: {0}")]
    Decode(String),
}

impl ZaloError {
    /// Worth trying again: rate limits, Zalo's own errors and the network.
    pub fn passing(&self) -> bool {
        match self {
            ZaloError::Api { code, .. } => *code == 429 || *code >= 500,
            ZaloError::Http(_) | ZaloError::Decode(_) => true,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// One incoming event: `message.text.received` and the like.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZaloUpdate {
    pub event_name: String,
    pub message: ZaloMessage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZaloMessage {
    pub message_id: String,
    pub from: ZaloUser,
    pub chat: ZaloChat,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub date: Option<i64>,
    #[serde(default)]
    pub text: Option<String>,
    /// The picture's URL: Zalo's image event carries it in `photo_url`
    /// (what its SDKs read first); `photo` is the older name.
    #[serde(default)]
    pub photo_url: Option<String>,
    #[serde(default)]
    pub photo: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub sticker: Option<String>,
}

impl ZaloMessage {
    /// The URL of the picture sent, under either of its names.
    pub fn picture(&self) -> Option<&str> {
        self.photo_url.as_deref().or(self.photo.as_deref()).filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZaloUser {
    pub id: String,
    /// The docs name it `display_name`; their sample says `first_name`.
    #[serde(default, alias = "first_name")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZaloChat {
    pub id: String,
    #[serde(default)]
    pub chat_type: Option<String>,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Result<Self, ZaloError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(45))
            .pool_max_idle_per_host(16)
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_string(), token: token.to_string() })
    }

    async fn call(&self, method: &str, body: Value) -> Result<Value, ZaloError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token);
        let response = self.http.post(url).json(&body).send().await.map_err(|e| ZaloError::Http(e.without_url()))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| ZaloError::Http(e.without_url()))?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|_| ZaloError::Decode(format!("HTTP {status}, not JSON ({} bytes)", text.len())))?;
        if answer["ok"] == json!(true) {
            return Ok(answer["result"].clone());
        }
        Err(ZaloError::Api {
            code: answer["error_code"].as_i64().unwrap_or(i64::from(status)),
            description: answer["description"].as_str().unwrap_or("").to_string(),
        })
    }

    pub async fn get_me(&self) -> Result<Value, ZaloError> {
        self.call("getMe", json!({})).await
    }

    /// Waits up to `timeout` for new events. An empty long poll ends with
    /// error 408, which is normal: no events.
    pub async fn get_updates(&self, timeout: Duration) -> Result<Vec<ZaloUpdate>, ZaloError> {
        match self.call("getUpdates", json!({ "timeout": timeout.as_secs().to_string() })).await {
            Ok(result) => parse_updates(result),
            Err(ZaloError::Api { code: 408, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn send_message(&self, chat_id: &str, text: &str) -> Result<(), ZaloError> {
        self.call("sendMessage", json!({ "chat_id": chat_id, "text": text })).await.map(|_| ())
    }

    pub async fn send_photo(&self, chat_id: &str, url: &str, caption: Option<&str>) -> Result<(), ZaloError> {
        let mut body = json!({ "chat_id": chat_id, "photo": url });
        if let Some(c) = caption {
            body["caption"] = json!(c);
        }
        self.call("sendPhoto", body).await.map(|_| ())
    }

    /// Fetches a photo a person sent (Zalo gives a URL that may expire).
    /// At most `limit` bytes.
    pub async fn fetch(&self, url: &str, limit: usize) -> Result<(Vec<u8>, Option<String>), ZaloError> {
        let mut response = self.http.get(url).send().await.map_err(|e| ZaloError::Http(e.without_url()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ZaloError::Api {
                code: i64::from(status),
                description: "the photo could not be fetched".into(),
            });
        }
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| ZaloError::Http(e.without_url()))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > limit {
                return Err(ZaloError::Decode(format!("the photo is larger than {limit} bytes")));
            }
        }
        Ok((bytes, content_type))
    }

    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), ZaloError> {
        self.call("setWebhook", json!({ "url": url, "secret_token": secret })).await.map(|_| ())
    }

    pub async fn delete_webhook(&self) -> Result<(), ZaloError> {
        self.call("deleteWebhook", json!({})).await.map(|_| ())
    }
}

/// The documented answer holds one event (`{"message": …, "event_name": …}`);
/// an array of them is accepted too.
pub fn parse_updates(result: Value) -> Result<Vec<ZaloUpdate>, ZaloError> {
    let items = match result {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| ZaloError::Decode(format!("an event: {e}"))))
        .collect()
}

/// A webhook body, flat (`{event_name, message}`) or wrapped
/// (`{ok, result}`).
pub fn parse_webhook(body: &str) -> Result<Vec<ZaloUpdate>, ZaloError> {
    let value: Value = serde_json::from_str(body).map_err(|e| ZaloError::Decode(e.to_string()))?;
    match value.get("result") {
        Some(result) => parse_updates(result.clone()),
        None => parse_updates(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_an_array_or_a_wrapped_webhook() {
        let one = json!({ "event_name": "message.text.received", "message": {
            "message_id": "e4ea2cd5189df1c3a88c", "date": 1_750_316_131_602i64, "text": "Xin chào",
            "from": { "id": "6ede9afa66b88fe6d6a9", "first_name": "Bác An", "is_bot": false },
            "chat": { "id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE" } } });
        let parsed = parse_updates(one.clone()).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].message.from.display_name.as_deref(), Some("Bác An"));
        assert_eq!(parse_updates(json!([one.clone(), one.clone()])).unwrap().len(), 2);
        assert_eq!(parse_webhook(&json!({ "ok": true, "result": one.clone() }).to_string()).unwrap().len(), 1);
        assert_eq!(parse_webhook(&one.to_string()).unwrap().len(), 1);
        assert!(parse_webhook("not json").is_err());
    }

    #[test]
    fn a_picture_is_read_from_photo_url_or_photo() {
        let image = |extra: Value| {
            let mut m = json!({ "message_id": "m1", "from": { "id": "u" }, "chat": { "id": "u" } });
            for (k, v) in extra.as_object().unwrap() {
                m[k] = v.clone();
            }
            parse_updates(json!({ "event_name": "message.image.received", "message": m })).unwrap().remove(0)
        };
        assert_eq!(image(json!({ "photo_url": "https://a/1.jpg" })).message.picture(), Some("https://a/1.jpg"));
        assert_eq!(image(json!({ "photo": "https://a/2.jpg" })).message.picture(), Some("https://a/2.jpg"));
        let both = image(json!({ "photo_url": "https://a/new.jpg", "photo": "https://a/old.jpg" }));
        assert_eq!(both.message.picture(), Some("https://a/new.jpg"));
        assert_eq!(image(json!({})).message.picture(), None);
    }
}
