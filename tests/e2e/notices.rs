//! Notices, docs/design.md, flow 4: previews, the durable outbox within
//! Telegram's limits, faults, restarts, scheduling and acknowledgements.

use chrono::Duration;
use serde_json::json;

use crate::fake_telegram::Limits;
use crate::support::*;

/// Links `n` more groups straight in the database: chats -5000000001….
pub async fn many_groups(bot: &TestBot, n: i64) -> Vec<i64> {
    bot.link_groups((1..=n).map(|i| (format!("Tổ {i}"), -5_000_000_000 - i))).await
}

fn notices_in(bot: &TestBot, chat: i64) -> usize {
    bot.tg
        .requests()
        .iter()
        .filter(|r| matches!(r.method.as_str(), "sendMessage" | "sendPhoto") && r.body["chat_id"] == json!(chat))
        .filter(|r| r.body["text"].as_str().or(r.body["caption"].as_str()).unwrap_or("").contains("THÔNG BÁO"))
        .filter(|r| r.message_id.is_some())
        .count()
}

async fn wait_done(bot: &TestBot, user: &User, code: &str) {
    for _ in 0..1500 {
        if bot.messages_to(user.id).iter().any(|m| m.text.contains(&format!("Đã gửi xong thông báo {code}"))) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{code} never finished: {:?}", bot.messages_to(user.id).last().map(|m| m.text.clone()));
}

#[tokio::test]
async fn a_leader_previews_pins_and_sends_and_households_acknowledge() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    crate::registration::register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Duyệt").await;

    bot.group(GROUP_CHAT, &RESIDENT, "/thongbao Họp tổ").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ tổ trưởng"));
    bot.group(GROUP_CHAT, &LEADER, "/thongbao Sáng Chủ nhật 8 giờ tổng vệ sinh đầu ngõ.\nMỗi hộ cử một người.").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("bản xem trước"));
    let preview = bot.last_to(LEADER.id);
    assert!(
        preview.text.contains("Xem trước thông báo TB1") && preview.text.contains("Mỗi hộ cử một người."),
        "{}",
        preview.text
    );
    assert!(preview.text.contains("Ghim trong nhóm: không"));
    bot.press(&RESIDENT, &preview, "nt:send:1").await;
    assert!(bot.callback_answers().last().unwrap().contains("chỉ người soạn"));
    bot.tap(&LEADER, &preview, "Ghim").await;
    assert!(bot.edits_in(LEADER.id).last().unwrap().text.contains("Ghim trong nhóm: có"));
    bot.tap(&LEADER, &preview, "Gửi").await;
    wait_done(&bot, &LEADER, "TB1").await;

    let posted = bot.last_to(GROUP_CHAT);
    assert!(
        posted.text.starts_with("📢 THÔNG BÁO TB1") && posted.text.contains("— Lê Thị Hoa, tổ trưởng"),
        "{}",
        posted.text
    );
    assert_eq!(bot.requests_to("pinChatMessage", GROUP_CHAT).len(), 1);
    assert!(bot.last_to(LEADER.id).text.contains("1/1 nhóm chat"));
    bot.tap(&LEADER, &preview, "Gửi").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã được gửi"));
    assert_eq!(notices_in(&bot, GROUP_CHAT), 1);

    bot.tap(&RESIDENT, &posted, "Đã xem").await;
    bot.tap(&RESIDENT, &posted, "Đã xem").await;
    assert!(bot.callback_answers().last().unwrap().contains("xác nhận đã xem rồi"));
    bot.tap(&NEIGHBOUR, &posted, "Đã xem").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM notice_acks").await, 2);
    bot.private(&LEADER, "/thongbao_ds").await;
    assert!(bot.last_to(LEADER.id).text.contains("Tổ dân phố số 12: 2/1 hộ"), "{}", bot.last_to(LEADER.id).text);
    bot.private(&NEIGHBOUR, "/thongbao_ds TB1").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("không có quyền dùng lệnh /thongbao_ds"));

    // Replying to a photo with /thongbao sends that photo.
    let mut msg = json!({
        "message_id": 900, "date": 1_790_000_000, "chat": chat_json(GROUP_CHAT), "from": LEADER.json(),
        "text": "/thongbao",
        "reply_to_message": { "message_id": 899, "date": 1_790_000_000, "chat": chat_json(GROUP_CHAT), "from": OFFICIAL.json(),
            "caption": "Lịch tiêm chủng tháng 12",
            "photo": [{ "file_id": "vaccine-photo", "file_unique_id": "v", "width": 800, "height": 600 }] }
    });
    msg["update_id"] = json!(0);
    bot.deliver(
        json!({ "message": msg["message"].clone() }).as_object().map(|_| json!({ "message": msg })).unwrap()["message"]
            .clone()
            .pipe(|m| json!({ "message": m })),
    )
    .await;
    let preview = bot.last_to(LEADER.id);
    assert!(
        preview.text.contains("(kèm ảnh)") && preview.text.contains("Lịch tiêm chủng tháng 12"),
        "{}",
        preview.text
    );
    bot.tap(&LEADER, &preview, "Gửi").await;
    wait_done(&bot, &LEADER, "TB2").await;
    assert_eq!(bot.requests_to("sendPhoto", GROUP_CHAT).last().unwrap()["photo"], json!("vaccine-photo"));
    bot.finish().await;
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for serde_json::Value {}

#[tokio::test]
async fn an_official_broadcasts_to_sixty_groups_within_the_limits_and_survives_a_restart() {
    let mut bot = TestBot::start_with(|tg| tg.enforce(Limits { per_second: 30, per_chat_per_minute: 20 })).await;
    let chats = many_groups(&bot, 60).await;
    bot.private(&OFFICIAL, "/thongbao Lịch cắt điện toàn phường ngày 30/11").await;
    let preview = bot.last_to(OFFICIAL.id);
    // Twenty groups a page, all chosen; three pages.
    assert_eq!(preview.buttons.iter().filter(|(l, _)| l.starts_with("✅ Tổ")).count(), 20);
    assert!(preview.text.contains("Gửi tới: tất cả 60 nhóm"), "{}", preview.text);
    bot.tap(&OFFICIAL, &preview, "Trang 2/3").await;
    let page = bot.edits_in(OFFICIAL.id).pop().expect("the picker turned a page");
    assert!(
        page.buttons.iter().any(|(l, _)| l == "✅ Tổ 21") && page.buttons.iter().any(|(l, _)| l.contains("Trang 3/3"))
    );
    bot.tap(&OFFICIAL, &preview, "Gửi").await;

    // Restart half-way: a second dispatcher on the same database finishes.
    for _ in 0..500 {
        if bot.count("SELECT COUNT(*) FROM notice_deliveries WHERE status = 'sent'").await >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    bot.restart().await;
    wait_done(&bot, &OFFICIAL, "TB1").await;

    for chat in &chats {
        assert_eq!(notices_in(&bot, *chat), 1, "chat {chat}");
    }
    assert_eq!(bot.tg.rejected(), 0, "no send was refused by the limits");
    assert!(bot.messages_to(OFFICIAL.id).iter().any(|m| m.text.contains("60/60 nhóm chat nhận được")));
    let progress = bot
        .sent()
        .into_iter()
        .any(|s| s.chat_id == OFFICIAL.id && s.text.contains("đã gửi") && s.text.contains("/60 nhóm chat"));
    assert!(progress, "progress is reported during a large broadcast");
    bot.finish().await;
}

#[tokio::test]
async fn rate_limits_server_errors_migration_and_removal_are_handled() {
    let bot = TestBot::start().await;
    let chats = many_groups(&bot, 4).await;
    let (slow, flaky, moved, kicked) = (chats[0], chats[1], chats[2], chats[3]);
    let supergroup = -1_000_000_000_777;
    bot.tg.fail_chat(
        slow,
        Failure { code: 429, description: "Too Many Requests: retry after 1".into(), retry_after: Some(1) },
        None,
        1,
    );
    // teloxide itself waits 10 s after a 5xx before it returns the error.
    bot.tg.fail_chat(flaky, Failure::new(502, "Bad Gateway"), None, 1);
    bot.tg.fail_chat(
        moved,
        Failure::new(400, "Bad Request: group chat was upgraded to a supergroup chat"),
        Some(supergroup),
        1,
    );
    bot.tg.fail_chat(kicked, Failure::new(403, "Forbidden: bot was kicked from the group chat"), None, 100);

    bot.private(&OFFICIAL, "/thongbao Cúp nước sáng mai").await;
    let preview = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &preview, "Gửi").await;
    // Retries wait on the bot's clock: move it along until done.
    for _ in 0..2000 {
        if bot.count("SELECT COUNT(*) FROM notices WHERE status = 'done'").await == 1 {
            break;
        }
        bot.clock.advance(Duration::seconds(2));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    wait_done(&bot, &OFFICIAL, "TB1").await;
    assert_eq!(notices_in(&bot, slow), 1);
    assert_eq!(notices_in(&bot, flaky), 1);
    assert_eq!(notices_in(&bot, supergroup), 1);
    assert_eq!(notices_in(&bot, kicked), 0);
    let moved_now: i64 = bot.count(&format!("SELECT COUNT(*) FROM group_chats WHERE chat_id = '{supergroup}'")).await;
    assert_eq!(moved_now, 1, "the group follows its new chat id");
    let summary = bot.messages_to(OFFICIAL.id).into_iter().find(|m| m.text.contains("Đã gửi xong")).unwrap();
    assert!(
        summary.text.contains("3/4 nhóm chat") && summary.text.contains("Tổ 4: bot đã bị xoá khỏi nhóm"),
        "{}",
        summary.text
    );
    let attempts: i64 = bot.count(&format!("SELECT attempts FROM notice_deliveries WHERE chat_id = '{flaky}'")).await;
    assert_eq!(attempts, 2);
    bot.finish().await;
}

#[tokio::test]
async fn scheduled_notices_fire_once_at_their_time_and_can_be_cancelled() {
    let mut bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&LEADER, "/thongbao Họp tổ lúc 19 giờ").await;
    let preview = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &preview, "Hẹn giờ").await;
    bot.private(&LEADER, "22/11/2026 10:00").await;
    let summary = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &summary, "Xác nhận").await;
    assert!(bot.last_to(LEADER.id).text.contains("Giờ hẹn phải sau bây giờ"));
    bot.private(&LEADER, "23/11/2026 10:00").await;
    let summary = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &summary, "Xác nhận").await;
    let scheduled = bot.last_to(LEADER.id);
    assert!(scheduled.text.contains("hẹn gửi lúc 23/11/2026 10:00"), "{}", scheduled.text);
    bot.tap(&LEADER, &scheduled, "Gửi").await;
    assert!(bot.edits_in(LEADER.id).last().unwrap().text.contains("sẽ được gửi tới 1 nhóm chat lúc 23/11/2026 10:00"));

    // A second one, cancelled from /henlich.
    bot.private(&LEADER, "/thongbao Thông báo sẽ huỷ").await;
    let other = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &other, "Hẹn giờ").await;
    bot.private(&LEADER, "24/11/2026 09:00").await;
    let summary = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &summary, "Xác nhận").await;
    let other = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &other, "Gửi").await;
    bot.private(&LEADER, "/henlich").await;
    let list = bot.messages_to(LEADER.id);
    assert!(list[list.len() - 2].text.contains("TB1") && list[list.len() - 1].text.contains("TB2"));
    let cancel = list[list.len() - 1].clone();
    bot.tap(&LEADER, &cancel, "Huỷ TB2").await;
    assert!(bot.edits_in(LEADER.id).last().unwrap().text.contains("Đã huỷ thông báo TB2"));

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(notices_in(&bot, GROUP_CHAT), 0, "not before its time");
    bot.clock.advance(Duration::hours(3));
    wait_done(&bot, &LEADER, "TB1").await;
    assert_eq!(notices_in(&bot, GROUP_CHAT), 1);
    bot.restart().await;
    bot.clock.advance(Duration::days(2));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(notices_in(&bot, GROUP_CHAT), 1, "never twice, and the cancelled one never");
    bot.finish().await;
}

/// "Chọn tất cả" when every group is already chosen changes nothing: the
/// bot does not send Telegram an edit it would refuse.
#[tokio::test]
async fn a_button_that_changes_nothing_sends_no_edit() {
    let bot = TestBot::start().await;
    many_groups(&bot, 3).await;
    bot.private(&OFFICIAL, "/thongbao Họp toàn phường").await;
    let preview = bot.last_to(OFFICIAL.id);
    let edits = bot.edits_in(OFFICIAL.id).len();
    bot.tap(&OFFICIAL, &preview, "Chọn tất cả").await;
    assert_eq!(bot.edits_in(OFFICIAL.id).len(), edits, "everything was chosen already");
    bot.tap(&OFFICIAL, &preview, "Bỏ chọn tất cả").await;
    assert_eq!(bot.edits_in(OFFICIAL.id).len(), edits + 1);
    bot.tap(&OFFICIAL, &preview, "Bỏ chọn tất cả").await;
    assert_eq!(bot.edits_in(OFFICIAL.id).len(), edits + 1, "nothing was chosen already");
    bot.finish().await;
}

/// "Đã xem" counts once per household, for the household's own group,
/// whichever group's copy of a ward notice was pressed (issue 20.9).
#[tokio::test]
async fn an_acknowledgement_counts_for_the_household_s_own_group() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let household = crate::registration::register(&bot, &RESIDENT).await;
    let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    bot.tap(&LEADER, &review, "Duyệt").await;
    assert!(household > 0);
    let chats = many_groups(&bot, 1).await;
    bot.private(&OFFICIAL, "/thongbao Lịch tiêm phòng cho trẻ").await;
    let preview = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &preview, "Gửi").await;
    wait_done(&bot, &OFFICIAL, "TB1").await;
    // The resident reads the copy in the other group's chat.
    let other = bot.messages_to(chats[0]).into_iter().find(|m| m.text.contains("THÔNG BÁO TB1")).unwrap();
    bot.tap(&RESIDENT, &other, "Đã xem").await;
    bot.tap(&RESIDENT, &bot.last_to(GROUP_CHAT), "Đã xem").await;
    bot.private(&OFFICIAL, "/thongbao_ds TB1").await;
    let counts = bot.last_to(OFFICIAL.id).text;
    assert!(counts.contains("Tổ dân phố số 12: 1/1 hộ") && counts.contains("Tổ 1: 0/0 hộ"), "{counts}");
    bot.finish().await;
}
