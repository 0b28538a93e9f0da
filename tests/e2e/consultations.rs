//! Consultations (issue 22): a leader or official asks every registered
//! household (or person); residents answer in private with one press; paper
//! answers for households without a phone; reminders with the leaders'
//! door-to-door lists; results that never show a small tổ's shares; and a
//! secret ballot that stays secret in the database, its journal and the
//! log.

use chrono::Duration;

use crate::digital::{set_up, R1, R2, R3, R4};
use crate::support::*;
use todanpho::clock::Clock;

const STRANGER: User = User { id: 300_099, first_name: "Lạ", last_name: None };

/// Writes a consultation with `/layykien` as `who` and sends it: default
/// options, `unit` and `ballot` as the labels to tap, closing in `closes`.
pub async fn ask(bot: &TestBot, who: &User, question: &str, unit: &str, ballot: &str, closes: &str) -> Sent {
    bot.private(who, "/layykien").await;
    bot.private(who, question).await;
    bot.tap(who, &bot.last_to(who.id), "Không cần").await;
    bot.tap(who, &bot.last_to(who.id), "Bỏ qua").await;
    bot.tap(who, &bot.last_to(who.id), "Đồng ý / Không đồng ý").await;
    bot.tap(who, &bot.last_to(who.id), unit).await;
    bot.tap(who, &bot.last_to(who.id), ballot).await;
    bot.private(who, closes).await;
    bot.tap(who, &bot.last_to(who.id), "Tất cả").await;
    let summary = bot.last_to(who.id);
    assert!(summary.text.contains("kiểm tra lại cuộc lấy ý kiến"), "{}", summary.text);
    bot.tap(who, &summary, "Xác nhận").await;
    let preview = bot.last_to(who.id);
    assert!(preview.text.starts_with("Xem trước YK"), "{}", preview.text);
    preview
}

/// The ballot `who` opens from the group post's deep link.
async fn ballot(bot: &TestBot, who: &User, id: i64) -> Sent {
    bot.private(who, &format!("/start yk-{id}")).await;
    bot.last_to(who.id)
}

async fn join_household(bot: &TestBot, head: &User, person: &User) {
    bot.private(head, "/hocuatoi").await;
    bot.tap(head, &bot.last_to(head.id), "Mời người trong hộ").await;
    let text = bot.last_to(head.id).text;
    let code = text.split_whitespace().find(|w| w.starts_with("HO")).expect("a code").to_string();
    bot.private(person, &code).await;
    bot.tap(head, &bot.last_to(head.id), "Đồng ý").await;
}

#[tokio::test]
async fn an_open_ballot_counts_households_once_and_keeps_every_answer() {
    let bot = TestBot::start().await;
    let [h14, h8, h2, h102] = set_up(&bot).await;
    join_household(&bot, &R1, &NEIGHBOUR).await;

    // Nothing can be asked of a resident's own.
    bot.private(&R1, "/layykien").await;
    assert!(bot.last_to(R1.id).text.starts_with("Xin lỗi"), "{}", bot.last_to(R1.id).text);

    let preview =
        ask(&bot, &LEADER, "Bà con có đồng ý đặt tên ngõ 41 là phố Xuân Thủy không?", "Mỗi hộ", "Công khai", "2 ngày")
            .await;
    assert!(preview.text.contains("Hiện có 4 hộ đã đăng ký được hỏi"), "{}", preview.text);
    bot.tap(&LEADER, &preview, "Gửi").await;
    assert!(bot.edits_in(LEADER.id).last().unwrap().text.contains("Đang gửi cuộc lấy ý kiến YK1"));
    bot.wait_for(GROUP_CHAT, "LẤY Ý KIẾN YK1", 1).await;
    let post = bot.messages_to(GROUP_CHAT).into_iter().rev().find(|m| m.text.contains("LẤY Ý KIẾN YK1")).unwrap();
    assert!(post.text.contains("0/4 hộ đã cho ý kiến"), "{}", post.text);
    assert!(post.button("Cho ý kiến").ends_with("start=yk-1"), "{:?}", post.buttons);

    // The head answers; a member of the household changes it; history kept.
    let paper = ballot(&bot, &R1, 1).await;
    assert!(paper.text.contains("Phiếu công khai") && paper.text.contains("Hạn cho ý kiến"), "{}", paper.text);
    bot.tap(&R1, &paper, "1. Đồng ý").await;
    let receipt = bot.last_to(R1.id).text;
    assert!(receipt.contains("«Đồng ý»") && receipt.contains("Mã biên nhận: YK1-"), "{receipt}");
    let mine = ballot(&bot, &NEIGHBOUR, 1).await;
    assert!(mine.text.contains("Ý kiến hiện tại của hộ bác: «Đồng ý»"), "{}", mine.text);
    let press = serde_json::json!({ "callback_query": {
        "id": "cb-replayed", "from": NEIGHBOUR.json(), "chat_instance": "ci", "data": mine.button("2. Không đồng ý"),
        "message": { "message_id": mine.message_id, "date": 1_790_000_000, "text": mine.text,
                     "chat": { "id": NEIGHBOUR.id, "type": "private", "first_name": NEIGHBOUR.first_name } },
    }});
    let id = bot.deliver(press.clone()).await;
    assert!(bot.last_to(NEIGHBOUR.id).text.contains("«Không đồng ý»"));
    // The same update again (Telegram redelivering it) counts nothing.
    let before = bot.count("SELECT COUNT(*) FROM consultation_votes").await;
    let mut again = press;
    again["update_id"] = serde_json::json!(id);
    bot.tg.redeliver(again);
    bot.private(&NEIGHBOUR, "/help").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_votes").await, before);
    assert_eq!(
        bot.count(&format!("SELECT COUNT(*) FROM consultation_answered WHERE household_id = {h14}")).await,
        1,
        "the household answered once"
    );
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_votes WHERE current = 1 AND option = 1").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_votes WHERE user_id IS NOT NULL").await, 2, "both kept");

    // No household: told how to register, nothing stored.
    let theirs = ballot(&bot, &STRANGER, 1).await;
    assert!(theirs.text.contains("/dangky"), "{}", theirs.text);
    bot.press(&STRANGER, &paper, "yk:a:1:0").await;
    assert!(bot.callback_answers().last().unwrap().contains("/dangky"));
    // A forged button changes nothing.
    bot.press(&R2, &paper, "yk:a:1:5").await;
    bot.press(&R2, &paper, "yk:a:99:0").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_answered").await, 1);

    // "Ý kiến khác" asks for a short text.
    bot.tap(&R2, &ballot(&bot, &R2, 1).await, "3. Ý kiến khác").await;
    bot.private(&R2, "Nên đặt tên theo liệt sĩ của phường").await;
    bot.tap(&R2, &bot.last_to(R2.id), "Xác nhận").await;
    assert!(bot.last_to(R2.id).text.contains("«Ý kiến khác»"), "{}", bot.last_to(R2.id).text);

    // A paper answer for the household of number 2, named back to the
    // leader by its door and head (issue 31); its later online answer
    // replaces it, the leader is told, both are kept.
    let ba = "Số 2, Ngõ 9, Xuân La — Lê Văn Ba";
    bot.private(&LEADER, &format!("/ghiykien {h2} 2")).await;
    let recorded = bot.last_to(LEADER.id).text;
    assert!(recorded.contains("Đã ghi phiếu giấy YK1: «Không đồng ý»") && recorded.contains(ba), "{recorded}");
    bot.tap(&R3, &ballot(&bot, &R3, 1).await, "1. Đồng ý").await;
    let replaced = bot.last_to(LEADER.id).text;
    assert!(replaced.contains("phiếu giấy bác ghi trước đó được thay") && replaced.contains(ba), "{replaced}");
    assert_eq!(bot.count(&format!("SELECT COUNT(*) FROM consultation_votes WHERE household_id = {h2}")).await, 2);
    bot.private(&LEADER, &format!("/ghiykien {h2} 2")).await;
    let refused = bot.last_to(LEADER.id).text;
    assert!(refused.contains("đã tự cho ý kiến") && refused.contains(ba), "paper never overwrites: {refused}");

    // The list of households not yet answered, and a paper answer from it.
    bot.private(&LEADER, "/ghiykien").await;
    let list = bot.last_to(LEADER.id);
    assert!(list.text.contains("1 hộ chưa cho ý kiến"), "{}", list.text);
    let bon = "Số 102, Hoàng Quốc Việt — Đỗ Thị Bốn";
    assert!(list.buttons.iter().any(|(label, _)| label == &format!("✍️ {bon}")), "{:?}", list.buttons);
    bot.tap(&LEADER, &list, "Số 102, Hoàng Quốc Việt").await;
    // The options name the household by its door and head, not a number.
    let options = bot.last_to(LEADER.id);
    assert!(options.text.contains(bon) && !options.text.contains('#'), "{}", options.text);
    bot.tap(&LEADER, &options, "1. Đồng ý").await;
    let done = bot.edits_in(LEADER.id).pop().expect("the options become the confirmation");
    assert!(done.text.contains(&format!("«Đồng ý».\nHộ: {bon}\nMã biên nhận: YK1-")), "{}", done.text);
    assert!(!done.text.contains(&format!("#{h102}")), "{}", done.text);
    assert_eq!(
        bot.count(&format!("SELECT COUNT(*) FROM consultation_answered WHERE household_id = {h102} AND via = 'paper'"))
            .await,
        1
    );
    let _ = h8;

    // Participation reaches the group post within the minute; never a share.
    bot.clock.advance(Duration::seconds(61));
    for _ in 0..500 {
        if bot.edits_in(GROUP_CHAT).iter().any(|e| e.text.contains("4/4 hộ đã cho ý kiến")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let edit = bot.edits_in(GROUP_CHAT).pop().expect("the post edited");
    assert!(edit.text.contains("4/4 hộ đã cho ý kiến") && !edit.text.contains('%'), "{}", edit.text);

    // Results: shares in all; the group has fewer than 10 answers.
    bot.private(&LEADER, "/ketquaykien").await;
    let results = bot.last_to(LEADER.id);
    assert!(results.text.contains("Tham gia: 4/4 hộ"), "{}", results.text);
    assert!(
        results.text.contains("• Đồng ý: 2 (50%)") && results.text.contains("• Không đồng ý: 1 (25%)"),
        "{}",
        results.text
    );
    assert!(results.text.contains("dưới 10 ý kiến") && !results.text.contains("ý kiến):"), "{}", results.text);
    assert!(results.text.contains("liệt sĩ"), "leaders read the other opinions: {}", results.text);
    bot.private(&R1, "/ketquaykien").await;
    assert!(bot.last_to(R1.id).text.starts_with("Xin lỗi"));

    // /thongke has the participation; the export a sheet per consultation,
    // each household's answers (an open ballot), and the other opinions.
    bot.private(&LEADER, "/thongke").await;
    let stats = bot.last_to(LEADER.id).text;
    assert!(stats.contains("YK1 (đang mở đến") && stats.contains("4/4 hộ đã cho ý kiến"), "{stats}");
    bot.private(&LEADER, "/xuatexcel").await;
    let upload = bot.tg.requests().into_iter().rfind(|r| r.method == "sendDocument").expect("a workbook");
    let part = upload.body["document"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("document");
    let bytes = &upload.files.iter().find(|(name, _)| name == part).unwrap().1;
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let sheet = book.worksheet_range("YK1").unwrap();
    assert_eq!(sheet.get((1, 0)), Some(&Data::String("Tổ dân phố số 12".into())));
    assert_eq!(sheet.get((1, 1)), Some(&Data::Float(4.0)));
    assert_eq!(sheet.get((1, 4)), Some(&Data::Empty), "fewer than 10 answers: no count of its own");
    assert_eq!(sheet.get((2, 4)), Some(&Data::Float(2.0)), "the total counts");
    let each = book.worksheet_range("YK1 từng hộ").unwrap();
    assert_eq!(each.height(), 1 + 6, "every answer kept, the replaced ones too");
    let others = book.worksheet_range("YK1 ý kiến khác").unwrap();
    assert_eq!(others.get((1, 1)), Some(&Data::String("Nên đặt tên theo liệt sĩ của phường".into())));

    // Closed early by its creator: the result goes to the group, the other
    // opinions only as a count; an answer after the close is refused.
    bot.tap(&LEADER, &results, "Kết thúc ngay").await;
    bot.wait_for(GROUP_CHAT, "KẾT QUẢ LẤY Ý KIẾN YK1", 1).await;
    let result = bot.last_to(GROUP_CHAT);
    assert!(result.text.contains("Đồng ý: 2 (50%)") && result.text.contains("1 ý kiến khác"), "{}", result.text);
    assert!(!bot.messages_to(GROUP_CHAT).iter().any(|m| m.text.contains("liệt sĩ")));
    bot.tap(&R4, &paper, "2. Không đồng ý").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã kết thúc"), "{:?}", bot.callback_answers().last());
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_votes WHERE current = 1").await, 4);
    bot.assert_no_personal_data_in_groups();
    bot.finish().await;
}

/// The database file and its journal, as someone holding them would read
/// them.
fn files(bot: &TestBot) -> Vec<(String, Vec<u8>)> {
    let db = bot.config.database.path.clone();
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()));
    [db, wal].into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap_or_default())).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Nothing in the files or the log ties a voter to a choice: no press's
/// callback data, no paper answer as typed; the one place a choice lies
/// (the answer, with its text) shares its page with no voter's id or
/// receipt.
async fn assert_secret_in_the_files(bot: &TestBot, voters: &[i64], other: &str) {
    // As a press arrives (its callback data) and a paper answer is typed;
    // the options themselves are in the post's buttons, tied to no one.
    let choices = [r#""data":"yk:a:1:"#, r#""data":"yk:r:1:"#, "/ghiykien"];
    let receipts: Vec<String> =
        sqlx::query_scalar("SELECT receipt FROM consultation_answered").fetch_all(bot.db()).await.unwrap();
    let mut clean = false;
    for _ in 0..500 {
        clean = files(bot).iter().all(|(_, bytes)| choices.iter().all(|c| find(bytes, c.as_bytes()).is_none()));
        if clean {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for (name, bytes) in files(bot) {
        for c in choices {
            if let Some(at) = find(&bytes, c.as_bytes()) {
                let around = String::from_utf8_lossy(&bytes[at.saturating_sub(200)..(at + 200).min(bytes.len())]);
                panic!("{name} still holds a press of the ballot ({c}): {around}");
            }
        }
        if let Some(at) = find(&bytes, other.as_bytes()) {
            let page = &bytes[at - at % 4096..(at - at % 4096 + 4096).min(bytes.len())];
            for id in voters {
                assert!(find(page, id.to_string().as_bytes()).is_none(), "{name}: {id} beside the answer");
            }
            for r in &receipts {
                assert!(find(page, r.as_bytes()).is_none(), "{name}: a receipt beside the answer");
            }
        }
    }
    assert!(clean);
    let log = log_text();
    for c in choices {
        assert!(!log.contains(c), "the log holds a press of the ballot ({c})");
    }
    assert!(!log.contains(other), "the log holds an answer");
}

#[tokio::test]
async fn a_secret_ballot_per_person_is_secret_in_the_files_and_closes_by_itself() {
    let mut bot = TestBot::start().await;
    let [_, _, _, h102] = set_up(&bot).await;
    join_household(&bot, &R1, &NEIGHBOUR).await;
    let sent_at = bot.clock.now();
    let preview =
        ask(&bot, &OFFICIAL, "Bà con có đồng ý góp 50.000đ/hộ làm đèn ngõ không?", "Mỗi người", "Phiếu kín", "2 ngày")
            .await;
    assert!(preview.text.contains("Hiện có 5 người đã đăng ký được hỏi"), "{}", preview.text);
    bot.tap(&OFFICIAL, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "LẤY Ý KIẾN YK1", 1).await;

    // Told before pressing that it cannot be changed; the confirmation and
    // the ballot afterwards say nothing of the choice.
    let paper = ballot(&bot, &R1, 1).await;
    assert!(paper.text.contains("Phiếu kín") && paper.text.contains("không đổi được"), "{}", paper.text);
    bot.tap(&R1, &paper, "1. Đồng ý").await;
    let receipt = bot.last_to(R1.id).text;
    assert!(receipt.contains("Mã biên nhận: YK1-") && !receipt.contains("Đồng ý"), "{receipt}");
    let edited = bot.edits_in(R1.id).pop().expect("the ballot loses its buttons");
    assert!(edited.buttons.is_empty() && !edited.text.contains("Đồng ý"), "{}", edited.text);
    // Per person: the member answers for themself; nobody answers twice.
    bot.tap(&NEIGHBOUR, &ballot(&bot, &NEIGHBOUR, 1).await, "2. Không đồng ý").await;
    bot.press(&R1, &paper, "yk:a:1:1").await;
    assert!(bot.callback_answers().last().unwrap().contains("không đổi được"), "{:?}", bot.callback_answers().last());
    assert_eq!(bot.count("SELECT COUNT(*) FROM ballot_box").await, 2);
    let other = "Nên hỏi thêm ý kiến các cụ ngõ 9";
    bot.tap(&R2, &ballot(&bot, &R2, 1).await, "3. Ý kiến khác").await;
    bot.private(&R2, other).await;
    bot.tap(&R2, &bot.last_to(R2.id), "Xác nhận").await;
    // A paper answer; the household's online answer is refused after it.
    bot.private(&LEADER, &format!("/ghiykien {h102} 1")).await;
    let recorded = bot.last_to(LEADER.id).text;
    assert!(recorded.contains("phiếu kín") && !recorded.contains("Đồng ý"), "{recorded}");
    assert!(recorded.contains("Hộ: Số 102, Hoàng Quốc Việt — Đỗ Thị Bốn"), "{recorded}");
    assert!(ballot(&bot, &R4, 1).await.text.contains("đã có ý kiến (phiếu giấy)"));
    bot.press(&R4, &paper, "yk:a:1:1").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã có ý kiến (phiếu giấy)"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM ballot_box").await, 4);

    // The answers table refers to no one and to no time.
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('ballot_box')").fetch_all(bot.db()).await.unwrap();
    assert_eq!(columns, ["consultation_id", "token", "group_id", "option", "other_text"]);
    let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'ballot_box'")
        .fetch_one(bot.db())
        .await
        .unwrap();
    assert!(sql.contains("WITHOUT ROWID"), "no row id orders the answers: {sql}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues WHERE flow = 'consultation_other'").await, 0);
    let voters = [R1.id, R2.id, R3.id, R4.id, NEIGHBOUR.id];
    assert_secret_in_the_files(&bot, &voters, other).await;

    // 24 hours before the close: only who has not answered is reminded;
    // the leader gets the door-to-door list.
    bot.clock.advance(Duration::days(1));
    bot.wait_for(R3.id, "⏰ Nhắc", 1).await;
    bot.wait_for(LEADER.id, "chưa cho ý kiến (hạn", 1).await;
    for who in [R1.id, R2.id, R4.id, NEIGHBOUR.id] {
        assert!(!bot.messages_to(who).iter().any(|m| m.text.contains("⏰ Nhắc")), "{who} answered already");
    }
    let list = bot.messages_to(LEADER.id).into_iter().rev().find(|m| m.text.contains("chưa cho ý kiến (hạn")).unwrap();
    assert!(list.text.contains("1. Số 2, Ngõ 9, Xuân La — Lê Văn Ba"), "{}", list.text);
    // One press on the reminder answers.
    let reminder = bot.messages_to(R3.id).into_iter().rev().find(|m| m.text.contains("⏰ Nhắc")).unwrap();
    bot.tap(&R3, &reminder, "1. Đồng ý").await;
    assert!(bot.last_to(R3.id).text.contains("Mã biên nhận"));
    assert_secret_in_the_files(&bot, &voters, other).await;

    // Across a restart, it closes at its time; the result to the group.
    bot.restart().await;
    bot.clock.advance(Duration::days(1) + Duration::minutes(1));
    bot.wait_for(GROUP_CHAT, "KẾT QUẢ LẤY Ý KIẾN YK1", 1).await;
    let result = bot.last_to(GROUP_CHAT);
    assert!(result.text.contains("Tham gia: 5/5 người"), "{}", result.text);
    assert!(result.text.contains("• Đồng ý: 3 (60%)") && result.text.contains("1 ý kiến khác"), "{}", result.text);
    assert!(!result.text.contains(other));
    assert!(
        bot.messages_to(OFFICIAL.id).iter().any(|m| m.text.contains(other)),
        "the official reads the other opinions"
    );
    assert!(sent_at < bot.clock.now());
    bot.tap(&R3, &reminder, "2. Không đồng ý").await;
    assert!(bot.callback_answers().last().unwrap().contains("đã kết thúc"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM ballot_box").await, 5);
    bot.finish().await;
}

#[tokio::test]
async fn a_consultation_nobody_could_answer_is_not_sent() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let preview = ask(&bot, &LEADER, "Bà con có đồng ý làm đường không?", "Mỗi hộ", "Công khai", "2 ngày").await;
    assert!(preview.text.contains("chưa gửi được"), "{}", preview.text);
    bot.tap(&LEADER, &preview, "Gửi").await;
    assert!(bot.callback_answers().last().unwrap().contains("chưa có hộ nào"), "{:?}", bot.callback_answers().last());
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultations WHERE status = 'draft'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM notice_deliveries").await, 0, "nothing queued");
    // A closing time already past is asked again.
    bot.private(&LEADER, "/layykien").await;
    bot.private(&LEADER, "Câu hỏi?").await;
    for label in ["Không cần", "Bỏ qua", "Đồng ý / Không đồng ý", "Mỗi hộ", "Công khai"] {
        bot.tap(&LEADER, &bot.last_to(LEADER.id), label).await;
    }
    bot.private(&LEADER, "01/01/2020 08:00").await;
    bot.tap(&LEADER, &bot.last_to(LEADER.id), "Tất cả").await;
    bot.tap(&LEADER, &bot.last_to(LEADER.id), "Xác nhận").await;
    let asked = bot.messages_to(LEADER.id).into_iter().rev().take(2).map(|m| m.text).collect::<Vec<_>>().join("\n");
    assert!(asked.contains("ít nhất 1 giờ"), "{asked}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultations").await, 1, "nothing saved");
    bot.finish().await;
}

/// A time as the bot shows it: Hà Nội (UTC+7, no summer time).
pub fn shown(at: chrono::DateTime<chrono::Utc>) -> String {
    let hanoi = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7");
    at.with_timezone(&hanoi).format("%d/%m/%Y %H:%M").to_string()
}

/// Closed early (issue 31): every message about it names the time it
/// really closed, never the deadline it was asked with, and nobody is
/// reminded of it afterwards.
#[tokio::test]
async fn a_consultation_closed_early_says_when_it_really_closed() {
    let bot = TestBot::start().await;
    let [_, _, _, h102] = set_up(&bot).await;
    let preview = ask(&bot, &LEADER, "Bà con có đồng ý mở rộng ngõ 9 không?", "Mỗi hộ", "Công khai", "2 ngày").await;
    bot.tap(&LEADER, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "LẤY Ý KIẾN YK1", 1).await;
    let paper = ballot(&bot, &R1, 1).await;
    let deadline = paper.text.split("Hạn cho ý kiến: ").nth(1).and_then(|t| t.split('.').next()).expect("a deadline");
    let deadline = deadline.to_string();
    bot.tap(&R2, &ballot(&bot, &R2, 1).await, "1. Đồng ý").await;
    // R3 starts an "Ý kiến khác" before the close and types it after.
    bot.tap(&R3, &ballot(&bot, &R3, 1).await, "3. Ý kiến khác").await;

    // Three hours later an official closes it, two days early.
    bot.clock.advance(Duration::hours(3));
    let closed = shown(bot.clock.now());
    assert_ne!(closed, deadline);
    bot.private(&OFFICIAL, "/ketquaykien YK1").await;
    let results = bot.last_to(OFFICIAL.id);
    bot.tap(&OFFICIAL, &results, "Kết thúc ngay").await;
    bot.wait_for(GROUP_CHAT, "KẾT QUẢ LẤY Ý KIẾN YK1", 1).await;
    assert!(
        bot.last_to(GROUP_CHAT).text.contains(&format!("Đã kết thúc lúc {closed}.")),
        "{}",
        bot.last_to(GROUP_CHAT).text
    );
    let post = bot.edits_in(GROUP_CHAT).pop().expect("the post's last edit");
    assert!(
        post.text.contains(&format!("Đã kết thúc lúc {closed}")) && !post.text.contains(&deadline),
        "{}",
        post.text
    );

    // An hour later, every way in says when it closed, not the deadline.
    bot.clock.advance(Duration::hours(1));
    let said = format!("YK1 đã kết thúc lúc {closed}");
    let refused = |text: &str| {
        assert!(text.contains(&said) && !text.contains(&deadline), "{text}");
    };
    bot.tap(&R1, &paper, "2. Không đồng ý").await;
    refused(&bot.callback_answers().last().cloned().unwrap_or_default());
    bot.private(&R3, "Nên làm vào mùa khô").await;
    bot.tap(&R3, &bot.last_to(R3.id), "Xác nhận").await;
    refused(&bot.last_to(R3.id).text);
    refused(&ballot(&bot, &R4, 1).await.text);
    bot.private(&R1, "/ykien").await;
    refused(&bot.last_to(R1.id).text);
    bot.private(&LEADER, &format!("/ghiykien YK1 {h102} 1")).await;
    refused(&bot.last_to(LEADER.id).text);
    bot.private(&LEADER, "/ketquaykien YK1 ketthuc").await;
    refused(&bot.last_to(LEADER.id).text);
    bot.tap(&OFFICIAL, &results, "Kết thúc ngay").await;
    refused(&bot.callback_answers().last().cloned().unwrap_or_default());
    bot.private(&LEADER, "/ketquaykien YK1").await;
    let results = bot.last_to(LEADER.id).text;
    assert!(
        results.contains(&format!("Đã kết thúc lúc {closed} (công khai)")) && !results.contains(&deadline),
        "{results}"
    );
    bot.private(&LEADER, "/thongke").await;
    let stats = bot.last_to(LEADER.id).text;
    assert!(stats.contains(&format!("YK1 (đã kết thúc lúc {closed})")), "{stats}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM consultation_votes WHERE current = 1").await, 1, "nothing late counted");

    // A second consultation opens; when its first reminder comes, the
    // closed one would have been due too: nobody is reminded of YK1.
    let preview =
        ask(&bot, &LEADER, "Bà con có đồng ý trồng cây ở ngõ 9 không?", "Mỗi hộ", "Công khai", "2 ngày").await;
    bot.tap(&LEADER, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "LẤY Ý KIẾN YK2", 1).await;
    bot.clock.advance(Duration::days(1));
    bot.wait_for(R1.id, "⏰ Nhắc", 1).await;
    bot.wait_for(LEADER.id, "YK2: 4 hộ", 1).await;
    for who in [R1.id, R2.id, R3.id, R4.id, LEADER.id] {
        let about_yk1: Vec<String> = bot
            .messages_to(who)
            .into_iter()
            .filter(|m| m.text.contains("⏰ Nhắc") || m.text.contains("chưa cho ý kiến (hạn"))
            .map(|m| m.text)
            .filter(|t| t.contains("YK1"))
            .collect();
        assert!(about_yk1.is_empty(), "{who} reminded of a closed consultation: {about_yk1:?}");
    }
    bot.assert_no_personal_data_in_groups();
    bot.finish().await;
}
