//! `/tocongnghe`: officials make community digital teams, say which groups
//! each covers, and add or remove members (the actions: `actions::team`). A member's role
//! ([`crate::roles::Role::Member`]) lasts as long as their row.
//!
//! ```text
//! (private) Official: /tocongnghe tao Tổ CNS số 1: 12, Tổ dân phố số 13
//!           Bot:      Đã lập «Tổ CNS số 1» (đội số 1), phụ trách: Tổ dân phố số 12, Tổ dân phố số 13.
//! (group, replying to someone)  Official: /tocongnghe them 1
//! (private) Official: /tocongnghe them 1 123456789      (bo instead of them: remove)
//! (private) Official: /tocongnghe                        → the teams, their groups and members
//! ```

use super::actions::team as actions;
use crate::channel::{ChatKind, UserAddr};
use crate::refusal::{Handled, Refusal, Stop};
use crate::text::{fold, squash};
use crate::turn::Turn;
use crate::{group, roles};

const USAGE: &str = "Cách dùng:\n• Lập đội: /tocongnghe tao <tên đội>: <tổ>, <tổ> (tổ ghi tên hoặc số thứ tự trong /nhom)\n• Thêm thành viên: trong nhóm, trả lời (reply) tin nhắn của người đó rồi gõ /tocongnghe them <số đội>; hoặc nhắn riêng /tocongnghe them <số đội> <mã người dùng>\n• Đưa thành viên ra khỏi đội: như trên, thay «them» bằng «bo»\n• Xem các đội: /tocongnghe";

#[derive(Debug, PartialEq, Eq)]
enum Request {
    List,
    Create { name: String, groups: Vec<String> },
    Member { add: bool, team: i64, user_id: Option<String> },
}

fn parse(args: &str) -> Option<Request> {
    let args = squash(args);
    let (word, rest) = args.split_once(' ').unwrap_or((&args, ""));
    match fold(word).as_str() {
        "" => Some(Request::List),
        "tao" => {
            let (name, groups) = rest.split_once(':')?;
            let name = squash(name);
            let groups: Vec<String> = groups.split([',', ';']).map(squash).filter(|g| !g.is_empty()).collect();
            (!name.is_empty() && name.chars().count() <= actions::MAX_NAME && !groups.is_empty())
                .then_some(Request::Create { name, groups })
        }
        w @ ("them" | "bo") => {
            let mut words = rest.split_whitespace();
            let team = words.next()?.trim_start_matches('#').parse().ok()?;
            let user_id = match words.next() {
                Some(id) if id.len() >= 5 && id.chars().all(|c| c.is_ascii_digit()) => Some(id.to_string()),
                Some(_) => return None,
                None => None,
            };
            words.next().is_none().then_some(Request::Member { add: w == "them", team, user_id })
        }
        _ => None,
    }
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Some(request) = parse(args) else {
        return Err(Refusal::input(USAGE).into());
    };
    match request {
        Request::List => list(turn).await,
        Request::Create { name, groups } => create(turn, &name, &groups).await,
        Request::Member { add, team, user_id } => member(turn, add, team, user_id).await,
    }
}

async fn list(turn: &mut Turn) -> Handled {
    let Turn { msg, db, out, .. } = turn;
    let mut conn = db.read().await?;
    let teams: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(concat!(
        "SELECT t.id, t.name,
                (SELECT group_concat(g.name, ', ') FROM digital_team_groups tg JOIN groups g ON g.id = tg.group_id
                 WHERE tg.team_id = t.id),
                (SELECT group_concat(name, ', ') FROM (SELECT ",
        crate::roles::person_name!(),
        " AS name FROM digital_team_members m JOIN users u ON u.id = m.user_id
                 WHERE m.team_id = t.id ORDER BY m.added_at))
         FROM digital_teams t ORDER BY t.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut text = String::from("👥 Các tổ công nghệ số cộng đồng:");
    if teams.is_empty() {
        text.push_str("\nChưa có đội nào.");
    }
    for (id, name, groups, members) in teams {
        text.push_str(&format!(
            "\n\n{id}. {name}\nPhụ trách: {groups}\nThành viên: {}",
            members.unwrap_or_else(|| "chưa có".into())
        ));
    }
    text.push_str(&format!("\n\n{USAGE}"));
    out.send(&msg.chat, text);
    Ok(())
}

async fn create(turn: &mut Turn, name: &str, wanted: &[String]) -> Handled {
    let actor = turn.actor();
    let tx = turn.db.write().await?;
    let mut groups = Vec::new();
    for query in wanted {
        let Some(g) = group::find(&mut *tx, query).await? else {
            return Err(Refusal::input(format!(
                "Không tìm thấy tổ dân phố «{query}». Gõ /nhom để xem danh sách.\n\n{USAGE}"
            ))
            .into());
        };
        groups.push(g.id);
    }
    let done = actions::create(tx, &actor, name, &groups).await?;
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

async fn member(turn: &mut Turn, add: bool, team: i64, user_id: Option<String>) -> Handled {
    let replied_to = turn.msg.replied().and_then(|r| r.from.clone());
    let (target, given_name) = match (&replied_to, user_id) {
        (_, Some(id)) => (UserAddr { channel: turn.caller.addr.channel, id }, None),
        (Some(sender), None) if turn.msg.chat_kind == ChatKind::Group => {
            (sender.addr.clone(), Some(sender.display_name.clone()).filter(|n| !n.is_empty()))
        }
        _ => return Err(Refusal::input(USAGE).into()),
    };
    let actor = turn.actor();
    let tx = turn.db.write().await?;
    let target_id = roles::ensure_user(&mut *tx, &target, given_name.as_deref(), actor.at).await?;
    let acted = if add {
        actions::add_member(&turn.app, tx, &actor, team, target_id).await
    } else {
        actions::remove_member(tx, &actor, team, target_id).await
    };
    let done = match acted {
        Err(Stop::Refused(Refusal::NotFound { what: "đội", .. })) => {
            return Err(Refusal::input(format!("Không có đội số {team}. Gõ /tocongnghe để xem các đội.")).into())
        }
        other => other?,
    };
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Whatever an official types, it is read or refused, never a panic;
        // a new team always has a name and groups.
        #[test]
        fn any_text_is_read_or_refused(args in "\\PC{0,80}") {
            if let Some(Request::Create { name, groups }) = parse(&args) {
                prop_assert!(!name.is_empty() && !groups.is_empty());
            }
        }
    }

    #[test]
    fn reads_each_form() {
        assert_eq!(parse(""), Some(Request::List));
        assert_eq!(
            parse("tạo  Tổ CNS số 1 : 12, Tổ dân phố số 13;"),
            Some(Request::Create {
                name: "Tổ CNS số 1".into(), groups: vec!["12".into(), "Tổ dân phố số 13".into()]
            })
        );
        assert_eq!(parse("them 1"), Some(Request::Member { add: true, team: 1, user_id: None }));
        assert_eq!(
            parse("bỏ #2 123456789"),
            Some(Request::Member { add: false, team: 2, user_id: Some("123456789".into()) })
        );
        for bad in ["tao Tổ không có tổ", "tao : 12", "them", "them x", "them 1 12", "them 1 123456 7", "xoa 1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
