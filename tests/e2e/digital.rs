//! Community digital teams (issue 23): an official makes a team and names
//! its members; a member walks the list of households still short of the
//! ward's targets, in walking order, pages and searches it, and records
//! visits that move the households' indicators with events; residents
//! update their own; `/tiendo` ranks teams and groups; members get a
//! weekly summary; `/xuatexcel` has the visits.

use chrono::Duration;
use serde_json::json;
use todanpho::clock::Clock;

use crate::support::*;

pub const MEMBER: User = User { id: 400_001, first_name: "Phạm", last_name: Some("Thị Số") };
const MEMBER_2: User = User { id: 400_002, first_name: "Vũ", last_name: Some("Văn Hai") };
pub const R1: User = User { id: 300_011, first_name: "Một", last_name: None };
pub const R2: User = User { id: 300_012, first_name: "Hai", last_name: None };
pub const R3: User = User { id: 300_013, first_name: "Ba", last_name: None };
pub const R4: User = User { id: 300_014, first_name: "Bốn", last_name: None };

/// Registers a household in group 1 at an address (lane None: on the
/// street), and has the leader approve it. Returns its id.
pub async fn household(
    bot: &TestBot,
    who: &User,
    name: &str,
    house: &str,
    lane: Option<&str>,
    street: &str,
    phone: &str,
) -> i64 {
    bot.mark_personal(&[phone]);
    let lane = lane.unwrap_or("Không ở trong ngõ");
    for answer in ["/start dk-1", name, house, lane, street, phone, "4", "1, 5", "2", "co", "3", "xác nhận"] {
        bot.private(who, answer).await;
    }
    let review = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &review, "Duyệt").await;
    sqlx::query_scalar("SELECT MAX(id) FROM households").fetch_one(bot.db()).await.unwrap()
}

/// The world: group 1 with four approved households, team 1 covering it
/// with MEMBER.
pub async fn set_up(bot: &TestBot) -> [i64; 4] {
    bot.setup_group().await;
    let ids = [
        household(bot, &R1, "Nguyễn Văn Một", "14", Some("ngõ 41"), "Xuân La", "0912000001").await,
        household(bot, &R2, "Trần Thị Hai", "8", None, "Xuân La", "0912000002").await,
        household(bot, &R3, "Lê Văn Ba", "2", Some("Ngõ 9"), "Xuân La", "0912000003").await,
        household(bot, &R4, "Đỗ Thị Bốn", "102", None, "Hoàng Quốc Việt", "0912000004").await,
    ];
    bot.private(&OFFICIAL, "/tocongnghe tao Tổ CNS số 1: Tổ dân phố số 12").await;
    assert!(
        bot.last_to(OFFICIAL.id).text.contains("Đã lập «Tổ CNS số 1» (đội số 1)"),
        "{}",
        bot.last_to(OFFICIAL.id).text
    );
    bot.group_reply(GROUP_CHAT, &OFFICIAL, "/tocongnghe them 1", &MEMBER).await;
    ids
}

/// Records a visit through the dialogue, from the walking list's button
/// for `household`: today, met, `done` typed as numbers ("" for none of
/// the checklist), `vneid` people when asked, no note.
async fn visit(bot: &TestBot, who: &User, list: &Sent, household: i64, outcome: &str, done: &str, vneid: Option<&str>) {
    bot.press(who, list, &format!("dt:v:{household}")).await;
    bot.tap(who, &bot.last_to(who.id), "Hôm nay").await;
    bot.private(who, outcome).await;
    if outcome == "1" {
        // One number picks it (and waits for «Xong»); a list is the answer.
        if !done.is_empty() {
            bot.private(who, done).await;
        }
        if !done.contains(',') {
            bot.private(who, "xong").await;
        }
    }
    if let Some(n) = vneid {
        bot.private(who, n).await;
    }
    bot.private(who, "Không ghi chú").await;
    let summary = bot.last_to(who.id);
    assert!(summary.text.contains("kiểm tra lại lần thăm"), "{}", summary.text);
}

async fn indicators(bot: &TestBot, household: i64) -> (i64, bool, i64) {
    sqlx::query_as("SELECT smartphone_users, has_epayment, vneid_level2 FROM households WHERE id = ?")
        .bind(household)
        .fetch_one(bot.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_member_walks_the_list_and_visits_move_the_indicators_with_events() {
    let bot = TestBot::start().await;
    let [h14, h8, h2, h102] = set_up(&bot).await;
    assert!(bot.last_to(MEMBER.id).text.contains("Bác đã được thêm vào «Tổ CNS số 1»"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM household_baselines").await, 4, "every registration has its baseline");

    // A resident does not reach the list.
    bot.private(&R1, "/ditham").await;
    assert!(bot.last_to(R1.id).text.starts_with("Xin lỗi"), "{}", bot.last_to(R1.id).text);

    // The member's list: walking order, the whole group.
    bot.private(&MEMBER, "/ditham").await;
    let list = bot.last_to(MEMBER.id);
    let order: Vec<usize> = ["số 102, Hoàng Quốc Việt", "số 8, Xuân La", "số 2, Ngõ 9", "số 14, ngõ 41"]
        .iter()
        .map(|a| list.text.find(a).unwrap_or_else(|| panic!("{a} missing from {}", list.text)))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "walking order: {}", list.text);
    assert!(list.text.contains("VNeID mức 2 (3/4 người)") && list.text.contains("chưa thăm"), "{}", list.text);
    assert_eq!(list.buttons.iter().filter(|(_, d)| d.starts_with("dt:v:")).count(), 4);

    // A visit: VNeID for 2 is more than the household has room for (3 of
    // 4 have it), refused at its question; 1 is saved with the payment
    // account.
    bot.press(&MEMBER, &list, &format!("dt:v:{h14}")).await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Hôm nay").await;
    for answer in ["1", "1, 2", "2"] {
        bot.private(&MEMBER, answer).await;
    }
    assert!(bot.last_to(MEMBER.id).text.contains("nhiều nhất 1 người"), "{}", bot.last_to(MEMBER.id).text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM visits").await, 0, "nothing saved on a refused count");
    bot.private(&MEMBER, "1").await;
    bot.private(&MEMBER, "Không ghi chú").await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Xác nhận").await;
    let saved = bot.last_to(MEMBER.id).text;
    assert!(
        saved.contains("Đã ghi lần thăm hộ số 14, ngõ 41, Xuân La") && saved.contains("VNeID mức 2: 4/4"),
        "{saved}"
    );
    assert_eq!(indicators(&bot, h14).await, (4, true, 4));
    let events: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT indicator, before, after, source FROM indicator_events WHERE household_id = ? ORDER BY indicator",
    )
    .bind(h14)
    .fetch_all(bot.db())
    .await
    .unwrap();
    assert_eq!(
        events,
        vec![("smartphone_users".into(), 2, 4, "visit".into()), ("vneid_level2".into(), 3, 4, "visit".into())],
        "each change an event; the payment account was already there"
    );
    let team: Option<i64> = sqlx::query_scalar("SELECT team_id FROM visits").fetch_one(bot.db()).await.unwrap();
    assert_eq!(team, Some(1), "the visit counts for the member's team");

    // Not at home: kept, and the household stays on the list with it.
    visit(&bot, &MEMBER, &list, h8, "2", "", None).await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Xác nhận").await;
    bot.private(&MEMBER, "/ditham").await;
    let list = bot.last_to(MEMBER.id);
    assert!(!list.text.contains("số 14, ngõ 41"), "a household that reached every target and was visited is done");
    assert!(list.text.contains("thăm gần nhất 23/11: không có nhà"), "{}", list.text);

    // Search by house number and by the head's name (without accents).
    bot.private(&MEMBER, "/ditham 102").await;
    let found = bot.last_to(MEMBER.id);
    assert!(found.text.contains("số 102, Hoàng Quốc Việt") && !found.text.contains("Xuân La"), "{}", found.text);
    bot.private(&MEMBER, "/ditham le van ba").await;
    assert!(bot.last_to(MEMBER.id).text.contains("số 2, Ngõ 9"));
    bot.private(&MEMBER, "/ditham 999").await;
    assert!(bot.last_to(MEMBER.id).text.contains("Không tìm thấy hộ"));

    // Two members record the same household at the same moment: both
    // visits and their events are kept, each event starting where the
    // other left the figure.
    bot.private(&OFFICIAL, &format!("/tocongnghe them 1 {}", MEMBER_2.id)).await;
    bot.private(&MEMBER_2, "/ditham").await;
    let list_2 = bot.last_to(MEMBER_2.id);
    for who in [&MEMBER, &MEMBER_2] {
        visit(&bot, who, if who.id == MEMBER.id { &list } else { &list_2 }, h2, "1", "2, 4", None).await;
    }
    let (a, b) = (bot.last_to(MEMBER.id), bot.last_to(MEMBER_2.id));
    tokio::join!(bot.tap(&MEMBER, &a, "Xác nhận"), bot.tap(&MEMBER_2, &b, "Xác nhận"));
    assert_eq!(bot.count(&format!("SELECT COUNT(*) FROM visits WHERE household_id = {h2}")).await, 2);
    assert_eq!(
        bot.count(&format!(
            "SELECT COUNT(*) FROM indicator_events WHERE household_id = {h2} AND indicator = 'joined_group'"
        ))
        .await,
        1,
        "the second found it done: no event that changes nothing"
    );
    assert_eq!(bot.count(&format!("SELECT joined_group FROM household_digital WHERE household_id = {h2}")).await, 1);

    // A member removed from the team: their buttons stop working.
    bot.private(&OFFICIAL, &format!("/tocongnghe bo 1 {}", MEMBER_2.id)).await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("Đã đưa") && bot.last_to(OFFICIAL.id).text.contains("ra khỏi"));
    let before = bot.count("SELECT COUNT(*) FROM visits").await;
    bot.press(&MEMBER_2, &list_2, &format!("dt:v:{h102}")).await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"), "{:?}", bot.callback_answers().last());
    bot.private(&MEMBER_2, "/ditham").await;
    assert!(bot.last_to(MEMBER_2.id).text.starts_with("Xin lỗi"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM visits").await, before);

    // Another resident's household is not theirs to update.
    let card = bot.last_to(R1.id);
    bot.press(&R1, &card, &format!("hm:dg:{h102}")).await;
    assert!(bot.callback_answers().last().unwrap().contains("Không tìm thấy hộ"), "{:?}", bot.callback_answers());

    // A resident updates their own figures from /hocuatoi, at once.
    bot.private(&R4, "/hocuatoi").await;
    bot.tap(&R4, &bot.last_to(R4.id), "công dân số").await;
    let summary = bot.last_to(R4.id);
    assert!(summary.text.contains("Số người có VNeID mức 2"), "{}", summary.text);
    bot.tap(&R4, &summary, "Sửa").await;
    bot.private(&R4, "3").await; // the VNeID count, third in the list
    bot.private(&R4, "9").await;
    let asked = bot.last_to(R4.id).text;
    assert!(asked.contains("Hộ có 4 người, xin nhập một số từ 0 đến 4."), "{asked}");
    assert_eq!(indicators(&bot, h102).await, (2, true, 3), "nothing saved on a count above the members");
    bot.private(&R4, "4").await;
    bot.tap(&R4, &bot.last_to(R4.id), "Xác nhận").await;
    assert!(bot.last_to(R4.id).text.contains("Đã cập nhật thông tin công dân số"), "{}", bot.last_to(R4.id).text);
    assert_eq!(indicators(&bot, h102).await, (2, true, 4));
    let source: String = sqlx::query_scalar("SELECT source FROM indicator_events WHERE household_id = ?")
        .bind(h102)
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert_eq!(source, "resident", "marked as their own");

    bot.assert_no_personal_data_in_groups();
    bot.assert_every_button_is_known();
    bot.finish().await;
}

#[tokio::test]
async fn progress_ranks_teams_and_groups_and_members_get_their_week() {
    let mut bot = TestBot::start().await;
    let [h14, ..] = set_up(&bot).await;
    bot.private(&MEMBER, "/ditham").await;
    let list = bot.last_to(MEMBER.id);
    visit(&bot, &MEMBER, &list, h14, "1", "1", Some("1")).await;
    bot.tap(&MEMBER, &bot.last_to(MEMBER.id), "Xác nhận").await;

    bot.private(&MEMBER, "/tiendo").await;
    let progress = bot.last_to(MEMBER.id).text;
    assert!(progress.contains("Hộ đã đăng ký: 4 · đã được thăm: 1 (25%)"), "{progress}");
    assert!(progress.contains("Tổ CNS số 1 — 1 lần thăm, 1 hộ có thêm chỉ số"), "{progress}");
    assert!(progress.contains("Hộ có người dùng điện thoại thông minh: 100% → 100% (mục tiêu 80%)"), "{progress}");
    bot.private(&OFFICIAL, "/tiendo Tổ dân phố số 12 30d").await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("30 ngày qua"), "{}", bot.last_to(OFFICIAL.id).text);
    bot.private(&R1, "/tiendo").await;
    assert!(bot.last_to(R1.id).text.starts_with("Xin lỗi"));
    bot.private(&LEADER, "/tiendo 99").await;
    assert!(bot.last_to(LEADER.id).text.contains("Không tìm thấy"), "{}", bot.last_to(LEADER.id).text);

    // The chart, as a photo in private.
    bot.private(&MEMBER, "/tiendo bieudo").await;
    let photos: Vec<_> = bot.tg.requests().into_iter().filter(|r| r.method == "sendPhoto").collect();
    let chart = photos.last().expect("a chart");
    assert_eq!(chart.body["chat_id"], json!(MEMBER.id));
    let part = chart.body["photo"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("photo");
    let png = &chart.files.iter().find(|(name, _)| name == part).expect("the PNG").1;
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");

    // The export has the visit, and each group's indicators.
    bot.private(&OFFICIAL, "/xuatexcel").await;
    let upload = bot.tg.requests().into_iter().find(|r| r.method == "sendDocument").expect("a workbook");
    let part = upload.body["document"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("document");
    let bytes = &upload.files.iter().find(|(name, _)| name == part).unwrap().1;
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let visits = book.worksheet_range("Thăm hộ").unwrap();
    assert_eq!(visits.height(), 2);
    assert_eq!(visits.get((1, 0)), Some(&Data::String("23/11/2026".into())));
    assert_eq!(visits.get((1, 2)), Some(&Data::String("Tổ CNS số 1".into())));
    assert_eq!(visits.get((1, 7)), Some(&Data::Float(1.0)));
    let groups = book.worksheet_range("Công dân số theo tổ").unwrap();
    assert_eq!(groups.get((1, 0)), Some(&Data::String("Tổ dân phố số 12".into())));
    assert_eq!(groups.get((1, 2)), Some(&Data::Float(1.0)), "one household visited");

    // The weekly summary: Monday 08:00 in the ward's zone (the test clock
    // starts Monday 07:00 there), once, then a week later with the visit.
    let summaries = |bot: &TestBot| {
        bot.messages_to(MEMBER.id)
            .into_iter()
            .filter(|m| m.text.contains("Tổng kết tuần"))
            .map(|m| m.text)
            .collect::<Vec<_>>()
    };
    assert!(summaries(&bot).is_empty(), "not before its time");
    bot.clock.advance(Duration::minutes(61));
    bot.wait_for(MEMBER.id, "Tổng kết tuần", 1).await;
    assert!(
        summaries(&bot)[0].contains("chưa ghi lần thăm nào") && summaries(&bot)[0].contains("còn 3 hộ cần đến"),
        "{:?}",
        summaries(&bot)
    );
    bot.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(summaries(&bot).len(), 1, "a restart does not send it again");
    bot.clock.advance(Duration::days(7));
    bot.wait_for(MEMBER.id, "Tổng kết tuần", 2).await;
    let last = summaries(&bot).pop().unwrap();
    assert!(last.contains("(23/11 – 29/11)") && last.contains("đã thăm 1 lần, giúp 1 hộ"), "{last}");
    bot.finish().await;
}

/// A group of many households: 10 a page, in walking order across pages,
/// numbered on each page; paging edits the list in place.
#[tokio::test]
async fn the_walking_list_pages_in_order() {
    let bot = TestBot::start().await;
    set_up(&bot).await;
    // Twelve more on "Xuân La", house numbers 20–31 (the four of set_up
    // are 102 Hoàng Quốc Việt, 8 Xuân La, 2 ngõ 9, 14 ngõ 41).
    let now = bot.clock.now();
    for n in 20..32 {
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', ?, 'X', ?) RETURNING id",
        )
        .bind(format!("77{n}"))
        .bind(now)
        .fetch_one(bot.db())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street, phone,
                members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (1, ?, ?, 'x', ?, 'Xuân La', '0912345678', 2, 0, 0, 0, 'approved', ?, ?)",
        )
        .bind(user)
        .bind(format!("Hộ số {n}"))
        .bind(n.to_string())
        .bind(now)
        .bind(now)
        .execute(bot.db())
        .await
        .unwrap();
    }
    bot.private(&MEMBER, "/ditham").await;
    let first = bot.last_to(MEMBER.id);
    assert!(first.text.contains("trang 1/2, 16 hộ"), "{}", first.text);
    // 102 HQV, then Xuân La: 8, 20 … 27 on the street (before the lanes).
    assert!(
        first.text.contains("1. số 102, Hoàng Quốc Việt") && first.text.contains("10. số 27, Xuân La"),
        "{}",
        first.text
    );
    assert!(!first.text.contains("số 28,"), "{}", first.text);
    assert_eq!(first.buttons.iter().filter(|(_, d)| d.starts_with("dt:v:")).count(), 10);
    bot.tap(&MEMBER, &first, "Trang sau").await;
    let second = bot.edits_in(MEMBER.id).pop().expect("the list is edited in place");
    assert!(second.text.contains("trang 2/2"), "{}", second.text);
    assert!(
        second.text.contains("1. số 28, Xuân La") && second.text.contains("6. số 14, ngõ 41, Xuân La"),
        "{}",
        second.text
    );
    assert!(second.buttons.iter().any(|(l, _)| l.contains("Trang trước")), "{:?}", second.buttons);
    bot.finish().await;
}
