//! What the fake Bot API refuses, as Telegram does (Bot API 9, "Formatting
//! options", sendMessage, editMessageText, InlineKeyboardButton): texts over
//! 4,096 characters and captions over 1,024 after entities parsing, empty
//! texts, HTML it cannot parse, more than 100 inline buttons, callback data
//! outside 1–64 bytes, and an edit that leaves a message exactly as it was.
//! Lengths are counted in UTF-16 code units, as Telegram counts them.

use serde_json::Value;
use std::collections::HashMap;

const TEXT: usize = 4096;
const CAPTION: usize = 1024;
const BUTTONS: usize = 100;
const DATA: usize = 64;

/// A message's text and inline keyboard, as an edit compares them.
pub fn content(body: &Value) -> (Value, Value) {
    let text = body.get("text").or(body.get("caption")).cloned().unwrap_or(Value::Null);
    (text, keyboard(body))
}

fn keyboard(body: &Value) -> Value {
    match &body["reply_markup"]["inline_keyboard"] {
        Value::Array(rows) if !rows.is_empty() => Value::Array(rows.clone()),
        _ => Value::Null,
    }
}

/// Telegram's "Bad Request: …" for this request, if it would refuse it.
pub fn refusal(method: &str, body: &Value, shown: &HashMap<(i64, i64), (Value, Value)>) -> Option<String> {
    let html = body["parse_mode"].as_str().is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let visible = |s: &str| if html { parse_html(s) } else { Ok(s.to_string()) };
    match method {
        "sendMessage" | "editMessageText" => {
            let text = body["text"].as_str().unwrap_or("");
            let text = match visible(text) {
                Ok(t) => t,
                Err(e) => return Some(format!("Bad Request: can't parse entities: {e}")),
            };
            if text.trim().is_empty() {
                return Some("Bad Request: message text is empty".into());
            }
            if text.encode_utf16().count() > TEXT {
                return Some("Bad Request: message is too long".into());
            }
        }
        "sendPhoto" | "sendDocument" | "sendVideo" => {
            if let Some(caption) = body["caption"].as_str() {
                match visible(caption) {
                    Err(e) => return Some(format!("Bad Request: can't parse entities: {e}")),
                    Ok(c) if c.encode_utf16().count() > CAPTION => {
                        return Some("Bad Request: message caption is too long".into())
                    }
                    Ok(_) => {}
                }
            }
        }
        _ => {}
    }
    if let Value::Array(rows) = &body["reply_markup"]["inline_keyboard"] {
        let buttons: Vec<&Value> = rows.iter().flat_map(|r| r.as_array().into_iter().flatten()).collect();
        if buttons.len() > BUTTONS {
            return Some("Bad Request: reply markup is too long".into());
        }
        for b in buttons {
            if let Some(data) = b.get("callback_data").and_then(Value::as_str) {
                if data.is_empty() || data.len() > DATA {
                    return Some("Bad Request: BUTTON_DATA_INVALID".into());
                }
            }
            if b["text"].as_str().is_none_or(|t| t.trim().is_empty()) {
                return Some("Bad Request: text buttons are unallowed in the inline keyboard".into());
            }
        }
    }
    if method == "editMessageText" {
        let key = (body["chat_id"].as_i64().unwrap_or(0), body["message_id"].as_i64().unwrap_or(0));
        if shown.get(&key) == Some(&content(body)) {
            return Some("Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message".into());
        }
    }
    None
}

/// The text Telegram shows for an HTML message, or why it cannot parse it.
fn parse_html(html: &str) -> Result<String, String> {
    const TAGS: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    ];
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unclosed start tag")?;
                let inner = &rest[1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match open.pop() {
                        Some(top) if top == name => {}
                        _ => return Err(format!("can't find end tag corresponding to start tag \"{name}\"")),
                    }
                } else {
                    let name = inner.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
                    if !TAGS.contains(&name.as_str()) {
                        return Err(format!("unsupported start tag \"{name}\""));
                    }
                    open.push(name);
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest.find(';').filter(|e| *e <= 10).ok_or("character & must be escaped")?;
                let entity = &rest[1..end];
                let ch = match entity {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    n if n.starts_with('#') => {
                        n[1..].parse::<u32>().ok().and_then(char::from_u32).ok_or("bad entity")?
                    }
                    _ => return Err(format!("unsupported entity \"&{entity};\"")),
                };
                out.push(ch);
                rest = &rest[end + 1..];
            }
            '>' => return Err("character > must be escaped".into()),
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match open.pop() {
        Some(name) => Err(format!("can't find end tag corresponding to start tag \"{name}\"")),
        None => Ok(out),
    }
}

#[test]
fn the_fake_refuses_what_telegram_refuses() {
    use serde_json::json;
    let none = HashMap::new();
    let long = "a".repeat(4097);
    assert!(refusal("sendMessage", &json!({"chat_id": 1, "text": long}), &none).unwrap().contains("too long"));
    assert!(refusal("sendMessage", &json!({"chat_id": 1, "text": "😀".repeat(2049)}), &none).is_some(), "UTF-16");
    let html = |t: &str| json!({"chat_id": 1, "text": t, "parse_mode": "HTML"});
    assert!(refusal("sendMessage", &html("<pre>a</b>"), &none).is_some());
    assert!(refusal("sendMessage", &html("<pre>a"), &none).is_some());
    assert!(refusal("sendMessage", &html("a & b"), &none).is_some());
    assert!(refusal("sendMessage", &html("<table>x</table>"), &none).is_some());
    assert!(refusal("sendMessage", &html("<pre>a &amp; &lt;b&gt;</pre>"), &none).is_none());
    let buttons = |n: usize, data: &str| {
        let row: Vec<Value> = (0..n).map(|_| json!({"text": "x", "callback_data": data})).collect();
        json!({"chat_id": 1, "text": "t", "reply_markup": {"inline_keyboard": [row]}})
    };
    assert!(refusal("sendMessage", &buttons(101, "d"), &none).is_some());
    assert!(refusal("sendMessage", &buttons(100, &"d".repeat(65)), &none).is_some());
    assert!(refusal("sendMessage", &buttons(100, &"đ".repeat(32)), &none).is_none());
    assert!(refusal("sendPhoto", &json!({"chat_id": 1, "caption": "a".repeat(1025)}), &none).is_some());
    let edit = json!({"chat_id": 1, "message_id": 5, "text": "t"});
    let shown = HashMap::from([((1, 5), content(&edit))]);
    assert!(refusal("editMessageText", &edit, &shown).unwrap().contains("not modified"));
    assert!(refusal("editMessageText", &json!({"chat_id": 1, "message_id": 5, "text": "u"}), &shown).is_none());
}
