//! The command table, and `/start`, `/help`. The table is the one list of
//! commands: each entry's name, who may use it, where it answers, its help
//! line and its handler. The router (`handle`), `/help`, the platforms'
//! command menus and the tests of roles and places all read it.

use crate::campaign::{close, confirm, pledge};
use crate::channel::ChatKind;
use crate::conversation::flow::{self, Flow};
use crate::household::mine;
use crate::notice::{ack, compose, optout, schedule};
use crate::refusal::Handled;
use crate::report::{feed, handling, listing};
use crate::roles::{self, Role};
use crate::stats::{command as stats, export};
use crate::turn::Turn;
use crate::{appoint, consultation, conversation, digital, group, identity, membership};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Private,
    Group,
    Both,
}

/// One command: what `/help` and the platform menus show, who may use it,
/// where it answers, and what runs it. The router reads nothing else.
#[derive(Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    /// Other names it answers to (not shown in menus).
    pub aliases: &'static [&'static str],
    pub description: &'static str,
    pub role: Role,
    pub place: Place,
    pub run: Run,
}

impl std::fmt::Debug for CommandInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandInfo").field("name", &self.name).field("role", &self.role).finish_non_exhaustive()
    }
}

/// A command's handler: the update's turn (the caller, the message with
/// what it replied to) and the words after the command.
pub type Run = for<'a> fn(&'a mut Turn, &'a str) -> futures_util::future::BoxFuture<'a, Handled>;

const fn cmd(name: &'static str, description: &'static str, role: Role, place: Place, run: Run) -> CommandInfo {
    CommandInfo { name, aliases: &[], description, role, place, run }
}

/// What someone whose role is below the command's is told.
pub fn refusal(command: &CommandInfo) -> crate::refusal::Refusal {
    let who = match command.role {
        Role::Official => "cán bộ phường",
        Role::Leader | Role::Resident => "tổ trưởng, tổ phó và cán bộ phường",
        Role::Member => "thành viên tổ công nghệ số, tổ trưởng và cán bộ phường",
    };
    crate::refusal::Refusal::no_right(format!("dùng lệnh /{}: chỉ {who} mới dùng được", command.name))
}

pub const COMMANDS: &[CommandInfo] = &[
    cmd("dangky", "Đăng ký hộ gia đình", Role::Resident, Place::Both, |turn, _| {
        Box::pin(flow::command(turn, Flow::Household))
    }),
    cmd("hocuatoi", "Xem, cập nhật thông tin hộ của tôi", Role::Resident, Place::Private, |turn, _| {
        Box::pin(mine::command(turn))
    }),
    cmd("phananh", "Gửi phản ánh hiện trường", Role::Resident, Place::Both, |turn, _| {
        Box::pin(flow::command(turn, Flow::Report))
    }),
    cmd("phananhcuatoi", "Xem phản ánh tôi đã gửi", Role::Resident, Place::Private, |turn, _| {
        Box::pin(listing::mine(turn))
    }),
    cmd("ungho", "Ủng hộ cuộc vận động", Role::Resident, Place::Both, |turn, _| {
        Box::pin(pledge::command(turn))
    }),
    cmd(
        "quy",
        "Các cuộc vận động đang mở và số tiền đã nhận",
        Role::Resident,
        Place::Both,
        |turn, _| Box::pin(close::list(turn)),
    ),
    cmd("ykien", "Cho ý kiến các cuộc lấy ý kiến đang mở", Role::Resident, Place::Private, |turn, _| {
        Box::pin(consultation::ballot::command(turn))
    }),
    cmd("huy", "Huỷ việc đang làm dở", Role::Resident, Place::Private, |turn, _| {
        Box::pin(conversation::cancel(turn))
    }),
    cmd("ketnoi", "Lấy mã để dùng bot trên Zalo", Role::Resident, Place::Private, |turn, _| {
        Box::pin(identity::issue(turn))
    }),
    cmd("tatthongbao", "Không nhận thông báo nhắn riêng nữa", Role::Resident, Place::Private, |turn, _| {
        Box::pin(optout::stop(turn))
    }),
    cmd("batthongbao", "Nhận lại thông báo nhắn riêng", Role::Resident, Place::Private, |turn, _| {
        Box::pin(optout::resume(turn))
    }),
    CommandInfo {
        aliases: &["trogiup"],
        ..cmd("help", "Hướng dẫn sử dụng", Role::Resident, Place::Both, |turn, _| Box::pin(help(turn)))
    },
    cmd("start", "Bắt đầu trò chuyện với bot", Role::Resident, Place::Private, |turn, args| {
        Box::pin(start(turn, args.trim()))
    }),
    cmd("dsphananh", "Danh sách phản ánh cần xử lý", Role::Leader, Place::Private, |turn, args| {
        Box::pin(listing::command(turn, args))
    }),
    cmd("xuly", "Cập nhật xử lý phản ánh", Role::Leader, Place::Private, |turn, args| {
        Box::pin(handling::command(turn, args))
    }),
    cmd("bangtin", "Bật, tắt bảng tin phản ánh của nhóm", Role::Leader, Place::Both, |turn, args| {
        Box::pin(feed::command(turn, args))
    }),
    cmd("thongbao", "Gửi thông báo tới nhóm", Role::Leader, Place::Both, |turn, args| {
        Box::pin(compose::command(turn, args))
    }),
    cmd("thongbao_ds", "Xem số hộ đã xem thông báo", Role::Leader, Place::Private, |turn, args| {
        Box::pin(ack::command(turn, args))
    }),
    cmd("henlich", "Thông báo đang hẹn giờ gửi", Role::Leader, Place::Private, |turn, _| {
        Box::pin(schedule::command(turn))
    }),
    cmd("vandong", "Tạo cuộc vận động ủng hộ", Role::Leader, Place::Both, |turn, _| {
        Box::pin(flow::command(turn, Flow::Campaign))
    }),
    cmd("mato", "Mã tham gia tổ cho người dùng Zalo", Role::Leader, Place::Both, |turn, _| {
        Box::pin(membership::show(turn))
    }),
    cmd("xacnhan", "Xác nhận đã nhận tiền ủng hộ", Role::Leader, Place::Private, |turn, args| {
        Box::pin(confirm::command(turn, args))
    }),
    cmd(
        "ghinhan",
        "Ghi nhận tiền mặt của người không dùng bot",
        Role::Leader,
        Place::Private,
        |turn, args| Box::pin(confirm::record_cash(turn, args)),
    ),
    cmd("ketthuc", "Kết thúc cuộc vận động", Role::Leader, Place::Private, |turn, args| {
        Box::pin(close::command(turn, args))
    }),
    cmd("themvaoho", "Đề nghị thêm một người vào hộ", Role::Leader, Place::Both, |turn, args| {
        Box::pin(crate::household::members::propose(turn, args))
    }),
    cmd(
        "layykien",
        "Lấy ý kiến nhân dân (mỗi hộ một ý kiến)",
        Role::Leader,
        Place::Private,
        |turn, _| Box::pin(consultation::compose::command(turn)),
    ),
    cmd(
        "ghiykien",
        "Ghi ý kiến phiếu giấy của hộ không dùng điện thoại",
        Role::Leader,
        Place::Private,
        |turn, args| Box::pin(consultation::paper::command(turn, args)),
    ),
    cmd("ketquaykien", "Kết quả lấy ý kiến, kết thúc sớm", Role::Leader, Place::Private, |turn, args| {
        Box::pin(consultation::results::command(turn, args))
    }),
    cmd("thongke", "Thống kê hộ, phản ánh, quỹ, thông báo", Role::Leader, Place::Private, |turn, args| {
        Box::pin(stats::command(turn, args))
    }),
    cmd("xuatexcel", "Xuất tệp Excel thống kê", Role::Leader, Place::Private, |turn, _| {
        Box::pin(export::command(turn))
    }),
    cmd(
        "ditham",
        "Danh sách hộ cần đến hỗ trợ công dân số",
        Role::Member,
        Place::Private,
        |turn, args| Box::pin(digital::doors::command(turn, args)),
    ),
    cmd(
        "tiendo",
        "Tiến độ công dân số của tổ, đội, phường",
        Role::Member,
        Place::Private,
        |turn, args| Box::pin(digital::progress::command(turn, args)),
    ),
    cmd("sohodukien", "Đặt số hộ dự kiến của tổ", Role::Official, Place::Private, |turn, args| {
        Box::pin(stats::expected(turn, args))
    }),
    cmd("lienket", "Liên kết nhóm chat với tổ dân phố", Role::Official, Place::Group, |turn, args| {
        Box::pin(group::link(turn, args))
    }),
    cmd("nhom", "Danh sách tổ dân phố", Role::Official, Place::Private, |turn, _| Box::pin(group::list(turn))),
    cmd("phancong", "Phân công tổ trưởng, cán bộ", Role::Official, Place::Both, |turn, args| {
        Box::pin(appoint::command(turn, args))
    }),
    cmd(
        "tocongnghe",
        "Lập tổ công nghệ số, thêm bớt thành viên",
        Role::Official,
        Place::Both,
        |turn, args| Box::pin(digital::team::command(turn, args)),
    ),
];

/// The catalog's entry for a command name (or one of its aliases).
pub fn find(name: &str) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.name == name || c.aliases.contains(&name))
}

/// The deep-link payload that opens the private chat to type `command`
/// again (see [`crate::handle`]).
pub fn retype_payload(command: &CommandInfo) -> String {
    format!("{RETYPE}{}", command.name)
}

const RETYPE: &str = "lenh-";

/// The commands a role may use in a kind of chat.
pub fn commands_for(role: Role, place: Place) -> impl Iterator<Item = &'static CommandInfo> {
    COMMANDS
        .iter()
        .filter(move |c| c.role <= role && (c.place == Place::Both || place == Place::Both || c.place == place))
}

pub async fn help(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let role = roles::role_of(&mut conn, caller.id).await?;
    let place = match msg.chat_kind {
        ChatKind::Private => Place::Both,
        ChatKind::Group => Place::Group,
    };
    let who = match role {
        Role::Official => "cán bộ phường",
        Role::Leader => "tổ trưởng / tổ phó",
        Role::Member => "thành viên tổ công nghệ số",
        Role::Resident => "cư dân",
    };
    let mut text = format!("Bot của {} — các lệnh dành cho {who}:", app.settings.ward_name);
    // A link code is taken on one platform and only sent on the other.
    let issues = crate::identity::issued_on(caller.addr.channel);
    for c in commands_for(role, place).filter(|c| c.name != "start" && (issues || c.name != "ketnoi")) {
        text.push_str(&format!("\n/{} — {}", c.name, c.description));
    }
    if msg.chat_kind == ChatKind::Group {
        text.push_str("\n\nViệc cần thông tin cá nhân được làm trong tin nhắn riêng với bot.");
    }
    out.send(&msg.chat, text);
    Ok(())
}

/// `/start`, possibly with a deep-link payload from a group's button.
pub async fn start(turn: &mut Turn, payload: &str) -> Handled {
    if turn.msg.chat_kind == ChatKind::Private && !payload.is_empty() {
        if let Some(command) = payload.strip_prefix(RETYPE).and_then(find) {
            turn.out.send(&turn.msg.chat, format!("Mời bác gõ lại lệnh /{} ở đây ạ.", command.name));
            return Ok(());
        }
        if flow::start_from_payload(turn, payload).await?
            || crate::campaign::pledge::start_from_payload(turn, payload).await?
            || consultation::ballot::start_from_payload(turn, payload).await?
        {
            return Ok(());
        }
        tracing::info!("unknown start payload");
    }
    let mut greeting = format!(
        "Chào bác! Đây là bot của {} giúp bà con đăng ký hộ gia đình, nhận thông báo và gửi ý kiến tới tổ dân phố.",
        turn.app.settings.ward_name
    );
    if !turn.msg.chat.capabilities().deep_links {
        // No deep links from a group: a resident joins their tổ with the
        // code the leader gives them.
        greeting.push_str(
            "\n\nNếu bác chưa vào tổ nào: xin tổ trưởng mã tham gia của tổ (ví dụ: TDP12-7KQ) rồi gửi mã đó cho bot tại đây.",
        );
    }
    turn.out.send(&turn.msg.chat, greeting);
    help(turn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residents_do_not_see_privileged_commands() {
        let names: Vec<_> = commands_for(Role::Resident, Place::Both).map(|c| c.name).collect();
        assert!(names.contains(&"dangky") && !names.contains(&"lienket") && !names.contains(&"phancong"));
        let names: Vec<_> = commands_for(Role::Official, Place::Group).map(|c| c.name).collect();
        assert!(names.contains(&"lienket") && !names.contains(&"nhom"));
    }

    #[test]
    fn command_names_are_valid_for_menus() {
        for c in COMMANDS {
            assert!(c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'));
            assert!((3..=256).contains(&c.description.chars().count()));
        }
    }
}
