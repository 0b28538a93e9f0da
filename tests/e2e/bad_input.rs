//! Bad input at every step of every dialogue: empty and 4,096-character
//! texts, emoji, zero-width and right-to-left characters, SQL- and
//! HTML-looking text, photos, stickers, voice notes, contacts and
//! locations where text is expected, edited messages. Each gets a short
//! Vietnamese answer, nothing fails, and what a step accepts is stored
//! exactly as typed.

use serde_json::{json, Value};

use crate::support::*;

#[derive(Clone, Debug)]
enum Bad {
    Text(String),
    Photo,
    Sticker,
    Voice,
    Contact,
    Location,
    Edited,
}

fn corpus() -> Vec<Bad> {
    let t = |s: &str| Bad::Text(s.to_string());
    vec![
        t(" "),
        Bad::Text("ă".repeat(4096)),
        t("😀😀😀"),
        t("\u{200b}\u{200b}\u{200b}"),
        t("\u{202e}\u{200f}مرحبا"),
        t("'; DROP TABLE households; --"),
        t("<b>đậm</b> & <i>nghiêng"),
        Bad::Photo,
        Bad::Sticker,
        Bad::Voice,
        Bad::Contact,
        Bad::Location,
        Bad::Edited,
    ]
}

async fn send(bot: &TestBot, user: &User, bad: &Bad) -> i64 {
    let mut msg = bot.message(user.id, user, "");
    let object = msg.as_object_mut().expect("a message object");
    object.remove("text");
    match bad {
        Bad::Text(text) => msg["text"] = json!(text),
        Bad::Photo => {
            msg["photo"] = json!([{ "file_id": "bad-photo", "file_unique_id": "bp", "width": 90, "height": 90 }])
        }
        Bad::Sticker => {
            msg["sticker"] = json!({ "file_id": "st1", "file_unique_id": "st", "type": "regular", "width": 512,
                                     "height": 512, "is_animated": false, "is_video": false })
        }
        Bad::Voice => msg["voice"] = json!({ "file_id": "v1", "file_unique_id": "v", "duration": 3 }),
        Bad::Contact => {
            msg["contact"] = json!({ "phone_number": "+84912000111", "first_name": "Hàng xóm" });
        }
        Bad::Location => msg["location"] = json!({ "latitude": 21.05, "longitude": 105.79 }),
        Bad::Edited => {
            msg["text"] = json!("sửa lại");
            msg["edit_date"] = json!(1_790_000_100);
            return bot.deliver(json!({ "edited_message": msg })).await;
        }
    }
    bot.deliver(json!({ "message": msg })).await
}

/// The error recorded with an update, if handling it failed.
async fn error_of(bot: &TestBot, update: i64) -> Option<String> {
    sqlx::query_scalar("SELECT error FROM processed_updates WHERE update_id = ?")
        .bind(update.to_string())
        .fetch_one(bot.db())
        .await
        .unwrap()
}

async fn state(bot: &TestBot, user: &User) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM dialogues WHERE user_id = ?")
        .bind(user.id.to_string())
        .fetch_optional(bot.db())
        .await
        .unwrap()
}

/// Puts the person's dialogue back as it was (the test's own undo).
async fn restore(bot: &TestBot, user: &User, saved: &Option<String>) {
    let user_id = user.id.to_string();
    let query = match saved {
        Some(s) => sqlx::query("UPDATE dialogues SET state = ? WHERE user_id = ?").bind(s).bind(user_id),
        None => sqlx::query("DELETE FROM dialogues WHERE user_id = ?").bind(user_id),
    };
    query.execute(bot.db()).await.unwrap();
}

/// Sends the whole corpus at the step the person is at. Each item gets an
/// answer; if the step took it, the stored answer is what was typed (less
/// invisible formatting characters, taken out at the edge), and the step is
/// put back for the next item.
async fn hammer(bot: &TestBot, user: &User, flow: &str, step: usize, stats: &mut Stats) {
    for bad in corpus() {
        let before = state(bot, user).await;
        let seen = bot.tg.request_count();
        let update = send(bot, user, &bad).await;
        stats.sent += 1;
        assert_eq!(error_of(&bot, update).await, None, "{flow} step {step}, {bad:?}");
        let answers: Vec<String> = bot.tg.requests()[seen..]
            .iter()
            .filter(|r| r.body["chat_id"] == json!(user.id))
            .filter_map(|r| r.body["text"].as_str().or(r.body["caption"].as_str()).map(str::to_string))
            .collect();
        assert!(!answers.is_empty(), "{flow} step {step}: no answer to {bad:?}");
        for a in &answers {
            assert!(vietnamese(a), "{flow} step {step}, {bad:?}: '{a}' is not Vietnamese");
            assert!(!a.contains("sự cố"), "{flow} step {step}, {bad:?}: {a}");
        }
        let after = state(bot, user).await;
        if after != before {
            stats.accepted += 1;
            if let (Bad::Text(typed), Some(after)) = (&bad, &after) {
                let stored: Value = serde_json::from_str(after).unwrap();
                let texts = stored["answers"].to_string();
                assert!(
                    texts.contains(&json!(todanpho::text::visible(typed).trim()).to_string()),
                    "{flow} step {step}: what was stored is not what was typed: {texts}"
                );
            }
            restore(bot, user, &before).await;
        }
    }
}

#[derive(Default)]
struct Stats {
    sent: usize,
    accepted: usize,
}

/// At least one letter only Vietnamese (or French) writing has.
fn vietnamese(text: &str) -> bool {
    text.chars().any(|c| {
        "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
            .contains(c.to_lowercase().next().unwrap_or(c))
    })
}

async fn walk(bot: &TestBot, user: &User, flow: &str, start: &str, answers: &[&str], stats: &mut Stats) {
    bot.private(user, start).await;
    for (step, answer) in answers.iter().enumerate() {
        hammer(bot, user, flow, step, stats).await;
        bot.private(user, answer).await;
    }
    assert_eq!(state(bot, user).await, None, "{flow}: the walk ends the dialogue");
}

#[tokio::test]
async fn every_step_of_every_dialogue_answers_bad_input_and_keeps_what_was_typed() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let mut stats = Stats::default();
    let html = "<b>Đèn</b> & cột điện ngõ 41 <hỏng>";
    bot.mark_personal(&["0912345678", "Hoàng Quốc Việt", "ngõ 41"]);

    walk(
        &bot,
        &LEADER,
        "campaign",
        "/start vd-1",
        &[
            "Ủng hộ Quỹ Vì người nghèo",
            "Giúp các hộ nghèo đón Tết",
            "2tr5",
            "31/12/2026",
            "Cả hai",
            "VCB",
            "0011 0023 45678",
            "Quỹ vì người nghèo",
            "xác nhận",
        ],
        &mut stats,
    )
    .await;
    walk(
        &bot,
        &RESIDENT,
        "household",
        "/start dk-1",
        &[
            "nguyễn văn an",
            "12",
            "ngõ 41",
            "Hoàng Quốc Việt",
            "+84 912 345 678",
            "4",
            "1, 5",
            "2",
            "co",
            "3",
            "xác nhận",
        ],
        &mut stats,
    )
    .await;
    walk(
        &bot,
        &RESIDENT,
        "report",
        "/start pa-1",
        &["Chiếu sáng", html, "xong", "Không gửi vị trí", "xác nhận"],
        &mut stats,
    )
    .await;
    let stored: String = sqlx::query_scalar("SELECT description FROM reports").fetch_one(bot.db()).await.unwrap();
    assert_eq!(stored, html, "stored exactly as typed");
    walk(&bot, &NEIGHBOUR, "pledge", "/start uh-1", &["500k", "Ghi tên tôi", "2", "xác nhận"], &mut stats).await;
    walk(
        &bot,
        &OFFICIAL,
        "notice",
        "/thongbao",
        &["Họp tổ <b>tối</b> thứ Bảy & Chủ nhật", "bỏ qua", "xác nhận"],
        &mut stats,
    )
    .await;
    let notice: String = sqlx::query_scalar("SELECT text FROM notices").fetch_one(bot.db()).await.unwrap();
    assert_eq!(notice, "Họp tổ <b>tối</b> thứ Bảy & Chủ nhật");

    // Nothing the bot sent as HTML carries the typed markup unescaped.
    for r in bot.tg.requests() {
        if r.body["parse_mode"] == "HTML" {
            let text = r.body["text"].as_str().or(r.body["caption"].as_str()).unwrap_or("");
            assert!(!text.contains("<hỏng>") && !text.contains("<b>tối</b>"), "unescaped: {text}");
        }
    }
    eprintln!(
        "bad input: {} sent at every step of 5 dialogues, {} accepted by free-text steps",
        stats.sent, stats.accepted
    );
    bot.finish().await;
}

#[tokio::test]
async fn commands_from_a_channel_identity_are_answered_and_other_bots_are_ignored() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let before = bot.messages_to(GROUP_CHAT).len();
    let mut msg = bot.message(GROUP_CHAT, &RESIDENT, "/dangky");
    msg["from"] = json!({ "id": 136_817_688, "is_bot": true, "first_name": "Channel", "username": "Channel_Bot" });
    msg["sender_chat"] = json!({ "id": -1_009_999_999_999i64, "type": "channel", "title": "Kênh tin" });
    bot.deliver(json!({ "message": msg })).await;
    let answer = bot.last_to(GROUP_CHAT);
    assert!(answer.text.contains("tài khoản cá nhân"), "{}", answer.text);

    let mut msg = bot.message(GROUP_CHAT, &RESIDENT, "/dangky");
    msg["from"] = json!({ "id": 555, "is_bot": true, "first_name": "Bot khác", "username": "other_bot" });
    bot.deliver(json!({ "message": msg })).await;
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), before + 1, "another bot is not answered (no bot-to-bot loops)");
    bot.finish().await;
}

/// Deep-link payloads and the arguments of every command in the catalog,
/// random and hostile, sent by the most privileged caller through the real
/// dispatcher: each is answered, none fails.
#[tokio::test]
async fn random_arguments_to_every_command_and_random_start_payloads_never_fail() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let pieces = [
        "PA-000001",
        "P0001",
        "UH1",
        "TB1",
        "dk-1",
        "pa-",
        "uh-999999999999",
        "vd-0",
        "-1",
        "0",
        "99999999999999999999",
        "bat",
        "tat",
        "daxuly",
        "tiepnhan",
        "500k",
        "1tr5",
        "31/02/2026",
        "25:61",
        "30d",
        "thang 13/2026",
        "to 12",
        "<b>",
        "&amp;",
        "'; --",
        "😀",
        "\u{200b}",
        "\u{202e}",
        "ă",
        "/",
        "@todanpho_test_bot",
        "  ",
    ];
    let mut sent = 0;
    for command in todanpho::commands::COMMANDS {
        for _ in 0..12 {
            let n = 1 + next() % 4;
            let args: Vec<&str> = (0..n).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            let text = format!("/{} {}", command.name, args.join(" "));
            let update = bot.private(&OFFICIAL, &text).await;
            sent += 1;
            assert_eq!(error_of(&bot, update).await, None, "{text}");
            // A dialogue a command started is dropped, so the next command
            // is read as a command.
            bot.private(&OFFICIAL, "/huy").await;
        }
    }
    for _ in 0..60 {
        let payload: String =
            (0..(next() % 5)).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect::<Vec<_>>().join("");
        let update = bot.private(&RESIDENT, &format!("/start {payload}")).await;
        sent += 1;
        assert_eq!(error_of(&bot, update).await, None, "/start {payload}");
        assert!(!bot.last_to(RESIDENT.id).text.is_empty());
        bot.private(&RESIDENT, "/huy").await;
    }
    eprintln!("random arguments: {sent} commands and deep links");
    bot.finish().await;
}
