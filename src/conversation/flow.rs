//! Starting a group's flow (household registration, scene report): typed in
//! a group, the bot answers with a button to the private chat carrying the
//! group; typed in private, the bot asks which group when it cannot tell.
//! Deep-link payloads are `<prefix>-<group id>`, picker buttons
//! `pk:<prefix>:<group id>`.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use std::collections::BTreeMap;

use crate::channel::{Button, ChatKind, Keyboard, MessageRef};
use crate::conversation;
use crate::group::{self, Group};
use crate::roles::{self, Caller};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Household,
    Report,
    Campaign,
}

impl Flow {
    const ALL: [Flow; 3] = [Flow::Household, Flow::Report, Flow::Campaign];

    /// Only the group's leaders and officials may start it.
    fn for_staff(self) -> bool {
        self == Flow::Campaign
    }

    /// The dialogue's id in `dialogues/`.
    pub fn dialogue(self) -> &'static str {
        match self {
            Flow::Household => "household",
            Flow::Report => "report",
            Flow::Campaign => "campaign",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Flow::Household => "dk",
            Flow::Report => "pa",
            Flow::Campaign => "vd",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.prefix() == prefix)
    }

    fn button_label(self) -> &'static str {
        match self {
            Flow::Household => "📝 Đăng ký hộ",
            Flow::Report => "📣 Gửi phản ánh",
            Flow::Campaign => "📢 Tạo cuộc vận động",
        }
    }

    fn invitation(self) -> &'static str {
        match self {
            Flow::Household => "Mời bác bấm nút bên dưới để đăng ký hộ gia đình trong tin nhắn riêng với bot. Thông tin của bác sẽ không hiện trong nhóm.",
            Flow::Report => "Mời bác bấm nút bên dưới để gửi phản ánh trong tin nhắn riêng với bot. Tên và số điện thoại của bác sẽ không hiện trong nhóm.",
            Flow::Campaign => "Mời bác bấm nút bên dưới để tạo cuộc vận động trong tin nhắn riêng với bot.",
        }
    }

    pub fn payload(self, group_id: i64) -> String {
        format!("{}-{group_id}", self.prefix())
    }
}

/// Callback data of the group picker: `pk:<flow prefix>:<group id>`, or
/// `pk:<flow prefix>:p<page>`.
pub const PICK_PREFIX: &str = "pk:";

pub fn context_for(group: &Group) -> BTreeMap<String, String> {
    let mut context = BTreeMap::new();
    context.insert("group_id".to_string(), group.id.to_string());
    context.insert("group".to_string(), group.name.clone());
    context
}

/// The group a dialogue was started for (its `group_id` context), if it
/// still exists.
pub async fn context_group(
    conn: &mut sqlx::SqliteConnection,
    context: &BTreeMap<String, String>,
) -> anyhow::Result<Option<Group>> {
    match context.get("group_id").and_then(|g| g.parse::<i64>().ok()) {
        Some(id) => group::by_id(conn, id).await,
        None => Ok(None),
    }
}

/// `/dangky`, `/phananh`: a button in a group, the dialogue in private.
pub async fn command(turn: &mut Turn, flow: Flow) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let mut conn = db.read().await?;
    if msg.chat_kind == ChatKind::Group {
        match group::by_chat(&mut conn, &msg.chat).await? {
            Some(g) if flow.for_staff() && !roles::can_manage_group(&mut conn, caller.id, g.id).await? => {
                return Err(STAFF_ONLY.into());
            }
            Some(g) => out.send_with(
                &msg.chat,
                flow.invitation(),
                Keyboard::single(Button::start_private(flow.button_label(), flow.payload(g.id))),
            ),
            None => out.send(
                &msg.chat,
                "Nhóm chat này chưa được liên kết với tổ dân phố nào. Xin báo cán bộ phường gõ /lienket <tên tổ> trong nhóm.",
            ),
        }
        return Ok(());
    }
    let groups = offered(&mut conn, caller, flow).await?;
    drop(conn);
    if flow.for_staff() && groups.is_empty() {
        return Err(STAFF_ONLY.into());
    }
    match groups.as_slice() {
        [] => out.send(&msg.chat, "Phường chưa có tổ dân phố nào trên bot. Xin liên hệ tổ trưởng hoặc cán bộ phường."),
        [only] => start(turn, flow, only).await?,
        many => out.send_with(&msg.chat, PICK, picker(flow, many, 0)),
    }
    Ok(())
}

/// The groups the caller may start `flow` for.
async fn offered(conn: &mut sqlx::SqliteConnection, caller: &Caller, flow: Flow) -> anyhow::Result<Vec<Group>> {
    Ok(if flow.for_staff() && !roles::is_official(&mut *conn, caller.id).await? {
        group::led_by(conn, caller.id).await?
    } else if let Some(joined) = crate::membership::joined(&mut *conn, caller.id).await? {
        // Joined by code (Zalo): that group, without asking.
        vec![joined]
    } else {
        group::all(conn).await?
    })
}

const PICK: &str = "Bác ở tổ dân phố nào ạ? Xin chọn trong danh sách dưới đây.";

/// Groups a page of the picker.
const PICK_PAGE: usize = 20;

/// The picker's page `page`: `pk:<prefix>:<group>` picks a group,
/// `pk:<prefix>:p<page>` turns the page.
fn picker(flow: Flow, groups: &[Group], page: usize) -> Keyboard {
    let choices = groups
        .iter()
        .map(|g| Button::callback(g.name.clone(), format!("{PICK_PREFIX}{}:{}", flow.prefix(), g.id)))
        .collect();
    Keyboard::rows(Keyboard::page_of(choices, page, PICK_PAGE, |p| format!("{PICK_PREFIX}{}:p{p}", flow.prefix())))
}

/// A press on the group picker. False if the data is not a picker's.
pub async fn on_pick(turn: &mut Turn, rest: &str, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    out.answer(callback_id, None);
    let paging =
        rest.split_once(':').and_then(|(p, n)| Some((Flow::from_prefix(p)?, n.strip_prefix('p')?.parse().ok()?)));
    if let Some((flow, page)) = paging {
        let groups = offered(&mut *db.read().await?, caller, flow).await?;
        let keyboard = picker(flow, &groups, page);
        match message {
            Some(m) => out.edit(m, PICK, keyboard),
            None => out.send_with(&caller.addr.private_chat(), PICK, keyboard),
        }
        return Ok(());
    }
    start_from_parts(turn, rest.split_once(':')).await
}

/// `/start <prefix>-<group>` from a group's button. False if the payload is
/// not one of ours.
pub async fn start_from_payload(turn: &mut Turn, payload: &str) -> Handled<bool> {
    let parts = payload.split_once('-');
    if parts.and_then(|(p, _)| Flow::from_prefix(p)).is_none() {
        return Ok(false);
    }
    start_from_parts(turn, parts).await?;
    Ok(true)
}

async fn start_from_parts(turn: &mut Turn, parts: Option<(&str, &str)>) -> Handled {
    let Turn { caller, db, out, .. } = turn;
    let flow = parts.and_then(|(p, _)| Flow::from_prefix(p));
    let group_id = parts.and_then(|(_, g)| g.parse::<i64>().ok());
    let group = match group_id {
        Some(id) => {
            let mut conn = db.read().await?;
            group::by_id(&mut conn, id).await?
        }
        None => None,
    };
    match (flow, group) {
        (Some(flow), Some(group)) => start(turn, flow, &group).await,
        _ => {
            out.send(&caller.addr.private_chat(), "Nút hoặc đường dẫn này không còn dùng được. Xin gõ lại lệnh.");
            Ok(())
        }
    }
}

const STAFF_ONLY: Refusal =
    Refusal::OnlyFor { who: "tổ trưởng, tổ phó hoặc cán bộ phường", to: "làm được việc này" };

async fn start(turn: &mut Turn, flow: Flow, group: &Group) -> Handled {
    let Turn { caller, db, .. } = turn;
    let mut context = context_for(group);
    if flow.for_staff() {
        let mut conn = db.read().await?;
        if !roles::can_manage_group(&mut conn, caller.id, group.id).await? {
            return Err(STAFF_ONLY.into());
        }
        let official = roles::is_official(&mut conn, caller.id).await?;
        context.insert("is_official".to_string(), if official { "yes" } else { "no" }.to_string());
    }
    let restart = format!("{}-{}", flow.prefix(), group.id);
    conversation::start(turn, context, None, flow.dialogue(), Some(&restart)).await
}

/// "Làm lại từ đầu" on the one-dialogue-at-a-time guard: drop the running
/// dialogue and start the requested one.
pub async fn on_restart(turn: &mut Turn, rest: &str, callback_id: &str) -> Handled {
    let Turn { out, .. } = turn;
    out.answer(callback_id, None);
    conversation::drop_running(turn).await?;
    start_from_parts(turn, rest.split_once('-')).await
}
