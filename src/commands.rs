//! The command table, and `/start`, `/help`. The table is the one list of
//! commands: each entry's name, who may use it, where it answers, its help
//! line and its handler. The router (`handle`), `/help`, the platforms'
//! command menus and the tests of roles and places all read it.

use crate::app::App;
use crate::campaign::{close, confirm, pledge};
use crate::channel::{ChatKind, Event, Incoming, Replied, Replies};
use crate::flows::{self as flow, Flow};
use crate::household::mine;
use crate::notice::{ack, compose, optout, schedule};
use crate::report::{feed, handling, listing};
use crate::roles::{self, Caller, Role};
use crate::stats::{command as stats, export};
use crate::{appoint, conversation, group, identity, membership};

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

/// A command's handler: the caller, the message (with what it replied
/// to), and the words after the command.
pub type Run = for<'a> fn(
    &'a App,
    &'a Caller,
    &'a Incoming,
    &'a str,
    &'a mut Replies,
) -> futures_util::future::BoxFuture<'a, anyhow::Result<()>>;

const fn cmd(name: &'static str, description: &'static str, role: Role, place: Place, run: Run) -> CommandInfo {
    CommandInfo { name, aliases: &[], description, role, place, run }
}

/// What someone whose role is below the command's is told.
pub fn refusal(command: &CommandInfo) -> crate::refusal::Refusal {
    let who = match command.role {
        Role::Official => "cán bộ phường",
        Role::Leader | Role::Resident => "tổ trưởng, tổ phó và cán bộ phường",
    };
    crate::refusal::Refusal::no_right(format!("dùng lệnh /{}: chỉ {who} mới dùng được", command.name))
}

/// The message a command replied to, if any.
fn replied(msg: &Incoming) -> Option<&Replied> {
    match &msg.event {
        Event::Command { replied, .. } => replied.as_ref(),
        _ => None,
    }
}

pub const COMMANDS: &[CommandInfo] = &[
    cmd("dangky", "Đăng ký hộ gia đình", Role::Resident, Place::Both, |app, caller, msg, _, out| {
        Box::pin(flow::command(app, caller, msg, Flow::Household, out))
    }),
    cmd(
        "hocuatoi",
        "Xem, cập nhật thông tin hộ của tôi",
        Role::Resident,
        Place::Private,
        |app, caller, msg, _, out| Box::pin(mine::command(app, caller, msg, out)),
    ),
    cmd("phananh", "Gửi phản ánh hiện trường", Role::Resident, Place::Both, |app, caller, msg, _, out| {
        Box::pin(flow::command(app, caller, msg, Flow::Report, out))
    }),
    cmd(
        "phananhcuatoi",
        "Xem phản ánh tôi đã gửi",
        Role::Resident,
        Place::Private,
        |app, caller, msg, _, out| Box::pin(listing::mine(app, caller, msg, out)),
    ),
    cmd("ungho", "Ủng hộ cuộc vận động", Role::Resident, Place::Both, |app, caller, msg, _, out| {
        Box::pin(pledge::command(app, caller, msg, out))
    }),
    cmd(
        "quy",
        "Các cuộc vận động đang mở và số tiền đã nhận",
        Role::Resident,
        Place::Both,
        |app, caller, msg, _, out| Box::pin(close::list(app, caller, msg, out)),
    ),
    cmd("huy", "Huỷ việc đang làm dở", Role::Resident, Place::Private, |app, caller, msg, _, out| {
        Box::pin(conversation::cancel(app, caller, msg, out))
    }),
    cmd("ketnoi", "Lấy mã để dùng bot trên Zalo", Role::Resident, Place::Private, |app, caller, _, _, out| {
        Box::pin(identity::issue(app, caller, out))
    }),
    cmd(
        "tatthongbao",
        "Không nhận thông báo nhắn riêng nữa",
        Role::Resident,
        Place::Private,
        |app, caller, msg, _, out| Box::pin(optout::stop(app, caller, msg, out)),
    ),
    cmd(
        "batthongbao",
        "Nhận lại thông báo nhắn riêng",
        Role::Resident,
        Place::Private,
        |app, caller, msg, _, out| Box::pin(optout::resume(app, caller, msg, out)),
    ),
    CommandInfo {
        aliases: &["trogiup"],
        ..cmd("help", "Hướng dẫn sử dụng", Role::Resident, Place::Both, |app, caller, msg, _, out| {
            Box::pin(help(app, caller, msg, out))
        })
    },
    cmd(
        "start",
        "Bắt đầu trò chuyện với bot",
        Role::Resident,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(start(app, caller, msg, args.trim(), out)),
    ),
    cmd(
        "dsphananh",
        "Danh sách phản ánh cần xử lý",
        Role::Leader,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(listing::command(app, caller, msg, args, out)),
    ),
    cmd("xuly", "Cập nhật xử lý phản ánh", Role::Leader, Place::Private, |app, caller, msg, args, out| {
        Box::pin(handling::command(app, caller, msg, args, out))
    }),
    cmd(
        "bangtin",
        "Bật, tắt bảng tin phản ánh của nhóm",
        Role::Leader,
        Place::Both,
        |app, caller, msg, args, out| Box::pin(feed::command(app, caller, msg, args, out)),
    ),
    cmd("thongbao", "Gửi thông báo tới nhóm", Role::Leader, Place::Both, |app, caller, msg, args, out| {
        Box::pin(compose::command(app, caller, msg, args, replied(msg), out))
    }),
    cmd(
        "thongbao_ds",
        "Xem số hộ đã xem thông báo",
        Role::Leader,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(ack::command(app, caller, msg, args, out)),
    ),
    cmd("henlich", "Thông báo đang hẹn giờ gửi", Role::Leader, Place::Private, |app, caller, msg, _, out| {
        Box::pin(schedule::command(app, caller, msg, out))
    }),
    cmd("vandong", "Tạo cuộc vận động ủng hộ", Role::Leader, Place::Both, |app, caller, msg, _, out| {
        Box::pin(flow::command(app, caller, msg, Flow::Campaign, out))
    }),
    cmd("mato", "Mã tham gia tổ cho người dùng Zalo", Role::Leader, Place::Both, |app, caller, msg, _, out| {
        Box::pin(membership::show(app, caller, msg, out))
    }),
    cmd(
        "xacnhan",
        "Xác nhận đã nhận tiền ủng hộ",
        Role::Leader,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(confirm::command(app, caller, msg, args, out)),
    ),
    cmd(
        "ghinhan",
        "Ghi nhận tiền mặt của người không dùng bot",
        Role::Leader,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(confirm::record_cash(app, caller, msg, args, out)),
    ),
    cmd("ketthuc", "Kết thúc cuộc vận động", Role::Leader, Place::Private, |app, caller, msg, args, out| {
        Box::pin(close::command(app, caller, msg, args, out))
    }),
    cmd(
        "thongke",
        "Thống kê hộ, phản ánh, quỹ, thông báo",
        Role::Leader,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(stats::command(app, caller, msg, args, out)),
    ),
    cmd("xuatexcel", "Xuất tệp Excel thống kê", Role::Leader, Place::Private, |app, caller, msg, _, out| {
        Box::pin(export::command(app, caller, msg, out))
    }),
    cmd(
        "sohodukien",
        "Đặt số hộ dự kiến của tổ",
        Role::Official,
        Place::Private,
        |app, caller, msg, args, out| Box::pin(stats::expected(app, caller, msg, args, out)),
    ),
    cmd(
        "lienket",
        "Liên kết nhóm chat với tổ dân phố",
        Role::Official,
        Place::Group,
        |app, caller, msg, args, out| Box::pin(group::link(app, caller, msg, args, out)),
    ),
    cmd("nhom", "Danh sách tổ dân phố", Role::Official, Place::Private, |app, caller, msg, _, out| {
        Box::pin(group::list(app, caller, msg, out))
    }),
    cmd(
        "phancong",
        "Phân công tổ trưởng, cán bộ",
        Role::Official,
        Place::Both,
        |app, caller, msg, args, out| {
            Box::pin(appoint::command(app, caller, msg, args, replied(msg).and_then(|r| r.from.as_ref()), out))
        },
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

pub async fn help(app: &App, caller: &Caller, msg: &Incoming, out: &mut Replies) -> anyhow::Result<()> {
    let mut conn = app.read().await?;
    let role = roles::role_of(&mut conn, caller.id).await?;
    let place = match msg.chat_kind {
        ChatKind::Private => Place::Both,
        ChatKind::Group => Place::Group,
    };
    let who = match role {
        Role::Official => "cán bộ phường",
        Role::Leader => "tổ trưởng / tổ phó",
        Role::Resident => "cư dân",
    };
    let mut text = format!("Bot của {} — các lệnh dành cho {who}:", app.settings.ward_name);
    // A code for Zalo is taken on Telegram: on Zalo it is only sent.
    let zalo = caller.addr.channel == crate::channel::Channel::Zalo;
    for c in commands_for(role, place).filter(|c| c.name != "start" && !(zalo && c.name == "ketnoi")) {
        text.push_str(&format!("\n/{} — {}", c.name, c.description));
    }
    if msg.chat_kind == ChatKind::Group {
        text.push_str("\n\nViệc cần thông tin cá nhân được làm trong tin nhắn riêng với bot.");
    }
    out.send(&msg.chat, text);
    Ok(())
}

/// `/start`, possibly with a deep-link payload from a group's button.
pub async fn start(app: &App, caller: &Caller, msg: &Incoming, payload: &str, out: &mut Replies) -> anyhow::Result<()> {
    if msg.chat_kind == ChatKind::Private && !payload.is_empty() {
        if let Some(command) = payload.strip_prefix(RETYPE).and_then(find) {
            out.send(&msg.chat, format!("Mời bác gõ lại lệnh /{} ở đây ạ.", command.name));
            return Ok(());
        }
        if flow::start_from_payload(app, caller, payload, out).await?
            || crate::campaign::pledge::start_from_payload(app, caller, payload, out).await?
        {
            return Ok(());
        }
        tracing::info!("unknown start payload");
    }
    let mut greeting = format!(
        "Chào bác! Đây là bot của {} giúp bà con đăng ký hộ gia đình, nhận thông báo và gửi ý kiến tới tổ dân phố.",
        app.settings.ward_name
    );
    if caller.addr.channel == crate::channel::Channel::Zalo {
        // No deep links from a group on Zalo: a resident joins their tổ
        // with the code the leader gives out.
        greeting.push_str(
            "\n\nNếu bác chưa vào tổ nào: xin tổ trưởng mã tham gia của tổ (ví dụ: TDP12-7KQ) rồi gửi mã đó cho bot tại đây.",
        );
    }
    out.send(&msg.chat, greeting);
    help(app, caller, msg, out).await
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
