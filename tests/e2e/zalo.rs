//! Residents on Zalo: the same flows as on Telegram, with numbered answers
//! instead of buttons, against a fake Zalo Bot API; the leader stays on
//! Telegram, and what each tells the other reaches the right platform.

use std::time::Duration;

use crate::fake_zalo::FakeZalo;
use crate::support::*;

pub(crate) const AN: &str = "6ede9afa66b88fe6d6a9";

pub(crate) struct Zalo {
    pub(crate) fake: FakeZalo,
    running: todanpho::startup::Running,
}

impl Zalo {
    pub(crate) async fn start(bot: &TestBot) -> Self {
        let fake = FakeZalo::start().await;
        let client = todanpho::zalo::Client::new(&fake.url, crate::fake_zalo::TOKEN).expect("a Zalo client");
        let settings = todanpho::zalo::Settings { poll_timeout: Duration::from_secs(1), per_second: 1000.0 };
        // As start-up does: the token checked, a webhook left set taken away.
        todanpho::zalo::connect(&client, true).await.expect("Zalo answers getMe");
        let running = todanpho::startup::spawn_zalo(bot.app.clone(), bot.database.clone(), client, settings, None)
            .await
            .expect("Zalo starts");
        Self { fake, running }
    }

    /// Stops Zalo as the process does on shutdown.
    pub(crate) async fn stop(self) {
        self.running.stop().await.expect("Zalo stops cleanly");
    }

    /// Sends a text as the resident and waits until it is handled and its
    /// replies are sent.
    pub(crate) async fn say(&self, bot: &TestBot, text: &str) -> String {
        let id = self.fake.text(AN, "Bác An", text);
        wait(bot, &id).await;
        self.fake.last_to(AN)
    }
}

/// Nothing the bot said on Zalo speaks of what Zalo lacks: buttons to press,
/// or a location to send.
pub(crate) fn assert_zalo_wording(fake: &FakeZalo) {
    for (method, body) in fake.requests() {
        let text = body["text"].as_str().unwrap_or("").to_lowercase();
        if method != "sendMessage" {
            continue;
        }
        for word in ["bấm", "nút", "vị trí hiện tại"] {
            assert!(!text.contains(word), "«{word}» said on Zalo: {text}");
        }
    }
}

/// Shutdown lets every Zalo event already taken in be handled and
/// answered, as Telegram's: it is not cut off half-way (issue 21).
#[tokio::test]
async fn stopping_zalo_handles_every_event_taken_in_first() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    let residents: Vec<String> = (0..12).map(|i| format!("zalo-resident-{i}")).collect();
    let mut ids = Vec::new();
    for round in 0..4 {
        for r in &residents {
            let text = if round % 2 == 0 { "/help" } else { "/quy" };
            ids.push(zalo.fake.text(r, "Bác Ba", text));
        }
    }
    // Stop the moment every event is recorded: most are still waiting for
    // their chat's turn.
    let recorded = format!(
        "SELECT COUNT(*) FROM processed_updates WHERE channel = 'zalo' AND update_id IN ('{}')",
        ids.join("','")
    );
    for _ in 0..1000 {
        if bot.count(&recorded).await == ids.len() as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let fake = zalo.fake.clone();
    zalo.stop().await;
    for id in &ids {
        assert!(done(bot.db(), "zalo", id).await, "event {id} was taken in but not handled at shutdown");
    }
    for r in &residents {
        assert_eq!(fake.texts_to(r).len(), 4, "every event of {r} was answered");
    }
    bot.finish().await;
}

pub(crate) async fn wait(bot: &TestBot, id: &str) {
    for _ in 0..1000 {
        if done(bot.db(), "zalo", id).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the Zalo event {id} was not handled within 10 s");
}

#[tokio::test]
async fn a_zalo_resident_registers_reports_and_hears_back_from_a_telegram_leader() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;

    // Registration, answered by typing, choices by number.
    let first = zalo.say(&bot, "/dangky").await;
    assert!(first.contains("Họ và tên chủ hộ"), "{first}");
    for answer in ["nguyễn văn an", "12", "ngõ 41", "Hoàng Quốc Việt", "+84 912 345 678", "4", "1, 5", "2", "co", "3"]
    {
        zalo.say(&bot, answer).await;
    }
    let summary = zalo.fake.last_to(AN);
    // The fields are numbered: the answers are words, so "1" means one thing.
    assert!(summary.contains("kiểm tra lại") && summary.contains("Bác trả lời bằng chữ:"), "{summary}");
    let done = zalo.say(&bot, "Xác nhận").await;
    assert!(done.contains("Đã gửi hồ sơ hộ #1"), "typing «Xác nhận» confirms: {done}");
    let owner: String =
        sqlx::query_scalar("SELECT u.channel FROM households h JOIN users u ON u.id = h.owner_user_id WHERE h.id = 1")
            .fetch_one(bot.db())
            .await
            .unwrap();
    assert_eq!(owner, "zalo");

    // The leader approves on Telegram; the resident is told on Zalo.
    let review =
        bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).expect("a review");
    bot.tap(&LEADER, &review, "Duyệt").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        zalo.fake.texts_to(AN).iter().any(|t| t.contains("đã được tổ trưởng duyệt")),
        "{:?}",
        zalo.fake.texts_to(AN)
    );

    // A report with a photo (Zalo sends its URL).
    let categories = zalo.say(&bot, "/phananh").await;
    assert!(categories.contains("1. "), "categories as a numbered list: {categories}");
    zalo.say(&bot, "1").await;
    zalo.say(&bot, "Đèn đường trước cổng hỏng ba hôm nay").await;
    let photo_url = format!("{}/files/den-hong.jpg", zalo.fake.url);
    let id = zalo.fake.photo(AN, "Bác An", &photo_url);
    wait(&bot, &id).await;
    let kept: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM zalo_media WHERE url = ?")
        .bind(&photo_url)
        .fetch_one(bot.db())
        .await
        .expect("the photo itself is kept, not only its URL");
    assert_eq!(kept, crate::fake_zalo::PHOTO);
    zalo.say(&bot, "xong").await;
    zalo.say(&bot, "Không gửi vị trí").await;
    let filed = zalo.say(&bot, "xác nhận").await;
    assert!(filed.contains("Đã nhận phản ánh PA-000001"), "{filed}");
    let photos = bot.requests_to("sendPhoto", LEADER.id);
    assert_eq!(photos[0]["photo"], photo_url, "the leader sees the Zalo photo");

    bot.private(&LEADER, "/xuly PA-000001 tiepnhan").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(zalo.fake.last_to(AN).contains("PA-000001 của bác đã được tiếp nhận"));

    // Their records, and cancelling.
    let mine = zalo.say(&bot, "/hocuatoi").await;
    assert!(mine.contains("#1") || zalo.fake.texts_to(AN).iter().rev().take(3).any(|t| t.contains("#1")), "{mine}");
    let reports = zalo.say(&bot, "/phananhcuatoi").await;
    assert!(reports.contains("PA-000001"), "{reports}");
    zalo.say(&bot, "/phananh").await;
    let cancelled = zalo.say(&bot, "/huy").await;
    assert!(cancelled.contains("Đã huỷ"), "{cancelled}");

    // Every message fits Zalo's limit, and none carries Telegram markup.
    for text in zalo.fake.texts_to(AN) {
        assert!(text.chars().count() <= 2000 && !text.contains("<b>"), "{text}");
    }
    // Stickers get a Vietnamese answer.
    let id = zalo.fake.sticker(AN, "Bác An");
    wait(&bot, &id).await;
    assert!(zalo.fake.last_to(AN).contains("Bot chưa đọc được loại tin này"));
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn a_leader_links_zalo_with_a_code_and_acts_there_with_the_same_role() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    crate::reports::file_report(&bot, &RESIDENT, "Chiếu sáng", "Đèn hỏng", &[], None).await;
    let zalo = Zalo::start(&bot).await;
    const LEADER_ON_ZALO: &str = "a1b2c3d4e5f6a7b8c9d0";
    let say = |text: &str| {
        let id = zalo.fake.text(LEADER_ON_ZALO, "Lê Thị Hoa", text);
        let bot = &bot;
        async move { wait(bot, &id).await }
    };

    // Before linking, the same name on Zalo is nobody in particular.
    say("/xuly PA-000001 tiepnhan").await;
    assert!(zalo.fake.last_to(LEADER_ON_ZALO).contains("không có quyền"), "{}", zalo.fake.last_to(LEADER_ON_ZALO));
    say("KN-ABCDEF").await;
    assert!(zalo.fake.last_to(LEADER_ON_ZALO).contains("không đúng hoặc đã hết hạn"));

    // The code comes from Telegram, in private only.
    bot.group(GROUP_CHAT, &LEADER, "/ketnoi").await;
    assert!(!bot.last_to(GROUP_CHAT).text.contains("KN-"), "never in a group");
    bot.private(&LEADER, "/ketnoi").await;
    let text = bot.last_to(LEADER.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("KN-")).expect("a code").to_string();
    say(&code.to_lowercase()).await;
    assert!(zalo.fake.last_to(LEADER_ON_ZALO).contains("Đã kết nối"));
    say(&code).await;
    assert!(zalo.fake.last_to(LEADER_ON_ZALO).contains("đã hết hạn"), "a code works once");

    // Now the leader's role holds on Zalo, and the reporter (on Telegram)
    // is told.
    say("/xuly PA-000001 tiepnhan").await;
    let answer = zalo.fake.last_to(LEADER_ON_ZALO);
    assert!(!answer.contains("không có quyền"), "{answer}");
    let status: String =
        sqlx::query_scalar("SELECT status FROM reports WHERE id = 1").fetch_one(bot.db()).await.unwrap();
    assert_eq!(status, "accepted");
    assert!(bot.last_to(RESIDENT.id).text.contains("PA-000001 của bác đã được tiếp nhận"));
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn zalo_webhook_needs_the_secret_header_and_handles_each_event_once() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let fake = FakeZalo::start().await;
    let client = todanpho::zalo::Client::new(&fake.url, crate::fake_zalo::TOKEN).unwrap();
    let settings = todanpho::zalo::Settings { poll_timeout: Duration::from_secs(1), per_second: 1000.0 };
    let hook = todanpho::zalo::Webhook {
        url: "https://bot.example.vn/zalo".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: todanpho::config::Secret::new("zalo-secret-123"),
    };
    let running = todanpho::startup::spawn_zalo(bot.app.clone(), bot.database.clone(), client, settings, Some(hook))
        .await
        .unwrap();
    let addr = running.listening.expect("the webhook listens");
    let set = fake.requests().into_iter().find(|(m, _)| m == "setWebhook").expect("setWebhook");
    assert_eq!(set.1["secret_token"], "zalo-secret-123");

    let event = |id: &str, text: &str| {
        serde_json::json!({ "event_name": "message.text.received", "message": {
            "message_id": id, "date": 1_750_316_131_602i64, "text": text,
            "from": { "id": AN, "display_name": "Bác An", "is_bot": false },
            "chat": { "id": AN, "chat_type": "PRIVATE" } } })
    };
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/zalo");
    let post = |body: serde_json::Value, secret: Option<&'static str>| {
        let mut req = http.post(&url).json(&body);
        if let Some(s) = secret {
            req = req.header("X-Bot-Api-Secret-Token", s);
        }
        req.send()
    };
    assert_eq!(post(event("w1", "/help"), None).await.unwrap().status(), 401);
    assert_eq!(post(event("w1", "/help"), Some("wrong-secret")).await.unwrap().status(), 401);
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_updates WHERE channel = 'zalo'")
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert_eq!(recorded, 0, "refused requests change nothing");

    // Flat and wrapped bodies; the same event twice is handled once.
    assert_eq!(post(event("w1", "/help"), Some("zalo-secret-123")).await.unwrap().status(), 200);
    wait(&bot, "w1").await;
    let wrapped = serde_json::json!({ "ok": true, "result": event("w1", "/help") });
    assert_eq!(post(wrapped, Some("zalo-secret-123")).await.unwrap().status(), 200);
    let wrapped = serde_json::json!({ "ok": true, "result": event("w2", "/dangky") });
    assert_eq!(post(wrapped, Some("zalo-secret-123")).await.unwrap().status(), 200);
    wait(&bot, "w2").await;
    let texts = fake.texts_to(AN);
    assert_eq!(texts.iter().filter(|t| t.contains("các lệnh dành cho")).count(), 1, "{texts:?}");
    assert!(texts.last().unwrap().contains("Họ và tên chủ hộ"));
    running.stop().await.unwrap();
    bot.finish().await;
}

#[tokio::test]
async fn notices_reach_zalo_households_once_in_private_and_are_acknowledged_by_number() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    const BINH: &str = "0b1c2d3e4f5a6b7c8d9e";
    // Two Zalo households in the group; one asks not to get notices.
    for (who, name, phone) in [(AN, "Bác An", "0912345678"), (BINH, "Bác Bình", "0987654321")] {
        let say = crate::scripts::registration(1, "12", phone);
        for text in say {
            let id = zalo.fake.text(who, name, &text);
            wait(&bot, &id).await;
        }
        let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
        bot.tap(&LEADER, &review, "Duyệt").await;
    }
    bot.mark_personal(&["0912345678", "0987654321", "ngõ 41"]);
    let id = zalo.fake.text(BINH, "Bác Bình", "Dừng nhận");
    wait(&bot, &id).await;
    assert!(zalo.fake.last_to(BINH).contains("không nhắn riêng thông báo"));

    // Longer than one Zalo message.
    let long = "Sáng Chủ nhật 8 giờ tổng vệ sinh đầu ngõ, mỗi hộ cử một người mang chổi và bao tải. ".repeat(30);
    bot.group(GROUP_CHAT, &LEADER, &format!("/thongbao {}", long.trim())).await;
    let preview = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "THÔNG BÁO TB1", 1).await;
    for _ in 0..200 {
        if zalo.fake.texts_to(AN).iter().any(|t| t.contains("THÔNG BÁO TB1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let to_an: Vec<String> = zalo.fake.texts_to(AN).into_iter().filter(|t| t.contains("THÔNG BÁO TB1")).collect();
    assert_eq!(to_an.len(), 1, "once, in private: {to_an:?}");
    let all = zalo.fake.texts_to(AN);
    let first = all.iter().position(|t| t.contains("THÔNG BÁO TB1")).unwrap();
    let parts = &all[first..];
    assert!(parts.len() >= 2 && parts.iter().all(|p| p.chars().count() <= 2000), "split at Zalo's limit");
    assert!(parts.last().unwrap().contains("gõ «đã xem»"), "the way to answer comes with the last part");
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squash(&parts.join(" ")).contains(&squash(&long)), "nothing lost in the split");
    assert!(!zalo.fake.texts_to(BINH).iter().any(|t| t.contains("THÔNG BÁO TB1")), "opted out");
    assert_eq!(bot.messages_to(GROUP_CHAT).iter().filter(|m| m.text.contains("THÔNG BÁO TB1")).count(), 1);

    // No question in hand: "1" is the Đã xem button.
    let id = zalo.fake.text(AN, "Bác An", "1");
    wait(&bot, &id).await;
    assert!(zalo.fake.last_to(AN).contains("Cảm ơn bác đã xác nhận đã xem"), "{}", zalo.fake.last_to(AN));
    let acks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_acks").fetch_one(bot.db()).await.unwrap();
    assert_eq!(acks, 1);
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn a_join_code_puts_a_zalo_resident_in_the_right_group() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.group(-4_000_000_013, &OFFICIAL, "/lienket Tổ dân phố số 13").await;
    let zalo = Zalo::start(&bot).await;

    bot.private(&RESIDENT, "/mato").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Xin lỗi, bác không có quyền dùng lệnh /mato: chỉ tổ trưởng"));
    bot.private(&LEADER, "/mato").await;
    let text = bot.last_to(LEADER.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("TDP1-")).expect("the code of group 1").to_string();
    bot.private(&LEADER, "/mato").await;
    assert!(bot.last_to(LEADER.id).text.contains(&code), "the code stays the same");

    assert!(zalo.say(&bot, "TDP1-AAA").await.contains("không đúng"));
    let joined = zalo.say(&bot, &code.to_lowercase()).await;
    assert!(joined.contains("Bác đã vào Tổ dân phố số 12"), "{joined}");
    // Two groups in the ward, but no question which.
    let first = zalo.say(&bot, "/dangky").await;
    assert!(first.contains("Họ và tên chủ hộ"), "{first}");
    let intro = zalo.fake.texts_to(AN);
    assert!(intro.iter().any(|t| t.contains("Tổ dân phố số 12")), "{intro:?}");
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn a_zalo_resident_pledges_by_transfer_and_hears_the_leader_confirm() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    for answer in crate::scripts::campaign(1) {
        bot.private(&LEADER, &answer).await;
    }
    let zalo = Zalo::start(&bot).await;

    let amount = zalo.say(&bot, "/ungho").await;
    assert!(amount.contains("bao nhiêu"), "{amount}");
    zalo.say(&bot, "200k").await;
    zalo.say(&bot, "Ghi tên tôi").await;
    zalo.say(&bot, "2").await;
    let details = zalo.say(&bot, "xác nhận").await;
    assert!(details.contains("Nội dung chuyển khoản: UH1 P0001") && details.contains("0011002345678"), "{details}");
    // No QR code is promised on Zalo: the details come in words at once.
    let texts = zalo.fake.texts_to(AN);
    assert!(!texts.iter().any(|t| t.contains("QR")), "{texts:?}");

    bot.private(&LEADER, "/xacnhan P0001").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(zalo.fake.last_to(AN).contains("Tổ đã nhận 200.000 đ"), "{}", zalo.fake.last_to(AN));
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn linking_makes_a_household_registered_on_zalo_the_persons_one_record() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    for answer in crate::scripts::registration(1, "12", "0912345678") {
        zalo.say(&bot, &answer).await;
    }
    bot.mark_personal(&["0912345678", "ngõ 41"]);
    bot.private(&RESIDENT, "/hocuatoi").await;
    assert!(!bot.last_to(RESIDENT.id).text.contains("#1"), "not yet the same person");

    bot.private(&RESIDENT, "/ketnoi").await;
    let text = bot.last_to(RESIDENT.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("KN-")).unwrap().to_string();
    assert!(zalo.say(&bot, &code).await.contains("Đã kết nối"));
    let owners: Vec<String> =
        sqlx::query_scalar("SELECT u.external_id FROM households h JOIN users u ON u.id = h.owner_user_id")
            .fetch_all(bot.db())
            .await
            .unwrap();
    assert_eq!(owners, vec![RESIDENT.id.to_string()], "one household, the person's");
    bot.private(&RESIDENT, "/hocuatoi").await;
    let mine: Vec<String> = bot.messages_to(RESIDENT.id).into_iter().rev().take(3).map(|m| m.text).collect();
    assert!(mine.iter().any(|t| t.contains("#1")), "{mine:?}");
    let on_zalo = zalo.say(&bot, "/hocuatoi").await;
    assert!(on_zalo.contains("#1") || zalo.fake.texts_to(AN).iter().rev().take(3).any(|t| t.contains("#1")));
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn start_up_checks_the_token_and_takes_a_webhook_left_set_away() {
    let fake = FakeZalo::start().await;
    let wrong = todanpho::zalo::Client::new(&fake.url, "12345:not-the-token").unwrap();
    let refused = todanpho::zalo::connect(&wrong, true).await.expect_err("a wrong token stops start-up");
    assert!(format!("{refused:#}").contains("ZALO_BOT_TOKEN"), "{refused:#}");

    // A webhook left set from an earlier run: polling would hear nothing.
    let bot = TestBot::start().await;
    fake.set_webhook("https://old.example.vn/zalo");
    let client = todanpho::zalo::Client::new(&fake.url, crate::fake_zalo::TOKEN).unwrap();
    todanpho::zalo::connect(&client, true).await.unwrap();
    assert!(fake.requests().iter().any(|(m, _)| m == "deleteWebhook"));
    let settings = todanpho::zalo::Settings { poll_timeout: Duration::from_secs(1), per_second: 1000.0 };
    let running =
        todanpho::startup::spawn_zalo(bot.app.clone(), bot.database.clone(), client, settings, None).await.unwrap();
    let id = fake.text(AN, "Bác An", "/help");
    wait(&bot, &id).await;
    assert!(!fake.last_to(AN).is_empty(), "the resident is answered");
    running.stop().await.unwrap();
    bot.finish().await;
}

/// A notice that arrives while a resident is in the middle of a dialogue
/// does not take over the numbers: "1" still answers the dialogue, and
/// "đã xem" acknowledges the notice. Under a summary, whose fields are
/// numbered, the answers are words.
#[tokio::test]
async fn a_notice_in_the_middle_of_a_dialogue_does_not_take_the_numbers() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    for text in crate::scripts::registration(1, "12", "0912345678") {
        zalo.say(&bot, &text).await;
    }
    let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    bot.tap(&LEADER, &review, "Duyệt").await;
    bot.mark_personal(&["0912345678", "ngõ 41"]);

    // A report, up to its category question.
    let asked = zalo.say(&bot, "/phananh").await;
    assert!(asked.contains("Bác trả lời bằng số"), "{asked}");
    bot.group(GROUP_CHAT, &LEADER, "/thongbao Chiều nay cắt nước từ 14 giờ").await;
    let preview = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &preview, "Gửi").await;
    for _ in 0..300 {
        if zalo.fake.texts_to(AN).iter().any(|t| t.contains("THÔNG BÁO TB1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let notice = zalo.fake.last_to(AN);
    assert!(notice.contains("THÔNG BÁO TB1") && notice.contains("gõ «đã xem»") && !notice.contains("1."), "{notice}");

    // "1" is the first category, not the notice.
    let next = zalo.say(&bot, "1").await;
    assert!(next.contains("mô tả"), "the report goes on: {next}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM notice_acks").await, 0);
    let thanks = zalo.say(&bot, "đã xem").await;
    assert!(thanks.contains("Cảm ơn bác đã xác nhận đã xem"), "{thanks}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM notice_acks").await, 1);

    // Through to the summary: its fields are numbered, its answers are words.
    zalo.say(&bot, "Đèn đường hỏng").await;
    zalo.say(&bot, "bỏ qua").await;
    let summary = zalo.say(&bot, "ngõ 41 Xuân La").await;
    assert!(summary.contains("1. ") && summary.contains("Bác trả lời bằng chữ: «Sửa» hoặc «Xác nhận»"), "{summary}");
    let after_one = zalo.say(&bot, "1").await;
    assert!(!after_one.contains("sửa mục nào"), "1 does not open the editor: {after_one}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports").await, 0);
    zalo.say(&bot, "xác nhận").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports").await, 1);
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

#[tokio::test]
async fn start_on_zalo_tells_how_to_join_a_to_and_offers_no_telegram_code() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    zalo.say(&bot, "/start").await;
    let said = zalo.fake.texts_to(AN).join("\n");
    assert!(said.contains("mã tham gia") && said.contains("TDP12-7KQ"), "{said}");
    assert!(!said.contains("/ketnoi"), "{said}");
    // A sticker: no location to suggest on Zalo.
    let id = zalo.fake.sticker(AN, "Bác An");
    wait(&bot, &id).await;
    assert!(zalo.fake.last_to(AN).contains("Xin gửi chữ hoặc ảnh"));
    assert_zalo_wording(&zalo.fake);
    bot.finish().await;
}

/// A digital team's member on Zalo (their Zalo linked to their Telegram
/// self) walks the list and records a visit by typing numbers; a resident
/// on Zalo updates their own figures the same way.
#[tokio::test]
async fn a_digital_team_member_and_a_resident_use_zalo_by_numbers() {
    let bot = TestBot::start().await;
    let [_, _, _, h102] = crate::digital::set_up(&bot).await;
    let zalo = Zalo::start(&bot).await;
    bot.private(&crate::digital::MEMBER, "/ketnoi").await;
    let text = bot.last_to(crate::digital::MEMBER.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("KN-")).unwrap().to_string();
    assert!(zalo.say(&bot, &code).await.contains("Đã kết nối"));

    let list = zalo.say(&bot, "/ditham").await;
    assert!(list.contains("Gõ số của hộ") && list.contains("Bác trả lời bằng số:"), "{list}");
    let first = list.find("số 102, Hoàng Quốc Việt").expect("the first door");
    assert!(first < list.find("số 8, Xuân La").expect("the second"), "walking order: {list}");
    let asked = zalo.say(&bot, "1").await;
    assert!(asked.contains("gõ «Hôm nay»"), "{asked}");
    for answer in ["Hôm nay", "1", "2, 4", "Không ghi chú"] {
        zalo.say(&bot, answer).await;
    }
    let saved = zalo.say(&bot, "xác nhận").await;
    assert!(saved.contains("Đã ghi lần thăm hộ số 102, Hoàng Quốc Việt"), "{saved}");
    let (by, joined): (String, i64) = sqlx::query_as(
        "SELECT u.external_id, d.joined_group FROM visits v JOIN users u ON u.id = v.by_user_id
         JOIN household_digital d ON d.household_id = v.household_id WHERE v.household_id = ?",
    )
    .bind(h102)
    .fetch_one(bot.db())
    .await
    .unwrap();
    assert_eq!((by, joined), (crate::digital::MEMBER.id.to_string(), 1), "recorded as the member, on Zalo");

    // A resident on Zalo: registered there, approved on Telegram, updates
    // their own figures from /hocuatoi.
    const BA: &str = "9a8b7c6d5e4f3a2b1c0d";
    let say = |text: &str| {
        let id = zalo.fake.text(BA, "Bác Ba", text);
        let bot = &bot;
        async move { wait(bot, &id).await }
    };
    for answer in [
        "/dangky",
        "nguyễn thị ba",
        "5",
        "Không ở trong ngõ",
        "Xuân La",
        "0988 777 666",
        "3",
        "Xong",
        "1",
        "co",
        "0",
        "Xác nhận",
    ] {
        say(answer).await;
    }
    bot.mark_personal(&["0988777666"]);
    let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    bot.tap(&LEADER, &review, "Duyệt").await;
    say("/hocuatoi").await;
    let card = zalo.fake.last_to(BA);
    assert!(card.contains("Cập nhật công dân số"), "{card}");
    say("2").await;
    let summary = zalo.fake.last_to(BA);
    assert!(summary.contains("thông tin công dân số"), "{summary}");
    say("Sửa").await;
    say("3").await;
    // Above the household's 3 members: refused at the question, on Zalo
    // as on Telegram.
    say("9").await;
    let refused = zalo.fake.last_to(BA);
    assert!(
        refused.starts_with("⚠️ Hộ có 3 người, xin nhập một số từ 0 đến 3.\n\nTrong hộ có mấy người đã có"),
        "{refused}"
    );
    say("2").await;
    say("Xác nhận").await;
    assert!(zalo.fake.last_to(BA).contains("Đã cập nhật thông tin công dân số"), "{}", zalo.fake.last_to(BA));
    let vneid: i64 = sqlx::query_scalar(
        "SELECT h.vneid_level2 FROM households h JOIN users u ON u.id = h.owner_user_id WHERE u.external_id = ?",
    )
    .bind(BA)
    .fetch_one(bot.db())
    .await
    .unwrap();
    assert_eq!(vneid, 2);
    assert_zalo_wording(&zalo.fake);
    bot.assert_no_personal_data_in_groups();
    zalo.stop().await;
    bot.finish().await;
}

/// A consultation on Zalo (issue 22): each Zalo household gets the ballot
/// in private and answers with a number; "Ý kiến khác" asks for words; a
/// secret ballot's options are forgotten once answered, and a second
/// answer is refused. Closed early, a number typed afterwards is told when
/// it really closed (issue 31).
#[tokio::test]
async fn zalo_households_answer_a_secret_consultation_by_number() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let zalo = Zalo::start(&bot).await;
    const BINH: &str = "0b1c2d3e4f5a6b7c8d9e";
    const CHI: &str = "1c2d3e4f5a6b7c8d9e0f";
    for (who, name, phone) in
        [(AN, "Bác An", "0912345678"), (BINH, "Bác Bình", "0987654321"), (CHI, "Bác Chi", "0977111222")]
    {
        for text in crate::scripts::registration(1, "12", phone) {
            let id = zalo.fake.text(who, name, &text);
            wait(&bot, &id).await;
        }
        let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
        bot.tap(&LEADER, &review, "Duyệt").await;
    }
    bot.mark_personal(&["0912345678", "0987654321", "0977111222"]);
    let preview =
        crate::consultations::ask(&bot, &LEADER, "Chọn ngày tổng vệ sinh?", "Mỗi hộ", "Phiếu kín", "2 ngày").await;
    bot.tap(&LEADER, &preview, "Gửi").await;
    for _ in 0..300 {
        if [AN, BINH].iter().all(|w| zalo.fake.texts_to(w).iter().any(|t| t.contains("LẤY Ý KIẾN YK1"))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ballot =
        zalo.fake.texts_to(AN).into_iter().find(|t| t.contains("LẤY Ý KIẾN YK1")).expect("the ballot in private");
    assert!(ballot.contains("Bác trả lời bằng số:\n1. Đồng ý\n2. Không đồng ý\n3. Ý kiến khác"), "{ballot}");

    let receipt = zalo.say(&bot, "2").await;
    assert!(receipt.contains("Mã biên nhận: YK1-") && !receipt.contains("Không đồng ý"), "{receipt}");
    // Forgotten with the answer, in its update's transaction.
    assert_eq!(bot.count(&format!("SELECT COUNT(*) FROM zalo_menus WHERE chat_id = '{AN}'")).await, 0, "forgotten");
    let again = zalo.say(&bot, "/ykien").await;
    assert!(again.contains("đã cho ý kiến YK1 rồi") && again.contains("không đổi được"), "{again}");

    // /ykien shows the ballot again, to answer by number or words; "Ý
    // kiến khác" asks for them.
    let id = zalo.fake.text(BINH, "Bác Bình", "/ykien");
    wait(&bot, &id).await;
    let ballot = zalo.fake.last_to(BINH);
    assert!(ballot.contains("Phiếu kín") && ballot.contains("Bác trả lời bằng số:\n1. Đồng ý"), "{ballot}");
    let id = zalo.fake.text(BINH, "Bác Bình", "ý kiến khác");
    wait(&bot, &id).await;
    assert!(zalo.fake.last_to(BINH).contains("gõ ý kiến"), "{}", zalo.fake.last_to(BINH));
    for text in ["Nên làm sáng thứ Bảy", "xác nhận"] {
        let id = zalo.fake.text(BINH, "Bác Bình", text);
        wait(&bot, &id).await;
    }
    assert!(zalo.fake.last_to(BINH).contains("Mã biên nhận"), "{}", zalo.fake.last_to(BINH));
    assert_eq!(bot.count("SELECT COUNT(*) FROM ballot_box").await, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_answered WHERE via = 'zalo'").await, 2);

    // Closed early by its creator; Chi's «1» an hour later is told when it
    // closed, not the deadline on the ballot.
    for _ in 0..300 {
        if zalo.fake.texts_to(CHI).iter().any(|t| t.contains("LẤY Ý KIẾN YK1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let post = zalo.fake.texts_to(CHI).into_iter().find(|t| t.contains("LẤY Ý KIẾN YK1")).expect("Chi's ballot");
    let deadline = post.split("Hạn: ").nth(1).and_then(|t| t.split('.').next()).expect("a deadline").to_string();
    bot.clock.advance(chrono::Duration::hours(2));
    let closed = crate::consultations::shown(todanpho::clock::Clock::now(bot.clock.as_ref()));
    bot.private(&LEADER, "/ketquaykien YK1 ketthuc").await;
    bot.clock.advance(chrono::Duration::hours(1));
    let id = zalo.fake.text(CHI, "Bác Chi", "1");
    wait(&bot, &id).await;
    let refused = zalo.fake.texts_to(CHI).into_iter().rfind(|t| t.contains("không được ghi nhận")).unwrap_or_default();
    assert!(
        refused.contains(&format!("YK1 đã kết thúc lúc {closed}")) && !refused.contains(&deadline),
        "{refused} (deadline {deadline})"
    );
    assert_eq!(bot.count("SELECT COUNT(*) FROM ballot_box").await, 2, "nothing late counted");
    assert_zalo_wording(&zalo.fake);
    zalo.stop().await;
    bot.finish().await;
}
