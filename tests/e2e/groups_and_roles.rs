//! Linking groups, appointing leaders and officials, and role checks.

use crate::support::*;

#[tokio::test]
async fn official_links_a_group_and_lists_groups() {
    let bot = TestBot::start().await;
    bot.group(GROUP_CHAT, &OFFICIAL, "/lienket Tổ dân phố số 12").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("Đã liên kết nhóm chat này với «Tổ dân phố số 12»"));
    // The same name without diacritics is the same group.
    bot.group(GROUP_CHAT, &OFFICIAL, "/lienket to dan pho so 12").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("từ trước"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM groups").await, 1);
    bot.group(-4_000_000_099, &OFFICIAL, "/lienket@todanpho_test_bot Thôn Song Phượng").await;

    bot.private(&OFFICIAL, "/nhom").await;
    let list = bot.last_to(OFFICIAL.id).text;
    assert!(
        list.contains("#1. Tổ dân phố số 12 — 1 nhóm chat, chưa có tổ trưởng") && list.contains("#2. Thôn Song Phượng"),
        "{list}"
    );
    bot.group_reply(GROUP_CHAT, &OFFICIAL, "/phancong", &LEADER).await;
    bot.private(&OFFICIAL, "/nhom").await;
    let list = bot.last_to(OFFICIAL.id).text;
    assert!(list.contains("#1. Tổ dân phố số 12 — 1 nhóm chat, tổ trưởng/tổ phó: Lê Thị Hoa, 0 hộ đã duyệt"), "{list}");
    bot.group(GROUP_CHAT, &OFFICIAL, "/lienket").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("Xin gõ kèm tên"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action = 'group.link'").await, 3);
    bot.finish().await;
}

#[tokio::test]
async fn residents_cannot_link_appoint_or_list() {
    let bot = TestBot::start().await;
    bot.group(GROUP_CHAT, &RESIDENT, "/lienket Tổ dân phố số 12").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ cán bộ phường"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM groups").await, 0);

    bot.setup_group().await;
    bot.group_reply(GROUP_CHAT, &RESIDENT, "/phancong", &NEIGHBOUR).await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ cán bộ phường"));
    bot.private(&RESIDENT, &format!("/phancong {} canbo", RESIDENT.id)).await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chỉ cán bộ phường"));
    // A leader is not an official either.
    bot.group_reply(GROUP_CHAT, &LEADER, "/phancong", &NEIGHBOUR).await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ cán bộ phường"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM officials").await, 1);

    bot.private(&RESIDENT, "/nhom").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chỉ cán bộ phường"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'role.%'").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn appoint_and_revoke_leaders_and_officials() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    assert!(bot
        .last_to(GROUP_CHAT)
        .text
        .contains("Đã phân công Lê Thị Hoa làm tổ trưởng / tổ phó của «Tổ dân phố số 12»"));
    assert!(bot.last_to(LEADER.id).text.contains("được phân công"), "the new leader is told privately");

    // In private, by user id and group number.
    bot.private(&OFFICIAL, &format!("/phancong {} 1", NEIGHBOUR.id)).await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("Đã phân công"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders").await, 2);
    bot.private(&OFFICIAL, &format!("/phancong huy {} Tổ dân phố số 12", NEIGHBOUR.id)).await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("Đã thu hồi"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders").await, 1);
    bot.private(&OFFICIAL, &format!("/phancong {} Tổ không có", NEIGHBOUR.id)).await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("Không tìm thấy tổ dân phố"));

    // Revoke in the group by reply.
    bot.group_reply(GROUP_CHAT, &OFFICIAL, "/phancong huy", &LEADER).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders").await, 0);

    // A new official can appoint in turn.
    bot.private(&OFFICIAL, &format!("/phancong {} cán bộ", NEIGHBOUR.id)).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM officials").await, 2);
    bot.group_reply(GROUP_CHAT, &NEIGHBOUR, "/phancong", &LEADER).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM leaders").await, 1);

    // The last official cannot be removed, nor can one remove oneself.
    bot.private(&OFFICIAL, &format!("/phancong huy {} canbo", OFFICIAL.id)).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM officials").await, 2);
    bot.private(&OFFICIAL, &format!("/phancong huy {} canbo", NEIGHBOUR.id)).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM officials").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'role.%'").await, 7);
    bot.finish().await;
}

#[tokio::test]
async fn a_forged_review_button_from_another_group_leader_is_refused() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    // NEIGHBOUR leads another group, not this one.
    bot.group(-4_000_000_077, &OFFICIAL, "/lienket Tổ dân phố số 3").await;
    bot.group_reply(-4_000_000_077, &OFFICIAL, "/phancong", &NEIGHBOUR).await;
    let id = crate::registration::register(&bot, &RESIDENT).await;
    let review = bot.last_to(LEADER.id);
    bot.press(&NEIGHBOUR, &review, &format!("hh:ok:{id}")).await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"));
    bot.press(&NEIGHBOUR, &review, "hh:ok:999").await;
    bot.press(&NEIGHBOUR, &review, "hh:ok:1:junk").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE status = 'pending'").await, 1);
    // The registration's own row only: the refused presses wrote none.
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'household.%'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action = 'household.register'").await, 1);
    // An official may decide for any group.
    bot.press(&OFFICIAL, &review, &format!("hh:ok:{id}")).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE status = 'approved'").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn help_depends_on_the_role() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.private(&RESIDENT, "/help").await;
    let resident = bot.last_to(RESIDENT.id).text;
    assert!(
        resident.contains("/dangky") && !resident.contains("/lienket") && !resident.contains("/phancong"),
        "{resident}"
    );
    bot.private(&OFFICIAL, "/help").await;
    let official = bot.last_to(OFFICIAL.id).text;
    assert!(
        official.contains("/lienket") && official.contains("/phancong") && official.contains("/nhom"),
        "{official}"
    );
    bot.private(&LEADER, "/start").await;
    let leader = bot.last_to(LEADER.id).text;
    assert!(leader.contains("tổ trưởng") && !leader.contains("/phancong"), "{leader}");
    bot.private(&RESIDENT, "/khongco").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chưa hiểu lệnh"));
    let before = bot.messages_to(GROUP_CHAT).len();
    bot.group(GROUP_CHAT, &RESIDENT, "/lenhcuabotkhac").await;
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), before, "unknown commands in a group are left alone");
    bot.finish().await;
}

#[tokio::test]
async fn unlinked_group_and_group_picker_in_private() {
    let bot = TestBot::start().await;
    bot.group(GROUP_CHAT, &RESIDENT, "/dangky").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chưa được liên kết"));
    bot.private(&RESIDENT, "/dangky").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chưa có tổ dân phố"));

    bot.setup_group().await;
    bot.group(-4_000_000_077, &OFFICIAL, "/lienket Tổ dân phố số 3").await;
    bot.private(&RESIDENT, "/dangky").await;
    let picker = bot.last_to(RESIDENT.id);
    assert!(picker.text.contains("tổ dân phố nào"));
    bot.tap(&RESIDENT, &picker, "Tổ dân phố số 3").await;
    let sent = bot.messages_to(RESIDENT.id);
    assert!(sent[sent.len() - 2].text.contains("Tổ dân phố số 3"));
    crate::registration::fill_form(&bot, &RESIDENT).await;
    let summary = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    // Group 2 has no leader: the officials review.
    assert_eq!(bot.count("SELECT COUNT(*) FROM households WHERE group_id = 2").await, 1);
    assert!(bot.last_to(OFFICIAL.id).text.contains("Đăng ký hộ mới — Tổ dân phố số 3"));
    bot.finish().await;
}

/// Names the Vietnamese way (issue 20.2): Telegram's "Nam" + "Lê Văn" reads
/// "Lê Văn Nam" in the appointment and the notice's signature; a registered
/// head of household is named as registered in the honour list.
#[tokio::test]
async fn names_are_shown_family_name_first() {
    const NAM: User = User { id: 200_077, first_name: "Nam", last_name: Some("Lê Văn") };
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.group_reply(GROUP_CHAT, &OFFICIAL, "/phancong", &NAM).await;
    let appointed = bot.last_to(GROUP_CHAT).text;
    assert!(appointed.contains("Lê Văn Nam") && !appointed.contains("Nam Lê"), "{appointed}");
    bot.group(GROUP_CHAT, &NAM, "/thongbao Họp tổ tối thứ Bảy").await;
    let preview = bot.last_to(NAM.id);
    bot.tap(&NAM, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "THÔNG BÁO TB1", 1).await;
    let notice = bot.messages_to(GROUP_CHAT).into_iter().find(|m| m.text.contains("THÔNG BÁO TB1")).unwrap();
    assert!(notice.text.contains("— Lê Văn Nam, tổ trưởng"), "{}", notice.text);

    let household = crate::registration::register(&bot, &RESIDENT).await;
    let review = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    bot.tap(&LEADER, &review, "Duyệt").await;
    assert!(household > 0);
    for answer in crate::scripts::campaign(1) {
        bot.private(&LEADER, &answer).await;
    }
    bot.private(&RESIDENT, "/start uh-1").await;
    for answer in ["500k", "Ghi tên tôi", "1", "xác nhận"] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.private(&LEADER, "/xacnhan P0001").await;
    bot.private(&LEADER, "/ketthuc UH1").await;
    let closing = bot.messages_to(GROUP_CHAT).into_iter().find(|m| m.text.contains("KẾT THÚC")).unwrap();
    assert!(closing.text.contains("1. Nguyễn Văn An — 500.000 đ"), "{}", closing.text);
    bot.finish().await;
}
