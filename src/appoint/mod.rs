//! `/phancong`: officials appoint and revoke leaders and officials. The
//! grant and the revocation themselves are in `actions`.
//!
//! ```text
//! (group, replying to a resident's message)  Official: /phancong
//!     Bot: Đã phân công Lê Thị Hoa làm tổ trưởng / tổ phó của «Tổ dân phố số 12».
//! (group, replying)                           Official: /phancong huy
//! (private)  Official: /phancong 123456789 Tổ dân phố số 12   (or the group's number in /nhom)
//! (private)  Official: /phancong 123456789 canbo              (a ward official)
//! (private)  Official: /phancong huy 123456789 canbo
//! ```

pub mod actions;

use crate::channel::{ChatKind, UserAddr};
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::roles;
use crate::text::fold;
use crate::turn::Turn;
use actions::Grant;

const USAGE: &str = "Cách dùng:\n• Trong nhóm: trả lời (reply) tin nhắn của người cần phân công rồi gõ /phancong (thêm «huy» để thu hồi, «canbo» để phân công cán bộ phường).\n• Tin nhắn riêng: /phancong <mã người dùng> <tên hoặc số thứ tự tổ>, hoặc /phancong <mã người dùng> canbo. Thêm «huy» ngay sau lệnh để thu hồi.";

#[derive(Debug, PartialEq, Eq)]
struct Request {
    revoke: bool,
    official: bool,
    user_id: Option<String>,
    group: String,
}

fn parse(args: &str) -> Request {
    let mut req = Request { revoke: false, official: false, user_id: None, group: String::new() };
    let mut rest = Vec::new();
    // "cán bộ" is often typed as two words.
    let folded = fold(args).replace("can bo", "canbo");
    for word in folded.split_whitespace() {
        match word {
            "huy" if !req.revoke && rest.is_empty() => req.revoke = true,
            "canbo" | "can-bo" | "official" if !req.official => req.official = true,
            w if req.user_id.is_none() && rest.is_empty() && w.len() >= 5 && w.chars().all(|c| c.is_ascii_digit()) => {
                req.user_id = Some(w.to_string())
            }
            _ => rest.push(word),
        }
    }
    req.group = rest.join(" ");
    req
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let req = parse(args);
    let replied_to = turn.msg.replied().and_then(|r| r.from.clone());
    let in_group = turn.msg.chat_kind == ChatKind::Group;
    let (target, target_name) = match (&replied_to, &req.user_id) {
        (Some(sender), None) if in_group => (sender.addr.clone(), sender.display_name.clone()),
        (_, Some(id)) => (UserAddr { channel: turn.caller.addr.channel, id: id.clone() }, String::new()),
        _ => return Err(Refusal::input(USAGE).into()),
    };
    let actor = turn.actor();
    let chat = turn.msg.chat.clone();
    let tx = turn.db.write().await?;
    let name = Some(target_name.as_str()).filter(|n| !n.is_empty());
    let target_id = roles::ensure_user(&mut *tx, &target, name, actor.at).await?;
    let role = if req.official {
        Grant::Official
    } else {
        let group = match (req.group.is_empty(), in_group) {
            (true, true) => group::by_chat(&mut *tx, &chat).await?,
            (true, false) => None,
            (false, _) => group::find(&mut *tx, &req.group).await?,
        };
        let Some(group) = group else {
            let text = if in_group && req.group.is_empty() {
                "Nhóm chat này chưa liên kết với tổ dân phố nào. Xin gõ /lienket <tên tổ> trước.".to_string()
            } else {
                format!("Không tìm thấy tổ dân phố «{}». Gõ /nhom để xem danh sách.\n\n{USAGE}", req.group)
            };
            return Err(Refusal::input(text).into());
        };
        Grant::Leader { group: group.id }
    };
    let done = if req.revoke {
        actions::revoke(tx, &actor, target_id, role).await?
    } else {
        actions::grant(&turn.app, tx, &actor, target_id, role).await?
    };
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms() {
        assert_eq!(parse(""), Request { revoke: false, official: false, user_id: None, group: String::new() });
        assert!(parse("huy").revoke);
        let r = parse("123456789 Tổ dân phố số 12");
        assert_eq!(r.user_id.as_deref(), Some("123456789"));
        assert_eq!(r.group, "to dan pho so 12");
        assert!(parse("123456789 cán bộ").official);
        let r = parse("huỷ 123456789 cán-bộ");
        assert!(r.revoke && r.official);
        let r = parse("123456789 3");
        assert_eq!(r.group, "3");
    }
}
