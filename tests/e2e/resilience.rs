//! Start-up, menus, chat migration and redelivered updates.

use chrono::Duration;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn registers_the_command_menu_per_scope() {
    let bot = TestBot::start().await;
    let menus: Vec<_> = bot.tg.requests().into_iter().filter(|r| r.method == "setMyCommands").collect();
    let scope = |kind: &str| menus.iter().find(|r| r.body["scope"]["type"] == kind).map(|r| r.body["commands"].clone());
    let private = scope("all_private_chats").expect("a private-chat menu");
    let names: Vec<&str> = private.as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap()).collect();
    assert!(names.contains(&"dangky") && names.contains(&"huy") && !names.contains(&"lienket"), "{names:?}");
    assert!(private[0]["description"].as_str().unwrap().contains("Đăng ký hộ"));
    assert!(scope("all_group_chats").is_some());
    let official = menus.iter().find(|r| r.body["scope"]["type"] == "chat").expect("the official's own menu");
    assert_eq!(official.body["scope"]["chat_id"], json!(OFFICIAL.id));
    bot.finish().await;
}

#[tokio::test]
async fn a_refused_menu_does_not_stop_the_bot() {
    let bot = TestBot::start_with(|tg| {
        tg.fail(
            "setMyCommands",
            Failure { code: 400, description: "Bad Request: commands are broken".into(), retry_after: None },
        )
    })
    .await;
    bot.private(&RESIDENT, "/help").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("/dangky"));
    bot.finish().await;
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_keeps_its_link() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let supergroup = -1_000_000_000_123_i64;
    bot.deliver(json!({ "message": {
        "message_id": 77, "date": 1_790_000_000, "chat": chat_json(GROUP_CHAT), "from": OFFICIAL.json(),
        "migrate_to_chat_id": supergroup
    }}))
    .await;
    bot.deliver(json!({ "message": {
        "message_id": 1, "date": 1_790_000_000, "chat": chat_json(supergroup), "from": OFFICIAL.json(),
        "migrate_from_chat_id": GROUP_CHAT
    }}))
    .await;
    bot.group(supergroup, &RESIDENT, "/dangky").await;
    assert_eq!(bot.last_to(supergroup).button("Đăng ký hộ"), "https://t.me/todanpho_test_bot?start=dk-1");
    bot.group_reply(supergroup, &OFFICIAL, "/phancong", &NEIGHBOUR).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders WHERE group_id = 1").await, 2, "roles stay with the group");
    bot.finish().await;
}

#[tokio::test]
async fn a_redelivered_update_is_not_handled_twice() {
    let mut bot = TestBot::start().await;
    bot.setup_group().await;
    let id = crate::registration::register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    let approve = json!({ "callback_query": {
        "id": "cb-approve", "from": LEADER.json(), "chat_instance": "ci", "data": format!("hh:ok:{id}"),
        "message": { "message_id": review.message_id, "date": 1_790_000_000, "chat": chat_json(LEADER.id), "text": review.text }
    }});
    let update_id = bot.deliver(approve.clone()).await;
    let told = bot.messages_to(RESIDENT.id).len();

    // The process dies before Telegram learns the offset: the same update
    // comes again after the restart.
    bot.stop().await;
    let mut again = approve;
    again["update_id"] = json!(update_id);
    bot.tg.redeliver(again);
    bot.restart().await;
    bot.private(&LEADER, "/help").await; // same worker order: the duplicate came first

    assert_eq!(bot.messages_to(RESIDENT.id).len(), told, "the resident is not told twice");
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action = 'household.approve'").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn an_update_taken_in_but_not_handled_before_a_crash_is_handled_after_the_restart() {
    let mut bot = TestBot::start().await;
    bot.private(&RESIDENT, "/help").await;
    bot.stop().await;
    // What the inbox holds when the process dies after recording a batch
    // (and confirming its offset) but before handling it.
    let update = json!({ "update_id": 9_001, "message": {
        "message_id": 77, "date": 1_790_000_000, "chat": { "id": RESIDENT.id, "type": "private", "first_name": "An" },
        "from": RESIDENT.json(), "text": "/start dk-404"
    }});
    sqlx::query(
        "INSERT INTO processed_updates (channel, update_id, received_at, payload) VALUES ('telegram', '9001', ?, ?)",
    )
    .bind(chrono::Utc::now())
    .bind(update.to_string())
    .execute(bot.db())
    .await
    .unwrap();
    let before = bot.messages_to(RESIDENT.id).len();
    bot.restart().await;
    bot.wait_handled(9_001).await;
    assert_eq!(bot.messages_to(RESIDENT.id).len(), before + 1, "the resident gets the answer they were owed");
    let payload: Option<String> = sqlx::query_scalar("SELECT payload FROM processed_updates WHERE update_id = '9001'")
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert_eq!(payload, None, "a handled update's text is not kept");

    // Telegram gives it again (its offset was not confirmed): skipped.
    bot.tg.redeliver(update);
    bot.private(&RESIDENT, "/help").await;
    assert_eq!(bot.messages_to(RESIDENT.id).len(), before + 2);
    bot.finish().await;
}

#[tokio::test]
async fn photos_and_locations_outside_a_dialogue_get_a_hint() {
    let bot = TestBot::start().await;
    bot.photo(&RESIDENT, "photo-1").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("/help"));
    bot.finish().await;
}

#[tokio::test]
async fn a_panic_in_one_handler_is_recorded_and_the_bot_keeps_serving() {
    let bot = TestBot::start().await;
    let panicked = bot.private(&RESIDENT, todanpho::fault::PANIC_TEXT).await;
    let error: Option<String> =
        sqlx::query_scalar("SELECT error FROM processed_updates WHERE channel = 'telegram' AND update_id = ?")
            .bind(panicked.to_string())
            .fetch_one(bot.db())
            .await
            .unwrap();
    assert!(error.as_deref().is_some_and(|e| e.contains("panic") && e.contains("injected fault")), "{error:?}");
    assert!(bot.last_to(RESIDENT.id).text.contains("bot đang gặp sự cố"), "the resident is told, not left waiting");

    // The same chat and others are still served.
    bot.private(&NEIGHBOUR, "/help").await;
    assert!(!bot.messages_to(NEIGHBOUR.id).is_empty());
    let before = bot.messages_to(RESIDENT.id).len();
    bot.private(&RESIDENT, "/help").await;
    assert!(bot.messages_to(RESIDENT.id).len() > before);
    bot.finish().await;
}

#[tokio::test]
async fn webhook_updates_need_the_secret_token_and_are_handled_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hook = todanpho::telegram::Webhook {
        url: url::Url::parse("https://phuong.example.vn/telegram").unwrap(),
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        secret: todanpho::config::Secret::new("bi-mat_123"),
    };
    let bot = TestBot::start_webhook(hook).await;

    let update = json!({ "update_id": 5_001, "message": {
        "message_id": 1, "date": 1_790_000_000, "chat": { "id": RESIDENT.id, "type": "private", "first_name": "An" },
        "from": RESIDENT.json(), "text": "/help"
    }});
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/telegram");
    let send = |secret: Option<&'static str>| {
        let mut request = client.post(&url).json(&update);
        if let Some(s) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        request.send()
    };
    // Started and listening once the menu is registered; retry the first call.
    // A loaded machine (the whole suite runs in parallel) may take seconds.
    let mut status = None;
    for _ in 0..1000 {
        if let Ok(r) = send(None).await {
            status = Some(r.status().as_u16());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(401), "no header");
    assert_eq!(send(Some("sai-roi")).await.unwrap().status().as_u16(), 401, "wrong secret");
    assert_eq!(bot.count("SELECT COUNT(*) FROM processed_updates").await, 0, "refused requests change nothing");
    assert!(bot.messages_to(RESIDENT.id).is_empty());

    assert_eq!(send(Some("bi-mat_123")).await.unwrap().status().as_u16(), 200);
    bot.wait_handled(5_001).await;
    let set = bot.tg.requests().into_iter().find(|r| r.method == "setWebhook").expect("setWebhook");
    assert_eq!(set.body["url"], "https://phuong.example.vn/telegram");
    assert_eq!(set.body["secret_token"], "bi-mat_123");
    let answered = bot.messages_to(RESIDENT.id).len();
    assert!(answered > 0);
    // Telegram delivers it again (say our 200 was lost): not handled twice.
    assert_eq!(send(Some("bi-mat_123")).await.unwrap().status().as_u16(), 200);
    let other = json!({ "update_id": 5_002, "message": {
        "message_id": 2, "date": 1_790_000_000, "chat": { "id": NEIGHBOUR.id, "type": "private", "first_name": "Bình" },
        "from": NEIGHBOUR.json(), "text": "/help"
    }});
    let status = client.post(&url).header("X-Telegram-Bot-Api-Secret-Token", "bi-mat_123").json(&other).send().await;
    assert_eq!(status.unwrap().status().as_u16(), 200);
    bot.wait_handled(5_002).await;
    assert!(!bot.messages_to(NEIGHBOUR.id).is_empty());
    assert_eq!(bot.messages_to(RESIDENT.id).len(), answered);
    assert_eq!(bot.count("SELECT COUNT(*) FROM processed_updates WHERE update_id = '5001'").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn a_flooding_resident_is_warned_once_and_others_are_served() {
    let bot = TestBot::start_with_flood_control().await;
    bot.group(GROUP_CHAT, &OFFICIAL, "/lienket Tổ dân phố số 12").await;

    // 50 messages in one second from one person, while a neighbour
    // registers step by step.
    let flood: Vec<i64> = {
        let mut ids = Vec::new();
        for i in 0..50 {
            ids.push(bot.tg.push(json!({ "message": bot.message(RESIDENT.id, &RESIDENT, &format!("alo {i}")) })));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        ids
    };
    bot.private(&NEIGHBOUR, "/dangky").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("Họ và tên chủ hộ"));
    bot.private(&NEIGHBOUR, "Trần Văn Bình").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("Số nhà"), "the neighbour is served as usual");
    for id in flood {
        bot.wait_handled(id).await;
    }
    let to_flooder = bot.messages_to(RESIDENT.id);
    let warnings = to_flooder.iter().filter(|m| m.text.contains("gửi nhanh quá")).count();
    assert_eq!(warnings, 1, "one warning");
    assert_eq!(to_flooder.len() - warnings, 10, "the burst is answered, the rest dropped");
    let dropped: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_updates WHERE handled_at IS NOT NULL")
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert!(dropped >= 50, "dropped messages are still marked handled, so they are not replayed");

    // A resident typing commands in the group again and again: the group
    // hears the bot once; the leader's commands there are still answered.
    let before = bot.messages_to(GROUP_CHAT).len();
    for _ in 0..8 {
        bot.group(GROUP_CHAT, &NEIGHBOUR, "/phananh").await;
    }
    assert_eq!(bot.messages_to(GROUP_CHAT).len() - before, 1, "one answer in the group per minute");
    bot.group(GROUP_CHAT, &OFFICIAL, "/nhom").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("tin nhắn riêng"), "staff are not held back");
    bot.finish().await;
}

/// Flood control runs on the bot's clock: a resident held back stays held
/// back while the test clock stands (however long the machine takes), and
/// is heard again, a whole burst, once it has moved on a minute; no sleep.
#[tokio::test]
async fn a_flooding_resident_is_heard_again_once_the_bots_clock_moves_on() {
    let bot = TestBot::start_with_flood_control().await;
    let answers =
        |bot: &TestBot| bot.messages_to(RESIDENT.id).iter().filter(|m| !m.text.contains("gửi nhanh quá")).count();
    let warnings =
        |bot: &TestBot| bot.messages_to(RESIDENT.id).iter().filter(|m| m.text.contains("gửi nhanh quá")).count();
    for i in 0..12 {
        bot.private(&RESIDENT, &format!("alo {i}")).await;
    }
    assert_eq!((answers(&bot), warnings(&bot)), (10, 1), "the burst of 10, then one warning");
    bot.private(&RESIDENT, "alo").await;
    // One message is earned every 1.5 s at 40 a minute.
    bot.clock.advance(Duration::seconds(1));
    bot.private(&RESIDENT, "alo").await;
    assert_eq!((answers(&bot), warnings(&bot)), (10, 1), "still held back: the bot's clock has hardly moved");

    bot.clock.advance(Duration::minutes(1));
    for i in 0..10 {
        bot.private(&RESIDENT, &format!("lại alo {i}")).await;
    }
    assert_eq!(answers(&bot), 20, "a minute on, a whole burst is heard again");
    bot.private(&RESIDENT, "alo").await;
    assert_eq!((answers(&bot), warnings(&bot)), (20, 2), "and the next flood is warned again");
    bot.finish().await;
}

/// Ten residents asked by the bot to type `/dangky` do so in the group
/// within ten seconds: the group hears the bot at most twice, and every one
/// of them is given the way to register, in private for those the bot can
/// write to, otherwise named in one message at the next minute.
#[tokio::test]
async fn a_busy_group_answers_everyone_who_asked_within_two_messages() {
    const NAMES: [(&str, &str); 10] = [
        ("Nam", "Lê Văn"),
        ("Mai", "Nguyễn Thị"),
        ("Hùng", "Trần Văn"),
        ("Lan", "Phạm Thị"),
        ("Tuấn", "Hoàng Anh"),
        ("Hương", "Vũ Thị"),
        ("Dũng", "Đặng Văn"),
        ("Thảo", "Bùi Thị"),
        ("Minh", "Đỗ Quang"),
        ("Yến", "Ngô Thị"),
    ];
    let residents: Vec<User> = NAMES
        .iter()
        .enumerate()
        .map(|(i, (first, last))| User { id: 310_000 + i as i64, first_name: first, last_name: Some(last) })
        .collect();
    let bot = TestBot::start_with_flood_control().await;
    bot.group(GROUP_CHAT, &OFFICIAL, "/lienket Tổ dân phố số 12").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("/dangky"), "the bot asks the group to register");
    // Two of them have written to the bot in private before.
    for r in &residents[3..5] {
        bot.private(r, "/start").await;
    }
    let before = bot.messages_to(GROUP_CHAT).len();
    for r in &residents {
        bot.group(GROUP_CHAT, r, "/dangky").await;
        bot.clock.advance(Duration::seconds(1));
    }
    let group_id: i64 = sqlx::query_scalar("SELECT id FROM groups").fetch_one(bot.db()).await.unwrap();
    let register = format!("dk-{group_id}");
    assert_eq!(bot.messages_to(GROUP_CHAT).len() - before, 1, "the first is answered in the group");
    for r in &residents[3..5] {
        let answer = bot.last_to(r.id);
        assert!(answer.text.contains("trả lời bác ở đây"), "{}", answer.text);
        assert!(answer.buttons.iter().any(|(_, url)| url.ends_with(&register)), "{:?}", answer.buttons);
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM group_waiting").await, 7, "the others wait, written down");

    // The group's next minute: one message names the seven.
    bot.clock.advance(Duration::seconds(55));
    let mut waited = 0;
    while bot.messages_to(GROUP_CHAT).len() - before < 2 && waited < 500 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    let group = bot.messages_to(GROUP_CHAT);
    assert_eq!(group.len() - before, 2, "the group hears the bot twice in all");
    let together = group.last().unwrap();
    assert!(
        together.text.starts_with("Mời bác Mai, bác Hùng, bác Hương, bác Dũng, bác Thảo, bác Minh, bác Yến bấm nút"),
        "{}",
        together.text
    );
    assert!(together.buttons.iter().any(|(_, url)| url.ends_with(&register)), "{:?}", together.buttons);
    assert_eq!(bot.count("SELECT COUNT(*) FROM group_waiting").await, 0);

    // Pressing it registers as the group's first answer does.
    bot.private(&residents[9], &format!("/start {register}")).await;
    assert!(bot.last_to(residents[9].id).text.contains("Họ và tên chủ hộ"));
    bot.finish().await;
}
