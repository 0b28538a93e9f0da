//! `/phancong`: officials appoint and revoke leaders and officials.
//!
//! ```text
//! (group, replying to a resident's message)  Official: /phancong
//!     Bot: Đã phân công Lê Thị Hoa làm tổ trưởng / tổ phó của «Tổ dân phố số 12».
//! (group, replying)                           Official: /phancong huy
//! (private)  Official: /phancong 123456789 Tổ dân phố số 12   (or the group's number in /nhom)
//! (private)  Official: /phancong 123456789 canbo              (a ward official)
//! (private)  Official: /phancong huy 123456789 canbo
//! ```

use crate::channel::{ChatKind, UserAddr};
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::roles::{self};
use crate::text::fold;
use crate::turn::Turn;

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
    let Turn { app, caller, msg, db, out } = turn;
    let replied_to = msg.replied().and_then(|r| r.from.clone());
    let now = db.now();
    let mut tx = db.write().await?;
    if !roles::is_official(&mut tx, caller.id).await? {
        return Err(Refusal::OnlyFor {
            who: "cán bộ phường", to: "phân công được tổ trưởng và cán bộ"
        }
        .into());
    }
    let req = parse(args);
    let (target, target_name) = match (&replied_to, &req.user_id) {
        (Some(sender), None) if msg.chat_kind == ChatKind::Group => (sender.addr.clone(), sender.display_name.clone()),
        (_, Some(id)) => (UserAddr { channel: caller.addr.channel, id: id.clone() }, String::new()),
        _ => {
            return Err(Refusal::input(USAGE).into());
        }
    };
    let target_id =
        roles::ensure_user(&mut tx, &target, Some(&target_name).filter(|n| !n.is_empty()).map(|s| s.as_str()), now)
            .await?;
    let shown = match roles::user_addr(&mut tx, target_id).await? {
        Some((_, name)) if !name.is_empty() => name,
        _ => format!("người dùng {}", target.id),
    };

    if req.official {
        let changed = if req.revoke {
            if target_id == caller.id || roles::count_officials(&mut tx).await? <= 1 {
                return Err(Refusal::state(
                    "Không thể tự thu hồi quyền của mình hoặc thu hồi cán bộ cuối cùng của phường.",
                )
                .into());
            }
            roles::revoke_official(&mut tx, target_id).await?
        } else {
            roles::appoint_official(&mut tx, target_id, Some(caller.id), now).await?
        };
        let action = if req.revoke { "role.official.revoke" } else { "role.official.appoint" };
        if changed {
            crate::audit::record(
                &mut tx,
                &crate::action::Actor::new(caller.id, caller.addr.channel, now),
                action,
                &format!("user:{target_id}"),
                None,
            )
            .await?;
        }
        let text = match (req.revoke, changed) {
            (false, true) => format!("Đã phân công {shown} làm cán bộ phường."),
            (false, false) => format!("{shown} đã là cán bộ phường từ trước."),
            (true, true) => format!("Đã thu hồi quyền cán bộ phường của {shown}."),
            (true, false) => format!("{shown} không phải cán bộ phường."),
        };
        out.send(&msg.chat, text);
        if changed && !req.revoke {
            out.send(
                &target.private_chat(),
                format!(
                    "Bác đã được phân công làm cán bộ {} trên bot. Gõ /help để xem các lệnh.",
                    app.settings.ward_name
                ),
            );
        }
        return Ok(());
    }

    let group = if req.group.is_empty() {
        if msg.chat_kind == ChatKind::Group {
            group::by_chat(&mut tx, &msg.chat).await?
        } else {
            None
        }
    } else {
        group::find(&mut tx, &req.group).await?
    };
    let Some(group) = group else {
        let text = if msg.chat_kind == ChatKind::Group && req.group.is_empty() {
            "Nhóm chat này chưa liên kết với tổ dân phố nào. Xin gõ /lienket <tên tổ> trước.".to_string()
        } else {
            format!("Không tìm thấy tổ dân phố «{}». Gõ /nhom để xem danh sách.\n\n{USAGE}", req.group)
        };
        return Err(Refusal::input(text).into());
    };
    let changed = if req.revoke {
        roles::revoke_leader(&mut tx, target_id, group.id).await?
    } else {
        roles::appoint_leader(&mut tx, target_id, group.id, caller.id, now).await?
    };
    if changed {
        let action = if req.revoke { "role.leader.revoke" } else { "role.leader.appoint" };
        crate::audit::record(
            &mut tx,
            &crate::action::Actor::new(caller.id, caller.addr.channel, now),
            action,
            &format!("user:{target_id}"),
            Some(&format!("group:{}", group.id)),
        )
        .await?;
    }
    let text = match (req.revoke, changed) {
        (false, true) => format!("Đã phân công {shown} làm tổ trưởng / tổ phó của «{}».", group.name),
        (false, false) => format!("{shown} đã là tổ trưởng / tổ phó của «{}» từ trước.", group.name),
        (true, true) => format!("Đã thu hồi quyền tổ trưởng / tổ phó của {shown} ở «{}».", group.name),
        (true, false) => format!("{shown} không phải tổ trưởng / tổ phó của «{}».", group.name),
    };
    out.send(&msg.chat, text);
    if changed && !req.revoke {
        out.send(
            &target.private_chat(),
            format!(
                "Bác đã được phân công làm tổ trưởng / tổ phó của «{}». Bot sẽ nhắn riêng cho bác khi có hộ đăng ký cần duyệt. Gõ /help để xem các lệnh.",
                group.name
            ),
        );
    }
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
