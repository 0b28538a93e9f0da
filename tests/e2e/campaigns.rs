//! Fundraising, docs/design.md, flow 3: a campaign, pledges by cash and VietQR
//! transfer, confirmations, the live announcement and the closing summary.

use chrono::Duration;
use crc::{Crc, CRC_16_IBM_3740};
use serde_json::json;

use crate::support::*;

fn announcement_edits(bot: &TestBot) -> Vec<Sent> {
    bot.edits_in(GROUP_CHAT).into_iter().filter(|e| e.text.contains("VẬN ĐỘNG ỦNG HỘ")).collect()
}

/// Pledges through the dialogue (from the announcement's deep link).
async fn pledge(bot: &TestBot, user: &User, amount: &str, named: bool, transfer: bool) {
    bot.private(user, "/start uh-1").await;
    bot.private(user, amount).await;
    bot.private(user, if named { "Ghi tên tôi" } else { "Ủng hộ ẩn danh" }).await;
    bot.private(user, if transfer { "2" } else { "1" }).await;
    let summary = bot.last_to(user.id);
    assert!(summary.text.contains("kiểm tra lại"), "{}", summary.text);
    bot.tap(user, &summary, "Xác nhận").await;
}

/// Reads the QR code in a PNG back to its text.
fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

#[tokio::test]
async fn a_campaign_from_announcement_to_closing_summary() {
    let bot = TestBot::start().await;
    bot.setup_group().await;

    bot.group(GROUP_CHAT, &RESIDENT, "/vandong").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("chỉ tổ trưởng"));
    bot.group(GROUP_CHAT, &LEADER, "/vandong").await;
    assert_eq!(bot.last_to(GROUP_CHAT).button("Tạo cuộc vận động"), "https://t.me/todanpho_test_bot?start=vd-1");
    bot.private(&RESIDENT, "/start vd-1").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chỉ tổ trưởng"), "the deep link checks the role too");

    bot.private(&LEADER, "/start vd-1").await;
    bot.private(&LEADER, "Ủng hộ Quỹ Vì người nghèo 2026").await;
    bot.private(&LEADER, "Giúp các hộ nghèo trong tổ đón Tết").await;
    bot.private(&LEADER, "2tr5").await;
    bot.private(&LEADER, "32/12/2026").await;
    assert!(bot.last_to(LEADER.id).text.contains("Ngày chưa đúng"));
    bot.private(&LEADER, "31/12/2026").await;
    let how = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &how, "Cả hai").await;
    bot.private(&LEADER, "VCB").await; // an alias of Vietcombank
    bot.private(&LEADER, "0011 0023 45678").await;
    bot.private(&LEADER, "Quỹ vì người nghèo TDP 12").await;
    let summary = bot.last_to(LEADER.id);
    assert!(
        summary.text.contains("Vietcombank")
            && summary.text.contains("2.500.000 đ")
            && summary.text.contains("31/12/2026")
    );
    assert!(!summary.text.contains("Phạm vi"), "leaders are not asked for a ward-wide scope");
    bot.tap(&LEADER, &summary, "Xác nhận").await;
    assert!(bot.last_to(LEADER.id).text.contains("Đã tạo cuộc vận động UH1"));

    let post = bot.last_to(GROUP_CHAT);
    assert!(post.text.contains("░░░░░░░░░░ 0% · 0 đ / 2.500.000 đ · 0 hộ"), "{}", post.text);
    assert_eq!(post.button("Ủng hộ"), "https://t.me/todanpho_test_bot?start=uh-1");
    assert!(!post.text.contains("0011002345678"), "the account is given in private, with the QR code");

    // Bad amounts change nothing.
    bot.private(&RESIDENT, "/start uh-1").await;
    for bad in ["0", "-500k", "2 tỷ", "nhiều"] {
        bot.private(&RESIDENT, bad).await;
        assert!(bot.last_to(RESIDENT.id).text.contains("Số tiền chưa đúng"), "{bad}");
    }
    bot.private(&RESIDENT, "/huy").await;

    pledge(&bot, &RESIDENT, "500k", true, true).await;
    let details = bot.last_to(RESIDENT.id).text;
    assert!(details.contains("Nội dung chuyển khoản: UH1 P0001") && details.contains("0011002345678"), "{details}");
    let upload = bot
        .tg
        .requests()
        .into_iter()
        .find(|r| r.method == "sendPhoto" && r.body["chat_id"] == json!(RESIDENT.id))
        .expect("the QR image is sent");
    // teloxide names the part and refers to it as attach://<name>.
    let part = upload.body["photo"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("photo");
    let png_bytes = &upload.files.iter().find(|(name, _)| name == part).expect("an uploaded photo").1;
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).ok();
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/target/vietqr-sample.png"), png_bytes).unwrap();
    let payload = decode_qr(png_bytes);
    assert!(payload.starts_with("000201010212"), "{payload}");
    assert!(
        payload.contains("0010A000000727") && payload.contains("0006970436") && payload.contains("01130011002345678")
    );
    assert!(payload.contains("0208QRIBFTTA") && payload.contains("5303704") && payload.contains("5406500000"));
    assert!(payload.contains("5802VN") && payload.contains("62130809UH1 P0001"), "{payload}");
    let (body, crc) = payload.split_at(payload.len() - 4);
    assert!(body.ends_with("6304"));
    let independent = Crc::<u16>::new(&CRC_16_IBM_3740).checksum(body.as_bytes());
    assert_eq!(crc, format!("{independent:04X}"));

    // The leader confirms; a neighbour's forged press is refused.
    let notice = bot.last_to(LEADER.id);
    assert!(notice.text.contains("P0001") && notice.text.contains("500.000 đ"));
    bot.press(&NEIGHBOUR, &notice, "pl:ok:1").await;
    assert!(bot.callback_answers().last().unwrap().contains("không có quyền"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM pledges WHERE status = 'received'").await, 0);
    bot.tap(&LEADER, &notice, "Đã nhận tiền").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("Tổ đã nhận 500.000 đ"));
    let edits = announcement_edits(&bot);
    assert_eq!(edits.len(), 1);
    assert!(edits[0].text.contains("▓▓░░░░░░░░ 20% · 500.000 đ / 2.500.000 đ · 1 hộ"), "{}", edits[0].text);
    assert_eq!(edits[0].message_id, post.message_id);

    // A second confirmation within the minute waits for the scheduler.
    pledge(&bot, &NEIGHBOUR, "300k", false, false).await;
    bot.private(&LEADER, "/xacnhan P0002 250k").await;
    assert!(bot.last_to(LEADER.id).text.contains("đã nhận 250.000 đ"));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(announcement_edits(&bot).len(), 1, "at most one edit a minute");
    // The scheduler wakes when the minute is up, not on its next beat.
    let edited: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT progress_edited_at FROM campaigns").fetch_one(bot.db()).await.unwrap();
    let due = todanpho::campaign::progress::next_edit_due(&bot.app, &bot.database).await.unwrap();
    assert_eq!(due, Some(edited + Duration::seconds(60)));
    assert!(announcement_edits(&bot)[0].text.contains("(cập nhật lúc 07:00)"), "{}", announcement_edits(&bot)[0].text);
    bot.clock.advance(Duration::seconds(61));
    for _ in 0..200 {
        if announcement_edits(&bot).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let latest = announcement_edits(&bot).pop().unwrap();
    assert!(latest.text.contains("30% · 750.000 đ / 2.500.000 đ · 2 hộ"), "{}", latest.text);

    bot.clock.advance(Duration::seconds(61));
    bot.private(&LEADER, "/ghinhan UH1 1tr Nguyễn Thị Tư").await;
    assert!(bot.last_to(LEADER.id).text.contains("Đã ghi nhận 1.000.000 đ tiền mặt của Nguyễn Thị Tư"));
    pledge(&bot, &RESIDENT, "200k", true, false).await;
    let notice = bot.last_to(LEADER.id);
    bot.tap(&LEADER, &notice, "Chưa nhận").await;
    bot.private(&LEADER, "/xacnhan P0001").await;
    assert!(bot.last_to(LEADER.id).text.contains("đã được xác nhận nhận tiền trước đó"));
    bot.private(&RESIDENT, "/xacnhan P0004").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không có quyền"));

    bot.private(&RESIDENT, "/quy").await;
    let quy = bot.last_to(RESIDENT.id).text;
    assert!(quy.contains("70% · 1.750.000 đ / 2.500.000 đ · 3 hộ") && quy.contains("chưa nhận: 200.000 đ"), "{quy}");
    assert_eq!(bot.count("SELECT SUM(received_amount) FROM pledges WHERE status = 'received'").await, 1_750_000);
    assert_eq!(bot.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'pledge.%'").await, 4);

    bot.private(&RESIDENT, "/ketthuc UH1").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("không có quyền dùng lệnh /ketthuc"));
    bot.private(&LEADER, "/ketthuc UH1").await;
    let closing =
        bot.messages_to(GROUP_CHAT).into_iter().find(|m| m.text.contains("KẾT THÚC")).expect("a summary in the group");
    for expected in [
        "Đã nhận: 1.750.000 đ, 3 lượt ủng hộ của 3 hộ.",
        "Mục tiêu: 2.500.000 đ (đạt 70%).",
        "Đã đăng ký nhưng chưa nhận: 200.000 đ.",
        "1. Nguyễn Thị Tư — 1.000.000 đ",
        "2. Nguyễn An — 500.000 đ",
    ] {
        assert!(closing.text.contains(expected), "missing «{expected}» in {}", closing.text);
    }
    assert!(!closing.text.contains("Bình"), "anonymous donors are not named");
    let last = announcement_edits(&bot).pop().unwrap();
    assert!(last.text.contains("đã kết thúc") && last.buttons.is_empty());

    bot.private(&NEIGHBOUR, "/start uh-1").await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("đã kết thúc"));
    bot.private(&LEADER, "/ghinhan UH1 100k Ai Đó").await;
    assert!(bot.last_to(LEADER.id).text.contains("đã kết thúc"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM pledges").await, 4);
    bot.finish().await;
}

#[tokio::test]
async fn an_official_runs_a_ward_wide_cash_campaign() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    bot.group(-4_000_000_077, &OFFICIAL, "/lienket Tổ dân phố số 3").await;
    bot.private(&OFFICIAL, "/vandong").await;
    let picker = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &picker, "Tổ dân phố số 12").await;
    for answer in ["Quỹ khuyến học", "Phần thưởng cho học sinh giỏi", "Không đặt mục tiêu", "31/12/2026", "1"]
    {
        bot.private(&OFFICIAL, answer).await;
    }
    let scope = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &scope, "Tất cả các tổ").await;
    let summary = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &summary, "Xác nhận").await;
    for chat in [GROUP_CHAT, -4_000_000_077] {
        let post = bot.last_to(chat);
        assert!(post.text.contains("Quỹ khuyến học") && post.text.contains("Đã nhận 0 đ · 0 hộ"), "{}", post.text);
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM campaign_groups").await, 2);

    // Cash only: no method question, no QR.
    bot.private(&RESIDENT, "/ungho").await;
    bot.private(&RESIDENT, "100k").await;
    bot.private(&RESIDENT, "1").await;
    let summary = bot.last_to(RESIDENT.id);
    assert!(!summary.text.contains("Cách ủng hộ"));
    bot.tap(&RESIDENT, &summary, "Xác nhận").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("gửi tiền mặt cho tổ trưởng"));
    assert!(bot.requests_to("sendPhoto", RESIDENT.id).is_empty());
    let notice = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &notice, "Đã nhận tiền").await;
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM pledges WHERE status = 'received' AND received_amount = 100000").await,
        1
    );
    bot.finish().await;
}

/// One cap for money: what a pledge may be, `/ghinhan` and `/xacnhan` keep
/// too (the bounds of the pledge dialogue's amount).
#[tokio::test]
async fn recorded_and_confirmed_amounts_keep_the_pledge_cap() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    for answer in crate::scripts::campaign(1) {
        bot.private(&LEADER, &answer).await;
    }
    bot.private(&LEADER, "/ghinhan UH1 2000tr Bà Tư").await;
    let refused = bot.last_to(LEADER.id).text;
    assert!(refused.contains("Số tiền phải từ 1.000 đ đến 1.000.000.000 đ"), "{refused}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM pledges").await, 0, "nothing recorded");
    bot.private(&LEADER, "/ghinhan UH1 999tr Bà Tư").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM pledges").await, 1, "under the cap is allowed");

    bot.private(&RESIDENT, "/start uh-1").await;
    for answer in ["500k", "Ghi tên tôi", "1", "xác nhận"] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.private(&LEADER, "/xacnhan P0002 5 tỷ").await;
    assert!(bot.last_to(LEADER.id).text.contains("Số tiền phải từ"), "{}", bot.last_to(LEADER.id).text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM pledges WHERE status = 'received' AND id = 2").await, 0);
    bot.finish().await;
}

/// A deadline is checked when it is typed (issue 20.4), not after «Xác nhận».
#[tokio::test]
async fn a_deadline_in_the_past_or_too_far_is_refused_at_its_step() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    for answer in &crate::scripts::campaign(1)[..4] {
        bot.private(&LEADER, answer).await;
    }
    for typed in ["01/01/2020", "1/1/26", "31/12/9999"] {
        bot.private(&LEADER, typed).await;
        let said = bot.last_to(LEADER.id).text;
        assert!(
            said.contains("Ngày phải từ 23/11/2026 đến 23/11/2028") && said.contains("đến hết ngày nào"),
            "{typed}: {said}"
        );
    }
    for answer in &crate::scripts::campaign(1)[4..] {
        bot.private(&LEADER, answer).await;
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM campaigns").await, 1);
    bot.finish().await;
}
