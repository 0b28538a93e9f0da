//! Where a command answers is the command catalog's to say
//! (`commands::COMMANDS`), and holds for every command in one place: a command
//! meant for private chat, typed in a group, answers in private when the bot
//! can write there, and otherwise shows the way there with one short note.
//! Every case is read from the catalog, so a new command is covered here
//! without a new test.

use serde_json::json;
use todanpho::commands::{Place, COMMANDS};

use crate::support::*;

/// Someone who has never written to the bot in private.
fn newcomer(i: usize) -> User {
    User { id: 400_000 + i as i64, first_name: "Khách", last_name: Some("Mới") }
}

#[tokio::test]
async fn a_private_command_typed_in_a_group_never_answers_there() {
    // The group's limit on answers to residents is on: the note is exempt.
    let bot = TestBot::start_with_flood_control().await;
    bot.setup_group().await;
    let private: Vec<&str> = COMMANDS.iter().filter(|c| c.place == Place::Private).map(|c| c.name).collect();
    assert!(private.contains(&"thongke") && private.contains(&"phananhcuatoi"));
    for (i, name) in private.iter().enumerate() {
        let user = newcomer(i);
        // Not reachable in private: one note in the group, with the way
        // there, and nothing else.
        let since = bot.tg.request_count();
        bot.group(GROUP_CHAT, &user, &format!("/{name}")).await;
        let to_group: Vec<_> =
            bot.tg.requests()[since..].iter().filter(|r| r.body["chat_id"] == json!(GROUP_CHAT)).cloned().collect();
        assert_eq!(to_group.len(), 1, "/{name}: one note in the group, got {to_group:?}");
        let note = bot.last_to(GROUP_CHAT);
        assert!(note.text.contains(&format!("/{name}")) && note.text.contains("tin nhắn riêng"), "{}", note.text);
        let link = note.button("Nhắn riêng");
        assert!(link.ends_with(&format!("?start=lenh-{name}")), "/{name}: {link}");

        // The button opens the private chat, which asks to type it again.
        bot.private(&user, &format!("/start lenh-{name}")).await;
        assert!(bot.last_to(user.id).text.contains(&format!("gõ lại lệnh /{name}")));

        // Now reachable: typed in the group again, answered in private.
        let since = bot.tg.request_count();
        bot.group(GROUP_CHAT, &user, &format!("/{name}")).await;
        let requests = bot.tg.requests()[since..].to_vec();
        assert!(!requests.iter().any(|r| r.body["chat_id"] == json!(GROUP_CHAT)), "/{name} answered in the group");
        assert!(requests.iter().any(|r| r.body["chat_id"] == json!(user.id)), "/{name}: no answer in private");
    }
    bot.finish().await;
}

#[tokio::test]
async fn a_leaders_private_command_in_the_group_gets_its_full_answer_in_private() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    crate::registration::register(&bot, &RESIDENT).await;
    bot.private(&LEADER, "/help").await;
    let in_group = bot.messages_to(GROUP_CHAT).len();
    // Arguments kept: the report part of the statistics.
    bot.group(GROUP_CHAT, &LEADER, "/thongke phananh").await;
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), in_group, "no statistics in the group");
    let answer = bot.last_to(LEADER.id).text;
    assert!(answer.contains("phản ánh") || answer.contains("Phản ánh"), "{answer}");
    assert!(!answer.contains("cận nghèo"), "the report part only: {answer}");
    bot.finish().await;
}

#[tokio::test]
async fn a_group_command_typed_in_private_says_where_it_works() {
    let bot = TestBot::start().await;
    for c in COMMANDS.iter().filter(|c| c.place == Place::Group) {
        bot.private(&OFFICIAL, &format!("/{} Tổ dân phố số 30", c.name)).await;
        assert!(bot.last_to(OFFICIAL.id).text.contains("chỉ dùng trong nhóm"), "/{}", c.name);
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM groups").await, 0, "nothing linked");
    bot.finish().await;
}

/// A message in the group that carries a button's data it never had (a
/// forged callback): the presser is the one it was meant for.
fn group_message(on: &Sent) -> Sent {
    Sent { chat_id: GROUP_CHAT, message_id: 9_999, ..on.clone() }
}

#[tokio::test]
async fn a_dialogue_button_pressed_on_a_group_message_never_writes_into_the_group() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/start dk-1").await;
    crate::registration::fill_form(&bot, &RESIDENT).await;
    let summary = bot.last_to(RESIDENT.id);
    // Every button of the summary (Sửa, Xác nhận) and then the field picker.
    bot.press(&RESIDENT, &group_message(&summary), summary.button("Sửa")).await;
    let fields = bot.last_to(RESIDENT.id);
    bot.press(&RESIDENT, &group_message(&fields), &fields.buttons[0].1.clone()).await;
    bot.private(&RESIDENT, "nguyễn văn an").await;
    let summary = bot.last_to(RESIDENT.id);
    bot.press(&RESIDENT, &group_message(&summary), summary.button("Xác nhận")).await;
    assert!(bot.edits_in(GROUP_CHAT).is_empty(), "the group's message was edited: {:?}", bot.edits_in(GROUP_CHAT));
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 1, "the press still did its work");
    assert!(bot.messages_to(RESIDENT.id).iter().any(|m| m.text.contains(crate::registration::PHONE)));
    bot.finish().await;
}

/// A phone and a house number planted in every free-text answer of every
/// resident dialogue (the household's house number, lane and street; the
/// report's description and typed place); the group's feed is on and the
/// report goes through its life. No group message, sent or edited, carries
/// any of it (`finish` scans them all).
#[tokio::test]
async fn what_residents_type_never_reaches_the_group() {
    const PHONE: &str = "0933111222";
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.group(GROUP_CHAT, &LEADER, "/bangtin bat").await;
    bot.mark_personal(&[PHONE, "0933 111 222", "số 27", "nhà tôi", "nhà số", "gọi"]);

    bot.private(&RESIDENT, "/start dk-1").await;
    for answer in [
        "nguyễn văn an",
        "số 27 gọi 0933111222",
        "ngõ 41 nhà số 27",
        "Xuân La gọi 0933 111 222",
        "0912345678",
        "4",
        "1, 5",
        "2",
        "co",
        "3",
    ] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.tap(&RESIDENT, &bot.last_to(RESIDENT.id), "Xác nhận").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 1);

    crate::reports::file_report(
        &bot,
        &RESIDENT,
        "Chiếu sáng",
        "đèn hỏng trước nhà số 27, gọi 0933111222",
        &["scene"],
        Some("trước nhà tôi số 27 ngõ 41 Xuân La, gọi 0933111222"),
    )
    .await;
    assert_eq!(bot.last_to(GROUP_CHAT).text, "📋 PA-000001 · Chiếu sáng · ngõ 41 Xuân La · mới · vừa gửi");
    let case = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &case, "Đăng ảnh").await;
    bot.private(&LEADER, "/xuly PA-000001 daxuly").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("ngõ 41 Xuân La · đã xử lý"));

    // A place with nothing to recognise shows the group's name.
    crate::reports::file_report(&bot, &RESIDENT, "Khác", "Việc khác", &[], Some("trước nhà tôi, gọi 0933111222")).await;
    assert_eq!(bot.last_to(GROUP_CHAT).text, "📋 PA-000002 · Khác · Tổ dân phố số 12 · mới · vừa gửi");
    bot.finish().await;
}
