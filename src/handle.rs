//! Where every incoming message goes. The intake reads each platform's
//! updates into [`Incoming`](crate::channel::Incoming), begins the update's
//! [`Turn`] and calls [`handle`]; this routes commands, button presses and
//! dialogue answers to the flow modules, which put their replies in the
//! turn.
//!
//! | what arrives                         | where it is routed                         |
//! |--------------------------------------|--------------------------------------------|
//! | a command (`/dangky`, `/xuly` …)     | its row in `commands::COMMANDS`            |
//! | a button press                       | `buttons::Press`, one variant per kind     |
//! | text, photo, location in private     | `conversation` (the running dialogue); a   |
//! |                                      | confirmed one goes to its `forms::ALL` row |
//! | a `KN-…` code typed on Zalo          | `identity`                                 |
//! | a `TDP12-…` join code                | `membership`                               |
//! | "dung nhan"                          | `notice::optout`                           |
//!
//! Rules that hold for every update are applied here, once: flood control,
//! where a command may answer (the table's place), who may use it (the
//! table's role), how a refusal is shown ([`Turn::refuse`]), and a busy
//! group's limit on answers.

use crate::busy_group;
use crate::buttons::{self, Press};
use crate::channel::{Action, Button, ChatKind, Event, Keyboard, Unsupported};
use crate::dialogue::Input;
use crate::flood::Verdict;
use crate::notice;
use crate::refusal::{Handled, Refusal, Stop};
use crate::roles::{self};
use crate::turn::Turn;
use crate::{commands, conversation, forms};

pub async fn handle(turn: &mut Turn) -> anyhow::Result<()> {
    #[cfg(feature = "fault-injection")]
    crate::fault::inject(&turn.msg);
    let now = turn.db.now();
    match turn.app.flood.person(&turn.caller.addr, now) {
        Verdict::Handle => {}
        verdict => {
            tracing::info!(
                chat = if turn.msg.chat_kind == ChatKind::Private { "private" } else { "group" },
                "message dropped: sent too fast"
            );
            let Turn { caller, msg, out, .. } = turn;
            if verdict == Verdict::DropAndWarn {
                // Said in private even for a group message: the group is
                // not told who is flooding.
                let warning = "Bác gửi nhanh quá. Xin bác chờ một lát rồi hãy gửi tiếp ạ.";
                match &msg.event {
                    Event::Button { callback_id, .. } => out.answer(callback_id, Some(warning.into())),
                    _ => out.send(&caller.addr.private_chat(), warning),
                }
            } else if let Event::Button { callback_id, .. } = &msg.event {
                out.answer(callback_id, None);
            }
            return Ok(());
        }
    }
    if turn.msg.chat_kind == ChatKind::Private && !turn.caller.private_open {
        turn.db.defer(roles::private_chat_opened(&turn.caller)).await?;
    }
    // Where a command may answer is the catalog's to say, for every command.
    if !placed(turn) {
        return Ok(());
    }
    // An expected refusal is shown here, for every handler: a handler
    // returns it, and never sends it itself.
    match route(turn).await {
        Ok(()) => {}
        Err(Stop::Refused(refusal)) => turn.refuse(refusal),
        Err(Stop::Failed(e)) => return Err(e),
    }
    if turn.msg.chat_kind == ChatKind::Group {
        let chat = turn.msg.chat.clone();
        let to_group = |a: &Action| a.chat() == Some(&chat);
        if turn.out.actions.iter().any(to_group)
            && !(roles::role_of(&mut *turn.db.read().await?, turn.caller.id).await? > roles::Role::Resident)
            && !turn.app.flood.group_reply(&chat, now)
        {
            let (held, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut turn.out.actions).into_iter().partition(to_group);
            turn.out.actions = kept;
            serve_held_back(turn, held).await?;
        }
    }
    Ok(())
}

/// A resident's answers the group's limit held back: sent to them in
/// private when the bot can write there, otherwise kept for the group's
/// next minute, when everyone who asked is answered in one message (see
/// [`busy_group`]).
async fn serve_held_back(turn: &mut Turn, held: Vec<Action>) -> anyhow::Result<()> {
    let Turn { caller, db, out, .. } = turn;
    if caller.private_open {
        tracing::info!("answer in a busy group sent in private");
        let private = caller.addr.private_chat();
        for action in held {
            if let Action::Send { text, keyboard, .. } = action {
                out.send_with(&private, format!("{BUSY_GROUP}\n\n{text}"), keyboard);
            }
        }
        return Ok(());
    }
    tracing::info!("answer in a busy group kept for its next minute");
    for action in held.iter().filter(|a| matches!(a, Action::Send { .. })) {
        let chat = action.chat().cloned().unwrap_or_else(|| caller.addr.private_chat());
        db.defer(busy_group::hold(&chat, &caller.name, action)?).await?;
    }
    Ok(())
}

const BUSY_GROUP: &str = "Nhóm đang nhiều tin nhắn nên bot trả lời bác ở đây ạ.";

/// Holds a command to the place the catalog gives it ([`commands::Place`]).
/// One meant for private chat, typed in a group, is answered in the
/// caller's private chat, arguments and all, when the bot can write there;
/// otherwise the group gets one short note with the way there (an answer
/// the person asked for, so the group's limit on answers does not hold it
/// back). One meant for a group, typed in private, is told where it works.
/// False: answered here, nothing more to do.
fn placed(turn: &mut Turn) -> bool {
    let Turn { caller, msg, out, .. } = turn;
    let Event::Command { name, .. } = &msg.event else { return true };
    let Some(command) = commands::find(name) else { return true };
    match (command.place, msg.chat_kind) {
        (commands::Place::Private, ChatKind::Group) if caller.private_open => {
            msg.chat = caller.addr.private_chat();
            msg.chat_kind = ChatKind::Private;
            true
        }
        (commands::Place::Private, ChatKind::Group) => {
            out.send_with(
                &msg.chat,
                format!(
                    "Lệnh /{} được trả lời trong tin nhắn riêng. Mời bác bấm nút dưới đây rồi gõ lại /{} ở đó ạ.",
                    command.name, command.name
                ),
                Keyboard::single(Button::start_private("💬 Nhắn riêng với bot", commands::retype_payload(command))),
            );
            false
        }
        (commands::Place::Group, ChatKind::Private) => {
            turn.refuse(Refusal::WrongPlace(format!(
                "Lệnh /{} chỉ dùng trong nhóm chat của tổ. Xin bác gõ lệnh trong nhóm ạ.",
                command.name
            )));
            false
        }
        _ => true,
    }
}

async fn route(turn: &mut Turn) -> Handled {
    let private = turn.msg.chat_kind == ChatKind::Private;
    // Owned, so the handler can have the whole turn.
    match turn.msg.event.clone() {
        Event::Command { name, args, .. } => match commands::find(&name) {
            Some(command) => {
                // Who may use a command is the table's to say, for every
                // command; a handler still checks the records it acts on
                // (a leader acts on their own group's).
                if command.role > roles::Role::Resident
                    && roles::role_of(&mut *turn.db.read().await?, turn.caller.id).await? < command.role
                {
                    return Err(commands::refusal(command).into());
                } else {
                    (command.run)(turn, &args).await?
                }
            }
            // In a group, an unknown command is most likely another bot's.
            None if private => turn.out.send(&turn.msg.chat, "Bot chưa hiểu lệnh này. Gõ /help để xem các lệnh."),
            None => {}
        },
        Event::Button { callback_id, data, message, .. } => match Press::parse(&data) {
            Some(press) => buttons::route(turn, press, &callback_id, message.as_ref()).await?,
            None => return Err(Refusal::StaleButton.into()),
        },
        Event::Unsupported(kind) if private => {
            let text = match kind {
                Unsupported::Edited => {
                    "Bot không đọc lại tin nhắn đã sửa. Nếu bác muốn đổi câu trả lời, xin gửi một tin nhắn mới."
                }
                // Where the bot receives no location, none is asked for.
                Unsupported::Other if !turn.msg.chat.capabilities().locations => {
                    "Bot chưa đọc được loại tin này. Xin gửi chữ hoặc ảnh."
                }
                Unsupported::Other => "Bot chưa đọc được loại tin này. Xin gửi chữ, ảnh hoặc vị trí.",
            };
            turn.out.send(&turn.msg.chat, text);
        }
        // Group chatter is not the bot's business (privacy mode).
        _ if !private => {}
        other => {
            if let Event::Text(text) = &other {
                if crate::identity::redeem(turn, text).await?
                    || crate::membership::join(turn, text).await?
                    || crate::household::members::ask(turn, text).await?
                {
                    return Ok(());
                }
                if notice::optout::asks_to_stop(text) {
                    return notice::optout::stop(turn).await;
                }
            }
            if let Some(input) = dialogue_input(&other) {
                if !conversation::answer(turn, input, None, forms::ALL).await? {
                    turn.out.send(
                        &turn.msg.chat,
                        "Chào bác! Gõ /help để xem bot giúp được gì, hoặc /dangky để đăng ký hộ gia đình.",
                    );
                }
            }
        }
    }
    Ok(())
}

fn dialogue_input(event: &Event) -> Option<Input> {
    match event {
        Event::Text(t) => Some(Input::Text(t.clone())),
        Event::Photo { file_id, .. } => Some(Input::Photo(file_id.clone())),
        Event::Location { latitude, longitude } => Some(Input::Location { latitude: *latitude, longitude: *longitude }),
        Event::Command { .. } | Event::Button { .. } | Event::Unsupported(_) => None,
    }
}
