//! Every command in the catalog (`commands::COMMANDS`) and every kind of button
//! the bot shows, tried by a resident, the leader of another group, the
//! leader of this group and an official, in private and in the group.
//! What a role may do works; what it may not is refused for who the person
//! is — the kind of refusal the bot kept with the update (`NoRight`,
//! `StaffOnly`, `OwnGroupOnly`, `OnlyFor`; `WrongPlace` for a group's
//! command in private), read from the typed value, not from the words —
//! shows none of the records' data, and changes nothing in the database. A
//! command added to the catalog, or a button kind the bot starts showing,
//! without a row here fails the test.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use todanpho::commands::Place;

use crate::support::*;

const OTHER_CHAT: i64 = -4_000_000_013;
const OTHER_LEADER: User = User { id: 200_005, first_name: "Phạm", last_name: Some("Văn Khác") };
/// Whom `/phancong` is aimed at: nobody else in the table, so that an
/// allowed appointment does not change who the others are.
const BYSTANDER: User = User { id: 300_009, first_name: "Đỗ", last_name: Some("Thị Ngoài") };
/// A chat not linked yet, where an allowed `/lienket` goes.
const NEW_CHAT: i64 = -4_000_000_099;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Resident,
    OtherLeader,
    Leader,
    Official,
    /// A member of the digital team covering this group.
    Member,
}

const EVERYONE: &[Who] = &[Who::Resident, Who::OtherLeader, Who::Leader, Who::Official, Who::Member];
/// Whoever reaches some group's households: the walking list, progress.
const REACHING: &[Who] = &[Who::OtherLeader, Who::Leader, Who::Official, Who::Member];
/// Whoever reaches this group's households.
const THIS_GROUPS_DOORS: &[Who] = &[Who::Leader, Who::Official, Who::Member];
const STAFF: &[Who] = &[Who::OtherLeader, Who::Leader, Who::Official];
const THIS_GROUP: &[Who] = &[Who::Leader, Who::Official];
const OFFICIALS: &[Who] = &[Who::Official];
/// A notice draft is its author's (the leader's) alone.
const COMPOSER: &[Who] = &[Who::Leader];

impl Who {
    fn user(self) -> &'static User {
        match self {
            Who::Resident => &NEIGHBOUR,
            Who::OtherLeader => &OTHER_LEADER,
            Who::Leader => &LEADER,
            Who::Official => &OFFICIAL,
            Who::Member => &crate::digital::MEMBER,
        }
    }
}

/// Who may use each command, with the arguments that aim it at this
/// group's records. In the group, commands meant for private chat only
/// answer where to send them, which changes nothing either.
fn commands() -> BTreeMap<&'static str, (&'static str, &'static [Who])> {
    // In the group the command acts on that group, so a leader of another
    // group is refused there (see `in_group`).
    BTreeMap::from([
        ("dangky", ("", EVERYONE)),
        ("hocuatoi", ("", EVERYONE)),
        ("phananh", ("", EVERYONE)),
        ("phananhcuatoi", ("", EVERYONE)),
        ("ungho", ("", EVERYONE)),
        ("quy", ("", EVERYONE)),
        ("huy", ("", EVERYONE)),
        ("ketnoi", ("", EVERYONE)),
        ("tatthongbao", ("", EVERYONE)),
        ("batthongbao", ("", EVERYONE)),
        ("help", ("", EVERYONE)),
        ("start", ("", EVERYONE)),
        ("dsphananh", ("", STAFF)),
        ("xuly", ("PA-000001 tiepnhan", THIS_GROUP)),
        ("bangtin", ("bat", STAFF)),
        ("thongbao", ("Họp tổ tối thứ Bảy", STAFF)),
        ("thongbao_ds", ("TB1", THIS_GROUP)),
        ("henlich", ("", STAFF)),
        ("vandong", ("", STAFF)),
        ("mato", ("", STAFF)),
        ("xacnhan", ("P0001", THIS_GROUP)),
        ("ghinhan", ("UH1 100k Bà Tư", THIS_GROUP)),
        ("ketthuc", ("UH1", THIS_GROUP)),
        ("thongke", ("", STAFF)),
        ("xuatexcel", ("", STAFF)),
        ("sohodukien", ("1 120", OFFICIALS)),
        ("lienket", ("Tổ dân phố số 14", OFFICIALS)),
        ("nhom", ("", OFFICIALS)),
        ("phancong", ("", OFFICIALS)),
        ("tocongnghe", ("", OFFICIALS)),
        ("ditham", ("", REACHING)),
        ("tiendo", ("", REACHING)),
        ("layykien", ("", STAFF)),
        ("ghiykien", ("", STAFF)),
        ("ketquaykien", ("", STAFF)),
        ("ykien", ("", EVERYONE)),
        ("themvaoho", ("1 300009", THIS_GROUP)),
    ])
}

/// Who may use the command when it is sent in this group's chat.
fn in_group(name: &str, allowed: &'static [Who]) -> &'static [Who] {
    match name {
        "thongbao" | "vandong" | "bangtin" | "mato" => THIS_GROUP,
        _ => allowed,
    }
}

/// Who may press each kind of button (`prefix:action`), and the data that
/// aims it at this group's records.
fn buttons(household: i64) -> BTreeMap<&'static str, (String, &'static [Who])> {
    BTreeMap::from([
        ("hh:ok", (format!("hh:ok:{household}"), THIS_GROUP)),
        ("hh:no", (format!("hh:no:{household}"), THIS_GROUP)),
        // No change to a household is waiting: nobody finds one to review.
        ("hu:ok", ("hu:ok:1".into(), &[])),
        ("hu:no", ("hu:no:1".into(), &[])),
        // The resident's own household: none of these people heads it.
        ("hm:inv", (format!("hm:inv:{household}"), &[])),
        ("hm:dg", (format!("hm:dg:{household}"), &[])),
        ("nt:pin", ("nt:pin:1".into(), COMPOSER)),
        ("nt:time", ("nt:time:1".into(), COMPOSER)),
        ("nt:tg", ("nt:tg:1:1".into(), COMPOSER)),
        ("nt:all", ("nt:all:1".into(), COMPOSER)),
        ("nt:none", ("nt:none:1".into(), COMPOSER)),
        ("nt:pg", ("nt:pg:1:1".into(), COMPOSER)),
        ("nt:send", ("nt:send:1".into(), COMPOSER)),
        ("nt:cx", ("nt:cx:1".into(), COMPOSER)),
        ("nt:ds", ("nt:ds:1".into(), THIS_GROUP)),
        ("nt:seen", ("nt:seen:1".into(), EVERYONE)),
        ("pl:ok", ("pl:ok:1".into(), THIS_GROUP)),
        ("pl:no", ("pl:no:1".into(), THIS_GROUP)),
        ("rp:st", ("rp:st:1:tiepnhan".into(), THIS_GROUP)),
        ("rp:sh", ("rp:sh:1".into(), THIS_GROUP)),
        ("rp:rt", ("rp:rt:1:y".into(), &[])),
        ("rp:ls", ("rp:ls:".into(), STAFF)),
        ("dt:v", (format!("dt:v:{household}"), THIS_GROUPS_DOORS)),
        ("dt:pg", ("dt:pg:1:0".into(), THIS_GROUPS_DOORS)),
        ("dt:gp", ("dt:gp:0".into(), REACHING)),
        ("dt:sr", ("dt:sr:0:12".into(), REACHING)),
        // A head's answer to someone asking to join their household: none
        // of these people heads one with a request.
        ("hj:ok", ("hj:ok:1".into(), &[])),
        ("hj:no", ("hj:no:1".into(), &[])),
        // A consultation's ballot: anyone may press; only a registered
        // household's person is counted (none of these people).
        ("yk:a", ("yk:a:1:0".into(), EVERYONE)),
        ("yk:s", ("yk:s:1".into(), COMPOSER)),
        ("yk:c", ("yk:c:1".into(), COMPOSER)),
        ("yk:l", ("yk:l:1:0".into(), THIS_GROUP)),
        ("yk:p", (format!("yk:p:1:{household}"), THIS_GROUP)),
        ("yk:r", (format!("yk:r:1:{household}:0"), THIS_GROUP)),
        // Closing early: its creator (the leader) and officials.
        ("yk:x", ("yk:x:1".into(), THIS_GROUP)),
    ])
}

/// Every row of every table that holds what people did; left out are the
/// inbox, the reply outbox, `users` (names are refreshed on each message)
/// and `private_chats` (who has written to the bot in private).
async fn snapshot(bot: &TestBot) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name NOT IN ('_sqlx_migrations', 'processed_updates', 'reply_outbox', 'users', 'private_chats')",
    )
    .fetch_all(bot.db())
    .await
    .unwrap();
    let mut all = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?)").bind(&table).fetch_all(bot.db()).await.unwrap();
        let object = columns.iter().map(|c| format!("'{c}', \"{c}\"")).collect::<Vec<_>>().join(", ");
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT json_object({object}) FROM \"{table}\""))
            .fetch_all(bot.db())
            .await
            .unwrap();
        all.insert(table, rows);
    }
    all
}

/// Fails naming the tables that changed, not printing them whole.
fn unchanged(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>, case: String) {
    let changed: Vec<(&String, Vec<&String>)> = after
        .iter()
        .filter(|(t, rows)| before.get(*t) != Some(rows))
        .map(|(t, rows)| (t, rows.iter().filter(|r| !before[t].contains(r)).collect()))
        .collect();
    assert!(changed.is_empty(), "{case}: changed {changed:?}");
}

/// The kind of refusal the bot kept with the last update it handled
/// (`processed_updates.refused`), if it refused it.
async fn refused_kind(bot: &TestBot) -> Option<String> {
    sqlx::query_scalar("SELECT refused FROM processed_updates ORDER BY rowid DESC LIMIT 1")
        .fetch_one(bot.db())
        .await
        .unwrap()
}

/// Refused for who the person is: their role, or their relation to the
/// record.
fn for_rights(kind: Option<&str>) -> bool {
    matches!(kind, Some("NoRight" | "StaffOnly" | "OwnGroupOnly" | "OnlyFor"))
}

/// What the world's records hold that only their people may see: the
/// household's phone, head and street, the report's description, the
/// pledge's amount.
const DATA: &[&str] =
    &[crate::registration::PHONE, "Nguyễn Văn An", crate::registration::STREET, "Đèn hỏng", "500.000"];

/// A refused read shows nothing of the records.
fn shows_no_data(seen: &[String], case: &str) {
    for text in seen {
        for data in DATA {
            assert!(!text.contains(data), "{case}: refused, but shown «{data}»: {text}");
        }
    }
}

/// What the person saw in answer to the last update: messages to them (or
/// to the chat they wrote in) and toasts.
fn answers(bot: &TestBot, since: usize, chats: &[i64]) -> Vec<String> {
    bot.tg.requests()[since..]
        .iter()
        .filter(|r| r.method == "answerCallbackQuery" || chats.iter().any(|c| r.body["chat_id"] == json!(c)))
        .filter_map(|r| r.body["text"].as_str().or(r.body["caption"].as_str()).map(str::to_string))
        .collect()
}

/// Every button's data the bot has sent so far.
fn shown(bot: &TestBot) -> Vec<String> {
    bot.tg
        .requests()
        .iter()
        .flat_map(|r| r.body["reply_markup"]["inline_keyboard"].as_array().cloned().unwrap_or_default())
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

/// The kinds (`prefix:action`) of buttons that act on shared records.
/// Dialogue answers, pickers, "continue" and the person's own household
/// or pledge buttons only ever act on the presser's own things.
fn shown_kinds(bot: &TestBot) -> BTreeSet<String> {
    shown(bot)
        .into_iter()
        .filter_map(|d| {
            let mut parts = d.split(':');
            let (a, b) = (parts.next()?, parts.next()?);
            (!matches!(a, "dg" | "pk" | "cv" | "hm" | "ug")).then(|| format!("{a}:{b}"))
        })
        .collect()
}

/// Waits until no notice is on its way: a delivery recorded while the
/// next case runs is not that case's doing.
async fn settle(bot: &TestBot) {
    for _ in 0..500 {
        if bot.count("SELECT COUNT(*) FROM notices WHERE status = 'queued'").await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn set_up_world(bot: &TestBot) -> i64 {
    bot.setup_group().await;
    bot.group(OTHER_CHAT, &OFFICIAL, "/lienket Tổ dân phố số 13").await;
    bot.group_reply(OTHER_CHAT, &OFFICIAL, "/phancong", &OTHER_LEADER).await;
    let household = crate::registration::register(bot, &RESIDENT).await;
    // Six reports, so that the list has a second page.
    for _ in 0..6 {
        crate::reports::file_report(bot, &RESIDENT, "Chiếu sáng", "Đèn hỏng", &[], None).await;
    }
    for answer in crate::scripts::campaign(1) {
        bot.private(&LEADER, &answer).await;
    }
    bot.private(&RESIDENT, "/start uh-1").await;
    for answer in ["500k", "Ghi tên tôi", "1", "xác nhận"] {
        bot.private(&RESIDENT, answer).await;
    }
    bot.private(&LEADER, "/thongbao Họp tổ tối thứ Bảy").await;
    bot.private(&LEADER, "/dsphananh").await;
    // The household approved, so that it is on the walking list; team 1
    // covers this group, with its member.
    let review = bot.messages_to(LEADER.id).into_iter().rfind(|m| m.text.contains("Đăng ký hộ mới")).unwrap();
    bot.tap(&LEADER, &review, "Duyệt").await;
    bot.private(&OFFICIAL, "/tocongnghe tao Tổ CNS số 1: Tổ dân phố số 12").await;
    bot.private(&OFFICIAL, &format!("/tocongnghe them 1 {}", crate::digital::MEMBER.id)).await;
    bot.private(&crate::digital::MEMBER, "/ditham").await;
    // A consultation sent to this group, its ballot opened, the list for
    // paper answers and the results shown.
    let preview = crate::consultations::ask(bot, &LEADER, "Đặt tên ngõ?", "Mỗi hộ", "Công khai", "2 ngày").await;
    bot.tap(&LEADER, &preview, "Gửi").await;
    settle(bot).await;
    bot.private(&RESIDENT, "/start yk-1").await;
    bot.private(&LEADER, "/ghiykien").await;
    bot.tap(&LEADER, &bot.last_to(LEADER.id), "✍️").await;
    bot.private(&LEADER, "/ketquaykien").await;
    household
}

#[tokio::test]
async fn every_command_and_button_checks_the_role_on_the_server() {
    let bot = TestBot::start().await;
    let household = set_up_world(&bot).await;

    let mut matrix = Vec::new();
    // Buttons: every kind the bot has shown so far needs a row.
    let rows = buttons(household);
    let shown_data = shown(&bot);
    for kind in &shown_kinds(&bot) {
        assert!(rows.contains_key(kind.as_str()), "the bot shows '{kind}' buttons that the role table lacks");
    }
    // And every kind in the buttons' table that acts on or reads records,
    // whether shown yet or not.
    for info in todanpho::buttons::BUTTONS {
        if info.calls != todanpho::buttons::Calls::Own {
            assert!(rows.contains_key(info.kind), "'{}' in the buttons' table lacks a row here", info.kind);
        }
    }
    for (kind, (sample, allowed)) in &rows {
        // A button the bot really showed, where there is one.
        let data = shown_data.iter().find(|d| d.starts_with(&format!("{kind}:"))).unwrap_or(sample);
        for who in [Who::Resident, Who::OtherLeader, Who::Official, Who::Leader, Who::Member] {
            for chat in [who.user().id, GROUP_CHAT] {
                let user = who.user();
                settle(&bot).await;
                let before = snapshot(&bot).await;
                let since = bot.tg.request_count();
                let on = Sent {
                    method: "sendMessage".into(),
                    chat_id: chat,
                    message_id: 1,
                    text: "…".into(),
                    buttons: vec![],
                    body: json!({}),
                };
                bot.press(user, &on, data).await;
                if chat == GROUP_CHAT {
                    // The pressed message is the group's: never edited into
                    // what the flow would show the presser in private.
                    let edited = bot.tg.requests()[since..].iter().any(|r| {
                        r.method == "editMessageText"
                            && r.body["chat_id"] == json!(chat)
                            && r.body["message_id"] == json!(1)
                    });
                    assert!(!edited, "{kind} by {who:?} pressed in the group edited the group's message");
                }
                let seen = answers(&bot, since, &[chat, user.id]);
                let refused = refused_kind(&bot).await;
                let case = format!("{kind} by {who:?} in {}", if chat == GROUP_CHAT { "the group" } else { "private" });
                if allowed.contains(&who) {
                    assert!(!for_rights(refused.as_deref()), "{case} was refused ({refused:?}): {seen:?}");
                } else {
                    // Nobody here may press it: it finds nothing of theirs
                    // to act on, or is refused for who they are.
                    let expected = if allowed.is_empty() {
                        for_rights(refused.as_deref()) || matches!(refused.as_deref(), Some("NotFound" | "State"))
                    } else {
                        for_rights(refused.as_deref())
                    };
                    assert!(expected, "{case}: refused as {refused:?}: {seen:?}");
                    shows_no_data(&seen, &case);
                    unchanged(&before, &snapshot(&bot).await, format!("{case}: refused but changed"));
                }
                matrix.push(format!("{kind} {who:?}: {}", if allowed.contains(&who) { "works" } else { "refused" }));
            }
        }
    }
    // The table covers the catalog, and nothing the catalog lacks.
    let table = commands();
    let catalog: BTreeSet<&str> = todanpho::commands::COMMANDS.iter().map(|c| c.name).collect();
    assert_eq!(catalog, table.keys().copied().collect::<BTreeSet<_>>(), "a command without a row in the role table");

    for (name, (args, allowed)) in &table {
        for place in ["private", "group"] {
            for who in [Who::Resident, Who::OtherLeader, Who::Official, Who::Leader, Who::Member] {
                let user = who.user();
                let chat = match (place, *name) {
                    ("private", _) => user.id,
                    (_, "lienket") => NEW_CHAT,
                    _ => GROUP_CHAT,
                };
                let before = snapshot(&bot).await;
                let since = bot.tg.request_count();
                let text = format!("/{name} {args}");
                if *name == "phancong" {
                    bot.group_reply(chat, user, &text, &BYSTANDER).await;
                } else if place == "private" {
                    bot.private(user, &text).await;
                } else {
                    bot.group(chat, user, &text).await;
                }
                let seen = answers(&bot, since, &[chat, user.id]);
                // The place the catalog gives the command holds (everyone
                // here has written to the bot in private by now).
                let in_chat = bot.tg.requests()[since..].iter().filter(|r| r.body["chat_id"] == json!(chat)).count();
                match (todanpho::commands::find(name).expect("in the catalog").place, place) {
                    (Place::Private, "group") => {
                        assert_eq!(in_chat, 0, "/{name} by {who:?} answered in the group: {seen:?}");
                        assert!(!seen.is_empty(), "/{name} by {who:?} in the group: no answer in private");
                    }
                    (Place::Group, "private") => {
                        let kind = refused_kind(&bot).await;
                        assert_eq!(kind.as_deref(), Some("WrongPlace"), "/{name} by {who:?} in private: {seen:?}");
                        assert!(seen.iter().any(|t| t.contains("chỉ dùng trong nhóm")), "/{name} by {who:?}: {seen:?}");
                        unchanged(&before, &snapshot(&bot).await, format!("/{name} by {who:?} in private"));
                        matrix.push(format!("/{name} {who:?} {place}: only in a group"));
                        continue;
                    }
                    _ => {}
                }
                let refused = refused_kind(&bot).await;
                let may = if place == "group" { in_group(name, allowed) } else { allowed }.contains(&who);
                let case = format!("/{name} by {who:?} in {place}");
                if may {
                    assert!(!for_rights(refused.as_deref()), "{case} was refused ({refused:?}): {seen:?}");
                } else {
                    assert!(for_rights(refused.as_deref()), "{case}: refused as {refused:?}, not for rights: {seen:?}");
                    shows_no_data(&seen, &case);
                    unchanged(&before, &snapshot(&bot).await, format!("{case}: refused but changed"));
                }
                matrix.push(format!("/{name} {who:?} {place}: {}", if may { "works" } else { "refused" }));
            }
        }
    }

    // Kinds shown while the commands ran need rows too.
    for kind in shown_kinds(&bot) {
        assert!(rows.contains_key(kind.as_str()), "the bot shows '{kind}' buttons that the role table lacks");
    }
    eprintln!("role table: {} cases", matrix.len());
    bot.finish().await;
}
