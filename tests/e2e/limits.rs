//! A ward of 100 groups and long lists, against a fake Bot API that refuses
//! what Telegram refuses: every list the bot builds from rows of variable
//! length arrives, in as many messages as it needs, and no request is
//! refused (`finish` checks the last).

use serde_json::json;

use crate::support::*;

const GROUPS: i64 = 100;

/// 100 groups with names of a real ward's length, each with its chat and a
/// leader; LEADER leads the first.
async fn ward(bot: &TestBot) -> Vec<i64> {
    bot.setup_group().await;
    let more = (2..=GROUPS).map(|i| (format!("Tổ dân phố số {i} khu dân cư Xuân La Bắc"), -5_100_000_000 - i));
    let mut chats = vec![GROUP_CHAT];
    chats.extend(bot.link_groups(more).await);
    chats
}

fn sends_to(bot: &TestBot, chat: i64, since: usize) -> Vec<String> {
    bot.tg.requests()[since..]
        .iter()
        .filter(|r| r.body["chat_id"] == json!(chat) && r.refused.is_none())
        .filter_map(|r| r.body["text"].as_str().or(r.body["caption"].as_str()).map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_ward_of_a_hundred_groups_and_long_lists_stays_within_telegram_s_limits() {
    let bot = TestBot::start().await;
    let chats = ward(&bot).await;
    bot.private(&OFFICIAL, "/help").await;

    // /nhom: every group, in as many messages as it takes.
    let since = bot.tg.request_count();
    bot.private(&OFFICIAL, "/nhom").await;
    let list = sends_to(&bot, OFFICIAL.id, since).join("\n");
    assert!(sends_to(&bot, OFFICIAL.id, since).len() > 1, "the list needs more than one message");
    for i in [2, 50, 100] {
        assert!(list.contains(&format!("Tổ dân phố số {i} khu dân cư")), "group {i} missing from /nhom");
    }

    // A resident's group picker pages: twenty groups a page.
    bot.private(&NEIGHBOUR, "/dangky").await;
    let picker = bot.last_to(NEIGHBOUR.id);
    assert_eq!(picker.buttons.len(), 21, "20 groups and the next page");
    bot.tap(&NEIGHBOUR, &picker, "Trang 2/5").await;
    let page = bot.edits_in(NEIGHBOUR.id).pop().expect("the picker turned a page");
    bot.tap(&NEIGHBOUR, &Sent { message_id: picker.message_id, ..page }, "Tổ dân phố số 40 khu").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("Họ và tên chủ hộ"), "{}", bot.last_to(NEIGHBOUR.id).text);
    bot.private(&NEIGHBOUR, "/huy").await;

    // /thongke for the ward.
    let since = bot.tg.request_count();
    bot.private(&OFFICIAL, "/thongke").await;
    assert!(!sends_to(&bot, OFFICIAL.id, since).is_empty());

    // Reports: the leader's list pages.
    for _ in 0..12 {
        crate::reports::file_report(&bot, &RESIDENT, "Chiếu sáng", &"Đèn đường hỏng ".repeat(60), &[], None).await;
    }
    bot.private(&LEADER, "/dsphananh").await;
    let list = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &list, "Sau").await;
    assert!(bot.edits_in(LEADER.id).pop().is_some_and(|e| e.text.contains("trang 2/3")), "the list pages in place");

    // Sixty open campaigns for /quy; the first closes with 300 names.
    for _ in 0..60 {
        for answer in crate::scripts::campaign(1) {
            bot.private(&LEADER, &answer).await;
        }
    }
    let since = bot.tg.request_count();
    bot.private(&RESIDENT, "/quy").await;
    let quy = sends_to(&bot, RESIDENT.id, since);
    assert!(
        quy.len() > 1 && quy.join("\n").contains("UH60"),
        "{} messages, {} campaigns: {quy:?}",
        quy.len(),
        bot.count("SELECT COUNT(*) FROM campaigns").await
    );
    for i in 1..=300 {
        bot.private(&LEADER, &format!("/ghinhan UH1 100k Nguyễn Thị Người Ủng Hộ Số {i}")).await;
    }
    let since = bot.tg.request_count();
    bot.private(&LEADER, "/ketthuc UH1").await;
    let summary = sends_to(&bot, GROUP_CHAT, since);
    assert!(summary.len() > 1, "the honour list needs more than one message");
    let all = summary.join("\n");
    assert!(all.contains("Số 1 —") && all.contains("Số 300 —"), "every name is thanked");

    // A notice of 4,000 characters to every group, previewed and sent: with
    // its emoji (two units each, as Telegram counts) and signature it needs
    // two messages in each group.
    let text: String =
        (1..=80).map(|i| format!("🔌📅 Mục {i:02}. Lịch cắt điện khu vực ngõ {i} từ 8 giờ đến 17 giờ.\n")).collect();
    let text = &text[..text.char_indices().nth(4000).map_or(text.len(), |(i, _)| i)];
    assert!(text.chars().count() == 4000 && todanpho::fit::length(text) > 4096);
    bot.private(&OFFICIAL, &format!("/thongbao {text}")).await;
    let preview = bot.last_to(OFFICIAL.id);
    assert!(preview.text.contains("tất cả 100 nhóm"), "{}", preview.text);
    for page in 2..=5 {
        let on = bot.edits_in(OFFICIAL.id).pop().unwrap_or_else(|| preview.clone());
        bot.tap(&OFFICIAL, &Sent { message_id: preview.message_id, ..on.clone() }, &format!("Trang {page}/5")).await;
    }
    bot.tap(&OFFICIAL, &preview, "Gửi").await;
    for _ in 0..3000 {
        if bot.count("SELECT COUNT(*) FROM notice_deliveries WHERE status = 'sent'").await == GROUPS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let states: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT status, parts_sent, COUNT(*) FROM notice_deliveries GROUP BY 1, 2")
            .fetch_all(bot.db())
            .await
            .unwrap();
    assert_eq!(states, vec![("sent".to_string(), 2, GROUPS)], "{:?}", bot.messages_to(OFFICIAL.id).last());
    for chat in [chats[0], chats[50], chats[99]] {
        let parts = sends_to(&bot, chat, 0).into_iter().filter(|t| t.contains("Lịch cắt điện")).count();
        assert_eq!(parts, 2, "chat {chat}: the notice in two parts");
    }
    let since = bot.tg.request_count();
    bot.private(&OFFICIAL, "/thongbao_ds").await;
    assert!(sends_to(&bot, OFFICIAL.id, since).join("\n").contains("Tổ dân phố số 100 khu dân cư"));

    // /henlich with scheduled notices.
    let since = bot.tg.request_count();
    bot.private(&OFFICIAL, "/henlich").await;
    assert!(!sends_to(&bot, OFFICIAL.id, since).is_empty());
    bot.finish().await;
}
