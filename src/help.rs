//! `/start`, `/help` and the command catalog. The catalog is the one list of
//! commands: `/help` shows the caller the ones their role allows, and the
//! platform's command menu is built from it.

use crate::app::App;
use crate::channel::{ChatKind, Incoming, Replies};
use crate::flows;
use crate::roles::{self, Caller, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Private,
    Group,
    Both,
}

#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub role: Role,
    pub place: Place,
}

const fn cmd(name: &'static str, description: &'static str, role: Role, place: Place) -> CommandInfo {
    CommandInfo { name, description, role, place }
}

pub const COMMANDS: &[CommandInfo] = &[
    cmd("dangky", "Đăng ký hộ gia đình", Role::Resident, Place::Both),
    cmd("hocuatoi", "Xem, cập nhật thông tin hộ của tôi", Role::Resident, Place::Private),
    cmd("phananh", "Gửi phản ánh hiện trường", Role::Resident, Place::Both),
    cmd("phananhcuatoi", "Xem phản ánh tôi đã gửi", Role::Resident, Place::Private),
    cmd("ungho", "Ủng hộ cuộc vận động", Role::Resident, Place::Both),
    cmd("quy", "Các cuộc vận động đang mở và số tiền đã nhận", Role::Resident, Place::Both),
    cmd("huy", "Huỷ việc đang làm dở", Role::Resident, Place::Private),
    cmd("ketnoi", "Lấy mã để dùng bot trên Zalo", Role::Resident, Place::Private),
    cmd("tatthongbao", "Không nhận thông báo nhắn riêng nữa", Role::Resident, Place::Private),
    cmd("batthongbao", "Nhận lại thông báo nhắn riêng", Role::Resident, Place::Private),
    cmd("help", "Hướng dẫn sử dụng", Role::Resident, Place::Both),
    cmd("start", "Bắt đầu trò chuyện với bot", Role::Resident, Place::Private),
    cmd("dsphananh", "Danh sách phản ánh cần xử lý", Role::Leader, Place::Private),
    cmd("xuly", "Cập nhật xử lý phản ánh", Role::Leader, Place::Private),
    cmd("bangtin", "Bật, tắt bảng tin phản ánh của nhóm", Role::Leader, Place::Both),
    cmd("thongbao", "Gửi thông báo tới nhóm", Role::Leader, Place::Both),
    cmd("thongbao_ds", "Xem số hộ đã xem thông báo", Role::Leader, Place::Private),
    cmd("henlich", "Thông báo đang hẹn giờ gửi", Role::Leader, Place::Private),
    cmd("vandong", "Tạo cuộc vận động ủng hộ", Role::Leader, Place::Both),
    cmd("mato", "Mã tham gia tổ cho người dùng Zalo", Role::Leader, Place::Both),
    cmd("xacnhan", "Xác nhận đã nhận tiền ủng hộ", Role::Leader, Place::Private),
    cmd("ghinhan", "Ghi nhận tiền mặt của người không dùng bot", Role::Leader, Place::Private),
    cmd("ketthuc", "Kết thúc cuộc vận động", Role::Leader, Place::Private),
    cmd("thongke", "Thống kê hộ, phản ánh, quỹ, thông báo", Role::Leader, Place::Private),
    cmd("xuatexcel", "Xuất tệp Excel thống kê", Role::Leader, Place::Private),
    cmd("sohodukien", "Đặt số hộ dự kiến của tổ", Role::Official, Place::Private),
    cmd("lienket", "Liên kết nhóm chat với tổ dân phố", Role::Official, Place::Group),
    cmd("nhom", "Danh sách tổ dân phố", Role::Official, Place::Private),
    cmd("phancong", "Phân công tổ trưởng, cán bộ", Role::Official, Place::Both),
];

/// The catalog's entry for a command name.
pub fn find(name: &str) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.name == name)
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
        if flows::start_from_payload(app, caller, payload, out).await?
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
