//! Household registration, docs/design.md, flow 1, from the group button to the
//! leader's decision.

use crate::support::*;

pub const PHONE_TYPED: &str = "+84 912 345 678";
pub const PHONE: &str = "0912345678";
pub const STREET: &str = "Hoàng Quốc Việt";

/// Answers every question with valid values and stops at the summary.
pub async fn fill_form(bot: &TestBot, user: &User) {
    bot.mark_personal(&[PHONE, STREET, "ngõ 41"]);
    for answer in ["nguyễn văn an", "12", "ngõ 41", STREET, PHONE_TYPED, "4"] {
        bot.private(user, answer).await;
    }
    bot.private(user, "1, 5").await; // hộ nghèo, người khuyết tật
    bot.private(user, "2").await;
    bot.private(user, "co").await;
    bot.private(user, "3").await;
}

/// A full registration in group #1 (through its deep link), up to the
/// leader's notification. Returns the household id.
pub async fn register(bot: &TestBot, user: &User) -> i64 {
    bot.private(user, "/start dk-1").await;
    fill_form(bot, user).await;
    let summary = bot.last_to(user.id);
    assert!(summary.text.contains("kiểm tra lại"), "{}", summary.text);
    bot.tap(user, &summary, "Xác nhận").await;
    sqlx::query_scalar(
        "SELECT MAX(id) FROM households WHERE owner_user_id = (SELECT id FROM users WHERE external_id = ?)",
    )
    .bind(user.id.to_string())
    .fetch_one(bot.db())
    .await
    .unwrap()
}

async fn dialogue_state(bot: &TestBot, user: &User) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM dialogues WHERE user_id = ?")
        .bind(user.id.to_string())
        .fetch_optional(bot.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn resident_registers_from_the_group_and_leader_approves() {
    let bot = TestBot::start().await;
    bot.setup_group().await;

    // In the group: a button that deep-links to the private chat.
    bot.group(GROUP_CHAT, &RESIDENT, "/dangky").await;
    let invite = bot.last_to(GROUP_CHAT);
    let link = invite.button("Đăng ký hộ").to_string();
    assert_eq!(link, "https://t.me/todanpho_test_bot?start=dk-1");

    bot.private(&RESIDENT, "/start dk-1").await;
    let intro = bot.messages_to(RESIDENT.id);
    assert!(intro.iter().any(|m| m.text.contains("Tổ dân phố số 12")), "{intro:?}");
    assert!(bot.last_to(RESIDENT.id).text.contains("Họ và tên chủ hộ"));

    // Bad answers get a clear message and the same question; nothing stored.
    bot.private(&RESIDENT, "   ").await;
    let again = bot.last_to(RESIDENT.id);
    assert!(again.text.contains("Họ tên chưa đúng") && again.text.contains("Họ và tên chủ hộ"), "{}", again.text);
    bot.private(&RESIDENT, "Nguyễn 123").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Họ tên chưa đúng"));
    assert!(!dialogue_state(&bot, &RESIDENT).await.unwrap().contains("head_name"));

    bot.private(&RESIDENT, "nguyễn văn an").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Số nhà"));
    bot.private(&RESIDENT, "12").await;
    let lane = bot.last_to(RESIDENT.id);
    assert!(lane.text.contains("ngõ"), "{}", lane.text);
    bot.tap(&RESIDENT, &lane, "Không ở trong ngõ").await;
    bot.private(&RESIDENT, STREET).await;

    bot.private(&RESIDENT, "12345").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Số điện thoại chưa đúng"));
    bot.private(&RESIDENT, "+1 415 555 0100").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Số điện thoại chưa đúng"));
    bot.private(&RESIDENT, PHONE_TYPED).await;
    bot.mark_personal(&[PHONE, STREET]);

    for bad in ["0", "500", "nhiều"] {
        bot.private(&RESIDENT, bad).await;
        let m = bot.last_to(RESIDENT.id);
        assert!(m.text.contains("Số nhân khẩu phải từ 1 đến 50"), "{bad}: {}", m.text);
    }
    bot.private(&RESIDENT, "4").await;

    // Several circumstances with toggle buttons.
    let question = bot.last_to(RESIDENT.id);
    assert!(question.text.contains("diện nào"));
    bot.tap(&RESIDENT, &question, "Hộ nghèo").await;
    let toggled = bot.edits_in(RESIDENT.id).pop().expect("the keyboard is redrawn");
    assert!(toggled.buttons.iter().any(|(l, _)| l == "✅ Hộ nghèo"), "{:?}", toggled.buttons);
    bot.tap(&RESIDENT, &question, "Người khuyết tật").await;
    bot.tap(&RESIDENT, &question, "Xong").await;

    bot.private(&RESIDENT, "2").await;
    let epay = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &epay, "Có").await;
    bot.private(&RESIDENT, "3").await;

    let summary = bot.last_to(RESIDENT.id);
    for expected in ["Nguyễn Văn An", PHONE, "Hộ nghèo, Người khuyết tật", "Số nhân khẩu: 4", "Không ở trong ngõ"]
    {
        assert!(summary.text.contains(expected), "missing {expected} in {}", summary.text);
    }

    // Edit one field before confirming.
    bot.tap(&RESIDENT, &summary, "Sửa").await;
    let pick = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &pick, "Số nhân khẩu").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Hiện tại: 4"));
    bot.private(&RESIDENT, "5").await;
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("Số nhân khẩu: 5"), "{}", summary.text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 0, "nothing is saved before confirmation");

    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Đã gửi hồ sơ hộ #1"));
    let row: (String, String, Option<String>, String, i64, i64, i64, i64, String) = sqlx::query_as(
        "SELECT head_name, house_number, lane, phone, members, smartphone_users, has_epayment, vneid_level2, status FROM households",
    )
    .fetch_one(bot.db())
    .await
    .unwrap();
    assert_eq!(row, ("Nguyễn Văn An".into(), "12".into(), None, PHONE.into(), 5, 2, 1, 3, "pending".into()));
    assert_eq!(bot.count("SELECT COUNT(*) FROM household_circumstances WHERE household_id = 1").await, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues").await, 0);

    // The leader gets the summary privately, with the decision buttons.
    let review = bot.last_to(LEADER.id);
    assert!(review.text.contains("Đăng ký hộ mới") && review.text.contains(PHONE), "{}", review.text);

    // A resident pressing a forged Duyệt is refused and nothing changes.
    bot.press(&RESIDENT, &review, "hh:ok:1").await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE status = 'pending'").await, 1);

    bot.tap(&LEADER, &review, "Duyệt").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE status = 'approved'").await, 1);
    assert!(bot.last_to(RESIDENT.id).text.contains("đã được tổ trưởng duyệt"));
    let edited = bot.edits_in(LEADER.id).pop().expect("the leader's message shows the outcome");
    assert!(edited.text.contains("Đã duyệt bởi Lê Thị Hoa") && edited.buttons.is_empty(), "{}", edited.text);
    assert!(edited.text.starts_with(&format!("Hồ sơ hộ Số 12, {STREET} — Nguyễn Văn An")), "{}", edited.text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action = 'household.approve'").await, 1);

    // A second press changes nothing.
    bot.tap(&LEADER, &review, "Từ chối").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã được xử lý"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE status = 'approved'").await, 1);

    bot.finish().await;
}

#[tokio::test]
async fn cancel_at_any_step_and_rejection() {
    let bot = TestBot::start().await;
    bot.setup_group().await;

    bot.private(&RESIDENT, "/dangky").await;
    bot.private(&RESIDENT, "Nguyễn Văn An").await;
    bot.private(&RESIDENT, "/huy").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Đã huỷ"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues").await, 0);
    bot.private(&RESIDENT, "12").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("/help"), "an answer without a dialogue gets a hint");
    bot.private(&RESIDENT, "/huy").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không có việc nào"));

    // Cancel at the summary too.
    bot.private(&RESIDENT, "/dangky").await;
    fill_form(&bot, &RESIDENT).await;
    bot.private(&RESIDENT, "/huy").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 0);

    let id = register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Từ chối").await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM households WHERE id = ?").bind(id).fetch_one(bot.db()).await.unwrap();
    assert_eq!(status, "rejected");
    assert!(bot.last_to(RESIDENT.id).text.contains("chưa được duyệt"));
    bot.finish().await;
}

#[tokio::test]
async fn a_restart_mid_dialogue_continues_at_the_same_step() {
    let mut bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/dangky").await;
    bot.private(&RESIDENT, "Phạm Thị Mai").await;
    bot.private(&RESIDENT, "7B").await;

    bot.restart().await;

    bot.private(&RESIDENT, "ngách 3").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Tên đường"), "the next question after the lane");
    for answer in [STREET, "0987 654 321", "3", "không", "1", "không", "0"] {
        bot.private(&RESIDENT, answer).await;
    }
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("Phạm Thị Mai") && summary.text.contains("7B") && summary.text.contains("ngách 3"));
    bot.mark_personal(&["0987654321", STREET]);
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM households WHERE head_name = 'Phạm Thị Mai' AND has_epayment = 0").await,
        1
    );
    bot.finish().await;
}

/// A count above the members answered before is refused at its own
/// question (issue 31.2), not at «Xác nhận».
#[tokio::test]
async fn rules_across_answers_send_the_resident_back_to_the_step() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/dangky").await;
    for answer in ["Nguyễn Văn An", "12", "không", STREET, PHONE, "2", "không", "5"] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.mark_personal(&[PHONE, STREET]);
    let back = bot.last_to(RESIDENT.id);
    assert!(
        back.text.starts_with("⚠️ Hộ có 2 người, xin nhập một số từ 0 đến 2.")
            && back.text.contains("điện thoại thông minh"),
        "{}",
        back.text
    );
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 0);
    for answer in ["2", "có", "1"] {
        bot.private(&RESIDENT, answer).await;
    }
    let summary = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE smartphone_users = 2").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn resident_updates_an_approved_household_and_the_leader_decides() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let id = register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Duyệt").await;

    bot.private(&RESIDENT, "/hocuatoi").await;
    let mine = bot.last_to(RESIDENT.id);
    assert!(mine.text.contains("đã được duyệt") && mine.text.contains(PHONE), "{}", mine.text);
    bot.tap(&RESIDENT, &mine, "Cập nhật").await;
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("Nguyễn Văn An"));
    bot.tap(&RESIDENT, &summary, "Sửa").await;
    bot.private(&RESIDENT, "5").await; // the phone, by its number in the list
    bot.private(&RESIDENT, "0977 111 222").await;
    bot.mark_personal(&["0977111222"]);
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("0977111222"));
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Thông tin cũ vẫn giữ nguyên"));

    // The approved record is unchanged until the leader accepts.
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM households WHERE id = ?").bind(id).fetch_one(bot.db()).await.unwrap();
    assert_eq!(phone, PHONE);
    let update = bot.last_to(LEADER.id);
    assert!(update.text.contains("Cập nhật thông tin hộ") && update.text.contains("0977111222"), "{}", update.text);
    bot.tap(&LEADER, &update, "Duyệt").await;
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM households WHERE id = ?").bind(id).fetch_one(bot.db()).await.unwrap();
    assert_eq!(phone, "0977111222");
    assert!(bot.last_to(RESIDENT.id).text.contains("đã được duyệt và lưu"));

    // Someone else cannot start an update of this household.
    bot.press(&NEIGHBOUR, &mine, &format!("hm:upd:{id}")).await;
    assert!(bot.callback_answers().last().unwrap().contains("Không tìm thấy"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues").await, 0);
    bot.finish().await;
}

#[tokio::test]
async fn typed_answers_work_without_buttons_or_diacritics() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/dangky").await;
    for answer in [
        "tran van binh",
        "3",
        "khong",
        "Nguyen Trai",
        "0912.345.678",
        "bốn người",
        "ho can ngheo va nguoi cao tuoi neo don",
        "1",
        "khong",
        "0",
    ] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.mark_personal(&["0912345678", "Nguyen Trai"]);
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("Tran Van Binh"), "{}", summary.text);
    assert!(summary.text.contains("Hộ cận nghèo, Người cao tuổi neo đơn"), "{}", summary.text);
    assert!(summary.text.contains("Số nhân khẩu: 4"));
    bot.private(&RESIDENT, "xác nhận").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE members = 4 AND has_epayment = 0").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn one_dialogue_at_a_time_and_expiry_after_a_day() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/dangky").await;
    bot.private(&RESIDENT, "Nguyễn Văn An").await;
    bot.private(&RESIDENT, "/dangky").await;
    let guard = bot.last_to(RESIDENT.id);
    assert!(guard.text.contains("đang làm dở"), "{}", guard.text);
    bot.tap(&RESIDENT, &guard, "Làm tiếp").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Số nhà"), "the current question again");
    bot.tap(&RESIDENT, &guard, "làm mới").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Họ và tên chủ hộ"), "started over");
    assert!(!bot.count("SELECT COUNT(*) FROM dialogues WHERE state LIKE '%Nguyễn%'").await.is_positive());

    // The bot's clock decides: an answer a full day after the last one is
    // still taken, and one a moment later than that finds the dialogue
    // expired.
    bot.clock.advance(chrono::Duration::hours(24));
    bot.private(&RESIDENT, "Nguyễn Văn An").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Số nhà"), "{}", bot.last_to(RESIDENT.id).text);
    let saved: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT updated_at FROM dialogues").fetch_one(bot.db()).await.unwrap();
    assert_eq!(saved, start_time() + chrono::Duration::hours(24), "saved at the time of the bot's clock");
    bot.clock.advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    bot.private(&RESIDENT, "12").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("quá 24 giờ"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues").await, 0);
    bot.finish().await;
}

/// Invisible formatting characters (zero-width, direction overrides) are
/// taken out at the edge: neither stored nor shown to the leader.
#[tokio::test]
async fn invisible_characters_in_names_and_addresses_are_dropped() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.mark_personal(&[PHONE, STREET]);
    bot.private(&RESIDENT, "/start dk-1").await;
    for answer in [
        "nguy\u{200b}ễn văn\u{202e} an",
        "1\u{2066}2",
        "ngõ\u{200d} 41",
        "Hoàng Quốc\u{feff} Việt",
        PHONE,
        "4",
        "1, 5",
        "2",
        "co",
        "3",
    ] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.tap(&RESIDENT, &bot.last_to(RESIDENT.id), "Xác nhận").await;
    let stored: (String, String, String, String) =
        sqlx::query_as("SELECT head_name, house_number, lane, street FROM households")
            .fetch_one(bot.db())
            .await
            .unwrap();
    assert_eq!(stored, ("Nguyễn Văn An".into(), "12".into(), "ngõ 41".into(), STREET.into()));
    let card = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    let invisible = ['\u{200b}', '\u{200d}', '\u{202e}', '\u{2066}', '\u{feff}'];
    assert!(!card.text.contains(invisible), "{:?}", card.text);
    bot.finish().await;
}

/// The people of a household besides its head (issue 22): the head shares
/// a code, a person sends it, the head agrees, and the person sees the
/// household in /hocuatoi. Nobody else answers for the head.
#[tokio::test]
async fn a_head_lets_a_member_join_the_household_by_code() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let household = register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Duyệt").await;

    bot.private(&NEIGHBOUR, "HO1-AAAA").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("không đúng hoặc đã hết hạn"));

    bot.private(&RESIDENT, "/hocuatoi").await;
    let card = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &card, "Mời người trong hộ").await;
    let text = bot.last_to(RESIDENT.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("HO")).expect("a code").to_string();
    assert!(code.starts_with(&format!("HO{household}-")), "{text}");

    bot.private(&NEIGHBOUR, &code.to_lowercase()).await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("Đã gửi lời xin"), "{}", bot.last_to(NEIGHBOUR.id).text);
    bot.private(&NEIGHBOUR, &code).await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("đang chờ chủ hộ"), "asked once");
    let ask = bot.last_to(RESIDENT.id);
    assert!(ask.text.contains("xin vào hộ"), "{}", ask.text);

    // Someone else pressing the head's button changes nothing.
    let data = ask.button("Đồng ý").to_string();
    bot.press(&LEADER, &ask, &data).await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM household_members").await, 0);

    bot.tap(&RESIDENT, &ask, "Đồng ý").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM household_members").await, 1);
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("đã vào hộ"));
    bot.tap(&RESIDENT, &ask, "Đồng ý").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã được trả lời"), "a second press counts once");

    bot.private(&NEIGHBOUR, "/hocuatoi").await;
    let theirs = bot.last_to(NEIGHBOUR.id);
    assert!(
        theirs.text.contains(&format!("Hộ #{household}")) && theirs.text.contains("người trong hộ"),
        "{}",
        theirs.text
    );
    assert!(theirs.buttons.is_empty(), "a member sees the household, and does not change it");
    bot.finish().await;
}

#[tokio::test]
async fn a_leader_proposes_someone_for_a_household_and_the_head_accepts() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let household = register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Duyệt").await;
    bot.private(&NEIGHBOUR, "/help").await;

    // A resident cannot; the leader of another group neither.
    bot.group_reply(GROUP_CHAT, &NEIGHBOUR, &format!("/themvaoho {household}"), &RESIDENT).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM household_join_requests").await, 0);

    // In the group, as a reply to the person: the head is asked in private.
    let in_group = bot.messages_to(GROUP_CHAT).len();
    bot.group_reply(GROUP_CHAT, &LEADER, &format!("/themvaoho {household}"), &NEIGHBOUR).await;
    // The leader typed a number: told back which household it is.
    let door = format!("Số 12, ngõ 41, {STREET} — Nguyễn Văn An");
    let asked = bot.last_to(LEADER.id).text;
    assert!(asked.contains(&format!("Đã hỏi chủ hộ {door}")), "{asked}");
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), in_group, "nothing of a household said in the group");
    let ask = bot.last_to(RESIDENT.id);
    assert!(ask.text.contains("đề nghị thêm Bình vào hộ"), "{}", ask.text);
    bot.group_reply(GROUP_CHAT, &LEADER, &format!("/themvaoho {household}"), &NEIGHBOUR).await;
    let waiting = bot.last_to(LEADER.id).text;
    assert!(waiting.contains("đang chờ chủ hộ") && waiting.contains(&door), "asked once: {waiting}");
    bot.tap(&RESIDENT, &ask, "Đồng ý").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("đã vào hộ"), "{}", bot.last_to(NEIGHBOUR.id).text);
    let proposed: Option<i64> =
        sqlx::query_scalar("SELECT proposed_by FROM household_join_requests").fetch_one(bot.db()).await.unwrap();
    assert!(proposed.is_some());
    bot.private(&LEADER, &format!("/themvaoho {household} {}", NEIGHBOUR.id)).await;
    let already = bot.last_to(LEADER.id).text;
    assert!(already.contains(&format!("đã ở trong hộ {door}")), "{already}");
    bot.finish().await;
}
