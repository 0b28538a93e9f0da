//! Scene reports, docs/design.md, flow 2: from a resident's photo to a closed,
//! rated case.

use chrono::Duration;
use serde_json::json;

use crate::support::*;

/// Files a report through the dialogue: category by label, description,
/// photos (or none), an address or a pin. Returns the code's number.
pub async fn file_report(
    bot: &TestBot,
    user: &User,
    category: &str,
    description: &str,
    photos: &[&str],
    address: Option<&str>,
) -> i64 {
    bot.private(user, "/start pa-1").await;
    bot.private(user, category).await;
    bot.private(user, description).await;
    for p in photos {
        bot.photo(user, p).await;
    }
    if photos.len() < 3 {
        bot.private(user, if photos.is_empty() { "bỏ qua" } else { "xong" }).await;
    }
    match address {
        Some(a) => bot.private(user, a).await,
        None => bot.private(user, "Không gửi vị trí").await,
    };
    let summary = bot.last_to(user.id);
    assert!(summary.text.contains("kiểm tra lại phản ánh"), "{}", summary.text);
    bot.tap(user, &summary, "Xác nhận").await;
    bot.count("SELECT MAX(id) FROM reports").await
}

#[tokio::test]
async fn a_report_with_photos_and_a_pin_goes_through_its_whole_life() {
    let bot = TestBot::start().await;
    bot.setup_group().await;

    bot.group(GROUP_CHAT, &RESIDENT, "/phananh").await;
    assert_eq!(bot.last_to(GROUP_CHAT).button("Gửi phản ánh"), "https://t.me/todanpho_test_bot?start=pa-1");
    bot.private(&RESIDENT, "/start pa-1").await;
    let categories = bot.last_to(RESIDENT.id);
    assert_eq!(categories.buttons.len(), 8, "{:?}", categories.buttons);
    assert!(categories.buttons.iter().any(|(l, _)| l == "Phòng cháy chữa cháy"));

    // Wrong kinds of answer change nothing.
    bot.photo(&RESIDENT, "too-early").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Xin bấm một nút"));
    bot.sticker(&RESIDENT).await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chưa đọc được loại tin này"));
    bot.edited(&RESIDENT, "Chiếu sáng").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("tin nhắn đã sửa"));
    bot.tap(&RESIDENT, &categories, "Chiếu sáng").await;

    bot.private(&RESIDENT, &"đèn hỏng ".repeat(456)).await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không dài quá 1000 ký tự"));
    bot.private(&RESIDENT, "Đèn đường trước số 12 ngõ 41 hỏng 3 hôm nay").await;
    bot.photo(&RESIDENT, "photo-a").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Đã nhận ảnh 1/3"));
    bot.photo(&RESIDENT, "photo-b").await;
    let more = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &more, "Xong").await;

    // The location question offers Telegram's location button.
    let ask = bot.last_to(RESIDENT.id);
    assert_eq!(ask.body["reply_markup"]["keyboard"][0][0]["request_location"], json!(true), "{}", ask.body);
    bot.location(&RESIDENT, 200.0, 105.0).await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Xin bấm nút «📍 Gửi vị trí hiện tại»"));
    bot.location(&RESIDENT, 51.5, -0.12).await; // London: valid, but not the ward
    let summary = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không nằm ở Việt Nam"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports").await, 0);
    bot.location(&RESIDENT, 21.0478, 105.7938).await;
    let cleared = bot.messages_to(RESIDENT.id);
    assert!(cleared.iter().any(|m| m.body["reply_markup"]["remove_keyboard"] == json!(true)));
    let summary = bot.last_to(RESIDENT.id);
    assert!(summary.text.contains("Chiếu sáng") && summary.text.contains("2 ảnh"), "{}", summary.text);
    assert!(summary.text.contains("Vị trí: đã gửi trên bản đồ"), "said once: {}", summary.text);
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Đã nhận phản ánh PA-000001"));

    let row: (String, String, f64, String) =
        sqlx::query_as("SELECT category, status, latitude, description FROM reports WHERE id = 1")
            .fetch_one(bot.db())
            .await
            .unwrap();
    assert_eq!(row, ("chieu_sang".into(), "new".into(), 21.0478, "Đèn đường trước số 12 ngõ 41 hỏng 3 hôm nay".into()));
    assert_eq!(bot.count("SELECT COUNT(*) FROM report_photos WHERE report_id = 1").await, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM report_events WHERE report_id = 1").await, 1);

    // Leaders and officials get photos by file_id, the pin, and the buttons.
    for staff in [LEADER.id, OFFICIAL.id] {
        let photos: Vec<_> = bot.requests_to("sendPhoto", staff).iter().map(|b| b["photo"].clone()).collect();
        assert_eq!(photos, vec![json!("photo-a"), json!("photo-b")]);
        assert_eq!(bot.requests_to("sendLocation", staff)[0]["latitude"], json!(21.0478));
        let case = bot.last_to(staff);
        assert!(
            case.text.contains("Phản ánh mới PA-000001")
                && case.text.contains("Chiếu sáng")
                && case.text.contains("vừa xong")
                && case.text.contains("Vị trí: trên bản đồ (gửi kèm)"),
            "{}",
            case.text
        );
        for label in ["Tiếp nhận", "Đang xử lý", "Đã xử lý", "Không xử lý"] {
            case.button(label);
        }
    }
    let case = bot.last_to(LEADER.id);

    // A resident pressing a forged button is refused.
    bot.press(&RESIDENT, &case, "rp:st:1:daxuly").await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports WHERE status = 'new'").await, 1);

    bot.clock.advance(Duration::hours(2));
    bot.tap(&LEADER, &case, "Tiếp nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("PA-000001 của bác đã được tiếp nhận"));
    let edited = bot.edits_in(LEADER.id).pop().unwrap();
    assert!(
        edited.text.contains("đã tiếp nhận bởi Lê Thị Hoa")
            && !edited.buttons.iter().any(|(l, _)| l.contains("Tiếp nhận"))
    );

    bot.private(&LEADER, "/xuly PA-000001 daxuly Đã thay bóng đèn").await;
    let told = bot.last_to(RESIDENT.id);
    assert!(told.text.contains("đã được xử lý") && told.text.contains("Đã thay bóng đèn"), "{}", told.text);

    // Closing a closed case is refused and changes nothing.
    bot.private(&LEADER, "/xuly PA-000001 daxuly lần nữa").await;
    assert!(bot.last_to(LEADER.id).text.contains("không chuyển sang «đã xử lý» được"));
    bot.tap(&LEADER, &case, "Không xử lý").await;
    assert!(bot.callback_answers().last().unwrap().contains("không chuyển được"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM report_events WHERE report_id = 1").await, 3);

    // Not satisfied: the case reopens once and the leaders are told.
    bot.press(&NEIGHBOUR, &told, "rp:rt:1:n").await;
    assert!(bot.callback_answers().last().unwrap().contains("chỉ người gửi"));
    bot.tap(&RESIDENT, &told, "Không hài lòng").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports WHERE status = 'in_progress' AND reopened = 1").await, 1);
    let reopened = bot.last_to(LEADER.id);
    assert!(reopened.text.contains("Mở lại"), "{}", reopened.text);
    bot.tap(&LEADER, &reopened, "Đã xử lý").await;
    let asked_again = bot.last_to(RESIDENT.id);
    bot.tap(&RESIDENT, &asked_again, "Không hài lòng").await;
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM reports WHERE status = 'resolved' AND rating = 'dissatisfied'").await,
        1,
        "only once"
    );
    assert!(bot.last_to(LEADER.id).text.contains("vẫn chưa hài lòng"));
    bot.tap(&RESIDENT, &asked_again, "Hài lòng").await;
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM reports WHERE rating = 'dissatisfied'").await,
        1,
        "a second rating is refused"
    );

    let events: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT from_status, to_status FROM report_events WHERE report_id = 1 ORDER BY id")
            .fetch_all(bot.db())
            .await
            .unwrap();
    let expected = [
        (None, "new"),
        (Some("new"), "accepted"),
        (Some("accepted"), "resolved"),
        (Some("resolved"), "in_progress"),
        (Some("in_progress"), "resolved"),
    ];
    assert_eq!(events, expected.iter().map(|(f, t)| (f.map(str::to_string), t.to_string())).collect::<Vec<_>>());

    bot.private(&RESIDENT, "/phananhcuatoi").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("PA-000001 · Chiếu sáng · đã xử lý"));
    bot.finish().await;
}

#[tokio::test]
async fn declining_asks_for_the_reason_and_tells_the_reporter() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    file_report(&bot, &RESIDENT, "Chiếu sáng", "Cột điện nghiêng", &[], Some("Đầu ngõ 41")).await;
    let case = bot.last_to(LEADER.id);
    assert!(case.text.contains("Đầu ngõ 41"));
    bot.tap(&LEADER, &case, "Không xử lý").await;
    assert!(bot.last_to(LEADER.id).text.contains("lý do"));
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM reports WHERE status = 'new'").await,
        1,
        "nothing changes before the reason"
    );
    bot.private(&LEADER, "Đã chuyển Điện lực Cầu Giấy xử lý").await;
    let summary = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &summary, "Xác nhận").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports WHERE status = 'declined'").await, 1);
    let told = bot.last_to(RESIDENT.id).text;
    assert!(told.contains("Lý do: Đã chuyển Điện lực Cầu Giấy xử lý"), "{told}");
    let note: String = sqlx::query_scalar("SELECT note FROM report_events WHERE to_status = 'declined'")
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert_eq!(note, "Đã chuyển Điện lực Cầu Giấy xử lý");

    file_report(&bot, &RESIDENT, "2", "Rác đổ trộm", &[], None).await;
    bot.private(&LEADER, "/xuly PA-000002 khongxuly").await;
    assert!(bot.last_to(LEADER.id).text.contains("Xin ghi lý do"));
    bot.private(&RESIDENT, "/xuly PA-000002 daxuly").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không có quyền"));
    bot.private(&LEADER, "/xuly PA-999 daxuly").await;
    assert!(bot.last_to(LEADER.id).text.contains("Không tìm thấy phản ánh PA-000999"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM reports WHERE id = 2 AND status = 'new'").await, 1);
    bot.finish().await;
}

#[tokio::test]
async fn leaders_page_through_open_cases_and_residents_cannot() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    for i in 0..7 {
        file_report(
            &bot,
            &RESIDENT,
            if i % 2 == 0 { "Chiếu sáng" } else { "Thoát nước / ngập úng" },
            &format!("Việc số {i}"),
            &[],
            None,
        )
        .await;
        bot.clock.advance(Duration::hours(1));
    }
    bot.private(&LEADER, "/xuly PA-000002 dangxuly").await;

    bot.private(&LEADER, "/dsphananh").await;
    let page = bot.last_to(LEADER.id);
    assert!(page.text.contains("trang 1/2, 7 việc") && page.text.contains("1. PA-000001"), "{}", page.text);
    assert!(page.text.contains("7 giờ"), "oldest first with its age: {}", page.text);
    bot.tap(&LEADER, &page, "Sau").await;
    let second = bot.edits_in(LEADER.id).pop().unwrap();
    assert!(second.text.contains("trang 2/2") && second.text.contains("6. PA-000006"), "{}", second.text);

    bot.private(&OFFICIAL, "/dsphananh dangxuly").await;
    let filtered = bot.last_to(OFFICIAL.id).text;
    assert!(filtered.contains("1 việc") && filtered.contains("PA-000002"), "{filtered}");
    bot.private(&OFFICIAL, "/dsphananh thoat nuoc to 1").await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("3 việc"));

    bot.private(&RESIDENT, "/dsphananh").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chỉ tổ trưởng"));
    let in_group = bot.messages_to(GROUP_CHAT).len();
    bot.group(GROUP_CHAT, &LEADER, "/dsphananh").await;
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), in_group, "the list stays out of the group");
    assert!(bot.last_to(LEADER.id).text.contains("PA-000001"), "and goes to the leader in private");
    bot.press(&RESIDENT, &page, "rp:ls:1:-:-:-").await;
    assert!(bot.callback_answers().last().unwrap().contains("chỉ tổ trưởng"));
    bot.finish().await;
}

#[tokio::test]
async fn overdue_reports_are_reminded_once_a_day_even_across_restarts() {
    let mut bot = TestBot::start().await;
    bot.setup_group().await;
    file_report(&bot, &RESIDENT, "Chiếu sáng", "Đèn hỏng", &[], None).await;
    file_report(&bot, &RESIDENT, "Khác", "Việc đã xong", &[], None).await;
    bot.private(&LEADER, "/xuly PA-000002 daxuly").await;

    // Next morning: due, nothing overdue yet.
    bot.clock.advance(Duration::hours(26));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM scheduled_runs WHERE job = 'report_deadline'").await, 1);
    assert!(!bot.messages_to(LEADER.id).iter().any(|m| m.text.contains("Nhắc việc")));

    // Three days later, after 08:00: one reminder to the leader and the official.
    bot.clock.advance(Duration::hours(48));
    bot.wait_for(LEADER.id, "Nhắc việc", 1).await;
    bot.wait_for(OFFICIAL.id, "Nhắc việc", 1).await;
    let reminder = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("Nhắc việc")).unwrap();
    assert!(reminder.text.contains("PA-000001") && !reminder.text.contains("PA-000002"), "{}", reminder.text);

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    bot.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let count = |bot: &TestBot| bot.messages_to(LEADER.id).iter().filter(|m| m.text.contains("Nhắc việc")).count();
    assert_eq!(count(&bot), 1, "not twice on the same day");

    bot.clock.advance(Duration::days(1));
    bot.wait_for(LEADER.id, "Nhắc việc", 2).await;
    bot.finish().await;
}

#[tokio::test]
async fn the_public_feed_shows_codes_and_statuses_but_no_one_s_identity() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.group(GROUP_CHAT, &RESIDENT, "/bangtin bat").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ tổ trưởng"));
    bot.group(GROUP_CHAT, &LEADER, "/bangtin bat").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("Đã bật bảng tin"));

    file_report(&bot, &RESIDENT, "Chiếu sáng", "Đèn hỏng trước nhà", &["house-photo"], Some("ngõ 12")).await;
    let line = bot.last_to(GROUP_CHAT).text;
    assert_eq!(line, "📋 PA-000001 · Chiếu sáng · ngõ 12 · mới · vừa gửi");
    assert!(bot.requests_to("sendPhoto", GROUP_CHAT).is_empty(), "no photo until a leader shares it");

    let case = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &case, "Đăng ảnh").await;
    assert_eq!(bot.requests_to("sendPhoto", GROUP_CHAT)[0]["photo"], json!("house-photo"));
    bot.private(&LEADER, "/xuly PA-000001 daxuly").await;
    assert_eq!(bot.last_to(GROUP_CHAT).text, "📋 PA-000001 · Chiếu sáng · ngõ 12 · đã xử lý · vừa gửi");

    for sent in bot.messages_to(GROUP_CHAT) {
        for secret in ["Nguyễn", RESIDENT.first_name, "Đèn hỏng trước nhà"] {
            assert!(!sent.text.contains(secret), "the feed leaked '{secret}': {}", sent.text);
        }
    }
    bot.group(GROUP_CHAT, &LEADER, "/bangtin tat").await;
    file_report(&bot, &RESIDENT, "Khác", "Việc khác", &[], None).await;
    assert!(!bot.last_to(GROUP_CHAT).text.contains("PA-000002"));
    bot.finish().await;
}

#[tokio::test]
async fn reports_export_as_open311_requests() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    file_report(&bot, &RESIDENT, "Chiếu sáng", "Đèn hỏng", &["p1"], Some("Số 5 ngõ 41")).await;
    file_report(&bot, &RESIDENT, "Thoát nước / ngập úng", "Ngập sau mưa", &[], None).await;
    bot.private(&LEADER, "/xuly PA-000002 daxuly Đã thông cống").await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_todanpho"))
        .args(["--config", bot.config_file.to_str().unwrap(), "export-reports", "--format", "open311"])
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let requests: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is only the JSON");
    let list = requests.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for r in list {
        for field in [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "requested_datetime",
            "updated_datetime",
            "lat",
            "long",
            "address",
            "media_url",
        ] {
            assert!(r.get(field).is_some(), "missing {field} in {r}");
        }
        assert_eq!(r["media_url"], json!(""));
        assert!(chrono::DateTime::parse_from_rfc3339(r["requested_datetime"].as_str().unwrap()).is_ok());
        assert!(r["requested_datetime"].as_str().unwrap().ends_with("+07:00"));
    }
    assert_eq!(list[0]["service_request_id"], json!("PA-000001"));
    assert_eq!(list[0]["status"], json!("open"));
    assert_eq!(list[0]["address"], json!("Số 5 ngõ 41"));
    assert_eq!(list[0]["service_name"], json!("Chiếu sáng"));
    assert_eq!(list[1]["status"], json!("closed"));
    assert_eq!(list[1]["status_notes"], json!("đã xử lý: Đã thông cống"));
    bot.finish().await;
}
