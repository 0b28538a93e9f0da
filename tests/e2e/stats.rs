//! Statistics and exports, checked against figures the test computes itself
//! from the rows it inserted.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Duration, Utc};
use serde_json::json;

use crate::support::*;
use todanpho::clock::Clock;

struct H {
    group: i64,
    approved: bool,
    members: i64,
    smartphone: i64,
    epay: bool,
    vneid: i64,
    circumstances: &'static [&'static str],
}

const HOUSEHOLDS: &[H] = &[
    H { group: 1, approved: true, members: 4, smartphone: 2, epay: true, vneid: 1, circumstances: &["poor"] },
    H {
        group: 1,
        approved: true,
        members: 2,
        smartphone: 0,
        epay: false,
        vneid: 0,
        circumstances: &["disability", "lonely_elderly"],
    },
    H { group: 1, approved: true, members: 5, smartphone: 1, epay: true, vneid: 0, circumstances: &[] },
    H { group: 1, approved: false, members: 3, smartphone: 3, epay: true, vneid: 3, circumstances: &["poor"] },
    H { group: 2, approved: true, members: 3, smartphone: 1, epay: false, vneid: 1, circumstances: &["near_poor"] },
];

async fn seed(bot: &TestBot) {
    bot.setup_group().await;
    bot.group(-4_000_000_077, &OFFICIAL, "/lienket Tổ dân phố số 3").await;
    bot.group_reply(-4_000_000_077, &OFFICIAL, "/phancong", &NEIGHBOUR).await;
    let now = bot.clock.now();
    for (i, h) in HOUSEHOLDS.iter().enumerate() {
        let user: i64 = sqlx::query_scalar("INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', ?, 'X', ?) RETURNING id")
            .bind(format!("9{i}"))
            .bind(now)
            .fetch_one(bot.db())
            .await
            .unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street, phone, members,
                smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (?, ?, ?, 'x', ?, 'Xuân La', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(h.group)
        .bind(user)
        .bind(format!("Nguyễn Văn Hộ {i}"))
        .bind(format!("{}", i + 1))
        .bind(format!("091234567{i}"))
        .bind(h.members)
        .bind(h.smartphone)
        .bind(h.epay)
        .bind(h.vneid)
        .bind(if h.approved { "approved" } else { "pending" })
        .bind(now)
        .bind(now)
        .fetch_one(bot.db())
        .await
        .unwrap();
        for c in h.circumstances {
            sqlx::query("INSERT INTO household_circumstances VALUES (?, ?)")
                .bind(id)
                .bind(c)
                .execute(bot.db())
                .await
                .unwrap();
        }
    }
    bot.mark_personal(&["0912345670", "Nguyễn Văn Hộ"]);
    // Reports: one overdue new, one in progress, two closed within 30 days.
    let reporter: i64 = bot.count("SELECT MIN(id) FROM users").await;
    let rows: [(&str, i64, Option<i64>, Option<&str>); 4] = [
        ("new", 5 * 24, None, None),
        ("in_progress", 24, None, None),
        ("resolved", 48, Some(10), Some("satisfied")),
        ("declined", 72, Some(30), Some("dissatisfied")),
    ];
    for (status, age_h, close_h, rating) in rows {
        let created = now - Duration::hours(age_h);
        sqlx::query(
            "INSERT INTO reports (group_id, reporter_user_id, category, description, status, rating, created_at, updated_at, closed_at)
             VALUES (1, ?, 'chieu_sang', 'x', ?, ?, ?, ?, ?)",
        )
        .bind(reporter)
        .bind(status)
        .bind(rating)
        .bind(created)
        .bind(created)
        .bind(close_h.map(|h| created + Duration::hours(h)))
        .execute(bot.db())
        .await
        .unwrap();
    }
    // A campaign for group 1 with pledges, and a notice with acknowledgements.
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (title, purpose, target, deadline, accepts_cash, status, created_by, created_at)
         VALUES ('Quỹ Tết', 'x', 5000000, '2026-12-31', 1, 'open', ?, ?) RETURNING id",
    )
    .bind(reporter)
    .bind(now)
    .fetch_one(bot.db())
    .await
    .unwrap();
    sqlx::query("INSERT INTO campaign_groups VALUES (?, 1)").bind(campaign).execute(bot.db()).await.unwrap();
    for (user, amount, received) in PLEDGES {
        sqlx::query(
            "INSERT INTO pledges (campaign_id, user_id, donor_name, anonymous, method, amount, status, received_amount, created_at)
             VALUES (?, ?, 'X', 0, 'cash', ?, ?, ?, ?)",
        )
        .bind(campaign)
        .bind(reporter + user)
        .bind(amount)
        .bind(if received.is_some() { "received" } else { "registered" })
        .bind(received)
        .bind(now)
        .execute(bot.db())
        .await
        .unwrap();
    }
    let notice: i64 = sqlx::query_scalar(
        "INSERT INTO notices (sender_user_id, text, status, created_at, queued_at) VALUES (?, 'x', 'done', ?, ?) RETURNING id",
    )
    .bind(reporter)
    .bind(now)
    .bind(now)
    .fetch_one(bot.db())
    .await
    .unwrap();
    for (chat, group) in [(GROUP_CHAT, 1), (-4_000_000_077, 2)] {
        sqlx::query("INSERT INTO notice_deliveries (notice_id, group_id, channel, chat_id, status, sent_at) VALUES (?, ?, 'telegram', ?, 'sent', ?)")
            .bind(notice)
            .bind(group)
            .bind(chat.to_string())
            .bind(now)
            .execute(bot.db())
            .await
            .unwrap();
    }
    for user in 0..3 {
        sqlx::query("INSERT INTO notice_acks (notice_id, user_id, group_id, at) VALUES (?, ?, 1, ?)")
            .bind(notice)
            .bind(reporter + user)
            .bind(now)
            .execute(bot.db())
            .await
            .unwrap();
    }
}

/// (user offset, pledged, received)
const PLEDGES: [(i64, i64, Option<i64>); 4] =
    [(0, 500_000, Some(500_000)), (1, 200_000, Some(150_000)), (1, 100_000, Some(100_000)), (2, 300_000, None)];

/// A share as Vietnamese write it: rounded to a tenth, decimal comma, no
/// trailing ",0".
fn pct(part: i64, whole: i64) -> String {
    let tenths = ((part as f64) * 1000.0 / (whole as f64)).round() as i64;
    match tenths % 10 {
        0 => format!("{}%", tenths / 10),
        d => format!("{},{d}%", tenths / 10),
    }
}

#[tokio::test]
async fn thongke_matches_figures_computed_from_the_rows() {
    let bot = TestBot::start().await;
    seed(&bot).await;
    bot.private(&OFFICIAL, "/sohodukien Tổ dân phố số 12 40").await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("là 40"));
    bot.private(&LEADER, "/sohodukien 1 50").await;
    assert!(bot.last_to(LEADER.id).text.contains("chỉ cán bộ phường"));

    bot.private(&OFFICIAL, "/thongke").await;
    let sent = bot.last_to(OFFICIAL.id);
    assert_eq!(sent.body["parse_mode"], json!("HTML"));
    let text = sent.text;

    let approved: Vec<&H> = HOUSEHOLDS.iter().filter(|h| h.approved).collect();
    let n = approved.len() as i64;
    let people: i64 = approved.iter().map(|h| h.members).sum();
    let pending = HOUSEHOLDS.iter().filter(|h| !h.approved).count();
    let smart = approved.iter().filter(|h| h.smartphone > 0).count() as i64;
    let epay = approved.iter().filter(|h| h.epay).count() as i64;
    let vneid = approved.iter().filter(|h| h.vneid > 0).count() as i64;
    let poor = approved.iter().filter(|h| h.circumstances.contains(&"poor")).count();
    for expected in [
        format!("{n} hộ đã duyệt / 40 dự kiến ({}), {pending} chờ duyệt, {people} nhân khẩu", pct(n, 40)),
        format!("Hộ nghèo {poor}, Hộ cận nghèo 1"),
        format!("điện thoại thông minh: {} (mục tiêu 80%) ⚠️", pct(smart, n)),
        format!("thanh toán điện tử: {} (mục tiêu 50%) ✅", pct(epay, n)),
        format!("VNeID mức 2: {}", pct(vneid, n)),
        "2 đang mở (mới 1, đã tiếp nhận 0, đang xử lý 1), 1 quá hạn".to_string(),
        "Đã đóng (".to_string(),
        ": 2, thời gian xử lý trung vị 20 giờ, hài lòng 50% (1/2)".to_string(),
        {
            let received: i64 = PLEDGES.iter().filter_map(|(_, _, r)| *r).sum();
            let pledged: i64 = PLEDGES.iter().map(|(_, p, _)| p).sum();
            let contributions = PLEDGES.iter().filter(|(_, _, r)| r.is_some()).count();
            let mut donors: Vec<i64> = PLEDGES.iter().filter(|(_, _, r)| r.is_some()).map(|(u, _, _)| *u).collect();
            donors.dedup();
            format!(
                "UH1 Quỹ Tết: đã nhận {} đ / đăng ký {} đ / mục tiêu 5.000.000 đ, {contributions} lượt, {} hộ",
                todanpho::domain::group_thousands(received),
                todanpho::domain::group_thousands(pledged),
                donors.len()
            )
        },
        "1 thông báo, 2 lượt gửi tới nhóm, 3 lượt «Đã xem»".to_string(),
    ] {
        assert!(text.contains(&expected), "missing «{expected}» in\n{text}");
    }
    assert!(text.contains("<pre>") && text.contains("3/40"), "{text}");
    assert!(!text.contains("/?") && text.contains("* chưa đặt số hộ dự kiến"), "{text}");
    for shown in text.split(['(', ' ']).filter(|w| w.ends_with('%')) {
        assert!(!shown.contains('.'), "a share is written with a decimal comma: {shown}");
    }
    // A share is rounded to a tenth, not truncated: 4 of 61 is 6,6%.
    bot.private(&OFFICIAL, "/sohodukien Tổ dân phố số 12 61").await;
    bot.private(&OFFICIAL, "/thongke ho").await;
    assert!(
        bot.last_to(OFFICIAL.id).text.contains(&format!("{n} hộ đã duyệt / 61 dự kiến (6,6%)")),
        "{}",
        bot.last_to(OFFICIAL.id).text
    );
    bot.private(&OFFICIAL, "/sohodukien Tổ dân phố số 12 40").await;

    // A leader sees only their own group; residents nothing.
    bot.private(&LEADER, "/thongke ho").await;
    let own = bot.last_to(LEADER.id).text;
    assert!(own.contains("3 hộ đã duyệt") && !own.contains("Tổ dân phố số 3") && !own.contains("Phản ánh"), "{own}");
    bot.private(&LEADER, "/thongke Tổ dân phố số 3").await;
    assert!(bot.last_to(LEADER.id).text.contains("chỉ xem được thống kê của tổ mình"));
    bot.private(&RESIDENT, "/thongke").await;
    assert!(bot.last_to(RESIDENT.id).text.contains("chỉ tổ trưởng"));
    bot.private(&OFFICIAL, "/thongke bieudo").await;
    let upload = bot
        .tg
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "sendPhoto" && r.body["chat_id"] == json!(OFFICIAL.id))
        .expect("a chart");
    let part = upload.body["photo"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("photo");
    let png_bytes = &upload.files.iter().find(|(name, _)| name == part).unwrap().1;
    let info = png::Decoder::new(Cursor::new(png_bytes)).read_info().expect("a PNG").info().clone();
    assert_eq!((info.width, info.height), (900, 120 + 96 * 2 + 20));
    // For a person to look at: the chart as the official received it.
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/target/thongke-bieudo.png"), png_bytes).unwrap();
    bot.private(&OFFICIAL, "/thongke phananh thang 10/2025").await;
    assert!(bot.last_to(OFFICIAL.id).text.contains("Đã đóng (tháng 10/2025): 0"));
    bot.finish().await;
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a readable xlsx")
}

#[tokio::test]
async fn excel_and_csv_exports_hold_the_rows_and_stay_private() {
    let bot = TestBot::start().await;
    seed(&bot).await;
    // The official has not written to the bot in private yet: the way there.
    bot.group(GROUP_CHAT, &OFFICIAL, "/xuatexcel").await;
    assert!(bot.last_to(GROUP_CHAT).text.contains("trong tin nhắn riêng"));
    assert!(bot.requests_to("sendDocument", GROUP_CHAT).is_empty());
    bot.private(&OFFICIAL, "/help").await;
    let in_group = bot.messages_to(GROUP_CHAT).len();
    bot.group(GROUP_CHAT, &OFFICIAL, "/xuatexcel").await;
    assert_eq!(bot.messages_to(GROUP_CHAT).len(), in_group, "nothing in the group");
    assert!(bot.requests_to("sendDocument", GROUP_CHAT).is_empty());
    assert_eq!(bot.requests_to("sendDocument", OFFICIAL.id).len(), 1, "the workbook goes to the official in private");
    bot.private(&RESIDENT, "/xuatexcel").await;
    assert!(bot.requests_to("sendDocument", RESIDENT.id).is_empty());

    bot.private(&OFFICIAL, "/xuatexcel").await;
    let upload = bot
        .tg
        .requests()
        .into_iter()
        .find(|r| r.method == "sendDocument" && r.body["chat_id"] == json!(OFFICIAL.id))
        .expect("a workbook");
    let part = upload.body["document"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("document");
    let bytes = &upload.files.iter().find(|(name, _)| name == part).unwrap().1;
    let mut book = open(bytes);
    assert_eq!(
        book.sheet_names(),
        vec![
            "Hộ gia đình",
            "Phản ánh",
            "Ủng hộ",
            "Thông báo",
            "Tổng hợp",
            "Thăm hộ",
            "Công dân số theo tổ",
            "Lấy ý kiến"
        ],
        "no consultation yet: one sheet that says so"
    );
    let households = book.worksheet_range("Hộ gia đình").unwrap();
    assert_eq!(households.height(), HOUSEHOLDS.len() + 1);
    assert_eq!(households.get((0, 2)), Some(&Data::String("Chủ hộ".into())));
    assert_eq!(households.get((1, 2)), Some(&Data::String("Nguyễn Văn Hộ 0".into())));
    assert_eq!(households.get((1, 5)), Some(&Data::Float(4.0)));
    assert_eq!(households.get((1, 6)), Some(&Data::String("Hộ nghèo".into())));
    match households.get((1, 11)) {
        Some(Data::DateTime(d)) => {
            // Excel counts days from 1899-12-30, in the ward's local time.
            let local = (bot.clock.now() + Duration::hours(7)).naive_utc();
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap().and_hms_opt(0, 0, 0).unwrap();
            let expected = (local - epoch).num_seconds() as f64 / 86_400.0;
            assert!((d.as_f64() - expected).abs() < 1.0 / 86_400.0 * 2.0, "{} vs {expected}", d.as_f64());
        }
        other => panic!("the date is a real Excel date: {other:?}"),
    }
    let reports = book.worksheet_range("Phản ánh").unwrap();
    assert_eq!(reports.height(), 5);
    assert_eq!(reports.get((1, 2)), Some(&Data::String("Chiếu sáng".into())));

    // A leader's workbook holds only their group.
    bot.private(&LEADER, "/xuatexcel").await;
    let upload = bot
        .tg
        .requests()
        .into_iter()
        .find(|r| r.method == "sendDocument" && r.body["chat_id"] == json!(LEADER.id))
        .unwrap();
    let part = upload.body["document"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("document");
    let mut book = open(&upload.files.iter().find(|(name, _)| name == part).unwrap().1);
    assert_eq!(
        book.worksheet_range("Hộ gia đình").unwrap().height(),
        1 + HOUSEHOLDS.iter().filter(|h| h.group == 1).count()
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_todanpho"))
        .args(["--config", bot.config_file.to_str().unwrap(), "export", "households", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), HOUSEHOLDS.len() + 1);
    assert!(lines[0].starts_with("Mã hộ,Tổ,Chủ hộ"));
    assert!(lines[1].contains("Nguyễn Văn Hộ 0") && lines[1].contains("0912345670"));
    let _ = Utc::now();
    bot.finish().await;
}

#[tokio::test]
async fn seed_demo_fills_a_database_with_vietnamese_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ward]\nname = \"Demo\"\n[database]\npath = \"demo.db\"\n[telegram]\nofficials = []\n")
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_todanpho"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "seed-demo",
            "--groups",
            "3",
            "--households",
            "60",
            "--reports",
            "20",
            "--pledges",
            "30",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pool = crate::support::open_pool(&dir.path().join("demo.db")).await;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM households").await, 60);
    assert_eq!(count("SELECT COUNT(*) FROM reports").await, 20);
    assert_eq!(count("SELECT COUNT(*) FROM pledges").await, 30);
    let name: String = sqlx::query_scalar("SELECT head_name FROM households LIMIT 1").fetch_one(&pool).await.unwrap();
    assert!(todanpho::domain::PersonName::parse(&name).is_ok(), "{name}");
    assert_ne!(todanpho::text::fold(&name), name.to_lowercase(), "names carry diacritics: {name}");
}
