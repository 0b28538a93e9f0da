//! Counts checked at their own question (issue 31.2): «9» people for a
//! household of 3 is refused where it is typed, saying the bound, and the
//! same question is asked again; nothing is saved, and a count within the
//! bound goes on. Registration bounds its counts by the members answered
//! before; a visit by the household's room left for VNeID level 2, and a
//! resident's own figures by its members, both as they were when the
//! dialogue started, and checked again on saving against the household as
//! it is then.

use serde_json::Value;

use crate::digital::{set_up, MEMBER, R4};
use crate::support::*;

const VNEID_PROMPT: &str = "Trong hộ có mấy người đã có tài khoản định danh điện tử VNeID mức 2 ạ?";
const ADDED_PROMPT: &str = "Lần này có mấy người trong hộ đạt VNeID mức 2 ạ?";
const HEAD: User = User { id: 300_021, first_name: "Ba", last_name: Some("Người") };

/// Where the person's dialogue stands, as stored: `{"at": "step", "index": …}`.
async fn at(bot: &TestBot, who: &User) -> Value {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM dialogues WHERE user_id = ?")
        .bind(who.id.to_string())
        .fetch_optional(bot.db())
        .await
        .unwrap();
    state.map(|s| serde_json::from_str::<Value>(&s).unwrap()["at"].clone()).unwrap_or(Value::Null)
}

/// Types `typed` and checks that it is refused with `refusal`, the same
/// question asked again, and the dialogue still at that question.
async fn refused(bot: &TestBot, who: &User, typed: &str, refusal: &str, prompt: &str) {
    let before = at(bot, who).await;
    assert_eq!(before["at"], "step", "{before}");
    bot.private(who, typed).await;
    let reply = bot.last_to(who.id).text;
    assert!(reply.starts_with(&format!("⚠️ {refusal}\n\n{prompt}")), "{typed}: {reply}");
    assert_eq!(at(bot, who).await, before, "{typed}: still at the question");
}

/// A household of 3 registers: «9» people with VNeID level 2, or using a
/// smartphone, is refused at its question; 3 is taken.
#[tokio::test]
async fn registration_refuses_a_count_above_the_members_at_its_own_question() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.mark_personal(&["0912000021", "Xuân La"]);
    bot.private(&HEAD, "/start dk-1").await;
    for answer in ["Người Văn Ba", "21", "Không ở trong ngõ", "Xuân La", "0912000021", "3", "xong"] {
        bot.private(&HEAD, answer).await;
    }
    let smartphone = "Trong hộ có mấy người dùng điện thoại thông minh ạ?";
    refused(&bot, &HEAD, "9", "Hộ có 3 người, xin nhập một số từ 0 đến 3.", smartphone).await;
    refused(&bot, &HEAD, "bốn", "Hộ có 3 người, xin nhập một số từ 0 đến 3.", smartphone).await;
    bot.private(&HEAD, "2").await;
    bot.private(&HEAD, "có").await;
    refused(&bot, &HEAD, "9", "Hộ có 3 người, xin nhập một số từ 0 đến 3.", VNEID_PROMPT).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 0, "nothing saved");
    bot.private(&HEAD, "3").await;
    let summary = bot.last_to(HEAD.id);
    assert!(summary.text.contains("Số người có VNeID mức 2: 3"), "{}", summary.text);

    // Fewer members after an edit: the count above them is asked again
    // at once, not at «Xác nhận».
    bot.tap(&HEAD, &summary, "Sửa").await;
    bot.private(&HEAD, "6").await; // the members, sixth in the list
    bot.private(&HEAD, "2").await;
    let asked = bot.last_to(HEAD.id).text;
    assert!(
        asked.starts_with("⚠️ Hộ có 2 người, xin nhập một số từ 0 đến 2.\n\n") && asked.contains("(Hiện tại: 3)"),
        "{asked}"
    );
    assert!(asked.contains(VNEID_PROMPT), "{asked}");
    bot.private(&HEAD, "2").await;
    bot.tap(&HEAD, &bot.last_to(HEAD.id), "Xác nhận").await;
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM households WHERE members = 2 AND smartphone_users = 2 AND vneid_level2 = 2")
            .await,
        1
    );
    bot.assert_no_personal_data_in_groups();
    bot.finish().await;
}

/// A visit to a household of 4 where 3 have VNeID level 2: more than 1
/// reaching it on this visit is refused at its question. Checked again on
/// saving: the resident's own update meanwhile leaves no room, and the
/// member is sent back to the checklist.
#[tokio::test]
async fn a_visit_refuses_more_vneid_than_the_room_left_at_its_own_question() {
    let bot = TestBot::start().await;
    let [.., h102] = set_up(&bot).await;
    bot.private(&MEMBER, "/ditham").await;
    let list = bot.last_to(MEMBER.id);
    bot.press(&MEMBER, &list, &format!("dt:v:{h102}")).await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Hôm nay").await;
    bot.private(&MEMBER, "1").await;
    bot.private(&MEMBER, "1, 2").await;
    let room = "Hộ có 4 người, 3 người đã có VNeID mức 2, nên lần này nhiều nhất 1 người. Xin nhập lại.";
    refused(&bot, &MEMBER, "9", room, ADDED_PROMPT).await;
    refused(&bot, &MEMBER, "2", room, ADDED_PROMPT).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM visits").await, 0, "nothing saved");
    bot.private(&MEMBER, "1").await;
    bot.private(&MEMBER, "Không ghi chú").await;
    let summary = bot.last_to(MEMBER.id);
    assert!(summary.text.contains("Số người đạt VNeID mức 2: 1"), "{}", summary.text);

    // Meanwhile the household says its fourth member has it too.
    bot.private(&R4, "/hocuatoi").await;
    bot.tap(&R4, &bot.last_to(R4.id), "công dân số").await;
    bot.tap(&R4, &bot.last_to(R4.id), "Sửa").await;
    bot.private(&R4, "3").await;
    bot.private(&R4, "4").await;
    bot.tap(&R4, &bot.last_to(R4.id), "Xác nhận").await;
    assert!(bot.last_to(R4.id).text.contains("Đã cập nhật"), "{}", bot.last_to(R4.id).text);

    bot.tap(&MEMBER, &summary, "Xác nhận").await;
    let back = bot.last_to(MEMBER.id).text;
    assert!(back.starts_with("⚠️ Cả 4 người trong hộ đã có VNeID mức 2 rồi ạ. Xin bỏ chọn việc VNeID."), "{back}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM visits").await, 0, "checked again on saving");
    bot.private(&MEMBER, "2").await; // the payment account alone
    bot.private(&MEMBER, "xong").await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Xác nhận").await;
    assert!(bot.last_to(MEMBER.id).text.contains("Đã ghi lần thăm hộ"), "{}", bot.last_to(MEMBER.id).text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM visits WHERE vneid_added = 0").await, 1);
    bot.assert_no_personal_data_in_groups();
    bot.finish().await;
}

/// A resident of a household of 4 updating their own figures: «9» is
/// refused at its question, 4 is taken. Checked again on saving against
/// the household as it is then (its members lowered meanwhile).
#[tokio::test]
async fn own_figures_refuse_a_count_above_the_members_at_its_own_question() {
    let bot = TestBot::start().await;
    let [.., h102] = set_up(&bot).await;
    bot.private(&R4, "/hocuatoi").await;
    bot.tap(&R4, &bot.last_to(R4.id), "công dân số").await;
    bot.tap(&R4, &bot.last_to(R4.id), "Sửa").await;
    bot.private(&R4, "3").await; // the VNeID count, third in the list
    refused(&bot, &R4, "9", "Hộ có 4 người, xin nhập một số từ 0 đến 4.", VNEID_PROMPT).await;
    let vneid = || async {
        sqlx::query_scalar::<_, i64>("SELECT vneid_level2 FROM households WHERE id = ?")
            .bind(h102)
            .fetch_one(bot.db())
            .await
            .unwrap()
    };
    assert_eq!(vneid().await, 3, "nothing saved");
    bot.private(&R4, "4").await;
    let summary = bot.last_to(R4.id);
    assert!(summary.text.contains("Số người có VNeID mức 2: 4"), "{}", summary.text);

    // The household as it is on saving: a leader approved 3 members since.
    sqlx::query("UPDATE households SET members = 3 WHERE id = ?").bind(h102).execute(bot.db()).await.unwrap();
    bot.tap(&R4, &summary, "Xác nhận").await;
    let back = bot.last_to(R4.id).text;
    assert!(back.starts_with("⚠️ Hộ có 3 người, nên số này nhiều nhất là 3. Xin nhập lại."), "{back}");
    assert_eq!(vneid().await, 3, "checked again on saving");
    bot.private(&R4, "2").await;
    bot.tap(&R4, &bot.last_to(R4.id), "Xác nhận").await;
    assert!(bot.last_to(R4.id).text.contains("Đã cập nhật"), "{}", bot.last_to(R4.id).text);
    assert_eq!(vneid().await, 2);
    bot.finish().await;
}
